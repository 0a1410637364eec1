#include "config/pem.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace archway::config {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

// The reason of the latest OpenSSL error on this thread ("no start line"), clearing the queue.
std::string lastError() {
  unsigned long code = 0, last = 0;
  while ((code = ERR_get_error()) != 0) last = code;
  if (last == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(last);
  return reason ? reason : "unknown error";
}

BioPtr memory(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

X509Ptr readCertificate(const std::string& pem, std::string* error = nullptr) {
  ERR_clear_error();
  auto bio = memory(pem);
  X509Ptr x(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!x && error) *error = lastError();
  ERR_clear_error();
  return x;
}

KeyPtr readKey(const std::string& pem, std::string* error = nullptr) {
  ERR_clear_error();
  auto bio = memory(pem);
  // An empty passphrase callback result: encrypted keys fail instead of prompting.
  KeyPtr k(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr,
                                         [](char*, int, int, void*) { return 0; }, nullptr)
               : nullptr);
  if (!k && error) *error = lastError();
  ERR_clear_error();
  return k;
}

}  // namespace

std::optional<std::string> checkCertificatePem(const std::string& pem) {
  std::string error;
  if (!readCertificate(pem, &error)) return "invalid certificate: " + error;
  return std::nullopt;
}

std::optional<std::string> checkKeyPem(const std::string& pem) {
  std::string error;
  if (!readKey(pem, &error)) return "invalid key: " + error;
  return std::nullopt;
}

bool keyMatchesCertificate(const std::string& certPem, const std::string& keyPem) {
  auto x = readCertificate(certPem);
  auto k = readKey(keyPem);
  if (!x || !k) return false;
  const bool ok = X509_check_private_key(x.get(), k.get()) == 1;
  ERR_clear_error();
  return ok;
}

std::string certificateKeyType(const std::string& certPem) {
  auto x = readCertificate(certPem);
  if (!x) return {};
  EVP_PKEY* pub = X509_get0_pubkey(x.get());
  if (!pub) return {};
  const char* name = EVP_PKEY_get0_type_name(pub);
  return name ? name : std::to_string(EVP_PKEY_get_base_id(pub));
}

std::optional<std::string> checkCaCertificatePem(const std::string& pem, bool checkExpiry) {
  std::string error;
  auto x = readCertificate(pem, &error);
  if (!x) return "invalid certificate: " + error;
  std::size_t count = 0;
  for (auto at = pem.find("-----BEGIN CERTIFICATE-----"); at != std::string::npos;
       at = pem.find("-----BEGIN CERTIFICATE-----", at + 1)) {
    ++count;
  }
  if (count > 1) return "please submit only one certificate at a time";
  if (checkExpiry && X509_cmp_current_time(X509_get0_notAfter(x.get())) < 0)
    return "certificate expired, \"Not After\" time is in the past";
  const std::uint32_t flags = X509_get_extension_flags(x.get());
  if (!(flags & EXFLAG_BCONS) || !(flags & EXFLAG_CA))
    return "certificate does not appear to be a CA because it is missing the \"CA\" basic "
           "constraint";
  return std::nullopt;
}

std::string certificateDigest(const std::string& pem) {
  auto x = readCertificate(pem);
  if (!x) return {};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(x.get(), EVP_sha256(), md, &len) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 0xf];
  }
  return hex;
}

std::optional<std::string> checkSniName(const std::string& name) {
  const auto stars = std::count(name.begin(), name.end(), '*');
  std::string host = name;
  if (stars > 1) return "only one wildcard must be specified";
  if (stars == 1) {
    const bool left = name.rfind("*.", 0) == 0;
    const bool right = name.size() >= 2 && name.compare(name.size() - 2, 2, ".*") == 0;
    if (!left && !right) return "wildcard must be leftmost or rightmost character";
    host = left ? name.substr(2) : name.substr(0, name.size() - 2);
  }
  unsigned char addr[16];
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
    bare = bare.substr(1, bare.size() - 2);
  if (inet_pton(AF_INET, bare.c_str(), addr) == 1 || inet_pton(AF_INET6, bare.c_str(), addr) == 1)
    return "must not be an IP";
  if (auto colon = host.rfind(':'); colon != std::string::npos) {
    const std::string port = host.substr(colon + 1);
    if (!port.empty() && port.find_first_not_of("0123456789") == std::string::npos)
      return "must not have a port";
    return "invalid value: " + name;
  }
  if (host.empty() || host.size() > 253) return "invalid value: " + name;
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'))
      return "invalid value: " + name;
  }
  if (host.front() == '.' || host.back() == '.' || host.find("..") != std::string::npos)
    return "invalid value: " + name;
  return std::nullopt;
}

}  // namespace archway::config
