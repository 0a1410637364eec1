// acl behind key-auth through the real proxy: kong.yml acls, 401 before authentication,
// 403 for a consumer outside the allow list, X-Consumer-Groups upstream.
#include <QtTest>

#include "../key_auth/auth_proxy_harness.h"

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
    "  - name: admin\n"
    "    paths: [/admin]\n"
    "    plugins:\n"
    "    - name: key-auth\n"
    "    - name: acl\n"
    "      config: {allow: [admins]}\n"
    "  - name: unauthenticated\n"
    "    paths: [/acl-only]\n"
    "    plugins:\n"
    "    - name: acl\n"
    "      config: {deny: [blocked]}\n"
    "consumers:\n"
    "- username: alice\n"
    "  keyauth_credentials: [{key: alice-key}]\n"
    "  acls: [{group: admins}, {group: users}]\n"
    "- username: bob\n"
    "  keyauth_credentials: [{key: bob-key}]\n"
    "  acls: [{group: users}]\n";

}  // namespace

class AclProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { gw_ = std::make_unique<Gateway>(kYaml); }
  void cleanupTestCase() { gw_.reset(); }

  void keyAuthRunsFirst() {
    auto r = gw_->request("/admin/x");
    QCOMPARE(r.status, 401);
    QCOMPARE(messageOf(r.body), std::string("No API key found in request"));
  }

  void allowedGroupReachesUpstreamWithItsGroups() {
    auto r = gw_->request("/admin/x", {{"apikey", "alice-key"}, {"X-Consumer-Groups", "forged"}});
    QCOMPARE(r.status, 200);
    auto seen = gw_->upstream().last();
    QCOMPARE(seen.headers["x-consumer-groups"], std::string("admins, users"));
    QCOMPARE(seen.headers["x-consumer-username"], std::string("alice"));
  }

  void otherGroupsAreForbidden() {
    const int before = gw_->upstream().requests();
    auto r = gw_->request("/admin/x", {{"apikey", "bob-key"}});
    QCOMPARE(r.status, 403);
    QCOMPARE(messageOf(r.body), std::string("You cannot consume this service"));
    QCOMPARE(gw_->upstream().requests(), before);
  }

  void aclWithoutAuthenticationIs401() {
    auto r = gw_->request("/acl-only/x");
    QCOMPARE(r.status, 401);
    QCOMPARE(messageOf(r.body), std::string("Unauthorized"));
  }

 private:
  std::unique_ptr<Gateway> gw_;
};

QTEST_GUILESS_MAIN(AclProxyTest)
#include "acl_proxy_test.moc"
