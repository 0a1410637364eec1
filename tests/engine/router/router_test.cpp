#include <QtTest>

#include "config/declarative.h"
#include "router/router.h"

using namespace archway;

namespace {

struct Built {
  core::Config config;
  std::unique_ptr<router::Router> router;
};

Built build(const std::string& yaml) {
  auto c =
      config::parseDeclarative("_format_version: '3.0'\nservices: [{name: s, host: up}]\n" + yaml);
  if (!c) qFatal("%s", c.errorText().c_str());
  Built b{std::move(*c), nullptr};
  std::vector<std::uint32_t> routeSlots(b.config.routes.size());
  for (std::size_t i = 0; i < routeSlots.size(); ++i) routeSlots[i] = static_cast<std::uint32_t>(i);
  auto r = router::Router::build(b.config, routeSlots);
  if (!r) qFatal("%s", r.errorText().c_str());
  b.router = std::move(r.value());
  return b;
}

std::string matchName(const Built& b, std::string_view method, std::string_view host,
                      std::string_view path,
                      const std::map<std::string, std::string>& headers = {}) {
  router::RequestView v;
  v.method = method;
  v.host = host;
  v.path = path;
  v.headerContext = &headers;
  v.header = [](const void* ctx, std::string_view name) -> std::string_view {
    const auto& h = *static_cast<const std::map<std::string, std::string>*>(ctx);
    auto it = h.find(std::string(name));
    return it == h.end() ? std::string_view{} : std::string_view(it->second);
  };
  auto m = b.router->match(v);
  return m ? m.route->route->name.value_or("?") : std::string("none");
}

}  // namespace

class RouterTest : public QObject {
  Q_OBJECT
 private slots:
  // Kong traditional_compatible priority cases (kong-reference §4.2).
  void followsKongPriority_data() {
    QTest::addColumn<QString>("routes");
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("host");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("expected");
    const QString prefixes =
        "routes:\n- {name: root, paths: [/], service: s}\n- {name: api, paths: [/api], service: "
        "s}\n"
        "- {name: apiv1, paths: [/api/v1], service: s}\n";
    QTest::newRow("longest prefix wins") << prefixes << "GET"
                                         << "x"
                                         << "/api/v1/users"
                                         << "apiv1";
    QTest::newRow("shorter prefix") << prefixes << "GET"
                                    << "x"
                                    << "/api/v2"
                                    << "api";
    QTest::newRow("prefix is not a word boundary") << prefixes << "GET"
                                                   << "x"
                                                   << "/apix"
                                                   << "api";
    QTest::newRow("catch-all") << prefixes << "GET"
                               << "x"
                               << "/other"
                               << "root";
    const QString weights =
        "routes:\n- {name: path-only, paths: [/p], service: s}\n"
        "- {name: path-method, paths: [/p], methods: [POST], service: s}\n";
    QTest::newRow("more fields win") << weights << "POST"
                                     << "x"
                                     << "/p"
                                     << "path-method";
    QTest::newRow("method must match") << weights << "GET"
                                       << "x"
                                       << "/p"
                                       << "path-only";
    const QString hosts =
        "routes:\n- {name: wild, hosts: ['*.example.com'], service: s}\n"
        "- {name: plain, hosts: [api.example.com], service: s}\n"
        "- {name: tld, hosts: ['example.*'], service: s}\n";
    QTest::newRow("plain host over wildcard") << hosts << "GET"
                                              << "api.example.com"
                                              << "/"
                                              << "plain";
    QTest::newRow("suffix wildcard") << hosts << "GET"
                                     << "a.b.example.com"
                                     << "/"
                                     << "wild";
    QTest::newRow("host port ignored") << hosts << "GET"
                                       << "api.example.com:8000"
                                       << "/"
                                       << "plain";
    QTest::newRow("host case-insensitive") << hosts << "GET"
                                           << "API.Example.COM"
                                           << "/"
                                           << "plain";
    QTest::newRow("prefix wildcard") << hosts << "GET"
                                     << "example.org"
                                     << "/"
                                     << "tld";
    QTest::newRow("no host") << hosts << "GET"
                             << "other.org"
                             << "/"
                             << "none";
    const QString regex =
        "routes:\n- {name: prefix, paths: [/users/profile], service: s}\n"
        "- {name: re-low, paths: ['~/users/\\d+'], service: s}\n"
        "- {name: re-high, paths: ['~/users/1\\d*'], regex_priority: 5, service: s}\n";
    QTest::newRow("regex before prefix") << regex << "GET"
                                         << "x"
                                         << "/users/42"
                                         << "re-low";
    QTest::newRow("regex_priority orders regexes") << regex << "GET"
                                                   << "x"
                                                   << "/users/12"
                                                   << "re-high";
    QTest::newRow("prefix when no regex matches") << regex << "GET"
                                                  << "x"
                                                  << "/users/profile"
                                                  << "prefix";
    QTest::newRow("regex anchored at start") << regex << "GET"
                                             << "x"
                                             << "/x/users/42"
                                             << "none";
    const QString headers =
        "routes:\n- {name: any, paths: [/h], service: s}\n"
        "- {name: beta, paths: [/h], headers: {x-version: [beta, Canary]}, service: s}\n";
    QTest::newRow("header value matches") << headers << "GET"
                                          << "x"
                                          << "/h"
                                          << "any";
  }
  void followsKongPriority() {
    QFETCH(QString, routes);
    QFETCH(QString, method);
    QFETCH(QString, host);
    QFETCH(QString, path);
    QFETCH(QString, expected);
    auto b = build(routes.toStdString());
    QCOMPARE(QString::fromStdString(
                 matchName(b, method.toStdString(), host.toStdString(), path.toStdString())),
             expected);
  }

  void headersAreAndedValuesOred() {
    auto b = build(
        "routes:\n- {name: any, paths: [/h], service: s}\n"
        "- {name: beta, paths: [/h], headers: {x-version: [beta, canary]}, service: s}\n");
    QCOMPARE(matchName(b, "GET", "x", "/h", {{"x-version", "Canary"}}), std::string("beta"));
    QCOMPARE(matchName(b, "GET", "x", "/h", {{"x-version", "stable"}}), std::string("any"));
  }

  void reportsMatchedPrefixLength() {
    auto b = build("routes:\n- {name: api, paths: [/api], service: s}\n");
    router::RequestView v;
    v.method = "GET";
    v.path = "/api/users";
    auto m = b.router->match(v);
    QVERIFY(m);
    QCOMPARE(m.matchedLength, std::size_t{4});
  }

  void leavesOutRoutesOfDisabledServices() {
    auto c = config::parseDeclarative(
        "_format_version: '3.0'\nservices: [{name: off, host: up, enabled: false, routes: [{name: "
        "r, paths: [/]}]}]\n");
    QVERIFY(c.ok());
    auto r = router::Router::build(*c, {0});
    QVERIFY(r.ok());
    QCOMPARE(r.value()->size(), std::size_t{0});
  }

  void rejectsInvalidRegexWithItsPath() {
    auto c = config::parseDeclarative("_format_version: '3.0'\nroutes: [{paths: ['~/a(']}]\n");
    QVERIFY(c.ok());
    auto r = router::Router::build(*c, {0});
    QVERIFY(!r.ok());
    QCOMPARE(r.errors().front().path, std::string("routes[0].paths[0]"));
  }
};

QTEST_GUILESS_MAIN(RouterTest)
#include "router_test.moc"
