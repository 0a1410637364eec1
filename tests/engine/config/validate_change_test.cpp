// validateChange() (a config checked from its delta to a valid one) must reach validate()'s
// verdict on every change. Random writes — appends, removals, edits, several at once, some
// large — with names, keys and references drawn so that duplicates and dangling references
// come up often, are checked both ways; valid results become the next base, as the engine does.
#include <QtTest>

#include <random>

#include "config/declarative.h"
#include "core/config_delta.h"

using namespace archway;

namespace {

class Writes {
 public:
  explicit Writes(unsigned seed) : rng_(seed) {}

  // A valid config: fresh names and keys, references to what exists.
  core::Config initial() {
    initialising_ = true;
    core::Config c;
    for (int i = 0; i < 3; ++i) add<core::Certificate>(c);
    for (int i = 0; i < 3; ++i) add<core::CaCertificate>(c);
    for (int i = 0; i < 4; ++i) add<core::Service>(c);
    for (int i = 0; i < 6; ++i) add<core::Route>(c);
    for (int i = 0; i < 2; ++i) add<core::Upstream>(c);
    for (int i = 0; i < 4; ++i) add<core::Target>(c);
    for (int i = 0; i < 12; ++i) add<core::Consumer>(c);
    for (int i = 0; i < 8; ++i) add<core::KeyAuthCredential>(c);
    for (int i = 0; i < 4; ++i) add<core::BasicAuthCredential>(c);
    for (int i = 0; i < 4; ++i) add<core::JwtSecret>(c);
    for (int i = 0; i < 6; ++i) add<core::AclGroup>(c);
    for (int i = 0; i < 3; ++i) add<core::Sni>(c);
    for (const char* name : {"cors", "key-auth"}) {  // one global, one on a route
      core::Plugin p;
      p.id = fresh("plugin-id-");
      p.name = name;
      if (p.name == "key-auth") p.routeId = c.routes.front().id;
      c.plugins.push_back(p);
    }
    initialising_ = false;
    return c;
  }

  // One write: a few changes of random kinds; now and then a large one.
  core::Config change(core::Config c) {
    if (chance(1)) {
      for (int i = 0; i < 70; ++i) add<core::Consumer>(c);
      return c;
    }
    const int n = 1 + static_cast<int>(pick(3));
    for (int i = 0; i < n; ++i) {
      switch (pick(13)) {
        case 0:
          mutate(c, c.services);
          break;
        case 1:
          mutate(c, c.routes);
          break;
        case 2:
          mutate(c, c.upstreams);
          break;
        case 3:
          mutate(c, c.targets);
          break;
        case 4:
          mutate(c, c.consumers);
          break;
        case 5:
          mutate(c, c.keyauthCredentials);
          break;
        case 6:
          mutate(c, c.basicauthCredentials);
          break;
        case 7:
          mutate(c, c.jwtSecrets);
          break;
        case 8:
          mutate(c, c.acls);
          break;
        case 9:
          mutate(c, c.plugins);
          break;
        case 10:
          mutate(c, c.certificates);
          break;
        case 11:
          mutate(c, c.snis);
          break;
        default:
          mutate(c, c.caCertificates);
          break;
      }
    }
    return c;
  }

 private:
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  // While initialising, every draw comes out "valid" (fresh names, existing references).
  bool chance(int percent) {
    if (initialising_) return percent >= 50;
    return static_cast<int>(pick(100)) < percent;
  }
  std::string fresh(const char* prefix) { return prefix + std::to_string(next_++); }
  // A value of `all` (or a fresh one): duplicates and dangling references come from here.
  template <class T, class F>
  std::string any(const std::vector<T>& all, F field, const char* prefix) {
    if (all.empty() || (!initialising_ && chance(15))) return fresh(prefix);
    return field(all[pick(all.size())]);
  }
  // A unique value most of the time, an existing one now and then.
  template <class T, class F>
  std::string uniqueish(const std::vector<T>& all, F field, const char* prefix) {
    return initialising_ || chance(80) || all.empty() ? fresh(prefix)
                                                      : field(all[pick(all.size())]);
  }
  std::optional<std::string> maybe(std::string v) {
    return chance(20) ? std::nullopt : std::optional<std::string>(std::move(v));
  }

  // Appends, removes or edits one entity of `all`.
  template <class T>
  void mutate(core::Config& c, std::vector<T>& all) {
    const auto what = pick(3);
    if (what == 0 || all.empty()) {
      add<T>(c);
    } else if (what == 1) {
      all.erase(all.begin() + static_cast<std::ptrdiff_t>(pick(all.size())));
    } else {
      const std::size_t i = pick(all.size());
      T e = make<T>(c);
      if (chance(70)) e.id = all[i].id;  // an edit keeps its id; else a replacement
      all[i] = std::move(e);
    }
  }

  template <class T>
  void add(core::Config& c) {
    T e = make<T>(c);
    auto& all = listOf(c, static_cast<T*>(nullptr));
    if (chance(50) || all.empty())
      all.push_back(std::move(e));
    else
      all.insert(all.begin() + static_cast<std::ptrdiff_t>(pick(all.size() + 1)), std::move(e));
  }

  template <class T>
  T make(const core::Config& c);

  static std::vector<core::Service>& listOf(core::Config& c, core::Service*) { return c.services; }
  static std::vector<core::Route>& listOf(core::Config& c, core::Route*) { return c.routes; }
  static std::vector<core::Upstream>& listOf(core::Config& c, core::Upstream*) {
    return c.upstreams;
  }
  static std::vector<core::Target>& listOf(core::Config& c, core::Target*) { return c.targets; }
  static std::vector<core::Consumer>& listOf(core::Config& c, core::Consumer*) {
    return c.consumers;
  }
  static std::vector<core::KeyAuthCredential>& listOf(core::Config& c, core::KeyAuthCredential*) {
    return c.keyauthCredentials;
  }
  static std::vector<core::BasicAuthCredential>& listOf(core::Config& c,
                                                        core::BasicAuthCredential*) {
    return c.basicauthCredentials;
  }
  static std::vector<core::JwtSecret>& listOf(core::Config& c, core::JwtSecret*) {
    return c.jwtSecrets;
  }
  static std::vector<core::AclGroup>& listOf(core::Config& c, core::AclGroup*) { return c.acls; }
  static std::vector<core::Plugin>& listOf(core::Config& c, core::Plugin*) { return c.plugins; }
  static std::vector<core::Certificate>& listOf(core::Config& c, core::Certificate*) {
    return c.certificates;
  }
  static std::vector<core::Sni>& listOf(core::Config& c, core::Sni*) { return c.snis; }
  static std::vector<core::CaCertificate>& listOf(core::Config& c, core::CaCertificate*) {
    return c.caCertificates;
  }

  std::mt19937 rng_;
  int next_ = 0;
  bool initialising_ = false;
};

auto idOf = [](const auto& e) { return e.id; };
auto nameOf = [](const auto& e) { return e.name.value_or("unnamed"); };

template <>
core::Service Writes::make<core::Service>(const core::Config& c) {
  core::Service s;
  s.id = uniqueish(c.services, idOf, "svc-id-");
  s.name = maybe(uniqueish(c.services, nameOf, "svc-"));
  s.host = "h";
  if (chance(20)) s.clientCertificate = any(c.certificates, idOf, "cert-id-");
  if (chance(20)) s.caCertificates.push_back(any(c.caCertificates, idOf, "ca-id-"));
  return s;
}
template <>
core::Route Writes::make<core::Route>(const core::Config& c) {
  core::Route r;
  r.id = uniqueish(c.routes, idOf, "route-id-");
  r.name = maybe(uniqueish(c.routes, nameOf, "route-"));
  r.paths = {"/"};
  // By id, or by name as validate() also accepts.
  if (chance(80))
    r.serviceId = chance(70) ? any(c.services, idOf, "svc-id-") : any(c.services, nameOf, "svc-");
  return r;
}
template <>
core::Upstream Writes::make<core::Upstream>(const core::Config& c) {
  core::Upstream u;
  u.id = uniqueish(c.upstreams, idOf, "up-id-");
  u.name = uniqueish(
      c.upstreams, [](const auto& e) { return e.name; }, "up-");
  if (chance(15)) u.clientCertificate = any(c.certificates, idOf, "cert-id-");
  return u;
}
template <>
core::Target Writes::make<core::Target>(const core::Config& c) {
  core::Target t;
  t.id = uniqueish(c.targets, idOf, "target-id-");
  t.upstreamId = chance(10)   ? std::string()
                 : chance(70) ? any(c.upstreams, idOf, "up-id-")
                              : any(
                                    c.upstreams, [](const auto& e) { return e.name; }, "up-");
  t.target = chance(70) ? fresh("host-") + ":80" : "shared:80";
  return t;
}
template <>
core::Consumer Writes::make<core::Consumer>(const core::Config& c) {
  core::Consumer x;
  x.id = uniqueish(c.consumers, idOf, "consumer-id-");
  x.username = maybe(uniqueish(
      c.consumers, [](const auto& e) { return e.username.value_or(""); }, "user-"));
  if (chance(30))
    x.customId = uniqueish(
        c.consumers, [](const auto& e) { return e.customId.value_or(""); }, "custom-");
  return x;
}
template <>
core::KeyAuthCredential Writes::make<core::KeyAuthCredential>(const core::Config& c) {
  core::KeyAuthCredential k;
  k.id = uniqueish(c.keyauthCredentials, idOf, "key-id-");
  k.key = uniqueish(
      c.keyauthCredentials, [](const auto& e) { return e.key; }, "key-");
  k.consumerId = any(c.consumers, idOf, "consumer-id-");
  return k;
}
template <>
core::BasicAuthCredential Writes::make<core::BasicAuthCredential>(const core::Config& c) {
  core::BasicAuthCredential b;
  b.id = uniqueish(c.basicauthCredentials, idOf, "basic-id-");
  b.username = uniqueish(
      c.basicauthCredentials, [](const auto& e) { return e.username; }, "basic-");
  b.consumerId = any(c.consumers, idOf, "consumer-id-");
  return b;
}
template <>
core::JwtSecret Writes::make<core::JwtSecret>(const core::Config& c) {
  core::JwtSecret j;
  j.id = uniqueish(c.jwtSecrets, idOf, "jwt-id-");
  j.key = uniqueish(
      c.jwtSecrets, [](const auto& e) { return e.key; }, "iss-");
  j.consumerId = any(c.consumers, idOf, "consumer-id-");
  return j;
}
template <>
core::AclGroup Writes::make<core::AclGroup>(const core::Config& c) {
  core::AclGroup a;
  a.id = uniqueish(c.acls, idOf, "acl-id-");
  a.consumerId = any(c.consumers, idOf, "consumer-id-");
  a.group = chance(50) ? fresh("group-") : "group-a";
  return a;
}
template <>
core::Plugin Writes::make<core::Plugin>(const core::Config& c) {
  core::Plugin p;
  p.id = uniqueish(c.plugins, idOf, "plugin-id-");
  p.name = chance(50) ? "cors" : "key-auth";
  if (chance(40)) p.routeId = any(c.routes, idOf, "route-id-");
  if (chance(30))
    p.serviceId = chance(70) ? any(c.services, idOf, "svc-id-") : any(c.services, nameOf, "svc-");
  if (chance(30)) p.consumerId = any(c.consumers, idOf, "consumer-id-");
  return p;
}
template <>
core::Certificate Writes::make<core::Certificate>(const core::Config& c) {
  core::Certificate x;
  x.id = uniqueish(c.certificates, idOf, "cert-id-");
  return x;
}
template <>
core::Sni Writes::make<core::Sni>(const core::Config& c) {
  core::Sni s;
  s.id = uniqueish(c.snis, idOf, "sni-id-");
  s.name = uniqueish(
      c.snis, [](const auto& e) { return e.name; }, "sni-");
  s.certificateId = any(c.certificates, idOf, "cert-id-");
  return s;
}
template <>
core::CaCertificate Writes::make<core::CaCertificate>(const core::Config& c) {
  core::CaCertificate x;
  x.id = uniqueish(c.caCertificates, idOf, "ca-id-");
  x.certDigest = uniqueish(
      c.caCertificates, [](const auto& e) { return e.certDigest; }, "digest-");
  return x;
}

std::string errorsOf(const core::Status& s) {
  std::string out;
  for (const auto& e : s.errors()) out += e.path + ": " + e.message + "\n";
  return out;
}

}  // namespace

class ValidateChangeTest : public QObject {
  Q_OBJECT
 private slots:
  void deltaFindsTheMiddles() {
    auto consumer = [](std::string id) {
      core::Consumer c;
      c.id = std::move(id);
      return c;
    };
    std::vector<core::Consumer> before, after;
    for (int i = 0; i < 6; ++i) before.push_back(consumer("c" + std::to_string(i)));
    after = before;
    after[2].username = "edited";      // in place
    after.erase(after.begin() + 4);    // c4 removed
    after.push_back(consumer("new"));  // appended
    auto d = core::kindDelta(before, after);
    QCOMPARE(d.prefix, std::size_t{2});
    QCOMPARE(d.suffix, std::size_t{0});
    QCOMPARE(d.removedCount(), std::size_t{4});
    QCOMPARE(d.addedCount(), std::size_t{4});
    QCOMPARE(d.beforeIndex(1), std::size_t{1});
    QCOMPARE(d.beforeIndex(2), core::KindDelta::npos);

    after = before;
    after.insert(after.begin() + 3, consumer("ins"));
    d = core::kindDelta(before, after);
    QCOMPARE(d.prefix, std::size_t{3});
    QCOMPARE(d.suffix, std::size_t{3});
    QCOMPARE(d.addedCount(), std::size_t{1});
    QCOMPARE(d.removedCount(), std::size_t{0});
    QCOMPARE(d.beforeIndex(3), core::KindDelta::npos);
    QCOMPARE(d.beforeIndex(4), std::size_t{3});
    QCOMPARE(d.beforeIndex(6), std::size_t{5});

    d = core::kindDelta(before, before);
    QCOMPARE(d.prefix, before.size());
    QCOMPARE(core::deltaOf(core::Config{}, core::Config{}).changed(), std::size_t{0});
  }

  void agreesWithValidateOnRandomWrites() {
    Writes writes(20240611);
    core::Config base = writes.initial();
    QVERIFY2(config::validate(base).ok(), errorsOf(config::validate(base)).c_str());
    int valid = 0, invalid = 0;
    for (int step = 0; step < 4000; ++step) {
      core::Config next = writes.change(base);
      const auto full = config::validate(next);
      const auto fromDelta = config::validateChange(base, next, core::deltaOf(base, next));
      QVERIFY2(full.ok() == fromDelta.ok(), ("step " + std::to_string(step) + ": validate says " +
                                             (full.ok() ? "valid" : errorsOf(full)))
                                                .c_str());
      if (!full.ok()) {
        QCOMPARE(errorsOf(fromDelta), errorsOf(full));
        ++invalid;
        continue;
      }
      ++valid;
      base = std::move(next);
    }
    // Both verdicts came up often enough for the comparison to mean something.
    QVERIFY2(valid > 400 && invalid > 400,
             (std::to_string(valid) + " valid, " + std::to_string(invalid) + " invalid").c_str());
  }
};

QTEST_APPLESS_MAIN(ValidateChangeTest)
#include "validate_change_test.moc"
