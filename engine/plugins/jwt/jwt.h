#pragma once
// jwt (Kong PRIORITY 1450): authenticates a request by a JSON Web Token found in a query
// argument, a cookie or a `Bearer` header, signed with the secret or public key of one of the
// config's `jwt_secrets` (the one whose `key` is the token's key claim, `iss` by default).
// HS/RS/ES/PS 256/384/512 and EdDSA, Kong's messages ("Bad token; invalid JSON",
// "Invalid algorithm", "Invalid signature", ...) and claim errors ({"exp":"token expired"}),
// `WWW-Authenticate: Bearer[ realm="..."][, error="invalid_token"]`, the `anonymous` consumer as
// a logical-OR fallback.
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeJwtPlugin();

}  // namespace archway::plugins
