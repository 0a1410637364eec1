// cors: schema, origin normalisation and matching (plain, list, regex), the preflight answer
// and the headers added to normal responses, against Kong's handler semantics.
#include <QtTest>
#include <boost/json.hpp>
#include <optional>
#include <string>

#include "http/head_parser.h"
#include "plugins/cors/cors.h"

using namespace archway;
namespace json = boost::json;

namespace {

// A request parsed from its text, bound to a fresh Context the way the proxy binds one.
struct Request {
  std::string bytes;
  http::RequestHead head;
  plugins::Context ctx;
  core::Route route;

  explicit Request(std::string text) : bytes(std::move(text)) {
    http::Limits limits;
    head.reserve(limits);
    http::ParseError err;
    if (http::parseRequestHead(bytes.data(), bytes.size(), limits, head, err) !=
        http::ParseStatus::complete)
      qFatal("request did not parse");
    const char* b = bytes.data();
    ctx.bindRequest(&head, b);
    ctx.method = head.method.in(b);
    ctx.path = ctx.rawPath = head.path.in(b);
    ctx.query = head.query.in(b);
    route.id = "r1";
    ctx.route = &route;
    ctx.enter(0);
  }
};

// The value a response header ends with after the plugin's edits (upstream value first).
std::optional<std::string> finalHeader(const plugins::Context& ctx, std::string_view name,
                                       std::optional<std::string> upstream = std::nullopt) {
  std::vector<std::string> values;
  if (upstream) values.push_back(*upstream);
  auto ieq = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  };
  for (const auto& e : ctx.responseEdits) {
    if (!ieq(e.name, name)) continue;
    if (e.op == plugins::HeaderEdit::Op::set) values = {e.value};
    if (e.op == plugins::HeaderEdit::Op::add) values.push_back(e.value);
    if (e.op == plugins::HeaderEdit::Op::remove) values.clear();
  }
  if (values.empty()) return std::nullopt;
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

std::shared_ptr<const plugins::Instance> compile(const std::string& configJson) {
  static auto factory = plugins::makeCorsPlugin();
  auto valid = plugins::schema::validate(factory->schema(), json::parse(configJson));
  if (!valid) qFatal("%s", valid.errorText().c_str());
  core::Config config;
  plugins::Persistent persistent;
  plugins::CompileEnv env(config, persistent);
  core::Plugin entity;
  entity.name = "cors";
  auto inst = factory->compile(entity, *valid, env);
  if (!inst) qFatal("%s", inst.errorText().c_str());
  return *inst;
}

std::string preflight(const std::string& origin, const std::string& extra = {}) {
  return "OPTIONS /api HTTP/1.1\r\nHost: x\r\nOrigin: " + origin +
         "\r\nAccess-Control-Request-Method: POST\r\n" + extra + "\r\n";
}

std::string simple(const std::string& origin) {
  return "GET /api HTTP/1.1\r\nHost: x\r\n" +
         (origin.empty() ? std::string() : "Origin: " + origin + "\r\n") + "\r\n";
}

// Runs a simple (non-preflight) request through access and header_filter.
void runSimple(const plugins::Instance& inst, Request& r) {
  inst.access(r.ctx);
  QVERIFY(!r.ctx.exited());
  r.ctx.status = 200;
  inst.headerFilter(r.ctx);
}

}  // namespace

class CorsTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void schemaFillsKongDefaults() {
    auto f = plugins::makeCorsPlugin();
    QCOMPARE(f->name(), std::string_view("cors"));
    QCOMPARE(f->priority(), 2000);
    auto v = plugins::schema::validate(f->schema(), nullptr);
    QVERIFY2(v.ok(), v.errorText().c_str());
    QCOMPARE(json::serialize(v->at("methods")),
             std::string("[\"GET\",\"HEAD\",\"PUT\",\"PATCH\",\"POST\",\"DELETE\",\"OPTIONS\","
                         "\"TRACE\",\"CONNECT\"]"));
    QCOMPARE(v->at("credentials").as_bool(), false);
    QCOMPARE(v->at("private_network").as_bool(), false);
    QCOMPARE(v->at("preflight_continue").as_bool(), false);
    QCOMPARE(v->at("allow_origin_absent").as_bool(), true);
    QVERIFY(v->at("origins").is_null());
    QVERIFY(v->at("max_age").is_null());
  }

  void schemaRejectsInvalidRegexAndUnknownMethod() {
    auto f = plugins::makeCorsPlugin();
    auto v = plugins::schema::validate(
        f->schema(),
        json::parse("{\"origins\":[\"*\",\"(unclosed\"],\"methods\":[\"GET\",\"FOO\"]}"));
    QVERIFY(!v.ok());
    QVERIFY2(v.errorText().find("config.origins[1]: '(unclosed' is not a valid regex") !=
                 std::string::npos,
             v.errorText().c_str());
    QVERIFY2(
        v.errorText().find("config.methods[1]: expected one of: GET, HEAD") != std::string::npos,
        v.errorText().c_str());
  }

  void normalizesOriginsAsLuaSocketDoes() {
    using plugins::cors::normalizeOrigin;
    QCOMPARE(normalizeOrigin("http://example.com:80").domain, std::string("http://example.com"));
    QCOMPARE(normalizeOrigin("https://example.com:443").domain, std::string("https://example.com"));
    QCOMPARE(normalizeOrigin("https://example.com:8443").domain,
             std::string("https://example.com:8443"));
    QCOMPARE(normalizeOrigin("https://example.com:8443").host, std::string("example.com"));
    QCOMPARE(normalizeOrigin("http://user@example.com/path").domain,
             std::string("http://example.com"));
    QCOMPARE(normalizeOrigin("http://[::1]:8080").host, std::string("::1"));
    // No "//" authority: the whole string is both domain and host.
    QCOMPARE(normalizeOrigin("example.com").domain, std::string("example.com"));
    QCOMPARE(normalizeOrigin("localhost:3000").host, std::string("localhost:3000"));
    QCOMPARE(normalizeOrigin("null").domain, std::string("null"));
  }

  void preflightWithDefaultsAllowsAnyOrigin() {
    auto inst = compile("{}");
    Request r(preflight("https://app.example.com", "Access-Control-Request-Headers: X-A, X-B\r\n"));
    inst->access(r.ctx);
    QVERIFY(r.ctx.exited());
    QCOMPARE(r.ctx.exitStatus(), 200);
    QVERIFY(r.ctx.exitBody().empty());
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Origin"), std::optional<std::string>("*"));
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Methods"),
             std::optional<std::string>("GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT"));
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Headers"),
             std::optional<std::string>("X-A, X-B"));
    QCOMPARE(finalHeader(r.ctx, "Vary"), std::nullopt);
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Max-Age"), std::nullopt);
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Credentials"), std::nullopt);
    // header_filter runs after the exit and must not add the simple-response headers.
    auto edits = r.ctx.responseEdits.size();
    inst->headerFilter(r.ctx);
    QCOMPARE(r.ctx.responseEdits.size(), edits);
  }

  void preflightWithConfiguredHeadersMaxAgeAndCredentials() {
    auto inst = compile(
        "{\"origins\":[\"https://a.example.com\",\"https://b.example.com\"],"
        "\"headers\":[\"X-One\",\"X-Two\"],\"methods\":[\"GET\",\"POST\"],\"max_age\":3600,"
        "\"credentials\":true}");
    Request r(preflight("https://b.example.com:443", "Access-Control-Request-Headers: X-Z\r\n"));
    inst->access(r.ctx);
    QVERIFY(r.ctx.exited());
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Origin"),
             std::optional<std::string>("https://b.example.com"));
    QCOMPARE(finalHeader(r.ctx, "Vary"), std::optional<std::string>("Origin"));
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Headers"),
             std::optional<std::string>("X-One,X-Two"));
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Methods"),
             std::optional<std::string>("GET,POST"));
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Max-Age"), std::optional<std::string>("3600"));
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Credentials"),
             std::optional<std::string>("true"));
  }

  void preflightWithoutRequestHeadersClearsAllowHeaders() {
    auto inst = compile("{\"max_age\":1.5}");
    Request r(preflight("https://x.test"));
    inst->access(r.ctx);
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Headers", std::string("stale")),
             std::nullopt);
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Max-Age"), std::optional<std::string>("1.5"));
  }

  void credentialsWithWildcardEchoTheRequestOrigin() {
    auto inst = compile("{\"credentials\":true}");
    Request r(preflight("https://app.test"));
    inst->access(r.ctx);
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Origin"),
             std::optional<std::string>("https://app.test"));
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Credentials"),
             std::optional<std::string>("true"));
    QCOMPARE(finalHeader(r.ctx, "Vary"), std::optional<std::string>("Origin"));
  }

  void singlePlainOriginIsSentAsConfigured() {
    auto inst = compile("{\"origins\":[\"https://only.example.com\"]}");
    Request r(preflight("https://other.test"));
    inst->access(r.ctx);
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Origin"),
             std::optional<std::string>("https://only.example.com"));
    QCOMPARE(finalHeader(r.ctx, "Vary"), std::optional<std::string>("Origin"));
  }

  void listOfPlainOriginsEchoesAMatchAndDropsAMismatch() {
    auto inst = compile("{\"origins\":[\"http://a.test\",\"http://b.test:8080\"]}");
    {
      Request r(simple("http://a.test:80"));
      runSimple(*inst, r);
      QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Origin"),
               std::optional<std::string>("http://a.test"));
    }
    {
      Request r(simple("http://b.test:8080"));
      runSimple(*inst, r);
      QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Origin"),
               std::optional<std::string>("http://b.test:8080"));
    }
    {
      Request r(simple("http://b.test"));
      runSimple(*inst, r);
      // The upstream's own ACAO must not leak through either.
      QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Origin", std::string("*")), std::nullopt);
      QCOMPARE(finalHeader(r.ctx, "Vary", std::string("Accept-Encoding")),
               std::optional<std::string>("Accept-Encoding, Origin"));
    }
  }

  void regexOriginsMatchAnchoredAtBothEnds_data() {
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<QString>("origin");
    QTest::addColumn<QString>("expected");  // empty: no ACAO
    QTest::newRow("subdomain") << "https://.*\\.example\\.com"
                               << "https://api.example.com"
                               << "https://api.example.com";
    QTest::newRow("suffix attack") << "https://.*\\.example\\.com"
                                   << "https://api.example.com.evil.net"
                                   << "";
    QTest::newRow("prefix attack") << "https://.*\\.example\\.com"
                                   << "evilhttps://api.example.com"
                                   << "";
    QTest::newRow("user anchors") << "^https://x\\.test$"
                                  << "https://x.test"
                                  << "https://x.test";
    QTest::newRow("default port dropped") << "https://.*\\.example\\.com"
                                          << "https://a.example.com:443"
                                          << "https://a.example.com";
    // Without ':' the regex sees only the host, so any scheme and port match.
    QTest::newRow("by host") << "(.*\\.)?example\\.(com|org)"
                             << "http://www.example.org:8080"
                             << "http://www.example.org:8080";
    QTest::newRow("by host mismatch") << "(.*\\.)?example\\.(com|org)"
                                      << "http://example.net"
                                      << "";
  }

  void regexOriginsMatchAnchoredAtBothEnds() {
    QFETCH(QString, pattern);
    QFETCH(QString, origin);
    QFETCH(QString, expected);
    json::object cfg;
    cfg["origins"] = json::array{json::string(pattern.toStdString()), "http://plain.test"};
    auto inst = compile(json::serialize(cfg));
    Request r(simple(origin.toStdString()));
    runSimple(*inst, r);
    auto acao = finalHeader(r.ctx, "Access-Control-Allow-Origin");
    if (expected.isEmpty()) {
      QCOMPARE(acao, std::nullopt);
    } else {
      QCOMPARE(acao, std::optional<std::string>(expected.toStdString()));
    }
    QCOMPARE(finalHeader(r.ctx, "Vary"), std::optional<std::string>("Origin"));
  }

  void starInAListAllowsEveryOrigin() {
    auto inst = compile("{\"origins\":[\"http://a.test\",\"*\"]}");
    Request r(simple("http://zzz.test"));
    runSimple(*inst, r);
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Origin"), std::optional<std::string>("*"));
  }

  void simpleResponseGetsExposeHeadersAndCredentials() {
    auto inst = compile(
        "{\"origins\":[\"http://a.test\",\"http://b.test\"],\"exposed_headers\":[\"X-R\",\"X-S\"],"
        "\"credentials\":true}");
    Request r(simple("http://a.test"));
    runSimple(*inst, r);
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Origin"),
             std::optional<std::string>("http://a.test"));
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Expose-Headers"),
             std::optional<std::string>("X-R,X-S"));
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Credentials"),
             std::optional<std::string>("true"));
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Methods"), std::nullopt);
  }

  void absentOriginFollowsAllowOriginAbsent() {
    {
      auto inst = compile("{}");
      Request r(simple(""));
      runSimple(*inst, r);
      QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Origin"), std::optional<std::string>("*"));
    }
    {
      auto inst = compile("{\"allow_origin_absent\":false}");
      Request r(simple(""));
      runSimple(*inst, r);
      QVERIFY(r.ctx.responseEdits.empty());
    }
  }

  void preflightContinueProxiesAndAddsNothing() {
    auto inst = compile("{\"preflight_continue\":true}");
    Request r(preflight("http://a.test"));
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    r.ctx.status = 204;
    inst->headerFilter(r.ctx);
    QVERIFY(r.ctx.responseEdits.empty());
  }

  void optionsWithoutRequestMethodIsNotAPreflight() {
    auto inst = compile("{}");
    Request r("OPTIONS /api HTTP/1.1\r\nHost: x\r\nOrigin: http://a.test\r\n\r\n");
    runSimple(*inst, r);
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Origin"), std::optional<std::string>("*"));
  }

  void privateNetworkIsAllowedOnRequest() {
    auto inst = compile("{\"private_network\":true}");
    Request r(preflight("http://a.test", "Access-Control-Request-Private-Network: true\r\n"));
    inst->access(r.ctx);
    QCOMPARE(finalHeader(r.ctx, "Access-Control-Allow-Private-Network"),
             std::optional<std::string>("true"));
    Request q(preflight("http://a.test"));
    inst->access(q.ctx);
    QCOMPARE(finalHeader(q.ctx, "Access-Control-Allow-Private-Network"), std::nullopt);
  }
};

QTEST_GUILESS_MAIN(CorsTest)
#include "cors_test.moc"
