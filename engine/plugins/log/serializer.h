#pragma once
// Kong's log serializer (kong.log.serialize, HTTP subsystem; kong-reference §5.9): the JSON
// object every logging plugin ships, one per request.
//
//   {"request":{"id","uri","url","querystring","method","headers","size"},
//    "upstream_uri","upstream_status","response":{"status","headers","size"},
//    "latencies":{"kong","proxy","request","receive"},"tries":[...],
//    "authenticated_entity":{"id","consumer_id"},"route":{...},"service":{...},
//    "consumer":{...},"client_ip","started_at","source","workspace","workspace_name"}
//
// As in Kong: header names are lower case and a repeated header becomes an array; the
// authorization and proxy-authorization request headers read "REDACTED"; request headers
// include the edits plugins made (Kong's set_header changes ngx.req's headers); `source` is
// "upstream" or "kong" (Kong maps both its "exit" and "error" sources to "kong");
// `upstream_status` is a string ("" when the upstream was not reached); `latencies.proxy` is
// -1 when nothing was proxied; fields without a value (authenticated_entity, consumer, route,
// service, tries) are left out, as cjson leaves out nil.
//
// Thread-safety: a Serializer is immutable once built; serialize() may run on every worker at
// once. It uses per-thread scratch, so steady-state calls allocate only when `out` grows.
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/entities.h"
#include "plugins/plugin.h"

namespace archway::plugins::log {

// The id of the one workspace Archway has ("default"); Kong writes it as `workspace` and as
// the `ws_id` of entity copies.
const std::string& defaultWorkspaceId();

// Kong-shaped entity copies as compact JSON (null fields left out, as Kong's cached entities
// have them, plus `ws_id`).
std::string routeJson(const core::Route& route);
std::string serviceJson(const core::Service& service);
std::string consumerJson(const core::Consumer& consumer);

class Serializer {
 public:
  // Without a config: entity copies are built on every call (tests, one-off use).
  Serializer() = default;
  // Pre-renders the entity copies of `config`, so a request costs a lookup, not a rebuild.
  explicit Serializer(const core::Config& config);

  // Appends the JSON object for `ctx` to `out` (no trailing newline).
  void serialize(const Context& ctx, std::string& out) const;
  std::string serialize(const Context& ctx) const;

 private:
  void appendEntity(std::string& out, const core::Route& r) const;
  void appendEntity(std::string& out, const core::Service& s) const;
  void appendEntity(std::string& out, const core::Consumer& c) const;

  std::unordered_map<std::string, std::string> routes_, services_, consumers_;  // id -> JSON
};

// serialize() with a config-less Serializer.
std::string serialize(const Context& ctx);

// Kong's kong.request.get_query() decoding of a raw query string, as a JSON object: keys and
// values percent-decoded ('+' is a space), an argument without '=' is `true`, a repeated
// argument becomes an array, arguments with an empty name are ignored; at most 100 arguments.
void appendQueryJson(std::string& out, std::string_view rawQuery);

}  // namespace archway::plugins::log
