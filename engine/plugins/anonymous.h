#pragma once
// Kong's `anonymous` consumer, shared by the auth plugins (key-auth, basic-auth, jwt): with it
// set, the plugins combine as a logical OR and a request without a valid credential goes on as
// the anonymous consumer instead of being rejected.
#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "plugins/config_read.h"
#include "plugins/plugin.h"

namespace archway::plugins {

struct Anonymous {
  std::optional<std::string> name;          // the configured username or id
  const core::Consumer* consumer = nullptr;  // null when no such consumer exists

  // From a validated config's `anonymous` field, resolved against the snapshot's consumers.
  static Anonymous from(const boost::json::object& config, const core::Config& cfg) {
    Anonymous a;
    a.name = optionalString(config, "anonymous");
    if (a.name) a.consumer = cfg.findConsumer(*a.name);
    return a;
  }

  // The access phase when `anonymous` is set: nothing to do when another auth plugin already
  // found a credential; otherwise `tryAuthenticate()` (true on success) and, when it fails, the
  // anonymous consumer (Kong's 500 when it does not exist). Returns false when `anonymous` is
  // not set: the caller rejects failures itself.
  template <class TryAuthenticate>
  bool access(Context& ctx, TryAuthenticate&& tryAuthenticate) const {
    if (!name) return false;
    if (!ctx.credentialId.empty()) return true;
    if (tryAuthenticate()) return true;
    if (!consumer) {
      ctx.exitMessage(500, "anonymous consumer " + *name + " is configured but doesn't exist");
      return true;
    }
    ctx.authenticate(consumer, {}, true);
    return true;
  }
};

}  // namespace archway::plugins
