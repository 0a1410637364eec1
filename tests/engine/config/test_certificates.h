#pragma once
// Self-signed certificates made with OpenSSL at test time (no fixtures that expire): RSA or
// EC keys, optionally with the CA basic constraint, optionally already expired.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>

namespace archway::testing {

struct CertificatePair {
  std::string cert;
  std::string key;
};

inline std::string toPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

inline std::string toPem(X509* x) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

struct CertificateOptions {
  bool ec = false;       // P-256 instead of RSA-2048
  bool ca = false;       // basicConstraints CA:TRUE
  bool expired = false;  // notAfter an hour ago
  std::string commonName = "archway.test";
};

inline CertificatePair makeCertificate(const CertificateOptions& o = {}) {
  EVP_PKEY* key = o.ec ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
  X509* x = X509_new();
  X509_set_version(x, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  if (o.expired) {
    X509_gmtime_adj(X509_getm_notBefore(x), -7200);
    X509_gmtime_adj(X509_getm_notAfter(x), -3600);
  } else {
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
  }
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(o.commonName.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, key);
  if (o.ca) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  CertificatePair out{toPem(x), toPem(key)};
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace archway::testing
