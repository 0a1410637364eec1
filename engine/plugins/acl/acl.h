#pragma once
// acl (Kong PRIORITY 950): lets a request through or not by the groups (`acls` entities) of
// the consumer an auth plugin identified. Exactly one of `allow` / `deny`. No consumer: 401
// "Unauthorized"; not allowed: 403 "You cannot consume this service"; allowed: the groups go
// upstream in X-Consumer-Groups (", "-separated) unless hide_groups_header.
//
// Groups set in Context::groups by an auth plugin before acl runs are Kong's
// "authenticated groups" (ldap-auth, oauth2): used when there is no consumer, when the
// consumer is anonymous, or always with always_use_authenticated_groups; they go upstream in
// X-Authenticated-Groups.
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeAclPlugin();

}  // namespace archway::plugins
