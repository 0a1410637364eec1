// key-auth through the real proxy: kong.yml consumers and keys, 401s with Kong's bodies and
// challenge, the upstream seeing X-Consumer-* and not the hidden key, the anonymous fallback.
#include <QtTest>

#include "auth_proxy_harness.h"

using authtest::Gateway;
using authtest::messageOf;

namespace {

const char* const kYaml =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: svc\n"
    "  url: UPSTREAM\n"
    "  retries: 0\n"
    "  routes:\n"
    "  - name: keyed\n"
    "    paths: [/keyed]\n"
    "    plugins:\n"
    "    - name: key-auth\n"
    "      config: {hide_credentials: true, realm: archway}\n"
    "  - name: guest\n"
    "    paths: [/guest]\n"
    "    plugins:\n"
    "    - name: key-auth\n"
    "      config: {anonymous: guest}\n"
    "  - name: open\n"
    "    paths: [/open]\n"
    "consumers:\n"
    "- username: alice\n"
    "  custom_id: ext-1\n"
    "  keyauth_credentials:\n"
    "  - key: alice-key\n"
    "- username: guest\n";

}  // namespace

class KeyAuthProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { gw_ = std::make_unique<Gateway>(kYaml, 2); }
  void cleanupTestCase() { gw_.reset(); }

  void requestWithoutKeyIs401AndNeverReachesUpstream() {
    const int before = gw_->upstream().requests();
    auto r = gw_->request("/keyed/x");
    QCOMPARE(r.status, 401);
    QCOMPARE(messageOf(r.body), std::string("No API key found in request"));
    QCOMPARE(r.headers["www-authenticate"], std::string("Key realm=\"archway\""));
    QVERIFY(r.headers["content-type"].starts_with("application/json"));
    QCOMPARE(gw_->upstream().requests(), before);
  }

  void wrongKeyIsUnauthorized() {
    auto r = gw_->request("/keyed/x", {{"apikey", "nope"}});
    QCOMPARE(r.status, 401);
    QCOMPARE(messageOf(r.body), std::string("Unauthorized"));
  }

  void validHeaderKeyReachesUpstreamAsTheConsumer() {
    auto r =
        gw_->request("/keyed/x", {{"apikey", "alice-key"}, {"X-Consumer-Username", "mallory"}});
    QCOMPARE(r.status, 200);
    auto seen = gw_->upstream().last();
    const auto* alice = gw_->config()->findConsumer("alice");
    QVERIFY(alice);
    QCOMPARE(seen.headers["x-consumer-username"], std::string("alice"));
    QCOMPARE(seen.headers["x-consumer-id"], alice->id);
    QCOMPARE(seen.headers["x-consumer-custom-id"], std::string("ext-1"));
    QCOMPARE(seen.headers["x-credential-identifier"], gw_->config()->keyauthCredentials[0].id);
    QVERIFY(!seen.headers.count("x-anonymous-consumer"));
    QVERIFY(!seen.headers.count("apikey"));  // hide_credentials
  }

  void validQueryKeyIsStrippedFromTheUpstreamQuery() {
    auto r = gw_->request("/keyed/x?a=1&apikey=alice-key&b=2");
    QCOMPARE(r.status, 200);
    auto seen = gw_->upstream().last();
    QCOMPARE(seen.target, std::string("/x?a=1&b=2"));
    QCOMPARE(seen.headers["x-consumer-username"], std::string("alice"));
  }

  void anonymousFallbackReachesUpstreamAsGuest() {
    auto r = gw_->request("/guest/x", {{"X-Credential-Identifier", "forged"}});
    QCOMPARE(r.status, 200);
    auto seen = gw_->upstream().last();
    QCOMPARE(seen.headers["x-consumer-username"], std::string("guest"));
    QCOMPARE(seen.headers["x-anonymous-consumer"], std::string("true"));
    QVERIFY(!seen.headers.count("x-credential-identifier"));

    auto authed = gw_->request("/guest/x?apikey=alice-key");
    QCOMPARE(authed.status, 200);
    QCOMPARE(gw_->upstream().last().headers["x-consumer-username"], std::string("alice"));
  }

  void routesWithoutThePluginAreOpen() {
    auto r = gw_->request("/open/x");
    QCOMPARE(r.status, 200);
    QVERIFY(!gw_->upstream().last().headers.count("x-consumer-id"));
  }

 private:
  std::unique_ptr<Gateway> gw_;
};

QTEST_GUILESS_MAIN(KeyAuthProxyTest)
#include "key_auth_proxy_test.moc"
