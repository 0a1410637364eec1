#pragma once
// udp-log (Kong PRIORITY 8): sends each request's JSON (Kong's log serializer, no newline) as
// one UDP datagram to host:port; `timeout` bounds each send. As in Kong, failures are logged
// and the entry is dropped. Sent from the plugin's sender thread.
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeUdpLogPlugin();

}  // namespace archway::plugins
