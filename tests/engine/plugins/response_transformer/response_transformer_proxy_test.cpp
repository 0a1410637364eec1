// response-transformer through the real proxy: the client gets the edited headers and the
// edited JSON body with a matching Content-Length; non-JSON bodies pass unchanged.
#include <QtTest>
#include <boost/json.hpp>

#include "../request_transformer/gateway.h"

using plugintest::Gateway;
namespace json = boost::json;

namespace {

const char* kYaml =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: up\n"
    "  url: UPSTREAM\n"
    "  routes:\n"
    "  - name: api\n"
    "    paths: [/api]\n"
    "    plugins:\n"
    "    - name: response-transformer\n"
    "      config:\n"
    "        remove: {headers: [x-drop], json: [secret]}\n"
    "        rename: {headers: ['x-old:x-new']}\n"
    "        add: {headers: ['x-added:yes'], json: ['b:2', 'flag:true'],\n"
    "              json_types: [number, boolean]}\n"
    "        append: {json: ['list:2'], json_types: [number]}\n";

}  // namespace

class ResponseTransformerProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void clientGetsTransformedHeadersAndJson() {
    Gateway gw(kYaml);
    gw.upstream().setResponse(
        "/data", {200,
                  {{"Content-Type", "application/json"}, {"X-Drop", "1"}, {"X-Old", "v"}},
                  "{\"a\":1,\"secret\":\"s\",\"list\":[1]}"});
    auto r = gw.send("GET", "/api/data");
    QCOMPARE(r.status, 200);
    QVERIFY(!r.has("x-drop"));
    QVERIFY(!r.has("x-old"));
    QCOMPARE(r.header("x-new"), std::string("v"));
    QCOMPARE(r.header("x-added"), std::string("yes"));
    QCOMPARE(r.header("content-length"), std::to_string(r.body.size()));
    auto body = json::parse(r.body).as_object();
    QVERIFY(!body.contains("secret"));
    QCOMPARE(body.at("a").as_int64(), std::int64_t(1));
    QCOMPARE(json::serialize(body.at("list")), std::string("[1,2]"));
    QCOMPARE(body.at("b").as_int64(), std::int64_t(2));
    QCOMPARE(body.at("flag").as_bool(), true);
  }

  void nonJsonBodyIsUntouched() {
    Gateway gw(kYaml);
    gw.upstream().setResponse("/text", {200, {{"Content-Type", "text/plain"}}, "secret: kept"});
    auto r = gw.send("GET", "/api/text");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, std::string("secret: kept"));
    QCOMPARE(r.header("x-added"), std::string("yes"));
  }
};

QTEST_GUILESS_MAIN(ResponseTransformerProxyTest)
#include "response_transformer_proxy_test.moc"
