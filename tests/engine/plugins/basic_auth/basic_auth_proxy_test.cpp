// basic-auth through the real proxy: kong.yml credentials with plain passwords (hashed when
// loaded), Kong's 401 and challenge, the upstream seeing the consumer and not the password.
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
    "  - name: basic\n"
    "    paths: [/basic]\n"
    "    plugins:\n"
    "    - name: basic-auth\n"
    "      config: {hide_credentials: true}\n"
    "consumers:\n"
    "- username: bob\n"
    "  basicauth_credentials:\n"
    "  - username: bob-login\n"
    "    password: s3cret\n";

std::string basic(const std::string& userPass) {
  return "Basic " + QByteArray::fromStdString(userPass).toBase64().toStdString();
}

}  // namespace

class BasicAuthProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { gw_ = std::make_unique<Gateway>(kYaml); }
  void cleanupTestCase() { gw_.reset(); }

  void missingCredentialsAre401WithChallenge() {
    const int before = gw_->upstream().requests();
    auto r = gw_->request("/basic/x");
    QCOMPARE(r.status, 401);
    QCOMPARE(messageOf(r.body), std::string("Unauthorized"));
    QCOMPARE(r.headers["www-authenticate"], std::string("Basic realm=\"service\""));
    QCOMPARE(gw_->upstream().requests(), before);
  }

  void wrongPasswordIs401() {
    auto r = gw_->request("/basic/x", {{"Authorization", basic("bob-login:wrong")}});
    QCOMPARE(r.status, 401);
    QCOMPARE(messageOf(r.body), std::string("Unauthorized"));
  }

  void rightPasswordReachesUpstreamAsTheConsumer() {
    auto r = gw_->request("/basic/x", {{"Authorization", basic("bob-login:s3cret")}});
    QCOMPARE(r.status, 200);
    auto seen = gw_->upstream().last();
    QCOMPARE(seen.headers["x-consumer-username"], std::string("bob"));
    QCOMPARE(seen.headers["x-credential-identifier"], std::string("bob-login"));
    QVERIFY(!seen.headers.count("authorization"));  // hide_credentials
  }

  void storedPasswordIsTheKongHash() {
    const auto& cred = gw_->config()->basicauthCredentials.at(0);
    QCOMPARE(cred.password.size(), std::size_t{40});
    QVERIFY(cred.password != "s3cret");
  }

 private:
  std::unique_ptr<Gateway> gw_;
};

QTEST_GUILESS_MAIN(BasicAuthProxyTest)
#include "basic_auth_proxy_test.moc"
