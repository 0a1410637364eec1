#pragma once
// One Admin API entity from its JSON body, validated by the declarative parser so that the
// Admin API and kong.yml accept exactly the same fields, values and messages. Foreign keys
// (a route's `service`, a target's `upstream`) are not read here: the caller resolves them
// against the live config. Error paths are relative to the entity ("paths[0]", "host"; an
// empty path is an entity-level error).
#include <boost/json/object.hpp>

#include "core/entities.h"
#include "core/result.h"

namespace archway::config {

core::Result<core::Service> serviceFromJson(const boost::json::object& body);
core::Result<core::Route> routeFromJson(const boost::json::object& body);
core::Result<core::Upstream> upstreamFromJson(const boost::json::object& body);
core::Result<core::Target> targetFromJson(const boost::json::object& body);
// `snis` in the body is ignored (the caller turns the shorthand into sni entities).
core::Result<core::Certificate> certificateFromJson(const boost::json::object& body);
// `certificate` in the body is ignored; certificateId comes back empty.
core::Result<core::Sni> sniFromJson(const boost::json::object& body);
// Also refuses an expired CA (Kong checks it on write).
core::Result<core::CaCertificate> caCertificateFromJson(const boost::json::object& body);

}  // namespace archway::config
