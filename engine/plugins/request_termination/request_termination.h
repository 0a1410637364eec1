#pragma once
// request-termination (Kong PRIORITY 2): answers every request itself with a fixed status and
// body, or echoes the request back (debugging). With `trigger` set it only fires when that
// header or query argument is present. Kong's defaults and checks
// (kong/plugins/request-termination): status_code 503, message defaulting to the status's
// text ("Service unavailable"), `message` exclusive with `body`/`content_type`.
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeRequestTerminationPlugin();

}  // namespace archway::plugins
