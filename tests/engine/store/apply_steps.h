#pragma once
// Admin-API-like edits of every entity kind, for the tests of Store::apply() on both stores:
// each step changes the config as one Admin API write would and says how many rows it writes
// (inserted or updated; deletions are checked through load()).
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "config/declarative.h"
#include "core/entities.h"
#include "core/uuid.h"

namespace archway::store_test {

// Every kind, with a consumer that has one credential of each kind and scoped plugins.
inline const char* const kApplyBase =
    "_format_version: '3.0'\nservices:\n- name: a\n  url: http://a:81/x\n"
    "  routes: [{name: r, paths: [/r], plugins: [{name: key-auth}]}]\n"
    "  plugins: [{name: rate-limiting, config: {minute: 5}}]\n"
    "- name: b\n  host: b.internal\n"
    "routes: [{name: orphan, paths: ['~/o/\\d+$']}]\n"
    "upstreams:\n- name: backend\n  algorithm: least-connections\n"
    "  targets: [{target: '10.0.0.1:80', weight: 5}, {target: 'b.internal'}]\n"
    "- name: other\n  targets: [{target: '10.0.0.2:80'}]\n"
    "consumers:\n- username: alice\n  custom_id: A\n"
    "  keyauth_credentials: [{key: k1, ttl: 60}, {key: k0}]\n"
    "  basicauth_credentials: [{username: alice, password: secret}]\n"
    "  jwt_secrets: [{key: iss1, secret: s1}]\n"
    "  acls: [{group: admins}]\n"
    "  plugins: [{name: rate-limiting, config: {minute: 1}}]\n"
    "plugins: [{name: correlation-id}]\n";

struct ApplyStep {
  const char* name;
  int written;  // rows inserted or updated by an incremental write
  std::function<void(core::Config&)> edit;
};

template <class T>
T& byId(std::vector<T>& all, const std::string& id) {
  return *std::find_if(all.begin(), all.end(), [&](const T& x) { return x.id == id; });
}

template <class T, class P>
void eraseIf(std::vector<T>& all, P pred) {
  all.erase(std::remove_if(all.begin(), all.end(), pred), all.end());
}

// Run in order on kApplyBase; ids made here are fixed so the steps can find their entities.
inline std::vector<ApplyStep> applySteps() {
  static const std::string svc = core::uuid4(), route = core::uuid4(), up = core::uuid4(),
                           target = core::uuid4(), bob = core::uuid4(), key = core::uuid4(),
                           basic = core::uuid4(), jwt = core::uuid4(), acl = core::uuid4(),
                           plugin = core::uuid4();
  return {
      {"create service", 1,
       [](core::Config& c) {
         auto s = c.services.front();
         s.id = svc;
         s.name = "new-svc";
         c.services.push_back(s);
       }},
      {"update service", 1, [](core::Config& c) { c.services.front().readTimeout = 1234; }},
      {"create route", 1,
       [](core::Config& c) {
         auto r = c.routes.front();
         r.id = route;
         r.name = "new-route";
         r.paths = {"/new"};
         r.serviceId = svc;
         c.routes.push_back(r);
       }},
      {"update route", 1, [](core::Config& c) { c.routes.front().paths = {"/changed"}; }},
      {"delete route", 0,
       [](core::Config& c) {
         eraseIf(c.routes, [](const core::Route& r) { return r.name == "orphan"; });
       }},
      {"create upstream with a target", 2,
       [](core::Config& c) {
         auto u = c.upstreams.front();
         u.id = up;
         u.name = "new-up";
         c.upstreams.push_back(u);
         auto t = c.targets.front();
         t.id = target;
         t.upstreamId = up;
         c.targets.push_back(t);
       }},
      {"update target", 1, [](core::Config& c) { byId(c.targets, target).weight = 7; }},
      // The first upstream moves to the end (its targets stay: no delete, no cascade).
      {"move upstream", 1,
       [](core::Config& c) {
         std::rotate(c.upstreams.begin(), c.upstreams.begin() + 1, c.upstreams.end());
       }},
      {"update upstream", 1, [](core::Config& c) { byId(c.upstreams, up).algorithm = "latency"; }},
      {"delete target", 0, [](core::Config& c) { c.targets.erase(c.targets.begin() + 1); }},
      {"delete upstream and its targets", 0,
       [](core::Config& c) {
         eraseIf(c.targets, [](const core::Target& t) { return t.upstreamId == up; });
         eraseIf(c.upstreams, [](const core::Upstream& u) { return u.id == up; });
       }},
      {"delete route and service", 0,
       [](core::Config& c) {
         eraseIf(c.routes, [](const core::Route& r) { return r.id == route; });
         eraseIf(c.services, [](const core::Service& s) { return s.id == svc; });
       }},
      {"create consumer", 1,
       [](core::Config& c) {
         auto x = c.consumers.front();
         x.id = bob;
         x.username = "bob";
         x.customId = "B";
         c.consumers.push_back(x);
       }},
      {"update consumer", 1, [](core::Config& c) { c.consumers.front().customId = "A2"; }},
      {"create credentials of each kind", 4,
       [](core::Config& c) {
         auto k = c.keyauthCredentials.front();
         k.id = key;
         k.key = "k2";
         k.consumerId = bob;
         c.keyauthCredentials.push_back(k);
         auto b = c.basicauthCredentials.front();
         b.id = basic;
         b.username = "bob";
         b.consumerId = bob;
         c.basicauthCredentials.push_back(b);
         auto j = c.jwtSecrets.front();
         j.id = jwt;
         j.key = "iss2";
         j.consumerId = bob;
         c.jwtSecrets.push_back(j);
         auto a = c.acls.front();
         a.id = acl;
         a.consumerId = bob;
         c.acls.push_back(a);
       }},
      {"update credentials of each kind", 4,
       [](core::Config& c) {
         byId(c.keyauthCredentials, key).ttl = 5;
         byId(c.basicauthCredentials, basic).tags = {"t"};
         byId(c.jwtSecrets, jwt).secret = "s2";
         byId(c.acls, acl).group = "users";
       }},
      // The Admin API's credential PATCH erases the credential and appends the new version.
      {"patch a credential (moved to the end)", 1,
       [](core::Config& c) {
         auto k = c.keyauthCredentials.front();
         c.keyauthCredentials.erase(c.keyauthCredentials.begin());
         k.tags = {"patched"};
         c.keyauthCredentials.push_back(k);
       }},
      {"create consumer plugin", 1,
       [](core::Config& c) {
         auto p = *std::find_if(c.plugins.begin(), c.plugins.end(),
                                [](const core::Plugin& p) { return p.consumerId.has_value(); });
         p.id = plugin;
         p.consumerId = bob;
         c.plugins.push_back(p);
       }},
      {"update plugin", 1, [](core::Config& c) { byId(c.plugins, plugin).enabled = false; }},
      {"delete consumer with credentials and plugins", 0,
       [](core::Config& c) {
         auto mine = [](const auto& x) { return x.consumerId == bob; };
         eraseIf(c.keyauthCredentials, mine);
         eraseIf(c.basicauthCredentials, mine);
         eraseIf(c.jwtSecrets, mine);
         eraseIf(c.acls, mine);
         eraseIf(c.plugins, [](const core::Plugin& p) { return p.consumerId == bob; });
         eraseIf(c.consumers, [](const core::Consumer& x) { return x.id == bob; });
       }},
      {"delete global plugin", 0,
       [](core::Config& c) {
         eraseIf(c.plugins, [](const core::Plugin& p) { return p.name == "correlation-id"; });
       }},
      {"no change", 0, [](core::Config&) {}},
  };
}

// Two services swap names: no order of row UPDATEs gets past the unique key, so apply()
// must fall back to rewriting everything.
inline void swapServiceNames(core::Config& c) {
  std::swap(c.services[0].name, c.services[1].name);
}

}  // namespace archway::store_test
