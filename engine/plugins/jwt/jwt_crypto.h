#pragma once
// The cryptography of the jwt plugin (RFC 7515 / 7518 / 8037) on OpenSSL 3 EVP: base64url,
// public key parsing, signature verification. Stateless and thread-safe: a parsed key is
// immutable and may verify on every worker at once.
#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace archway::plugins::jwt {

enum class Algorithm : std::uint8_t {
  HS256,
  HS384,
  HS512,
  RS256,
  RS384,
  RS512,
  ES256,
  ES384,
  ES512,
  PS256,
  PS384,
  PS512,
  EdDSA,
  unknown,
};

// "HS256" -> Algorithm::HS256; anything else (case-sensitive) -> unknown.
Algorithm algorithmFromName(std::string_view name);
std::string_view algorithmName(Algorithm alg);
// HS256/384/512: verified with a shared secret, every other one with a public key.
bool isSymmetric(Algorithm alg);

// Base64url as ngx.base64 reads it for Kong: URL alphabet, padding optional, decoding stops at
// the first '='. Appends to `out`; false (out unspecified) on a character outside the alphabet
// or an impossible length.
bool base64UrlDecode(std::string_view in, std::string& out);
// Unpadded base64url.
std::string base64UrlEncode(std::string_view in);
// Kong decodes a base64 secret (secret_is_base64) this way too; the standard alphabet ('+',
// '/') is accepted as well.
bool base64DecodeAny(std::string_view in, std::string& out);

using PublicKey = std::shared_ptr<EVP_PKEY>;
// A PEM (or DER) public key: SubjectPublicKeyInfo, PKCS#1 RSA, or a private key (its public
// half is used). Null when it does not parse.
PublicKey parsePublicKey(std::string_view pem);

// Verifies `signature` (as decoded from the token; ES* signatures are JWS's raw r||s) over
// `signingInput` ("header.claims"). HS* use `secret`, the others `key` (which must be of the
// algorithm's key type). False for a mismatch and for any error.
bool verify(Algorithm alg, std::string_view signingInput, std::string_view signature,
            std::string_view secret, EVP_PKEY* key);

}  // namespace archway::plugins::jwt
