#include "plugins/jwt/jwt_crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>

namespace archway::plugins::jwt {
namespace {

struct Named {
  std::string_view name;
  Algorithm alg;
};
constexpr Named kAlgorithms[] = {
    {"HS256", Algorithm::HS256}, {"HS384", Algorithm::HS384}, {"HS512", Algorithm::HS512},
    {"RS256", Algorithm::RS256}, {"RS384", Algorithm::RS384}, {"RS512", Algorithm::RS512},
    {"ES256", Algorithm::ES256}, {"ES384", Algorithm::ES384}, {"ES512", Algorithm::ES512},
    {"PS256", Algorithm::PS256}, {"PS384", Algorithm::PS384}, {"PS512", Algorithm::PS512},
    {"EdDSA", Algorithm::EdDSA},
};

// 256, 384 or 512 for the SHA-2 family member the algorithm uses; 0 for EdDSA.
int shaBits(Algorithm alg) {
  switch (alg) {
    case Algorithm::HS256:
    case Algorithm::RS256:
    case Algorithm::ES256:
    case Algorithm::PS256:
      return 256;
    case Algorithm::HS384:
    case Algorithm::RS384:
    case Algorithm::ES384:
    case Algorithm::PS384:
      return 384;
    case Algorithm::HS512:
    case Algorithm::RS512:
    case Algorithm::ES512:
    case Algorithm::PS512:
      return 512;
    default:
      return 0;
  }
}

// Fetched once rather than implicitly on every verification; never freed.
const EVP_MD* digestOf(Algorithm alg) {
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  static EVP_MD* const sha384 = EVP_MD_fetch(nullptr, "SHA2-384", nullptr);
  static EVP_MD* const sha512 = EVP_MD_fetch(nullptr, "SHA2-512", nullptr);
  switch (shaBits(alg)) {
    case 256:
      return sha256;
    case 384:
      return sha384;
    case 512:
      return sha512;
    default:
      return nullptr;
  }
}

int base64Value(char c, bool url, bool standard) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (url && c == '-') return 62;
  if (url && c == '_') return 63;
  if (standard && c == '+') return 62;
  if (standard && c == '/') return 63;
  return -1;
}

bool decode(std::string_view in, std::string& out, bool url, bool standard) {
  std::size_t len = 0;
  while (len < in.size() && in[len] != '=') {
    if (base64Value(in[len], url, standard) < 0) return false;
    ++len;
  }
  if (len % 4 == 1) return false;
  unsigned int acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < len; ++i) {
    acc = (acc << 6) | static_cast<unsigned int>(base64Value(in[i], url, standard));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return true;
}

bool hmacEquals(Algorithm alg, std::string_view data, std::string_view signature,
                std::string_view secret) {
  // Fetched once; EVP_MAC objects are immutable and shared by all threads. Never freed.
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!mac) return false;
  const char* digest = shaBits(alg) == 256 ? "SHA256" : shaBits(alg) == 384 ? "SHA384" : "SHA512";
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t outLen = 0;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_end(),
  };
  // An empty secret is a valid HMAC key; OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const auto* key =
      secret.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(secret.data());
  bool ok =
      ctx && EVP_MAC_init(ctx, key, secret.size(), params) == 1 &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
      EVP_MAC_final(ctx, out, &outLen, sizeof out) == 1;
  EVP_MAC_CTX_free(ctx);
  return ok && outLen == signature.size() && CRYPTO_memcmp(out, signature.data(), outLen) == 0;
}

bool keyFits(Algorithm alg, EVP_PKEY* key) {
  switch (alg) {
    case Algorithm::RS256:
    case Algorithm::RS384:
    case Algorithm::RS512:
    case Algorithm::PS256:
    case Algorithm::PS384:
    case Algorithm::PS512:
      return EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS");
    case Algorithm::ES256:
    case Algorithm::ES384:
    case Algorithm::ES512:
      return EVP_PKEY_is_a(key, "EC");
    case Algorithm::EdDSA:
      return EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448");
    default:
      return false;
  }
}

// JWS carries an ECDSA signature as r||s, each as wide as the curve order (RFC 7518 3.4);
// OpenSSL verifies the DER SEQUENCE { r, s }. Returns the DER length, 0 on error.
std::size_t ecdsaRawToDer(Algorithm alg, std::string_view raw,
                          std::array<unsigned char, 256>& der) {
  const std::size_t expected = alg == Algorithm::ES256 ? 64 : alg == Algorithm::ES384 ? 96 : 132;
  if (raw.size() != expected) return 0;
  const std::size_t half = expected / 2;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(p, static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(p + half, static_cast<int>(half), nullptr);
  std::size_t out = 0;
  if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
    r = s = nullptr;  // owned by sig now
    int len = i2d_ECDSA_SIG(sig, nullptr);
    if (len > 0 && static_cast<std::size_t>(len) <= der.size()) {
      unsigned char* q = der.data();
      if (i2d_ECDSA_SIG(sig, &q) == len) out = static_cast<std::size_t>(len);
    }
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  return out;
}

bool verifyAsymmetric(Algorithm alg, std::string_view data, std::string_view signature,
                      EVP_PKEY* key) {
  if (!key || !keyFits(alg, key)) return false;
  std::array<unsigned char, 256> der{};
  const auto* sig = reinterpret_cast<const unsigned char*>(signature.data());
  std::size_t sigLen = signature.size();
  if (alg == Algorithm::ES256 || alg == Algorithm::ES384 || alg == Algorithm::ES512) {
    sigLen = ecdsaRawToDer(alg, signature, der);
    if (sigLen == 0) return false;
    sig = der.data();
  }
  const EVP_MD* digest = digestOf(alg);
  if (!digest && alg != Algorithm::EdDSA) return false;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = md && EVP_DigestVerifyInit(md, &pctx, digest, nullptr, key) == 1;
  if (ok && (alg == Algorithm::PS256 || alg == Algorithm::PS384 || alg == Algorithm::PS512)) {
    // RFC 7518 3.5 fixes the salt to the hash size; AUTO also accepts that (and is what Kong's
    // lua-resty-openssl verifies with).
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1;
  }
  ok = ok && EVP_DigestVerify(md, sig, sigLen, reinterpret_cast<const unsigned char*>(data.data()),
                              data.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

}  // namespace

Algorithm algorithmFromName(std::string_view name) {
  for (const auto& a : kAlgorithms) {
    if (a.name == name) return a.alg;
  }
  return Algorithm::unknown;
}

std::string_view algorithmName(Algorithm alg) {
  for (const auto& a : kAlgorithms) {
    if (a.alg == alg) return a.name;
  }
  return "unknown";
}

bool isSymmetric(Algorithm alg) {
  return alg == Algorithm::HS256 || alg == Algorithm::HS384 || alg == Algorithm::HS512;
}

bool base64UrlDecode(std::string_view in, std::string& out) {
  return decode(in, out, true, false);
}

bool base64DecodeAny(std::string_view in, std::string& out) {
  return decode(in, out, true, true);
}

std::string base64UrlEncode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  unsigned int acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3f];
  return out;
}

PublicKey parsePublicKey(std::string_view pem) {
  EVP_PKEY* pkey = nullptr;
  // Input type and structure left open: SPKI, PKCS#1 and private keys, PEM or DER.
  OSSL_DECODER_CTX* dctx =
      OSSL_DECODER_CTX_new_for_pkey(&pkey, nullptr, nullptr, nullptr, 0, nullptr, nullptr);
  if (!dctx) return nullptr;
  const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
  std::size_t len = pem.size();
  const bool ok = OSSL_DECODER_from_data(dctx, &data, &len) == 1;
  OSSL_DECODER_CTX_free(dctx);
  if (!ok || !pkey) {
    EVP_PKEY_free(pkey);
    return nullptr;
  }
  return PublicKey(pkey, EVP_PKEY_free);
}

bool verify(Algorithm alg, std::string_view signingInput, std::string_view signature,
            std::string_view secret, EVP_PKEY* key) {
  if (alg == Algorithm::unknown) return false;
  if (isSymmetric(alg)) return hmacEquals(alg, signingInput, signature, secret);
  return verifyAsymmetric(alg, signingInput, signature, key);
}

}  // namespace archway::plugins::jwt
