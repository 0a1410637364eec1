#pragma once
// Entities in Kong's Admin API JSON shapes (kong-reference §1, §2).
#include <boost/json/value.hpp>

#include "core/entities.h"

namespace archway::config {

boost::json::object toJson(const core::Service& s);
boost::json::object toJson(const core::Route& r);
boost::json::object toJson(const core::Upstream& u);
boost::json::object toJson(const core::Target& t);
boost::json::object toJson(const core::Consumer& c);
boost::json::object toJson(const core::KeyAuthCredential& k);
boost::json::object toJson(const core::BasicAuthCredential& b);
boost::json::object toJson(const core::JwtSecret& j);
boost::json::object toJson(const core::AclGroup& a);
boost::json::object toJson(const core::Plugin& p);
// Without the `snis` names Kong adds to a certificate on the Admin API (the caller adds them;
// stores keep snis as entities of their own).
boost::json::object toJson(const core::Certificate& c);
boost::json::object toJson(const core::Sni& s);
boost::json::object toJson(const core::CaCertificate& c);

}  // namespace archway::config
