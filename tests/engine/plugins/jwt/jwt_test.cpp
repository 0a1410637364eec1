// jwt: schema (defaults, the maximum_expiration check), where tokens are found, Kong's error
// messages and challenges, signatures of every algorithm with keys made here by OpenSSL,
// exp / nbf / maximum_expiration, base64 secrets, anonymous.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <QtTest>
#include <chrono>
#include <map>

#include "../key_auth/auth_test_support.h"
#include "plugins/jwt/jwt.h"
#include "plugins/jwt/jwt_crypto.h"
#include "plugins/registry.h"

using namespace archway;
using authtest::Request;
namespace jwt = archway::plugins::jwt;

namespace {

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using Key = std::shared_ptr<EVP_PKEY>;

Key generate(const std::string& alg) {
  EVP_PKEY* k = nullptr;
  if (alg[0] == 'R' || alg[0] == 'P') {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048));
  } else if (alg == "ES256") {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  } else if (alg == "ES384") {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  } else if (alg == "ES512") {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
  } else if (alg == "EdDSA") {
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  }
  if (!k) qFatal("key generation failed for %s", alg.c_str());
  return Key(k, EVP_PKEY_free);
}

// The public half as PEM; `structure` "SubjectPublicKeyInfo" or "type-specific" (PKCS#1 RSA).
std::string publicPem(EVP_PKEY* key, const char* structure = "SubjectPublicKeyInfo") {
  OSSL_ENCODER_CTX* ectx =
      OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_PUBLIC_KEY, "PEM", structure, nullptr);
  unsigned char* data = nullptr;
  std::size_t len = 0;
  if (!ectx || OSSL_ENCODER_to_data(ectx, &data, &len) != 1) qFatal("PEM encoding failed");
  std::string pem(reinterpret_cast<char*>(data), len);
  OPENSSL_free(data);
  OSSL_ENCODER_CTX_free(ectx);
  return pem;
}

const char* digestName(const std::string& alg) {
  if (alg.ends_with("256")) return "SHA256";
  if (alg.ends_with("384")) return "SHA384";
  return "SHA512";
}

std::string sign(const std::string& alg, const std::string& input, EVP_PKEY* key,
                 const std::string& secret) {
  unsigned char out[1024];
  std::size_t outLen = sizeof out;
  if (alg[0] == 'H') {
    if (!EVP_Q_mac(nullptr, "HMAC", nullptr, digestName(alg), nullptr, secret.data(), secret.size(),
                   reinterpret_cast<const unsigned char*>(input.data()), input.size(), out,
                   sizeof out, &outLen))
      qFatal("HMAC failed");
    return std::string(reinterpret_cast<char*>(out), outLen);
  }
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* digest = alg == "EdDSA" ? nullptr : EVP_get_digestbyname(digestName(alg));
  if (EVP_DigestSignInit(md, &pctx, digest, nullptr, key) != 1) qFatal("sign init failed");
  if (alg[0] == 'P') {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  if (EVP_DigestSign(md, out, &outLen, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1)
    qFatal("sign failed");
  EVP_MD_CTX_free(md);
  std::string sig(reinterpret_cast<char*>(out), outLen);
  if (alg[0] != 'E' || alg == "EdDSA") return sig;
  // JWS wants ECDSA as r||s, each as wide as the curve order.
  const std::size_t half = alg == "ES256" ? 32 : alg == "ES384" ? 48 : 66;
  const unsigned char* p = out;
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(outLen));
  std::string raw(half * 2, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()),
               static_cast<int>(half));
  BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + half,
               static_cast<int>(half));
  ECDSA_SIG_free(es);
  return raw;
}

std::string token(const std::string& header, const std::string& claims, const std::string& alg,
                  EVP_PKEY* key, const std::string& secret) {
  std::string input = jwt::base64UrlEncode(header) + "." + jwt::base64UrlEncode(claims);
  return input + "." + jwt::base64UrlEncode(sign(alg, input, key, secret));
}

std::string header(const std::string& alg) {
  return "{\"typ\":\"JWT\",\"alg\":\"" + alg + "\"}";
}

std::string bearer(const std::string& t) {
  return "GET / HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer " + t + "\r\n\r\n";
}

const char* const kAlgorithms[] = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256",
                                   "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"};
const std::string kSecret = "s3cr3t-value";

}  // namespace

class JwtTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    factory_ = plugins::makeJwtPlugin();
    config_.consumers.push_back(authtest::consumer("c-jane", "jane"));
    config_.consumers.push_back(authtest::consumer("c-anon", "anon"));
    Key rsa = generate("RS256");
    for (const std::string alg : kAlgorithms) {
      core::JwtSecret s;
      s.id = "id-" + alg;
      s.consumerId = "c-jane";
      s.key = "k-" + alg;
      s.algorithm = alg;
      s.secret = kSecret;
      if (alg[0] != 'H') {
        keys_[alg] = alg[0] == 'R' || alg[0] == 'P' ? rsa : generate(alg);
        s.rsaPublicKey = publicPem(keys_[alg].get());
      }
      config_.jwtSecrets.push_back(s);
    }
    core::JwtSecret pkcs1;
    pkcs1.id = "id-pkcs1";
    pkcs1.consumerId = "c-jane";
    pkcs1.key = "k-pkcs1";
    pkcs1.algorithm = "RS256";
    pkcs1.rsaPublicKey = publicPem(rsa.get(), "type-specific");
    config_.jwtSecrets.push_back(pkcs1);
    core::JwtSecret b64;
    b64.id = "id-b64";
    b64.consumerId = "c-jane";
    b64.key = "k-b64";
    b64.secret = QByteArray("raw secret bytes").toBase64().toStdString();
    config_.jwtSecrets.push_back(b64);
    core::JwtSecret orphan;
    orphan.id = "id-orphan";
    orphan.consumerId = "c-gone";
    orphan.key = "k-orphan";
    orphan.secret = kSecret;
    config_.jwtSecrets.push_back(orphan);
    instance_ = authtest::compile(*factory_, config_, "{}");
  }

  void isRegisteredWithKongsNameAndPriority() {
    QCOMPARE(factory_->name(), std::string_view("jwt"));
    QCOMPARE(factory_->priority(), 1450);
    QVERIFY(plugins::find("jwt"));
  }

  void schemaFillsKongDefaults() {
    auto v = authtest::validate(*factory_, "");
    QVERIFY2(v.ok(), v.errorText().c_str());
    QCOMPARE(boost::json::serialize(v->at("uri_param_names")), std::string("[\"jwt\"]"));
    QCOMPARE(boost::json::serialize(v->at("cookie_names")), std::string("[]"));
    QCOMPARE(boost::json::serialize(v->at("header_names")), std::string("[\"authorization\"]"));
    QCOMPARE(std::string(v->at("key_claim_name").as_string()), std::string("iss"));
    QCOMPARE(v->at("secret_is_base64").as_bool(), false);
    QCOMPARE(v->at("run_on_preflight").as_bool(), true);
    QCOMPARE(v->at("maximum_expiration").to_number<double>(), 0.0);
    QVERIFY(v->at("claims_to_verify").is_null());
  }

  void schemaChecksClaimsAndMaximumExpiration() {
    auto badClaim = authtest::validate(*factory_, "{\"claims_to_verify\":[\"iat\"]}");
    QVERIFY(!badClaim.ok());
    QCOMPARE(badClaim.errors()[0].path, std::string("config.claims_to_verify[0]"));
    QCOMPARE(badClaim.errors()[0].message, std::string("expected one of: exp, nbf"));

    auto range = authtest::validate(*factory_, "{\"maximum_expiration\":31536001}");
    QVERIFY(!range.ok());
    QCOMPARE(range.errors()[0].path, std::string("config.maximum_expiration"));
    QCOMPARE(range.errors()[0].message, std::string("value should be between 0 and 31536000"));

    auto needsExp =
        authtest::validate(*factory_, "{\"maximum_expiration\":60,\"claims_to_verify\":[\"nbf\"]}");
    QVERIFY(!needsExp.ok());
    QCOMPARE(needsExp.errors().size(), std::size_t{2});
    QCOMPARE(needsExp.errors()[0].path, std::string("config.claims_to_verify"));
    QCOMPARE(needsExp.errors()[0].message, std::string("expected to contain: exp"));
    QCOMPARE(needsExp.errors()[1].message,
             std::string("failed conditional validation given value of field "
                         "'config.maximum_expiration'"));

    auto ok = authtest::validate(
        *factory_, "{\"maximum_expiration\":60,\"claims_to_verify\":[\"exp\",\"exp\"]}");
    QVERIFY2(ok.ok(), ok.errorText().c_str());
    QCOMPARE(boost::json::serialize(ok->at("claims_to_verify")), std::string("[\"exp\"]"));
  }

  void noTokenIs401WithBearerChallenge() {
    Request r("GET / HTTP/1.1\r\nHost: gw\r\n\r\n");
    instance_->access(r.ctx);
    QCOMPARE(r.ctx.exitStatus(), 401);
    QCOMPARE(authtest::exitMessage(r.ctx), std::string("Unauthorized"));
    QCOMPARE(authtest::responseHeader(r.ctx, "WWW-Authenticate"), std::string("Bearer"));
  }

  void verifiesEveryAlgorithm_data() {
    QTest::addColumn<QString>("alg");
    for (const char* alg : kAlgorithms) QTest::newRow(alg) << QString(alg);
  }

  void verifiesEveryAlgorithm() {
    QFETCH(QString, alg);
    const std::string a = alg.toStdString();
    EVP_PKEY* key = keys_.count(a) ? keys_[a].get() : nullptr;
    std::string claims = "{\"iss\":\"k-" + a + "\",\"sub\":\"x\"}";
    std::string t = token(header(a), claims, a, key, kSecret);
    Request ok(bearer(t));
    instance_->access(ok.ctx);
    QVERIFY2(!ok.ctx.exited(), ok.ctx.exitBody().data());
    QVERIFY(ok.ctx.consumer);
    QCOMPARE(ok.ctx.consumer->id, std::string("c-jane"));
    // Kong identifies a jwt credential by its key.
    QCOMPARE(ok.ctx.credentialId, "k-" + a);
    QCOMPARE(authtest::upstreamHeader(ok.ctx, "X-Credential-Identifier"), "k-" + a);
    QCOMPARE(authtest::upstreamHeader(ok.ctx, "X-Consumer-Username"), std::string("jane"));

    // The same token with the claims changed after signing.
    std::string forged = t;
    std::size_t dot1 = forged.find('.'), dot2 = forged.find('.', dot1 + 1);
    forged.replace(dot1 + 1, dot2 - dot1 - 1,
                   jwt::base64UrlEncode("{\"iss\":\"k-" + a + "\",\"sub\":\"y\"}"));
    Request bad(bearer(forged));
    instance_->access(bad.ctx);
    QCOMPARE(bad.ctx.exitStatus(), 401);
    QCOMPARE(authtest::exitMessage(bad.ctx), std::string("Invalid signature"));
    QCOMPARE(authtest::responseHeader(bad.ctx, "WWW-Authenticate"),
             std::string("Bearer error=\"invalid_token\""));
  }

  void signatureByAnotherKeyIsInvalid_data() {
    QTest::addColumn<QString>("alg");
    for (const char* alg : {"RS256", "ES256", "PS512", "EdDSA"}) QTest::newRow(alg) << QString(alg);
  }

  void signatureByAnotherKeyIsInvalid() {
    QFETCH(QString, alg);
    const std::string a = alg.toStdString();
    Key other = generate(a);
    std::string t = token(header(a), "{\"iss\":\"k-" + a + "\"}", a, other.get(), {});
    Request r(bearer(t));
    instance_->access(r.ctx);
    QCOMPARE(r.ctx.exitStatus(), 401);
    QCOMPARE(authtest::exitMessage(r.ctx), std::string("Invalid signature"));
  }

  void hmacWithAnotherSecretIsInvalid() {
    std::string t = token(header("HS256"), "{\"iss\":\"k-HS256\"}", "HS256", nullptr, "other");
    Request r(bearer(t));
    instance_->access(r.ctx);
    QCOMPARE(authtest::exitMessage(r.ctx), std::string("Invalid signature"));
  }

  void pkcs1PublicKeysAreAccepted() {
    std::string t =
        token(header("RS256"), "{\"iss\":\"k-pkcs1\"}", "RS256", keys_["RS256"].get(), {});
    Request r(bearer(t));
    instance_->access(r.ctx);
    QVERIFY2(!r.ctx.exited(), r.ctx.exitBody().data());
    QCOMPARE(r.ctx.credentialId, std::string("k-pkcs1"));
  }

  void algorithmMustMatchTheCredential() {
    // Signed HS256 with the right secret, but the credential says RS256.
    std::string t = token(header("HS256"), "{\"iss\":\"k-RS256\"}", "HS256", nullptr, kSecret);
    Request r(bearer(t));
    instance_->access(r.ctx);
    QCOMPARE(authtest::exitMessage(r.ctx), std::string("Invalid algorithm"));
  }

  void malformedTokensAreBadTokens_data() {
    QTest::addColumn<QString>("token");
    QTest::addColumn<QString>("message");
    const std::string h = jwt::base64UrlEncode(header("HS256"));
    const std::string c = jwt::base64UrlEncode("{\"iss\":\"k-HS256\"}");
    auto row = [](const char* name, const std::string& t, const char* m) {
      QTest::newRow(name) << QString::fromStdString(t) << QString(m);
    };
    row("no dots", "abc", "Bad token; invalid JSON");
    row("one dot", h + "." + c, "Bad token; invalid JSON");
    row("header not base64", "!!." + c + ".", "Bad token; invalid JSON");
    row("header not json", jwt::base64UrlEncode("{nope") + "." + c + ".",
        "Bad token; invalid JSON");
    row("alg none", jwt::base64UrlEncode(header("none")) + "." + c + ".", "Bad token; invalid alg");
    row("no alg", jwt::base64UrlEncode("{\"typ\":\"JWT\"}") + "." + c + ".",
        "Bad token; invalid alg");
    row("claims not an object", h + "." + jwt::base64UrlEncode("[1]") + ".",
        "Bad token; invalid claims");
    row("signature not base64", h + "." + c + ".a.b", "Bad token; invalid signature");
    row("no iss", h + "." + jwt::base64UrlEncode("{\"sub\":\"x\"}") + ".",
        "No mandatory 'iss' in claims");
    row("empty iss", h + "." + jwt::base64UrlEncode("{\"iss\":\"\"}") + ".",
        "Invalid 'iss' in claims");
    row("unknown iss", h + "." + jwt::base64UrlEncode("{\"iss\":\"who\"}") + ".",
        "No credentials found for given 'iss'");
  }

  void malformedTokensAreBadTokens() {
    QFETCH(QString, token);
    QFETCH(QString, message);
    Request r(bearer(token.toStdString()));
    instance_->access(r.ctx);
    QCOMPARE(r.ctx.exitStatus(), 401);
    QCOMPARE(QString::fromStdString(authtest::exitMessage(r.ctx)), message);
    QCOMPARE(authtest::responseHeader(r.ctx, "WWW-Authenticate"),
             std::string("Bearer error=\"invalid_token\""));
  }

  void keyClaimFallsBackToTheHeader() {
    std::string h = "{\"alg\":\"HS256\",\"iss\":\"k-HS256\"}";
    std::string t = token(h, "{\"sub\":\"x\"}", "HS256", nullptr, kSecret);
    Request r(bearer(t));
    instance_->access(r.ctx);
    QVERIFY2(!r.ctx.exited(), r.ctx.exitBody().data());

    auto custom = authtest::compile(*factory_, config_, "{\"key_claim_name\":\"kid\"}");
    std::string t2 = token(header("HS256"), "{\"kid\":\"k-HS256\"}", "HS256", nullptr, kSecret);
    Request r2(bearer(t2));
    custom->access(r2.ctx);
    QVERIFY2(!r2.ctx.exited(), r2.ctx.exitBody().data());
    Request r3(bearer(t));
    custom->access(r3.ctx);
    QCOMPARE(authtest::exitMessage(r3.ctx), std::string("No mandatory 'kid' in claims"));
  }

  void tokenFromQueryAndCookie() {
    std::string t = token(header("HS256"), "{\"iss\":\"k-HS256\"}", "HS256", nullptr, kSecret);
    Request q("GET /?a=1&jwt=" + t + " HTTP/1.1\r\nHost: gw\r\n\r\n");
    instance_->access(q.ctx);
    QVERIFY2(!q.ctx.exited(), q.ctx.exitBody().data());

    auto cookies = authtest::compile(*factory_, config_,
                                     "{\"cookie_names\":[\"session\"],\"header_names\":[]}");
    Request c("GET / HTTP/1.1\r\nHost: gw\r\nCookie: a=b; session=" + t + "; z=1\r\n\r\n");
    cookies->access(c.ctx);
    QVERIFY2(!c.ctx.exited(), c.ctx.exitBody().data());
    // header_names is empty: a Bearer header is not read.
    Request h(bearer(t));
    cookies->access(h.ctx);
    QCOMPARE(authtest::exitMessage(h.ctx), std::string("Unauthorized"));
  }

  void sameTokenTwiceIsOneButDifferentTokensAreMultiple() {
    std::string t = token(header("HS256"), "{\"iss\":\"k-HS256\"}", "HS256", nullptr, kSecret);
    std::string t2 =
        token(header("HS256"), "{\"iss\":\"k-HS256\",\"n\":2}", "HS256", nullptr, kSecret);
    Request same("GET /?jwt=" + t + " HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer " + t +
                 "\r\n\r\n");
    instance_->access(same.ctx);
    QVERIFY2(!same.ctx.exited(), same.ctx.exitBody().data());

    Request multiple("GET /?jwt=" + t + " HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer " + t2 +
                     "\r\n\r\n");
    instance_->access(multiple.ctx);
    QCOMPARE(authtest::exitMessage(multiple.ctx), std::string("Multiple tokens provided"));

    Request flag("GET /?jwt HTTP/1.1\r\nHost: gw\r\n\r\n");
    instance_->access(flag.ctx);
    QCOMPARE(authtest::exitMessage(flag.ctx), std::string("Unrecognizable token"));
  }

  void claimsAreVerified() {
    auto inst = authtest::compile(*factory_, config_, "{\"claims_to_verify\":[\"exp\",\"nbf\"]}");
    const std::int64_t now = nowSeconds();
    auto run = [&](const std::string& claims) {
      auto r = std::make_unique<Request>(
          bearer(token(header("HS256"), claims, "HS256", nullptr, kSecret)));
      inst->access(r->ctx);
      return std::make_pair(r->ctx.exitStatus(), std::string(r->ctx.exitBody()));
    };
    std::string iss = "\"iss\":\"k-HS256\"";
    auto valid = run("{" + iss + ",\"exp\":" + std::to_string(now + 600) +
                     ",\"nbf\":" + std::to_string(now - 10) + "}");
    QCOMPARE(valid.first, 0);

    auto expired = run("{" + iss + ",\"exp\":" + std::to_string(now - 1) +
                       ",\"nbf\":" + std::to_string(now - 10) + "}");
    QCOMPARE(expired.first, 401);
    QCOMPARE(expired.second, std::string("{\"exp\":\"token expired\"}"));

    auto early = run("{" + iss + ",\"exp\":" + std::to_string(now + 600) +
                     ",\"nbf\":" + std::to_string(now + 600) + "}");
    QCOMPARE(early.second, std::string("{\"nbf\":\"token not valid yet\"}"));

    auto types = run("{" + iss + ",\"exp\":\"soon\"}");
    QCOMPARE(types.second,
             std::string("{\"exp\":\"must be a number\",\"nbf\":\"must be a number\"}"));

    // Not verified unless configured.
    Request lax(
        bearer(token(header("HS256"), "{" + iss + ",\"exp\":1}", "HS256", nullptr, kSecret)));
    instance_->access(lax.ctx);
    QVERIFY(!lax.ctx.exited());
  }

  void maximumExpirationIsEnforced() {
    auto inst = authtest::compile(*factory_, config_,
                                  "{\"claims_to_verify\":[\"exp\"],\"maximum_expiration\":60}");
    const std::int64_t now = nowSeconds();
    Request far(bearer(token(header("HS256"),
                             "{\"iss\":\"k-HS256\",\"exp\":" + std::to_string(now + 3600) + "}",
                             "HS256", nullptr, kSecret)));
    inst->access(far.ctx);
    QCOMPARE(far.ctx.exitStatus(), 401);
    QCOMPARE(std::string(far.ctx.exitBody()),
             std::string("{\"exp\":\"exceeds maximum allowed expiration\"}"));
    QCOMPARE(authtest::responseHeader(far.ctx, "WWW-Authenticate"),
             std::string("Bearer error=\"invalid_token\""));

    Request near(bearer(token(header("HS256"),
                              "{\"iss\":\"k-HS256\",\"exp\":" + std::to_string(now + 30) + "}",
                              "HS256", nullptr, kSecret)));
    inst->access(near.ctx);
    QVERIFY(!near.ctx.exited());
  }

  void base64Secrets() {
    auto inst = authtest::compile(*factory_, config_, "{\"secret_is_base64\":true}");
    std::string t =
        token(header("HS256"), "{\"iss\":\"k-b64\"}", "HS256", nullptr, "raw secret bytes");
    Request r(bearer(t));
    inst->access(r.ctx);
    QVERIFY2(!r.ctx.exited(), r.ctx.exitBody().data());
    // Without secret_is_base64 the encoded text itself is the secret.
    Request plain(bearer(t));
    instance_->access(plain.ctx);
    QCOMPARE(authtest::exitMessage(plain.ctx), std::string("Invalid signature"));
  }

  void realmGoesIntoBothChallenges() {
    auto inst = authtest::compile(*factory_, config_, "{\"realm\":\"api\"}");
    Request none("GET / HTTP/1.1\r\nHost: gw\r\n\r\n");
    inst->access(none.ctx);
    QCOMPARE(authtest::responseHeader(none.ctx, "WWW-Authenticate"),
             std::string("Bearer realm=\"api\""));
    Request bad(bearer("abc"));
    inst->access(bad.ctx);
    QCOMPARE(authtest::responseHeader(bad.ctx, "WWW-Authenticate"),
             std::string("Bearer realm=\"api\", error=\"invalid_token\""));
  }

  void credentialWithoutConsumer() {
    std::string t = token(header("HS256"), "{\"iss\":\"k-orphan\"}", "HS256", nullptr, kSecret);
    Request r(bearer(t));
    instance_->access(r.ctx);
    QCOMPARE(r.ctx.exitStatus(), 401);
    QCOMPARE(authtest::exitMessage(r.ctx),
             std::string("Could not find consumer for 'iss=k-orphan'"));
    QCOMPARE(authtest::responseHeader(r.ctx, "WWW-Authenticate"), std::string("<none>"));
  }

  void anonymousConsumerIsTheFallback() {
    auto inst = authtest::compile(*factory_, config_, "{\"anonymous\":\"anon\"}");
    Request r(bearer("garbage"));
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    QCOMPARE(r.ctx.consumer->id, std::string("c-anon"));
    QVERIFY(r.ctx.anonymous);
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Anonymous-Consumer"), std::string("true"));

    auto ghost = authtest::compile(*factory_, config_, "{\"anonymous\":\"ghost\"}");
    Request g("GET / HTTP/1.1\r\nHost: gw\r\n\r\n");
    ghost->access(g.ctx);
    QCOMPARE(g.ctx.exitStatus(), 500);
  }

  void preflightIsLetThroughWhenConfigured() {
    auto inst = authtest::compile(*factory_, config_, "{\"run_on_preflight\":false}");
    QVERIFY(!inst->runOnPreflight());
    Request r("OPTIONS / HTTP/1.1\r\nHost: gw\r\n\r\n");
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
  }

  void base64UrlRoundTrips() {
    for (std::string s : {std::string(""), std::string("f"), std::string("fo"), std::string("foo"),
                          std::string("\xff\xfe\x00\x01", 4)}) {
      std::string out;
      QVERIFY(jwt::base64UrlDecode(jwt::base64UrlEncode(s), out));
      QCOMPARE(out, s);
    }
    std::string out;
    QVERIFY(!jwt::base64UrlDecode("a+b/", out));   // the standard alphabet is not base64url
    QVERIFY(!jwt::base64UrlDecode("abcde", out));  // impossible length
    out.clear();
    QVERIFY(jwt::base64UrlDecode("Zm9v==", out));  // padding is tolerated
    QCOMPARE(out, std::string("foo"));
  }

 private:
  std::unique_ptr<plugins::Factory> factory_;
  core::Config config_;
  std::map<std::string, Key> keys_;
  std::shared_ptr<const plugins::Instance> instance_;
};

QTEST_GUILESS_MAIN(JwtTest)
#include "jwt_test.moc"
