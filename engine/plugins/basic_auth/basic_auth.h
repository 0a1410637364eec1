#pragma once
// basic-auth (Kong PRIORITY 1100): authenticates `Authorization: Basic` (and
// `Proxy-Authorization`) against the `basicauth_credentials` of the config. Kong 3.6+
// behaviour: every failure is 401 "Unauthorized" with `WWW-Authenticate: Basic realm="..."`,
// the `anonymous` consumer is a logical-OR fallback, `hide_credentials` drops the header(s).
#include <memory>
#include <string>
#include <string_view>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeBasicAuthPlugin();

// What Kong stores in a basic-auth credential's `password`: the lower-case hex SHA-1 of the
// password followed by the consumer id (kong/plugins/basic-auth/crypto.lua). Writers of
// credentials (kong.yml loading, the Admin API) hash with this; the plugin compares against it.
std::string hashBasicAuthPassword(std::string_view password, std::string_view consumerId);

}  // namespace archway::plugins
