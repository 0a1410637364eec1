#pragma once
// http-log (Kong PRIORITY 12): sends Kong's serialized log entries to `http_endpoint` (http or
// https; TLS certificates are not verified, as Kong's ssl_verify=false) through Kong's queue
// (`queue{...}`): a batch is one request whose body is the entry itself when
// queue.max_batch_size is 1 and a JSON array of entries otherwise. A status >= 300 or a
// transport error fails the batch, which the queue retries with backoff up to max_retry_time.
// Connections are kept for `keepalive` ms of idle time; `timeout` bounds connect, each send
// and each read. User info in the URL becomes `Authorization: Basic`.
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeHttpLogPlugin();

}  // namespace archway::plugins
