// ip-restriction through the real proxy: the loopback client is refused with 403 and Kong's
// message before the upstream is reached; an allowed client is proxied.
#include <QtTest>
#include <boost/json.hpp>

#include "../request_transformer/gateway.h"

using plugintest::Gateway;

namespace {

const char* kYaml =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: up\n"
    "  url: UPSTREAM\n"
    "  routes:\n"
    "  - name: denied\n"
    "    paths: [/denied]\n"
    "    plugins:\n"
    "    - name: ip-restriction\n"
    "      config: {deny: [127.0.0.0/8]}\n"
    "  - name: allowed\n"
    "    paths: [/allowed]\n"
    "    plugins:\n"
    "    - name: ip-restriction\n"
    "      config: {allow: [127.0.0.1, '::1']}\n"
    "  - name: custom\n"
    "    paths: [/custom]\n"
    "    plugins:\n"
    "    - name: ip-restriction\n"
    "      config: {allow: [10.0.0.0/8], status: 401, message: Go away}\n";

std::string messageOf(const plugintest::Response& r) {
  return std::string(boost::json::parse(r.body).at("message").as_string());
}

}  // namespace

class IpRestrictionProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void deniedClientGets403() {
    Gateway gw(kYaml);
    auto r = gw.send("GET", "/denied/x");
    QCOMPARE(r.status, 403);
    QCOMPARE(messageOf(r), std::string("IP address not allowed: 127.0.0.1"));
    QCOMPARE(gw.upstream().requests(), 0);
  }

  void allowedClientIsProxied() {
    Gateway gw(kYaml);
    auto r = gw.send("GET", "/allowed/x");
    QCOMPARE(r.status, 200);
    QCOMPARE(gw.upstream().requests(), 1);
  }

  void configuredStatusAndMessage() {
    Gateway gw(kYaml);
    auto r = gw.send("GET", "/custom/x");
    QCOMPARE(r.status, 401);
    QCOMPARE(messageOf(r), std::string("Go away"));
    QCOMPARE(gw.upstream().requests(), 0);
  }
};

QTEST_GUILESS_MAIN(IpRestrictionProxyTest)
#include "ip_restriction_proxy_test.moc"
