#pragma once
// Where two configurations differ, kind by kind.
//
// An Admin API write turns the config in force into one that differs in an entity or a few
// (appended, edited in place, removed); on a node of 10^5 consumers, checking and indexing the
// whole of it again for each write takes seconds. The delta is found by comparing from both
// ends (one sequential pass over the equal entities, nothing hashed or allocated), and what
// derives from the config (validation, stats slots) is redone for the middles only.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "core/entities.h"

namespace archway::core {

// One kind: before[0, prefix) equals after[0, prefix) and the last `suffix` entities of both
// are equal (entity operator==); the middles, before[prefix, beforeSize - suffix) and
// after[prefix, afterSize - suffix), may differ.
struct KindDelta {
  std::size_t prefix = 0, suffix = 0;
  std::size_t beforeSize = 0, afterSize = 0;

  std::size_t removedCount() const { return beforeSize - prefix - suffix; }  // before's middle
  std::size_t addedCount() const { return afterSize - prefix - suffix; }     // after's middle
  // The index in `before` of the entity equal to after[i], or npos when after[i] is in the
  // middle.
  std::size_t beforeIndex(std::size_t i) const {
    if (i < prefix) return i;
    if (i >= afterSize - suffix && i < afterSize) return beforeSize - (afterSize - i);
    return npos;
  }
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
};

template <class T>
KindDelta kindDelta(const std::vector<T>& before, const std::vector<T>& after) {
  KindDelta d;
  d.beforeSize = before.size();
  d.afterSize = after.size();
  const std::size_t n = std::min(before.size(), after.size());
  while (d.prefix < n && before[d.prefix] == after[d.prefix]) ++d.prefix;
  while (d.prefix + d.suffix < n &&
         before[before.size() - 1 - d.suffix] == after[after.size() - 1 - d.suffix]) {
    ++d.suffix;
  }
  return d;
}

struct ConfigDelta {
  KindDelta services, routes, upstreams, targets, consumers, keyauthCredentials,
      basicauthCredentials, jwtSecrets, acls, plugins, certificates, snis, caCertificates;

  // Entities in the middles, over all kinds (both sides).
  std::size_t changed() const {
    std::size_t n = 0;
    for (const KindDelta* k : {&services, &routes, &upstreams, &targets, &consumers,
                               &keyauthCredentials, &basicauthCredentials, &jwtSecrets, &acls,
                               &plugins, &certificates, &snis, &caCertificates}) {
      n += k->addedCount() + k->removedCount();
    }
    return n;
  }
};

inline ConfigDelta deltaOf(const Config& before, const Config& after) {
  ConfigDelta d;
  d.services = kindDelta(before.services, after.services);
  d.routes = kindDelta(before.routes, after.routes);
  d.upstreams = kindDelta(before.upstreams, after.upstreams);
  d.targets = kindDelta(before.targets, after.targets);
  d.consumers = kindDelta(before.consumers, after.consumers);
  d.keyauthCredentials = kindDelta(before.keyauthCredentials, after.keyauthCredentials);
  d.basicauthCredentials = kindDelta(before.basicauthCredentials, after.basicauthCredentials);
  d.jwtSecrets = kindDelta(before.jwtSecrets, after.jwtSecrets);
  d.acls = kindDelta(before.acls, after.acls);
  d.plugins = kindDelta(before.plugins, after.plugins);
  d.certificates = kindDelta(before.certificates, after.certificates);
  d.snis = kindDelta(before.snis, after.snis);
  d.caCertificates = kindDelta(before.caCertificates, after.caCertificates);
  return d;
}

}  // namespace archway::core
