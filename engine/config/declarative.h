#pragma once
// kong.yml / JSON declarative configuration (`_format_version: "3.0"`), parsed and validated
// into core::Config. Every error is reported at once with its field path
// (`services[1].routes[0].paths[0]: ...`).
#include <string>
#include <string_view>

#include "core/config_delta.h"
#include "core/entities.h"
#include "core/result.h"

namespace archway::config {

// Parses YAML or JSON text (JSON is read as YAML). Entities without an `id` get stable
// UUIDv5 ids derived from their names and parents.
core::Result<core::Config> parseDeclarative(std::string_view text);

// parseDeclarative without validate(): each entity checked on its own, references by id
// (a service's client_certificate, an sni's certificate) not looked up. For checking one Admin
// API entity, whose references the caller resolves against the live config.
core::Result<core::Config> parseDeclarativeUnchecked(std::string_view text);

// Reads and parses a file; a missing or unreadable file is an error on the path "config".
core::Result<core::Config> loadDeclarativeFile(const std::string& path);

// Checks a whole configuration (cross-entity rules: unique names, routes naming a service
// that exists). parseDeclarative already applies it.
core::Status validate(const core::Config& config);

// Checks `after` where `before` passed validate() and `delta` is core::deltaOf(before, after):
// the same verdict as validate(after), reached from the middles of the delta (uniqueness,
// references from them, references to what they removed) by linear scans of the rest, so a
// write of one entity on a config of 10^5 hashes nothing. A large change, and any invalid one,
// goes through validate(after): errors are exactly validate()'s.
core::Status validateChange(const core::Config& before, const core::Config& after,
                            const core::ConfigDelta& delta);

// Kong's uniqueness scope of a plugin: one plugin of a name per route/service/consumer.
std::string pluginScope(const core::Plugin& p);

}  // namespace archway::config
