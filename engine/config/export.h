#pragma once
// A core::Config written back as a declarative document (`_format_version: "3.0"`, routes
// nested under their service, targets under their upstream; routes without a service at the
// top level). parseDeclarative reads the output back to the same entities (routes and
// targets grouped by parent).
#include <boost/json/object.hpp>
#include <memory>
#include <string>

#include "core/entities.h"

namespace archway::config {

boost::json::object exportJson(const core::Config& config);
std::string exportYaml(const core::Config& config);

// Kong's configuration_hash: 32 hex digits (MD5) of the exported document without
// created_at/updated_at, so reloading the same file gives the same hash; all zeros for an
// empty config, as Kong reports before anything is loaded.
std::string configHash(const core::Config& config);
// The same, remembered for the last config object asked for (GET /status asks on every call;
// exporting 10^5 entities takes a while). Any thread.
std::string configHash(const std::shared_ptr<const core::Config>& config);

}  // namespace archway::config
