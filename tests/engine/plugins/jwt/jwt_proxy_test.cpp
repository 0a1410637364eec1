// jwt through the real proxy: kong.yml jwt_secrets (HS256 secret, RS256 PEM public key made
// here), 401s with Kong's bodies and challenges, the upstream seeing the consumer.
#include <openssl/encoder.h>
#include <openssl/evp.h>

#include <QtTest>
#include <chrono>

#include "../key_auth/auth_proxy_harness.h"
#include "plugins/jwt/jwt_crypto.h"

using authtest::Gateway;
using authtest::messageOf;
namespace jwt = archway::plugins::jwt;

namespace {

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string publicPem(EVP_PKEY* key) {
  OSSL_ENCODER_CTX* ectx = OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_PUBLIC_KEY, "PEM",
                                                         "SubjectPublicKeyInfo", nullptr);
  unsigned char* data = nullptr;
  std::size_t len = 0;
  if (!ectx || OSSL_ENCODER_to_data(ectx, &data, &len) != 1) qFatal("PEM encoding failed");
  std::string pem(reinterpret_cast<char*>(data), len);
  OPENSSL_free(data);
  OSSL_ENCODER_CTX_free(ectx);
  return pem;
}

std::string signHs256(const std::string& input, const std::string& secret) {
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                 reinterpret_cast<const unsigned char*>(input.data()), input.size(), out,
                 sizeof out, &len))
    qFatal("HMAC failed");
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string signRs256(const std::string& input, EVP_PKEY* key) {
  unsigned char out[1024];
  std::size_t len = sizeof out;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  if (EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(md, out, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1)
    qFatal("RS256 signing failed");
  EVP_MD_CTX_free(md);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string token(const std::string& alg, const std::string& claims, EVP_PKEY* key,
                  const std::string& secret) {
  std::string input = jwt::base64UrlEncode("{\"typ\":\"JWT\",\"alg\":\"" + alg + "\"}") + "." +
                      jwt::base64UrlEncode(claims);
  std::string sig = alg == "HS256" ? signHs256(input, secret) : signRs256(input, key);
  return input + "." + jwt::base64UrlEncode(sig);
}

}  // namespace

class JwtProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    key_.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048)),
               EVP_PKEY_free);
    QVERIFY(key_);
    std::string pem;
    std::string text = publicPem(key_.get());
    for (std::size_t at = 0; at < text.size();) {
      std::size_t nl = text.find('\n', at);
      if (nl == std::string::npos) nl = text.size();
      pem += "      " + text.substr(at, nl - at) + "\n";
      at = nl + 1;
    }
    std::string yaml =
        "_format_version: '3.0'\n"
        "services:\n"
        "- name: svc\n"
        "  url: UPSTREAM\n"
        "  retries: 0\n"
        "  routes:\n"
        "  - name: tokens\n"
        "    paths: [/jwt]\n"
        "    plugins:\n"
        "    - name: jwt\n"
        "      config: {claims_to_verify: [exp]}\n"
        "consumers:\n"
        "- username: jane\n"
        "  jwt_secrets:\n"
        "  - key: hs-issuer\n"
        "    secret: topsecret\n"
        "  - key: rs-issuer\n"
        "    algorithm: RS256\n"
        "    rsa_public_key: |\n" +
        pem;
    gw_ = std::make_unique<Gateway>(yaml);
  }
  void cleanupTestCase() { gw_.reset(); }

  void noTokenIs401WithBearerChallenge() {
    auto r = gw_->request("/jwt/x");
    QCOMPARE(r.status, 401);
    QCOMPARE(messageOf(r.body), std::string("Unauthorized"));
    QCOMPARE(r.headers["www-authenticate"], std::string("Bearer"));
  }

  void hs256BearerTokenReachesUpstreamAsTheConsumer() {
    std::string t =
        token("HS256", "{\"iss\":\"hs-issuer\",\"exp\":" + std::to_string(nowSeconds() + 600) + "}",
              nullptr, "topsecret");
    auto r = gw_->request("/jwt/x", {{"Authorization", "Bearer " + t}});
    QCOMPARE(r.status, 200);
    auto seen = gw_->upstream().last();
    QCOMPARE(seen.headers["x-consumer-username"], std::string("jane"));
    QCOMPARE(seen.headers["x-credential-identifier"], std::string("hs-issuer"));
  }

  void rs256QueryTokenReachesUpstream() {
    std::string t =
        token("RS256", "{\"iss\":\"rs-issuer\",\"exp\":" + std::to_string(nowSeconds() + 600) + "}",
              key_.get(), {});
    auto r = gw_->request("/jwt/x?jwt=" + t);
    QCOMPARE(r.status, 200);
    QCOMPARE(gw_->upstream().last().headers["x-credential-identifier"], std::string("rs-issuer"));
  }

  void expiredTokenIs401WithTheClaimError() {
    std::string t =
        token("HS256", "{\"iss\":\"hs-issuer\",\"exp\":" + std::to_string(nowSeconds() - 5) + "}",
              nullptr, "topsecret");
    auto r = gw_->request("/jwt/x", {{"Authorization", "Bearer " + t}});
    QCOMPARE(r.status, 401);
    QCOMPARE(r.body, std::string("{\"exp\":\"token expired\"}"));
    QCOMPARE(r.headers["www-authenticate"], std::string("Bearer error=\"invalid_token\""));
  }

  void wrongSecretIsInvalidSignature() {
    const int before = gw_->upstream().requests();
    std::string t =
        token("HS256", "{\"iss\":\"hs-issuer\",\"exp\":" + std::to_string(nowSeconds() + 600) + "}",
              nullptr, "guess");
    auto r = gw_->request("/jwt/x", {{"Authorization", "Bearer " + t}});
    QCOMPARE(r.status, 401);
    QCOMPARE(messageOf(r.body), std::string("Invalid signature"));
    QCOMPARE(gw_->upstream().requests(), before);
  }

 private:
  std::shared_ptr<EVP_PKEY> key_;
  std::unique_ptr<Gateway> gw_;
};

QTEST_GUILESS_MAIN(JwtProxyTest)
#include "jwt_proxy_test.moc"
