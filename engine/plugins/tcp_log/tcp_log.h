#pragma once
// tcp-log (Kong PRIORITY 7): writes one JSON line per request (Kong's log serializer, "\n"
// terminated) to host:port over TCP, or TLS with `tls` (SNI `tls_sni`; the certificate is not
// verified, as in Kong). The connection is kept for `keepalive` ms of idle time; `timeout`
// bounds connect and send. As in Kong, a failed send is logged and the lines are dropped (no
// retries); the writing happens on the plugin's sender thread, which sends whatever lines have
// queued up in one write.
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeTcpLogPlugin();

}  // namespace archway::plugins
