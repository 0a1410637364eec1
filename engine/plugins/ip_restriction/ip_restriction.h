#pragma once
// ip-restriction (Kong PRIORITY 990): allows or denies requests by client IP against lists of
// IPv4/IPv6 addresses and CIDR blocks. `deny` is checked first, then `allow` (when set, only
// listed clients pass). Kong 3.4+ answers 403 {"message":"IP address not allowed: <ip>"}
// unless `status` / `message` are configured.
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeIpRestrictionPlugin();

}  // namespace archway::plugins
