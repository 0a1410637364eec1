#pragma once
// syslog (Kong PRIORITY 4): sends each request's JSON (Kong's log serializer) to the system
// log through syslog(3), ident "kong" (as Kong's lsyslog.open), at `facility`. The severity
// follows the response status: >= 500 server_errors_severity, >= 400 client_errors_severity,
// else successful_severity; a request is logged only when that severity is at least as severe
// as `log_level` (Kong's LOG_PRIORITIES comparison). Requests below the level cost nothing;
// the others are written from the plugin's sender thread.
#include <memory>
#include <string_view>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeSyslogPlugin();

namespace syslog_plugin {
// Where messages go: syslog(3) by default. Tests install their own sink (priority is
// facility | level as syslog(3) takes it). Set before any message is sent; null restores.
using Sink = void (*)(int priority, std::string_view message);
void setSinkForTesting(Sink sink);
}  // namespace syslog_plugin

}  // namespace archway::plugins
