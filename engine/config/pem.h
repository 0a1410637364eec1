#pragma once
// Checks of the PEM text in certificates and ca_certificates (kong-reference §1.7), with
// OpenSSL 3 and Kong's messages. Each check returns the message of the first problem, or
// nothing when the input is fine.
#include <optional>
#include <string>

namespace archway::config {

// "invalid certificate: <reason>" unless `pem` holds an X.509 certificate.
std::optional<std::string> checkCertificatePem(const std::string& pem);
// "invalid key: <reason>" unless `pem` holds a private key.
std::optional<std::string> checkKeyPem(const std::string& pem);
// True when the certificate's public key belongs to the private key (both must parse).
bool keyMatchesCertificate(const std::string& certPem, const std::string& keyPem);
// The certificate's key type ("RSA", "EC", "ED25519", ...); empty when it does not parse.
std::string certificateKeyType(const std::string& certPem);
// Kong's ca_certificates checks: one certificate only, with the CA basic constraint, and
// (when `checkExpiry`) not expired.
std::optional<std::string> checkCaCertificatePem(const std::string& pem, bool checkExpiry);
// sha256 of the certificate's DER in lower-case hex (Kong's cert_digest); empty on error.
std::string certificateDigest(const std::string& pem);

// Kong's wildcard host rules for an SNI name: at most one `*`, only as the whole left-most or
// right-most label; not an IP, no port.
std::optional<std::string> checkSniName(const std::string& name);

}  // namespace archway::config
