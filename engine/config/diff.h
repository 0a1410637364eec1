#pragma once
// decK-style difference between the configuration a node runs (`live`, read from its
// `GET /config`) and the one a kong.yml asks for (`desired`), as the ordered Admin API calls that
// turn the first into the second. Used by `archwayd config diff|sync` and the console.
//
// Matching (kong-reference §3.2): an entity whose id is written in the file is matched by id;
// one without is matched by its natural key (services, routes and upstreams by name, consumers
// by username or custom_id, targets by upstream and target, plugins by name and
// route/service/consumer scope, credentials by key, username, key or consumer and group), and
// failing that by its generated id. Fields the server fills in (created_at, updated_at, ids the
// file does not give) are not compared.
//
// Order: live entities that block a desired one (same natural key, other id) are deleted first,
// bottom-up; then creates and updates top-down (consumers; services, upstreams, credentials;
// routes, targets; plugins); then the remaining deletes bottom-up.
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/entities.h"
#include "core/result.h"

namespace archway::config {

// A parsed kong.yml with what the parsed entities no longer tell: which ids the file wrote
// (the others are generated UUIDv5s) and the basic-auth passwords as written (the parser hashes
// them with the consumer id, which may not be the live consumer's).
struct DesiredConfig {
  core::Config config;
  std::set<std::string> declaredIds;
  std::map<std::string, std::string> basicAuthPasswords;  // username -> password as written
};

core::Result<DesiredConfig> parseDesired(std::string_view text);
// A missing or unreadable file is an error on the path "config".
core::Result<DesiredConfig> loadDesiredFile(const std::string& path);

enum class ChangeKind { create, update, remove };

// One changed field of an update: `field` is a dotted path ("config.minute"), the values are
// JSON text; secrets (key-auth keys, basic-auth passwords, jwt secrets) read "(hidden)".
struct FieldChange {
  std::string field;
  std::string before, after;
};

// An Admin API request; `body` is JSON (empty for DELETE).
struct AdminCall {
  std::string method;
  std::string path;
  std::string body;
};

struct Change {
  ChangeKind kind = ChangeKind::create;
  std::string entity;  // service, route, upstream, target, consumer, key-auth, basic-auth, jwt,
                       // acl, plugin
  std::string name;    // for display: "users", "key-auth (route bar)"
  std::vector<FieldChange> fields;  // updates only
  std::vector<AdminCall> calls;     // usually one; a moved target or credential: DELETE + POST
};

struct ConfigDiff {
  std::vector<Change> changes;

  std::size_t count(ChangeKind kind) const;
  bool empty() const { return changes.empty(); }
};

ConfigDiff diffConfigs(const core::Config& live, const DesiredConfig& desired);

// decK's lines: "creating service users", "updating route bar  {"paths": ["/a"] -> ["/b"]}",
// "deleting plugin key-auth (route bar)".
std::string describe(const Change& change);
// "Summary: Created: 1 Updated: 0 Deleted: 2"
std::string summary(std::size_t created, std::size_t updated, std::size_t deleted);

}  // namespace archway::config
