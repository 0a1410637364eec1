// basic-auth: Kong's password hash, schema defaults, Authorization / Proxy-Authorization
// parsing, Kong 3.6+ errors with WWW-Authenticate, upstream headers, hide_credentials,
// anonymous.
#include <QtTest>

#include "../key_auth/auth_test_support.h"
#include "plugins/basic_auth/basic_auth.h"
#include "plugins/registry.h"

using namespace archway;
using authtest::Request;

namespace {

std::string base64(const std::string& s) {
  return QByteArray::fromStdString(s).toBase64().toStdString();
}

core::Config baseConfig() {
  core::Config c;
  c.consumers.push_back(authtest::consumer("c-bob", "bob"));
  c.consumers.push_back(authtest::consumer("c-anon", "anon"));
  auto add = [&c](std::string id, std::string username, std::string password) {
    core::BasicAuthCredential b;
    b.id = std::move(id);
    b.consumerId = "c-bob";
    b.username = std::move(username);
    b.password = plugins::hashBasicAuthPassword(password, "c-bob");
    c.basicauthCredentials.push_back(b);
  };
  add("cred-bob", "bob", "secret");
  add("cred-colon", "colon", "pa:ss");
  add("cred-empty", "nopass", "");
  return c;
}

std::string get(const std::string& headers) {
  return "GET / HTTP/1.1\r\nHost: gw\r\n" + headers + "\r\n";
}

}  // namespace

class BasicAuthTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    factory_ = plugins::makeBasicAuthPlugin();
    config_ = baseConfig();
    instance_ = authtest::compile(*factory_, config_, "{}");
  }

  void isRegisteredWithKongsNameAndPriority() {
    QCOMPARE(factory_->name(), std::string_view("basic-auth"));
    QCOMPARE(factory_->priority(), 1100);
    QVERIFY(plugins::find("basic-auth"));
  }

  void hashIsKongsSaltedSha1() {
    // sha1("secret" .. "c-bob") and sha1("" .. "c-bob"), lower-case hex.
    QCOMPARE(plugins::hashBasicAuthPassword("secret", "c-bob"),
             std::string("5219d67994e7c816d161d1c614f38cb1836ea991"));
    QCOMPARE(plugins::hashBasicAuthPassword("", "c-bob"),
             std::string("0b8dcdd9052b8ebda126b1ce376e44b6e54043c6"));
  }

  void schemaFillsKongDefaults() {
    auto v = authtest::validate(*factory_, "");
    QVERIFY2(v.ok(), v.errorText().c_str());
    QCOMPARE(std::string(v->at("realm").as_string()), std::string("service"));
    QCOMPARE(v->at("hide_credentials").as_bool(), false);
    QVERIFY(v->at("anonymous").is_null());

    auto bad = authtest::validate(*factory_, "{\"realm\":5}");
    QVERIFY(!bad.ok());
    QCOMPARE(bad.errors()[0].path, std::string("config.realm"));
    QCOMPARE(bad.errors()[0].message, std::string("expected a string"));
  }

  void missingCredentialsIs401WithBasicChallenge() {
    Request r(get(""));
    instance_->access(r.ctx);
    QCOMPARE(r.ctx.exitStatus(), 401);
    QCOMPARE(authtest::exitMessage(r.ctx), std::string("Unauthorized"));
    QCOMPARE(authtest::responseHeader(r.ctx, "WWW-Authenticate"),
             std::string("Basic realm=\"service\""));
  }

  void validCredentialsAuthenticate() {
    Request r(get("Authorization: Basic " + base64("bob:secret") + "\r\n"));
    instance_->access(r.ctx);
    QVERIFY2(!r.ctx.exited(), r.ctx.exitBody().data());
    QVERIFY(r.ctx.consumer);
    QCOMPARE(r.ctx.consumer->id, std::string("c-bob"));
    // Kong identifies a basic-auth credential by its username.
    QCOMPARE(r.ctx.credentialId, std::string("bob"));
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Consumer-Username"), std::string("bob"));
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Credential-Identifier"), std::string("bob"));
    QCOMPARE(authtest::upstreamHeader(r.ctx, "Authorization"), std::string("<none>"));
  }

  void wrongPasswordOrUserIsUnauthorized() {
    for (const char* pair : {"bob:wrong", "bob:", "alice:secret", "bob:secretx"}) {
      Request r(get("Authorization: Basic " + base64(pair) + "\r\n"));
      instance_->access(r.ctx);
      QCOMPARE(r.ctx.exitStatus(), 401);
      QCOMPARE(authtest::exitMessage(r.ctx), std::string("Unauthorized"));
      QCOMPARE(authtest::responseHeader(r.ctx, "WWW-Authenticate"),
               std::string("Basic realm=\"service\""));
    }
  }

  void malformedHeadersAreUnauthorized() {
    for (std::string value : {std::string("Basic !!!!"), "Basic " + base64("nocolon"),
                              "Bearer " + base64("bob:secret"), std::string("Basic")}) {
      Request r(get("Authorization: " + value + "\r\n"));
      instance_->access(r.ctx);
      QCOMPARE(r.ctx.exitStatus(), 401);
    }
  }

  void schemeIsCaseInsensitiveAndPaddingOptional() {
    std::string b = base64("bob:secret");
    while (!b.empty() && b.back() == '=') b.pop_back();
    Request r(get("Authorization: basic " + b + "\r\n"));
    instance_->access(r.ctx);
    QVERIFY2(!r.ctx.exited(), r.ctx.exitBody().data());
  }

  void passwordMayHoldColonsAndBeEmpty() {
    Request colon(get("Authorization: Basic " + base64("colon:pa:ss") + "\r\n"));
    instance_->access(colon.ctx);
    QVERIFY(!colon.ctx.exited());
    QCOMPARE(colon.ctx.credentialId, std::string("colon"));

    Request empty(get("Authorization: Basic " + base64("nopass:") + "\r\n"));
    instance_->access(empty.ctx);
    QVERIFY(!empty.ctx.exited());
    QCOMPARE(empty.ctx.credentialId, std::string("nopass"));
  }

  void proxyAuthorizationIsReadFirst() {
    Request r(get("Proxy-Authorization: Basic " + base64("bob:secret") + "\r\n"));
    instance_->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    QCOMPARE(r.ctx.credentialId, std::string("bob"));

    // An unknown Proxy-Authorization user falls back to Authorization.
    Request both(get("Proxy-Authorization: Basic " + base64("ghost:x") +
                     "\r\nAuthorization: Basic " + base64("colon:pa:ss") + "\r\n"));
    instance_->access(both.ctx);
    QVERIFY(!both.ctx.exited());
    QCOMPARE(both.ctx.credentialId, std::string("colon"));

    // A known Proxy-Authorization user with a wrong password fails; no fallback.
    Request wrong(get("Proxy-Authorization: Basic " + base64("bob:bad") +
                      "\r\nAuthorization: Basic " + base64("colon:pa:ss") + "\r\n"));
    instance_->access(wrong.ctx);
    QCOMPARE(wrong.ctx.exitStatus(), 401);
  }

  void hideCredentialsRemovesTheHeaders() {
    auto inst = authtest::compile(*factory_, config_, "{\"hide_credentials\":true}");
    Request r(get("Authorization: Basic " + base64("bob:secret") + "\r\n"));
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    QCOMPARE(authtest::upstreamHeader(r.ctx, "Authorization"), std::string("<removed>"));
    QCOMPARE(authtest::upstreamHeader(r.ctx, "Proxy-Authorization"), std::string("<removed>"));
  }

  void realmIsConfigurable() {
    auto inst = authtest::compile(*factory_, config_, "{\"realm\":\"archway\"}");
    Request r(get(""));
    inst->access(r.ctx);
    QCOMPARE(authtest::responseHeader(r.ctx, "WWW-Authenticate"),
             std::string("Basic realm=\"archway\""));
  }

  void anonymousConsumerIsTheFallback() {
    auto inst = authtest::compile(*factory_, config_, "{\"anonymous\":\"anon\"}");
    Request r(get("Authorization: Basic " + base64("bob:wrong") + "\r\n"));
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    QCOMPARE(r.ctx.consumer->id, std::string("c-anon"));
    QVERIFY(r.ctx.anonymous);
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Anonymous-Consumer"), std::string("true"));

    Request authed(get(""));
    authed.ctx.credentialId = "earlier";
    inst->access(authed.ctx);
    QVERIFY(authed.ctx.requestEdits.empty());

    auto ghost = authtest::compile(*factory_, config_, "{\"anonymous\":\"ghost\"}");
    Request g(get(""));
    ghost->access(g.ctx);
    QCOMPARE(g.ctx.exitStatus(), 500);
    QCOMPARE(authtest::exitMessage(g.ctx),
             std::string("anonymous consumer ghost is configured but doesn't exist"));
  }

  void storedHashMustMatchExactly() {
    core::Config c = baseConfig();
    c.basicauthCredentials[0].password = "not-a-hash";
    auto inst = authtest::compile(*factory_, c, "{}");
    Request r(get("Authorization: Basic " + base64("bob:secret") + "\r\n"));
    inst->access(r.ctx);
    QCOMPARE(r.ctx.exitStatus(), 401);
  }

 private:
  std::unique_ptr<plugins::Factory> factory_;
  core::Config config_;
  std::shared_ptr<const plugins::Instance> instance_;
};

QTEST_GUILESS_MAIN(BasicAuthTest)
#include "basic_auth_test.moc"
