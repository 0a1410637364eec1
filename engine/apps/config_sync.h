#pragma once
// The two halves of a decK-style sync that talk to a node, shared by `archwayd config diff|sync`
// and the console's config diff page: read the configuration a node serves, and send one call
// of a config::ConfigDiff. Blocking (AdminClient); never on an engine or GUI thread.
#include <string>

#include "apps/admin_client.h"
#include "config/diff.h"
#include "core/entities.h"
#include "core/result.h"

namespace archway::apps {

// GET /config ({"config": "<kong.yml>"}) parsed. Errors are one line naming the URL: no answer,
// an HTTP status other than 200 with the node's body (a refused token reads "HTTP 401 ..."), or
// a body that is not a configuration.
core::Result<core::Config> fetchLiveConfig(AdminClient& admin);
// The same configuration as the node exports it (kong.yml text), unparsed.
core::Result<std::string> fetchConfigText(AdminClient& admin);

// Sends one call. A DELETE answered 404 counts as done (already gone). Errors name the call:
// "PUT /services/ID: HTTP 409 {...}", or the client's error when there was no answer.
core::Status sendCall(AdminClient& admin, const config::AdminCall& call);

}  // namespace archway::apps
