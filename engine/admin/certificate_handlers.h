#pragma once
// Certificates, SNIs, CA certificates and tags on the Admin API (kong-reference §1.7, §2.1):
//   /certificates[/{id or sni name}], /certificates/{c}/snis[/{sni}],
//   /snis[/{name or id}], /snis/{s}/certificate, /ca_certificates[/{id}],
//   /tags, /tags/{tag}.
// A certificate answers with its `snis` names, as Kong does; `snis` in a certificate body
// replaces the certificate's set. Writes go through AdminContext::apply like every other entity.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_api.h"

namespace archway::admin {

// nullopt when the path is not one of these (the caller goes on routing).
std::optional<AdminResponse> handleCertificates(const AdminContext& ctx, const AdminRequest& req,
                                                const std::vector<std::string>& segs,
                                                std::string_view target);

// GET /tags and /tags/{tag}: {"data":[{"entity_name","entity_id","tag"}],"offset","next"}.
std::optional<AdminResponse> handleTags(const AdminContext& ctx, const AdminRequest& req,
                                        const std::vector<std::string>& segs,
                                        std::string_view target);

}  // namespace archway::admin
