#pragma once
// Consumers, their credentials and plugins on the Admin API (kong-reference §2.1):
//   /consumers[/{c}], /consumers/{c}/{key-auth|basic-auth|jwt|acls}[/{id}],
//   /key-auths, /basic-auths, /jwts, /acls [/{id}],
//   /plugins[/{id}], /plugins/enabled, /schemas/plugins/{name}, /schemas/plugins/validate,
//   /services/{s}/plugins, /routes/{r}/plugins, /consumers/{c}/plugins.
// Reads and writes; writes go through AdminContext::apply like every other entity.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_api.h"

namespace archway::admin {

// nullopt when the path is not one of these (the caller goes on routing).
std::optional<AdminResponse> handleConsumersAndPlugins(const AdminContext& ctx,
                                                       const AdminRequest& req,
                                                       const std::vector<std::string>& segs,
                                                       std::string_view target);

}  // namespace archway::admin
