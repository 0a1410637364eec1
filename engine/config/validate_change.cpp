#include <algorithm>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "config/declarative.h"

namespace archway::config {
namespace {

using core::ConfigDelta;
using core::KindDelta;

// Past this many entities in the middles, validate() over everything is the cheaper check
// (each one costs a few linear scans).
constexpr std::size_t kMaxChanged = 64;

// after's middle: the new and changed entities.
template <class T>
std::span<const T> added(const std::vector<T>& after, const KindDelta& d) {
  return {after.data() + d.prefix, d.addedCount()};
}
// before's middle: the removed entities and the old values of the changed ones.
template <class T>
std::span<const T> removed(const std::vector<T>& before, const KindDelta& d) {
  return {before.data() + d.prefix, d.removedCount()};
}

using View = std::optional<std::string_view>;
View view(const std::optional<std::string>& s) {
  return s ? View(*s) : std::nullopt;
}

// A two-field key (targets, acl groups), viewing the entity's strings.
std::optional<std::pair<std::string_view, std::string_view>> keyPair(std::string_view a,
                                                                     std::string_view b) {
  return std::pair{a, b};
}

// Whether an entity of `all` other than `self` has self's key (nullopt: no key, unique).
template <class T, class KeyOf>
bool taken(const std::vector<T>& all, const T& self, KeyOf key) {
  const auto k = key(self);
  if (!k) return false;
  for (const auto& e : all)
    if (&e != &self && key(e) == k) return true;
  return false;
}

template <class T, class Pred>
bool any(const std::vector<T>& all, Pred pred) {
  return std::any_of(all.begin(), all.end(), pred);
}

// validate()'s rules, for the middles: a duplicate must involve a new or changed entity, a
// reference that breaks either comes from one or points to what one replaced or removed.
class ChangeCheck {
 public:
  ChangeCheck(const core::Config& before, const core::Config& after, const ConfigDelta& d)
      : b_(before), a_(after), d_(d) {}

  bool ok() const {
    return services() && routes() && upstreams() && targets() && consumers() && credentials() &&
           plugins() && certificates() && snis() && caCertificates();
  }

 private:
  // References by id or name, as validate() resolves them.
  bool serviceExists(std::string_view key) const {
    return any(a_.services, [&](const core::Service& s) { return s.id == key || s.name == key; });
  }
  bool upstreamExists(std::string_view key) const {
    return any(a_.upstreams, [&](const core::Upstream& u) { return u.id == key || u.name == key; });
  }
  bool routeExists(std::string_view id) const {
    return any(a_.routes, [&](const core::Route& r) { return r.id == id; });
  }
  bool consumerExists(std::string_view id) const {
    return any(a_.consumers, [&](const core::Consumer& c) { return c.id == id; });
  }
  bool certificateExists(std::string_view id) const {
    return any(a_.certificates, [&](const core::Certificate& c) { return c.id == id; });
  }
  bool caExists(std::string_view id) const {
    return any(a_.caCertificates, [&](const core::CaCertificate& c) { return c.id == id; });
  }

  bool services() const {
    for (const auto& s : added(a_.services, d_.services)) {
      if (taken(a_.services, s, [](const core::Service& e) { return view(e.name); }) ||
          taken(a_.services, s, [](const core::Service& e) { return View(e.id); }) ||
          (s.clientCertificate && !certificateExists(*s.clientCertificate))) {
        return false;
      }
      for (const auto& ca : s.caCertificates)
        if (!caExists(ca)) return false;
    }
    for (const auto& s : removed(b_.services, d_.services)) {
      for (View key : {View(s.id), view(s.name)}) {
        if (!key || serviceExists(*key)) continue;
        if (any(a_.routes, [&](const core::Route& r) { return r.serviceId == *key; }) ||
            any(a_.plugins, [&](const core::Plugin& p) { return p.serviceId == *key; })) {
          return false;
        }
      }
    }
    return true;
  }

  bool routes() const {
    for (const auto& r : added(a_.routes, d_.routes)) {
      if (taken(a_.routes, r, [](const core::Route& e) { return view(e.name); }) ||
          taken(a_.routes, r, [](const core::Route& e) { return View(e.id); }) ||
          (r.serviceId && !serviceExists(*r.serviceId))) {
        return false;
      }
    }
    for (const auto& r : removed(b_.routes, d_.routes)) {
      if (!routeExists(r.id) &&
          any(a_.plugins, [&](const core::Plugin& p) { return p.routeId == r.id; })) {
        return false;
      }
    }
    return true;
  }

  bool upstreams() const {
    for (const auto& u : added(a_.upstreams, d_.upstreams)) {
      if (taken(a_.upstreams, u, [](const core::Upstream& e) { return View(e.name); }) ||
          (u.clientCertificate && !certificateExists(*u.clientCertificate))) {
        return false;
      }
    }
    for (const auto& u : removed(b_.upstreams, d_.upstreams)) {
      for (std::string_view key : {std::string_view(u.id), std::string_view(u.name)}) {
        if (upstreamExists(key)) continue;
        if (any(a_.targets, [&](const core::Target& t) { return t.upstreamId == key; }))
          return false;
      }
    }
    return true;
  }

  bool targets() const {
    for (const auto& t : added(a_.targets, d_.targets)) {
      if (taken(a_.targets, t,
                [](const core::Target& e) { return keyPair(e.upstreamId, e.target); }) ||
          (!t.upstreamId.empty() && !upstreamExists(t.upstreamId))) {
        return false;
      }
    }
    return true;
  }

  bool consumers() const {
    for (const auto& c : added(a_.consumers, d_.consumers)) {
      if (taken(a_.consumers, c, [](const core::Consumer& e) { return view(e.username); }) ||
          taken(a_.consumers, c, [](const core::Consumer& e) { return view(e.customId); }) ||
          taken(a_.consumers, c, [](const core::Consumer& e) { return View(e.id); })) {
        return false;
      }
    }
    for (const auto& c : removed(b_.consumers, d_.consumers)) {
      if (consumerExists(c.id)) continue;
      auto mine = [&](const auto& x) { return x.consumerId == c.id; };
      if (any(a_.keyauthCredentials, mine) || any(a_.basicauthCredentials, mine) ||
          any(a_.jwtSecrets, mine) || any(a_.acls, mine) || any(a_.plugins, mine)) {
        return false;
      }
    }
    return true;
  }

  bool credentials() const {
    for (const auto& k : added(a_.keyauthCredentials, d_.keyauthCredentials)) {
      if (taken(a_.keyauthCredentials, k,
                [](const core::KeyAuthCredential& e) { return View(e.key); }) ||
          !consumerExists(k.consumerId)) {
        return false;
      }
    }
    for (const auto& b : added(a_.basicauthCredentials, d_.basicauthCredentials)) {
      if (taken(a_.basicauthCredentials, b,
                [](const core::BasicAuthCredential& e) { return View(e.username); }) ||
          !consumerExists(b.consumerId)) {
        return false;
      }
    }
    for (const auto& j : added(a_.jwtSecrets, d_.jwtSecrets)) {
      if (taken(a_.jwtSecrets, j, [](const core::JwtSecret& e) { return View(e.key); }) ||
          !consumerExists(j.consumerId)) {
        return false;
      }
    }
    for (const auto& a : added(a_.acls, d_.acls)) {
      if (taken(a_.acls, a,
                [](const core::AclGroup& e) { return keyPair(e.consumerId, e.group); }) ||
          !consumerExists(a.consumerId)) {
        return false;
      }
    }
    return true;
  }

  bool plugins() const {
    for (const auto& p : added(a_.plugins, d_.plugins)) {
      const std::string scope = pluginScope(p);
      if (taken(a_.plugins, p, [](const core::Plugin& e) { return View(e.id); }) ||
          any(a_.plugins,
              [&](const core::Plugin& e) {
                return &e != &p && e.name == p.name && pluginScope(e) == scope;
              }) ||
          (p.routeId && !routeExists(*p.routeId)) ||
          (p.serviceId && !serviceExists(*p.serviceId)) ||
          (p.consumerId && !consumerExists(*p.consumerId))) {
        return false;
      }
    }
    return true;
  }

  bool certificates() const {
    for (const auto& c : added(a_.certificates, d_.certificates)) {
      if (taken(a_.certificates, c, [](const core::Certificate& e) { return View(e.id); }))
        return false;
    }
    for (const auto& c : removed(b_.certificates, d_.certificates)) {
      if (certificateExists(c.id)) continue;
      if (any(a_.snis, [&](const core::Sni& s) { return s.certificateId == c.id; }) ||
          any(a_.services, [&](const core::Service& s) { return s.clientCertificate == c.id; }) ||
          any(a_.upstreams, [&](const core::Upstream& u) { return u.clientCertificate == c.id; })) {
        return false;
      }
    }
    return true;
  }

  bool snis() const {
    for (const auto& s : added(a_.snis, d_.snis)) {
      if (taken(a_.snis, s, [](const core::Sni& e) { return View(e.name); }) ||
          taken(a_.snis, s, [](const core::Sni& e) { return View(e.id); }) ||
          !certificateExists(s.certificateId)) {
        return false;
      }
    }
    return true;
  }

  bool caCertificates() const {
    for (const auto& c : added(a_.caCertificates, d_.caCertificates)) {
      if (taken(a_.caCertificates, c,
                [](const core::CaCertificate& e) { return View(e.certDigest); }) ||
          taken(a_.caCertificates, c, [](const core::CaCertificate& e) { return View(e.id); })) {
        return false;
      }
    }
    for (const auto& c : removed(b_.caCertificates, d_.caCertificates)) {
      if (caExists(c.id)) continue;
      if (any(a_.services, [&](const core::Service& s) {
            return std::find(s.caCertificates.begin(), s.caCertificates.end(), c.id) !=
                   s.caCertificates.end();
          })) {
        return false;
      }
    }
    return true;
  }

  const core::Config& b_;
  const core::Config& a_;
  const ConfigDelta& d_;
};

}  // namespace

core::Status validateChange(const core::Config& before, const core::Config& after,
                            const core::ConfigDelta& delta) {
  const std::size_t changed = delta.changed();
  if (changed == 0) return core::Ok{};
  if (changed > kMaxChanged || !ChangeCheck(before, after, delta).ok()) return validate(after);
  return core::Ok{};
}

std::string pluginScope(const core::Plugin& p) {
  return p.name + "|" + p.routeId.value_or("") + "|" + p.serviceId.value_or("") + "|" +
         p.consumerId.value_or("");
}

}  // namespace archway::config
