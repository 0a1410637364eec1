#include "plugins/acl/acl.h"

#include "plugins/config_read.h"

#include <boost/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

namespace archway::plugins {
namespace {
namespace json = boost::json;

constexpr std::string_view kForbidden = "You cannot consume this service";
constexpr std::string_view kUnauthorized = "Unauthorized";

// The groups of every consumer that has some, by consumer id. Its own strings, no view into
// a config: handed on to the next snapshots until a change touches `acls`
// (CompileEnv::sharedAcross).
struct GroupIndex {
  struct Groups {
    std::vector<std::string> names;  // config order
    std::string header;              // names joined with ", " (Kong's concat)
  };
  std::unordered_map<std::string, Groups> byConsumer;
};

std::shared_ptr<const GroupIndex> buildIndex(const core::Config& config) {
  auto index = std::make_shared<GroupIndex>();
  for (const auto& a : config.acls) {
    auto& g = index->byConsumer[a.consumerId];
    if (!g.header.empty()) g.header += ", ";
    g.header += a.group;
    g.names.push_back(a.group);
  }
  return index;
}

template <class Range>
bool anyIn(const std::vector<std::string>& configured, const Range& groups) {
  for (const auto& want : configured) {
    for (const auto& have : groups) {
      if (std::string_view(have) == want) return true;
    }
  }
  return false;
}

struct Settings {
  bool deny = false;  // the list is a deny list (`deny` was given), else an allow list
  std::vector<std::string> groups;
  bool hideGroupsHeader = false;
  bool alwaysUseAuthenticatedGroups = false;
};

class Acl final : public Instance {
 public:
  Acl(Settings s, std::shared_ptr<const GroupIndex> index)
      : s_(std::move(s)), index_(std::move(index)) {}

  std::uint8_t phases() const override { return kAccess; }

  void access(Context& ctx) const override {
    const bool hasCredential = !ctx.credentialId.empty();
    const bool hasAuthenticatedGroups = !ctx.groups.empty();
    if (!ctx.consumer) {
      if (hasAuthenticatedGroups) return decideOnAuthenticatedGroups(ctx);
      if (hasCredential) return ctx.exitMessage(403, kForbidden);
      return ctx.exitMessage(401, kUnauthorized);
    }
    // Authenticated groups override an anonymous consumer's own groups.
    if (hasAuthenticatedGroups && (!hasCredential || s_.alwaysUseAuthenticatedGroups)) {
      return decideOnAuthenticatedGroups(ctx);
    }
    auto it = index_->byConsumer.find(ctx.consumer->id);
    if (it == index_->byConsumer.end()) {
      // A consumer in no group: never on a deny list, never on an allow list.
      if (s_.deny) {
        if (!s_.hideGroupsHeader) ctx.removeRequestHeader("X-Consumer-Groups");
        return;
      }
      return ctx.exitMessage(hasCredential ? 403 : 401, hasCredential ? kForbidden : kUnauthorized);
    }
    if (blocked(anyIn(s_.groups, it->second.names))) return ctx.exitMessage(403, kForbidden);
    if (!s_.hideGroupsHeader) ctx.setRequestHeader("X-Consumer-Groups", it->second.header);
  }

 private:
  bool blocked(bool inGroup) const { return s_.deny ? inGroup : !inGroup; }

  void decideOnAuthenticatedGroups(Context& ctx) const {
    if (blocked(anyIn(s_.groups, ctx.groups))) return ctx.exitMessage(403, kForbidden);
    if (s_.hideGroupsHeader) return;
    std::string joined;
    for (const auto& g : ctx.groups) {
      if (!joined.empty()) joined += ", ";
      joined += g;
    }
    ctx.setRequestHeader("X-Authenticated-Groups", joined);
  }

  Settings s_;
  std::shared_ptr<const GroupIndex> index_;
};

// ------------------------------------------------------------------------------ factory

bool nonEmptyArray(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_array() && !it->value().as_array().empty();
}

bool present(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && !it->value().is_null();
}

schema::Schema makeSchema() {
  using namespace schema;
  Schema s;
  s.name = "acl";
  s.fields = {
      arrayOf("allow", str("group"))
          .describe("Groups allowed to use the route or service; exactly one of allow or deny."),
      arrayOf("deny", str("group"))
          .describe("Groups refused the route or service; exactly one of allow or deny."),
      boolean("hide_groups_header")
          .req()
          .def(false)
          .describe("Do not send the consumer's groups upstream in X-Consumer-Groups."),
      boolean("always_use_authenticated_groups")
          .req()
          .def(false)
          .describe("Prefer the groups an auth plugin authenticated over the consumer's own, also "
                    "for a non-anonymous consumer."),
  };
  // Kong's entity checks only_one_of + at_least_one_of on config.allow / config.deny.
  // only_one_of does not run when a field is missing (null), at_least_one_of always does.
  s.entityCheck = [](const json::object& config, core::Errors& errors) {
    const bool allow = nonEmptyArray(config, "allow"), deny = nonEmptyArray(config, "deny");
    const std::string fields = "'config.allow', 'config.deny'";
    if (present(config, "allow") && present(config, "deny") && allow == deny) {
      errors.push_back({"", "exactly one of these fields must be non-empty: " + fields});
    }
    if (!allow && !deny) {
      errors.push_back({"", "at least one of these fields must be non-empty: " + fields});
    }
  };
  return s;
}

class AclFactory final : public Factory {
 public:
  std::string_view name() const override { return "acl"; }
  int priority() const override { return 950; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&,
                                                        const json::object& config,
                                                        CompileEnv& env) const override {
    Settings s;
    // Kong: a non-empty deny list makes it a deny list, otherwise the allow list applies.
    s.deny = nonEmptyArray(config, "deny");
    s.groups = strings(config, s.deny ? "deny" : "allow");
    s.hideGroupsHeader = boolOf(config, "hide_groups_header");
    s.alwaysUseAuthenticatedGroups = boolOf(config, "always_use_authenticated_groups");
    auto index = env.sharedAcross<GroupIndex>("acl:groups", {&core::ConfigDelta::acls},
                                              [&env] { return buildIndex(env.config()); }, nullptr);
    return std::shared_ptr<const Instance>(std::make_shared<Acl>(std::move(s), index));
  }

 private:
  schema::Schema schema_ = makeSchema();
};

}  // namespace

std::unique_ptr<Factory> makeAclPlugin() {
  return std::make_unique<AclFactory>();
}

}  // namespace archway::plugins
