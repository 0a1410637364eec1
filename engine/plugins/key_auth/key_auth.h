#pragma once
// key-auth (Kong PRIORITY 1250): authenticates a request by an API key found in a header, a
// query argument or (optionally, key_in_body) a JSON, form-urlencoded or multipart/form-data
// body field, against the `keyauth_credentials` of the config.
// Kong 3.6+ behaviour: 401 "No API key found in request" / "Unauthorized" /
// "Duplicate API key found" with `WWW-Authenticate: Key[ realm="..."]`, the `anonymous`
// consumer as a logical-OR fallback, `hide_credentials` strips the key before proxying.
#include <cstdint>
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeKeyAuthPlugin();

// How often key-auth's credential index was built in full and updated from the previous
// snapshot's (over the process; tests compare them across a change).
struct KeyIndexCounts {
  std::uint64_t builds = 0, updates = 0;
};
KeyIndexCounts keyIndexCounts();

}  // namespace archway::plugins
