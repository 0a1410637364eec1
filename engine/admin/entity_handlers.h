#pragma once
// The write side of the Admin API (kong-reference §2.1, §2.3, #28): POST/PUT/PATCH/DELETE on
// services, routes, upstreams and targets, and GET/POST /config. Every write copies the live
// config, changes it, hands it to AdminContext::apply (validate, persist, swap) and answers
// with the entity as stored in the new config.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/url/params_view.hpp>
#include <optional>
#include <string>
#include <vector>

#include "admin/admin_api.h"

namespace archway::admin {

// Kong's error bodies (kong/db/errors.lua).
AdminResponse jsonResponse(int status, const boost::json::value& body);
AdminResponse messageResponse(int status, std::string_view message);
// 400 code 2 "schema violation" with nested `fields` and Kong's "N schema violations (a; b)".
AdminResponse schemaViolation(const core::Errors& errors);
// `fields` as Kong nests them: "paths[0]" -> {"paths":["msg"]}, "" -> {"@entity":["msg"]}.
boost::json::object nestedFields(const core::Errors& errors);

// Kong's error responses, shared by the handler files.
AdminResponse applyFailureResponse(const core::Errors& errors);
AdminResponse uniqueViolationResponse(std::string_view field, const std::string& value);
AdminResponse primaryKeyViolationResponse(const std::string& id);
AdminResponse foreignKeyMissingResponse(std::string_view field, std::string_view entity,
                                        const std::string& ref);
// Form values are strings; a single value of an array field becomes a one-element array.
void formArrays(boost::json::object& body, std::initializer_list<std::string_view> fields);

// A write on /services, /routes, /upstreams and their nested collections. nullopt when the
// method is not one this path accepts (the caller answers 404 or 405).
std::optional<AdminResponse> handleEntityWrite(const AdminContext& ctx, const AdminRequest& req,
                                               const std::vector<std::string>& segs);

// GET and POST /config (`query`: the target's parameters, for check_hash); nullopt for other
// methods.
std::optional<AdminResponse> handleConfigEndpoint(const AdminContext& ctx, const AdminRequest& req,
                                                  boost::urls::params_view query);

}  // namespace archway::admin
