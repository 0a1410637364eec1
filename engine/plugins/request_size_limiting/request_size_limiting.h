#pragma once
// request-size-limiting (Kong PRIORITY 951): refuses request bodies above
// `allowed_payload_size` × `size_unit` (megabytes = 2^20 bytes). A Content-Length is checked
// without reading the body: 413 "Request size limit exceeded", or 417 when the client sent
// `Expect: 100-continue` (it has not sent the body yet). Without a Content-Length,
// `require_content_length` answers 411 unless the body is chunked. A chunked body (no
// Content-Length) is capped by the proxy while it reads it (Context::requestBodyLimit, 413),
// where Kong reads the whole body first and then measures it.
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeRequestSizeLimitingPlugin();

}  // namespace archway::plugins
