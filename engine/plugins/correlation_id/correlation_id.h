#pragma once
// correlation-id (Kong PRIORITY 100001): gives every request an id in `header_name`
// (default Kong-Request-ID) on its way upstream, keeping a non-empty id the client sent, and
// with `echo_downstream` returns it to the client. Generators as Kong's:
// - "uuid": a random v4 UUID per request;
// - "uuid#counter" (default): a v4 UUID made once per worker, "#", and that worker's counter;
// - "tracker": Kong writes server_addr-server_port-pid-connection-connection_requests-time.
//   Plugins here do not see the local address or connection serials, so Archway writes
//   0.0.0.0-<port>-<pid>-<worker index>-<worker request counter>-<seconds.millis>: the same
//   shape, unique per node, not the same numbers.
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeCorrelationIdPlugin();

}  // namespace archway::plugins
