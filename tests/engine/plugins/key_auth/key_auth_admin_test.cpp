// key-auth's credential index across Admin API writes, through a real engine (proxy and Admin
// API on loopback): after each write the proxy accepts exactly the keys the config holds, as
// the right consumer; a write that touches no consumer or credential hands the previous
// snapshot's index on (no build, no update), an appended credential updates it, a removal
// that moves positions rebuilds it. basic-auth + acl on another route, whose indexes are
// handed on the same way, keep authenticating the same consumer throughout.
#include <QtTest>

#include "auth_proxy_harness.h"
#include "plugins/key_auth/key_auth.h"

using archway::plugins::keyIndexCounts;

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
    "  - name: basic\n"
    "    paths: [/basic]\n"
    "    plugins:\n"
    "    - name: basic-auth\n"
    "    - name: acl\n"
    "      config: {allow: [admins]}\n"
    "consumers:\n"
    "- username: alice\n"
    "  keyauth_credentials: [{key: alice-key}]\n"
    "- username: bob\n"
    "  keyauth_credentials: [{key: bob-key}, {key: bob-key-2}]\n"
    "- username: dave\n"
    "  keyauth_credentials: [{key: dave-key}]\n"
    "  basicauth_credentials: [{username: dave, password: pw}]\n"
    "  acls: [{group: admins}]\n";

}  // namespace

class KeyAuthAdminTest : public QObject {
  Q_OBJECT
 private:
  std::unique_ptr<authtest::Gateway> gw_;

  // The consumer `key` authenticates as on the proxy ("" when it is refused with 401).
  std::string consumerOf(const std::string& key) {
    auto r = gw_->request("/keyed/x", {{"apikey", key}});
    if (r.status == 401) return "";
    if (r.status != 200) return "status " + std::to_string(r.status);
    return gw_->upstream().last().headers["x-consumer-username"];
  }
  TestClient::Response admin(const std::string& method, const std::string& target,
                             const std::string& form = {}) {
    TestClient client(gw_->adminPort());
    if (form.empty()) return client.get(target, {}, method);
    return client.send(method, target, form,
                       {{"Content-Type", "application/x-www-form-urlencoded"}});
  }
  // Every key the test uses, and whom it authenticates as ("" for none), checked on the proxy.
  void expectKeys(const std::map<std::string, std::string>& expected) {
    for (const auto& [key, consumer] : expected) {
      const std::string got = consumerOf(key);
      QVERIFY2(got == consumer, (key + " authenticates as '" + got + "', expected '" + consumer +
                                 "'").c_str());
    }
    auto r = gw_->request("/basic/x", {{"Authorization", "Basic ZGF2ZTpwdw=="}});  // dave:pw
    QCOMPARE(r.status, 200);
    QCOMPARE(gw_->upstream().last().headers["x-consumer-username"], std::string("dave"));
    QCOMPARE(gw_->upstream().last().headers["x-consumer-groups"], std::string("admins"));
  }

 private Q_SLOTS:
  void initTestCase() { gw_ = std::make_unique<authtest::Gateway>(kYaml, 2, true); }
  void cleanupTestCase() { gw_.reset(); }

  void writesKeepExactlyTheConfiguredKeys() {
    expectKeys({{"alice-key", "alice"}, {"bob-key", "bob"}, {"bob-key-2", "bob"},
                {"dave-key", "dave"}, {"carol-key", ""}, {"nope", ""}});

    // A write of another kind: the previous snapshot's index is handed on as it is.
    auto before = keyIndexCounts();
    QCOMPARE(admin("POST", "/services", "name=other&url=http://127.0.0.1:1").status, 201);
    QCOMPARE(keyIndexCounts().builds, before.builds);
    QCOMPARE(keyIndexCounts().updates, before.updates);
    expectKeys({{"alice-key", "alice"}, {"bob-key", "bob"}, {"dave-key", "dave"}});

    // A consumer appended: no credential moved, the index is handed on too.
    QCOMPARE(admin("POST", "/consumers", "username=carol").status, 201);
    QCOMPARE(keyIndexCounts().builds, before.builds);
    QCOMPARE(keyIndexCounts().updates, before.updates);
    expectKeys({{"alice-key", "alice"}, {"carol-key", ""}});

    // A credential appended: the index is updated, not rebuilt.
    auto added = admin("POST", "/consumers/carol/key-auth", "key=carol-key");
    QCOMPARE(added.status, 201);
    const std::string carolKeyId = authtest::stringField(added.body, "id").value_or("");
    QVERIFY(!carolKeyId.empty());
    QCOMPARE(keyIndexCounts().builds, before.builds);
    QCOMPARE(keyIndexCounts().updates, before.updates + 1);
    expectKeys({{"alice-key", "alice"}, {"bob-key", "bob"}, {"bob-key-2", "bob"},
                {"dave-key", "dave"}, {"carol-key", "carol"}});

    // The last credential changed (it stays last): an update over the same full index.
    QCOMPARE(admin("PATCH", "/consumers/carol/key-auth/" + carolKeyId, "key=carol-key-b").status,
             200);
    QCOMPARE(keyIndexCounts().builds, before.builds);
    QCOMPARE(keyIndexCounts().updates, before.updates + 2);
    expectKeys({{"carol-key", ""}, {"carol-key-b", "carol"}, {"dave-key", "dave"}});

    // A credential in the middle changed: it moves to the end, so every credential after it
    // is at another position; as many as there are, they are updated too.
    QCOMPARE(admin("PATCH", "/consumers/bob/key-auth/bob-key", "key=bob-key-c").status, 200);
    QCOMPARE(keyIndexCounts().builds, before.builds);
    QCOMPARE(keyIndexCounts().updates, before.updates + 3);
    expectKeys({{"bob-key", ""}, {"bob-key-c", "bob"}, {"bob-key-2", "bob"},
                {"dave-key", "dave"}, {"carol-key-b", "carol"}, {"alice-key", "alice"}});

    // A credential deleted from the middle: the ones after it move, the index is built again.
    QCOMPARE(admin("DELETE", "/consumers/alice/key-auth/alice-key").status, 204);
    QCOMPARE(keyIndexCounts().builds, before.builds + 1);
    expectKeys({{"alice-key", ""}, {"bob-key-2", "bob"}, {"bob-key-c", "bob"},
                {"dave-key", "dave"}, {"carol-key-b", "carol"}});

    // A consumer deleted: its credentials go with it; the others still map to their owners.
    QCOMPARE(admin("DELETE", "/consumers/bob").status, 204);
    expectKeys({{"bob-key-2", ""}, {"bob-key-c", ""}, {"dave-key", "dave"},
                {"carol-key-b", "carol"}});

    // The last credential deleted: an update that removes the key.
    const auto beforeTail = keyIndexCounts();
    QCOMPARE(admin("DELETE", "/consumers/carol/key-auth/carol-key-b").status, 204);
    QCOMPARE(keyIndexCounts().builds, beforeTail.builds);
    QCOMPARE(keyIndexCounts().updates, beforeTail.updates + 1);
    expectKeys({{"carol-key-b", ""}, {"dave-key", "dave"}});

    // Added again, to a consumer renamed since: the overlay and the rebuilt index agree.
    QCOMPARE(admin("POST", "/consumers/carol/key-auth", "key=carol-key-b").status, 201);
    expectKeys({{"carol-key-b", "carol"}});
    QCOMPARE(admin("PATCH", "/consumers/carol", "username=caroline").status, 200);
    expectKeys({{"carol-key-b", "caroline"}, {"dave-key", "dave"}, {"alice-key", ""}});
  }
};

QTEST_GUILESS_MAIN(KeyAuthAdminTest)
#include "key_auth_admin_test.moc"
