// key-auth: schema (Kong's defaults and messages), where the key is found, Kong 3.6+ errors
// with WWW-Authenticate, upstream X-Consumer-* headers, hide_credentials, ttl, anonymous.
#include <QtTest>
#include <chrono>

#include "auth_test_support.h"
#include "plugins/key_auth/key_auth.h"
#include "plugins/registry.h"

using namespace archway;
using authtest::Request;
namespace json = boost::json;

namespace {

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

core::Config baseConfig() {
  core::Config c;
  c.consumers.push_back(authtest::consumer("c-alice", "alice", std::string("ext-1")));
  c.consumers.push_back(authtest::consumer("c-anon", "anon"));
  core::KeyAuthCredential k;
  k.id = "cred-1";
  k.consumerId = "c-alice";
  k.key = "alice-key";
  c.keyauthCredentials.push_back(k);
  core::KeyAuthCredential plus;
  plus.id = "cred-2";
  plus.consumerId = "c-alice";
  plus.key = "a+b c";
  c.keyauthCredentials.push_back(plus);
  return c;
}

std::string get(const std::string& target, const std::string& headers = {}) {
  return "GET " + target + " HTTP/1.1\r\nHost: gw\r\n" + headers + "\r\n";
}

}  // namespace

class KeyAuthTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    factory_ = plugins::makeKeyAuthPlugin();
    config_ = baseConfig();
  }

  void isRegisteredWithKongsNameAndPriority() {
    QCOMPARE(factory_->name(), std::string_view("key-auth"));
    QCOMPARE(factory_->priority(), 1250);
    const plugins::Factory* registered = plugins::find("key-auth");
    QVERIFY(registered);
    QCOMPARE(registered->priority(), 1250);
  }

  void schemaFillsKongDefaults() {
    auto v = authtest::validate(*factory_, "");
    QVERIFY2(v.ok(), v.errorText().c_str());
    QCOMPARE(json::serialize(v->at("key_names")), std::string("[\"apikey\"]"));
    QCOMPARE(v->at("hide_credentials").as_bool(), false);
    QCOMPARE(v->at("key_in_header").as_bool(), true);
    QCOMPARE(v->at("key_in_query").as_bool(), true);
    QCOMPARE(v->at("key_in_body").as_bool(), false);
    QCOMPARE(v->at("run_on_preflight").as_bool(), true);
    QVERIFY(v->at("anonymous").is_null());
    QVERIFY(v->at("realm").is_null());
  }

  void schemaRejectsBadKeyNames() {
    auto v = authtest::validate(*factory_, "{\"key_names\":[\"ok_name\",\"api key\"]}");
    QVERIFY(!v.ok());
    QCOMPARE(v.errors().size(), std::size_t{1});
    QCOMPARE(v.errors()[0].path, std::string("config.key_names[1]"));
    QCOMPARE(v.errors()[0].message,
             std::string("bad header name 'api key', allowed characters are A-Z, a-z, 0-9, '_', "
                         "and '-'"));
  }

  void schemaRejectsWrongTypesAndUnknownFields() {
    auto v = authtest::validate(*factory_, "{\"hide_credentials\":\"yes\",\"nope\":1}");
    QVERIFY(!v.ok());
    QString text = QString::fromStdString(v.errorText());
    QVERIFY2(text.contains("config.hide_credentials: expected a boolean"), qPrintable(text));
    QVERIFY2(text.contains("config.nope: unknown field"), qPrintable(text));
  }

  void missingKeyIs401WithKeyChallenge() {
    auto inst = authtest::compile(*factory_, config_, "{}");
    Request r(get("/"));
    inst->access(r.ctx);
    QVERIFY(r.ctx.exited());
    QCOMPARE(r.ctx.exitStatus(), 401);
    QCOMPARE(authtest::exitMessage(r.ctx), std::string("No API key found in request"));
    QCOMPARE(authtest::responseHeader(r.ctx, "WWW-Authenticate"), std::string("Key"));
    QVERIFY(!r.ctx.consumer);
  }

  void realmGoesIntoTheChallenge() {
    auto inst = authtest::compile(*factory_, config_, "{\"realm\":\"archway\"}");
    Request r(get("/?apikey=wrong"));
    inst->access(r.ctx);
    QCOMPARE(r.ctx.exitStatus(), 401);
    QCOMPARE(authtest::responseHeader(r.ctx, "WWW-Authenticate"),
             std::string("Key realm=\"archway\""));
  }

  void unknownKeyIsUnauthorized() {
    auto inst = authtest::compile(*factory_, config_, "{}");
    Request r(get("/", "apikey: nope\r\n"));
    inst->access(r.ctx);
    QCOMPARE(r.ctx.exitStatus(), 401);
    QCOMPARE(authtest::exitMessage(r.ctx), std::string("Unauthorized"));
    QCOMPARE(authtest::responseHeader(r.ctx, "WWW-Authenticate"), std::string("Key"));
  }

  void headerKeyAuthenticatesAndSetsConsumerHeaders() {
    auto inst = authtest::compile(*factory_, config_, "{}");
    Request r(get("/", "ApiKey: alice-key\r\n"));
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    QVERIFY(r.ctx.consumer);
    QCOMPARE(r.ctx.consumer->id, std::string("c-alice"));
    QCOMPARE(r.ctx.credentialId, std::string("cred-1"));
    QVERIFY(!r.ctx.anonymous);
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Consumer-ID"), std::string("c-alice"));
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Consumer-Username"), std::string("alice"));
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Consumer-Custom-ID"), std::string("ext-1"));
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Credential-Identifier"), std::string("cred-1"));
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Anonymous-Consumer"), std::string("<removed>"));
    // Without hide_credentials the key goes upstream untouched.
    QCOMPARE(authtest::upstreamHeader(r.ctx, "apikey"), std::string("<none>"));
    QVERIFY(!r.ctx.upstreamQuerySet);
  }

  void queryKeyIsDecoded() {
    auto inst = authtest::compile(*factory_, config_, "{}");
    Request r(get("/?x=1&api%6Bey=a%2Bb+c"));
    inst->access(r.ctx);
    QVERIFY2(!r.ctx.exited(), r.ctx.exitBody().data());
    QCOMPARE(r.ctx.credentialId, std::string("cred-2"));
  }

  void headerWinsOverQueryForTheSameName() {
    auto inst = authtest::compile(*factory_, config_, "{}");
    Request r(get("/?apikey=nope", "apikey: alice-key\r\n"));
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    QCOMPARE(r.ctx.credentialId, std::string("cred-1"));
  }

  void disabledSourcesAreNotRead() {
    auto noQuery = authtest::compile(*factory_, config_, "{\"key_in_query\":false}");
    Request q(get("/?apikey=alice-key"));
    noQuery->access(q.ctx);
    QCOMPARE(authtest::exitMessage(q.ctx), std::string("No API key found in request"));

    auto noHeader = authtest::compile(*factory_, config_, "{\"key_in_header\":false}");
    Request h(get("/", "apikey: alice-key\r\n"));
    noHeader->access(h.ctx);
    QCOMPARE(authtest::exitMessage(h.ctx), std::string("No API key found in request"));
  }

  void laterKeyNamesAreTried() {
    auto inst = authtest::compile(*factory_, config_, "{\"key_names\":[\"k1\",\"k2\"]}");
    Request r(get("/", "k2: alice-key\r\n"));
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    QCOMPARE(r.ctx.credentialId, std::string("cred-1"));
  }

  void underscoreKeyNameFindsHyphenHeader() {
    auto inst = authtest::compile(*factory_, config_, "{\"key_names\":[\"api_key\"]}");
    Request r(get("/", "Api-Key: alice-key\r\n"));
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
  }

  void duplicateKeysAreRejected() {
    auto inst = authtest::compile(*factory_, config_, "{}");
    Request h(get("/", "apikey: alice-key\r\napikey: alice-key\r\n"));
    inst->access(h.ctx);
    QCOMPARE(h.ctx.exitStatus(), 401);
    QCOMPARE(authtest::exitMessage(h.ctx), std::string("Duplicate API key found"));
    QCOMPARE(authtest::responseHeader(h.ctx, "WWW-Authenticate"), std::string("Key"));

    Request q(get("/?apikey=a&apikey=b"));
    inst->access(q.ctx);
    QCOMPARE(authtest::exitMessage(q.ctx), std::string("Duplicate API key found"));
  }

  void emptyOrValuelessKeyIsNoKey() {
    auto inst = authtest::compile(*factory_, config_, "{}");
    Request empty(get("/", "apikey: \r\n"));
    inst->access(empty.ctx);
    QCOMPARE(authtest::exitMessage(empty.ctx), std::string("No API key found in request"));

    Request flag(get("/?apikey"));
    inst->access(flag.ctx);
    QCOMPARE(authtest::exitMessage(flag.ctx), std::string("No API key found in request"));
  }

  void hideCredentialsStripsHeaderAndQueryArgument() {
    auto inst = authtest::compile(*factory_, config_, "{\"hide_credentials\":true}");
    Request q(get("/p?a=1&apikey=alice-key&b=2&apikey=x"));
    inst->access(q.ctx);
    // Duplicates fail before hiding, as in Kong.
    QCOMPARE(authtest::exitMessage(q.ctx), std::string("Duplicate API key found"));

    Request r(get("/p?a=1&apikey=alice-key&b=2"));
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    QVERIFY(r.ctx.upstreamQuerySet);
    QCOMPARE(r.ctx.upstreamQuery, std::string("a=1&b=2"));
    QCOMPARE(authtest::upstreamHeader(r.ctx, "apikey"), std::string("<removed>"));

    Request h(get("/p?keep=1", "apikey: alice-key\r\n"));
    inst->access(h.ctx);
    QVERIFY(!h.ctx.exited());
    QCOMPARE(authtest::upstreamHeader(h.ctx, "apikey"), std::string("<removed>"));
    QVERIFY(!h.ctx.upstreamQuerySet);  // nothing to strip from the query
  }

  void keyInJsonBody() {
    auto inst =
        authtest::compile(*factory_, config_, "{\"key_in_body\":true,\"hide_credentials\":true}");
    QVERIFY(inst->needsRequestBody());
    std::string body = "{\"apikey\":\"alice-key\",\"x\":1}";
    Request r("POST / HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n",
              body);
    inst->access(r.ctx);
    QVERIFY2(!r.ctx.exited(), r.ctx.exitBody().data());
    QCOMPARE(r.ctx.credentialId, std::string("cred-1"));
    QVERIFY(r.ctx.upstreamBodySet);
    QCOMPARE(r.ctx.upstreamBody, std::string("{\"x\":1}"));

    auto noBody = authtest::compile(*factory_, config_, "{}");
    QVERIFY(!noBody->needsRequestBody());
  }

  void keyInJsonBodyArrayIsDuplicate() {
    auto inst = authtest::compile(*factory_, config_, "{\"key_in_body\":true}");
    std::string body = "{\"apikey\":[\"a\",\"b\"]}";
    Request r("POST / HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n",
              body);
    inst->access(r.ctx);
    QCOMPARE(authtest::exitMessage(r.ctx), std::string("Duplicate API key found"));
  }

  void keyInFormBody() {
    auto inst =
        authtest::compile(*factory_, config_, "{\"key_in_body\":true,\"hide_credentials\":true}");
    std::string body = "x=1&apikey=a%2Bb+c&y=2";
    Request r(
        "POST / HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: " +
            std::to_string(body.size()) + "\r\n\r\n",
        body);
    inst->access(r.ctx);
    QVERIFY2(!r.ctx.exited(), r.ctx.exitBody().data());
    QCOMPARE(r.ctx.credentialId, std::string("cred-2"));
    QCOMPARE(r.ctx.upstreamBody, std::string("x=1&y=2"));
  }

  void expiredTtlKeysDoNotAuthenticate() {
    core::Config c = baseConfig();
    core::KeyAuthCredential old;
    old.id = "cred-old";
    old.consumerId = "c-alice";
    old.key = "old-key";
    old.ttl = 50;
    old.createdAt = nowSeconds() - 100;
    c.keyauthCredentials.push_back(old);
    core::KeyAuthCredential fresh = old;
    fresh.id = "cred-fresh";
    fresh.key = "fresh-key";
    fresh.ttl = 1000;
    c.keyauthCredentials.push_back(fresh);
    auto inst = authtest::compile(*factory_, c, "{}");

    Request expired(get("/?apikey=old-key"));
    inst->access(expired.ctx);
    QCOMPARE(expired.ctx.exitStatus(), 401);
    QCOMPARE(authtest::exitMessage(expired.ctx), std::string("Unauthorized"));

    Request ok(get("/?apikey=fresh-key"));
    inst->access(ok.ctx);
    QVERIFY(!ok.ctx.exited());
    QCOMPARE(ok.ctx.credentialId, std::string("cred-fresh"));
  }

  void anonymousConsumerIsTheFallback() {
    auto inst = authtest::compile(*factory_, config_, "{\"anonymous\":\"anon\"}");
    Request r(get("/?apikey=wrong"));
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    QVERIFY(r.ctx.consumer);
    QCOMPARE(r.ctx.consumer->id, std::string("c-anon"));
    QVERIFY(r.ctx.anonymous);
    QVERIFY(r.ctx.credentialId.empty());
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Anonymous-Consumer"), std::string("true"));
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Consumer-Username"), std::string("anon"));
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Credential-Identifier"), std::string("<removed>"));

    // By id as well as by username.
    auto byId = authtest::compile(*factory_, config_, "{\"anonymous\":\"c-anon\"}");
    Request r2(get("/"));
    byId->access(r2.ctx);
    QVERIFY(!r2.ctx.exited());
    QCOMPARE(r2.ctx.consumer->id, std::string("c-anon"));

    // A valid key still authenticates as its own consumer.
    Request r3(get("/?apikey=alice-key"));
    inst->access(r3.ctx);
    QCOMPARE(r3.ctx.consumer->id, std::string("c-alice"));
    QVERIFY(!r3.ctx.anonymous);
  }

  void anonymousDoesNothingWhenAlreadyAuthenticated() {
    auto inst = authtest::compile(*factory_, config_, "{\"anonymous\":\"anon\"}");
    Request r(get("/"));
    r.ctx.credentialId = "from-another-plugin";
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    QVERIFY(r.ctx.requestEdits.empty());
    QVERIFY(!r.ctx.consumer);
  }

  void missingAnonymousConsumerIs500() {
    auto inst = authtest::compile(*factory_, config_, "{\"anonymous\":\"ghost\"}");
    Request r(get("/"));
    inst->access(r.ctx);
    QCOMPARE(r.ctx.exitStatus(), 500);
    QCOMPARE(authtest::exitMessage(r.ctx),
             std::string("anonymous consumer ghost is configured but doesn't exist"));
  }

  void preflightIsLetThroughWhenConfigured() {
    auto inst = authtest::compile(*factory_, config_, "{\"run_on_preflight\":false}");
    QVERIFY(!inst->runOnPreflight());
    Request r("OPTIONS / HTTP/1.1\r\nHost: gw\r\n\r\n");
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());

    auto strict = authtest::compile(*factory_, config_, "{}");
    QVERIFY(strict->runOnPreflight());
    Request r2("OPTIONS / HTTP/1.1\r\nHost: gw\r\n\r\n");
    strict->access(r2.ctx);
    QCOMPARE(r2.ctx.exitStatus(), 401);
  }

 private:
  std::unique_ptr<plugins::Factory> factory_;
  core::Config config_;
};

QTEST_GUILESS_MAIN(KeyAuthTest)
#include "key_auth_test.moc"
