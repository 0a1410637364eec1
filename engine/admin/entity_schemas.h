#pragma once
// Kong's entity schemas for GET /schemas/{entity} (kong-reference §1).
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace archway::admin {

// The entity names with a schema ("services", "routes", ..., "acls"), in a fixed order.
const std::vector<std::string>& schemaEntities();
// {"fields":[...]} for `entity`, or nullopt when there is no such entity.
std::optional<boost::json::value> entitySchema(std::string_view entity);

}  // namespace archway::admin
