// correlation-id through the real proxy: the upstream gets a generated id (uuid#counter by
// default), a client's id is kept, and echo_downstream returns it to the client.
#include <QtTest>
#include <boost/json.hpp>

#include "../request_transformer/gateway.h"
#include "core/uuid.h"

using plugintest::Gateway;

namespace {

const char* kYaml =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: up\n"
    "  url: UPSTREAM\n"
    "  routes:\n"
    "  - name: plain\n"
    "    paths: [/plain]\n"
    "    plugins:\n"
    "    - name: correlation-id\n"
    "  - name: echoed\n"
    "    paths: [/echoed]\n"
    "    plugins:\n"
    "    - name: correlation-id\n"
    "      config: {header_name: X-Trace, generator: uuid, echo_downstream: true}\n";

// The header the upstream saw (the echo upstream answers with the request as JSON).
std::string upstreamHeader(const plugintest::Response& r, const char* name) {
  const boost::json::value doc = boost::json::parse(r.body);
  const auto& headers = doc.at("headers").as_object();
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : std::string(it->value().as_string());
}

}  // namespace

class CorrelationIdProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void upstreamGetsWorkerUuidAndCounter() {
    Gateway gw(kYaml);
    auto a = gw.send("GET", "/plain/x");
    auto b = gw.send("GET", "/plain/x");
    QCOMPARE(a.status, 200);
    const std::string ida = upstreamHeader(a, "kong-request-id");
    const std::string idb = upstreamHeader(b, "kong-request-id");
    const auto hash = ida.find('#');
    QVERIFY2(hash != std::string::npos, ida.c_str());
    QVERIFY(archway::core::isUuid(ida.substr(0, hash)));
    QCOMPARE(idb.substr(0, hash), ida.substr(0, hash));  // one worker, one uuid
    QCOMPARE(std::stoll(idb.substr(hash + 1)), std::stoll(ida.substr(hash + 1)) + 1);
    QVERIFY(!a.has("kong-request-id"));  // not echoed by default
  }

  void clientIdIsKeptAndEchoed() {
    Gateway gw(kYaml);
    auto r = gw.send("GET", "/echoed/x", {{"X-Trace", "client-123"}});
    QCOMPARE(upstreamHeader(r, "x-trace"), std::string("client-123"));
    QCOMPARE(r.header("x-trace"), std::string("client-123"));
    auto gen = gw.send("GET", "/echoed/x");
    const std::string id = upstreamHeader(gen, "x-trace");
    QVERIFY(archway::core::isUuid(id));
    QCOMPARE(gen.header("x-trace"), id);
  }
};

QTEST_GUILESS_MAIN(CorrelationIdProxyTest)
#include "correlation_id_proxy_test.moc"
