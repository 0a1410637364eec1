#pragma once
// The node-level endpoints of Kong's Admin API (kong-reference §2.1, §2.4):
//   GET /                         node information, with the plugins available on this build and
//                                 those enabled in the config (cached per config: GET / never
//                                 walks the plugin list of a config it has seen),
//   GET /endpoints                every path template this Admin API serves,
//   GET /schemas/{entity}         the entity's schema in Kong's JSON shape,
//   POST /schemas/{entity}/validate
//                                 the write a POST /{entity} would make, checked and not stored
//                                 (200 {"message":"schema validation successful"}); unlike
//                                 Kong's, it also reports unique and foreign-key violations,
//                                 since it runs the same checks as the write,
//   GET /routes/{r}/service, /plugins/{p}/route|service|consumer
//                                 the foreign entity,
//   POST /upstreams/{u}/targets/{t}[/{address}]/healthy|unhealthy
//                                 sets a target's health by hand (204),
//   POST /status/ready            `status=draining` makes readiness answer 503 "draining".
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admin/admin_api.h"

namespace archway::admin {

// nullopt when the path is none of these (the caller goes on routing).
std::optional<AdminResponse> handleNode(const AdminContext& ctx, const AdminRequest& req,
                                        const std::vector<std::string>& segs,
                                        const std::shared_ptr<const core::Config>& config);

}  // namespace archway::admin
