// request-transformer through the real proxy: what the upstream receives after the method,
// path, headers, JSON body and query string were rewritten.
#include <QtTest>
#include <boost/json.hpp>

#include "gateway.h"

using plugintest::Gateway;
namespace json = boost::json;

namespace {

const char* kYaml =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: up\n"
    "  url: UPSTREAM\n"
    "  routes:\n"
    "  - name: rt\n"
    "    paths: [/rt]\n"
    "    plugins:\n"
    "    - name: request-transformer\n"
    "      config:\n"
    "        http_method: PUT\n"
    "        remove: {headers: [x-secret], querystring: [drop], body: [pw]}\n"
    "        rename: {headers: ['x-old:x-new'], querystring: ['q:query']}\n"
    "        replace: {uri: '/replaced/$(query_params.id)', body: ['mode:new']}\n"
    "        add: {headers: ['x-added:$(headers[\"x-user\"])'], body: ['extra:e']}\n"
    "        append: {headers: ['x-multi:2'], querystring: ['tag:b']}\n"
    "  - name: form\n"
    "    paths: [/form]\n"
    "    plugins:\n"
    "    - name: request-transformer\n"
    "      config:\n"
    "        add: {body: ['added:a b']}\n";

json::object echoOf(const plugintest::Response& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) qFatal("not an echo: %s", r.body.c_str());
  return v.as_object();
}

}  // namespace

class RequestTransformerProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void upstreamSeesTheTransformedRequest() {
    Gateway gw(kYaml);
    auto r = gw.send("POST", "/rt/path?id=42&drop=1&q=s&tag=a",
                     {{"X-Secret", "s"},
                      {"X-Old", "o"},
                      {"X-User", "u1"},
                      {"X-Multi", "1"},
                      {"Content-Type", "application/json"}},
                     "{\"pw\":\"p\",\"mode\":\"old\",\"keep\":1}");
    QCOMPARE(r.status, 200);
    auto echo = echoOf(r);
    QCOMPARE(echo.at("method").as_string(), "PUT");
    QCOMPARE(echo.at("target").as_string(), "/replaced/42?id=42&query=s&tag=a&tag=b");
    const auto& h = echo.at("headers").as_object();
    QVERIFY(!h.contains("x-secret"));
    QVERIFY(!h.contains("x-old"));
    QCOMPARE(h.at("x-new").as_string(), "o");
    QCOMPARE(h.at("x-added").as_string(), "u1");
    QCOMPARE(json::serialize(h.at("x-multi")), std::string("[\"1\",\"2\"]"));
    auto body = json::parse(echo.at("body").as_string()).as_object();
    QVERIFY(!body.contains("pw"));
    QCOMPARE(body.at("mode").as_string(), "new");
    QCOMPARE(body.at("keep").as_int64(), std::int64_t(1));
    QCOMPARE(body.at("extra").as_string(), "e");
    QCOMPARE(h.at("content-length").as_string(),
             json::string(std::to_string(echo.at("body").as_string().size())));
  }

  void templatesReadTheCapturesOfTheMatchedRegexPath() {
    // Two regex paths on one route: the captures come from the one that matched.
    Gateway gw(
        "_format_version: '3.0'\n"
        "services:\n- name: up\n  url: UPSTREAM\n  routes:\n  - name: users\n"
        "    paths: ['~/v1/(?P<id>[0-9]+)$', '~/v2/(?P<name>[a-z]+)/(?P<id>[a-z0-9]+)']\n"
        "    plugins:\n    - name: request-transformer\n      config:\n"
        "        replace: {uri: '/users/$(uri_captures.id)'}\n"
        "        add: {headers: ['x-name:$(uri_captures.name or \"none\")',"
        " 'x-first:$(uri_captures[1])']}\n");
    auto r = gw.send("GET", "/v2/alice/a7/more", {}, "");
    QCOMPARE(r.status, 200);
    auto echo = echoOf(r);
    QCOMPARE(echo.at("target").as_string(), "/users/a7");
    QCOMPARE(echo.at("headers").at("x-name").as_string(), "alice");
    QCOMPARE(echo.at("headers").at("x-first").as_string(), "alice");
    r = gw.send("GET", "/v1/42", {}, "");
    echo = echoOf(r);
    QCOMPARE(echo.at("target").as_string(), "/users/42");
    QCOMPARE(echo.at("headers").at("x-name").as_string(), "none");
    QCOMPARE(echo.at("headers").at("x-first").as_string(), "42");
  }

  void formBodyIsRewrittenWithItsLength() {
    Gateway gw(kYaml);
    auto r = gw.send("POST", "/form", {{"Content-Type", "application/x-www-form-urlencoded"}},
                     "a=1&b=x%20y");
    QCOMPARE(r.status, 200);
    auto echo = echoOf(r);
    QCOMPARE(echo.at("body").as_string(), "a=1&b=x%20y&added=a%20b");
    QCOMPARE(echo.at("headers").at("content-length").as_string(), "23");
    QCOMPARE(echo.at("method").as_string(), "POST");
  }

  void multipartBodyIsRewrittenWithItsBoundaryAndLength() {
    Gateway gw(
        "_format_version: '3.0'\n"
        "services:\n"
        "- name: up\n"
        "  url: UPSTREAM\n"
        "  routes:\n"
        "  - name: multi\n"
        "    paths: [/multi]\n"
        "    plugins:\n"
        "    - name: request-transformer\n"
        "      config:\n"
        "        remove: {body: [pw]}\n"
        "        rename: {body: ['old:new']}\n"
        "        replace: {body: ['mode:$(headers[\"x-mode\"])', 'absent:x']}\n"
        "        add: {body: ['added:a b', 'mode:not-added']}\n"
        "        append: {body: ['tag:t2']}\n");
    const std::string ct = "multipart/form-data; boundary=\"zz 9\"";
    auto field = [](const std::string& name, const std::string& value) {
      return "--zz 9\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value +
             "\r\n";
    };
    const std::string file =
        "--zz 9\r\nContent-Disposition: form-data; name=\"up\"; filename=\"f.bin\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n\x01\x02\r\n--zz 9x\r\n";
    const std::string body = field("pw", "secret") + field("old", "o") + file +
                             field("mode", "m1") + field("tag", "t1") + "--zz 9--\r\n";
    auto r = gw.send("POST", "/multi", {{"Content-Type", ct}, {"X-Mode", "m2"}}, body);
    QCOMPARE(r.status, 200);
    auto echo = echoOf(r);
    const std::string expected = field("new", "o") + file + field("mode", "m2") +
                                 field("tag", "t1") + field("added", "a b") + field("tag", "t2") +
                                 "--zz 9--\r\n";
    QCOMPARE(std::string(echo.at("body").as_string()), expected);
    QCOMPARE(std::string(echo.at("headers").at("content-length").as_string()),
             std::to_string(expected.size()));
    QCOMPARE(std::string(echo.at("headers").at("content-type").as_string()), ct);

    // A malformed multipart body goes upstream untouched.
    const std::string broken = field("pw", "secret");  // no closing boundary
    auto b = gw.send("POST", "/multi", {{"Content-Type", ct}}, broken);
    QCOMPARE(b.status, 200);
    QCOMPARE(std::string(echoOf(b).at("body").as_string()), broken);

    // No body at all: added and appended fields make one.
    auto e = gw.send("POST", "/multi", {{"Content-Type", ct}});
    QCOMPARE(e.status, 200);
    QCOMPARE(
        std::string(echoOf(e).at("body").as_string()),
        field("added", "a b") + field("mode", "not-added") + field("tag", "t2") + "--zz 9--\r\n");
  }
};

QTEST_GUILESS_MAIN(RequestTransformerProxyTest)
#include "request_transformer_proxy_test.moc"
