#include "admin/admin_tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace archway::admin {

namespace ssl = boost::asio::ssl;

namespace {

bool isPem(const std::string& value) {
  return value.rfind("-----BEGIN", 0) == 0;
}

// OpenSSL's reason for the failure ("no start line", "system lib"); the queue is left empty.
std::string reason(const boost::system::error_code& ec) {
  ERR_clear_error();
  return ec.message();
}

}  // namespace

core::Result<std::shared_ptr<ssl::context>> makeServerTlsContext(const std::string& cert,
                                                                 const std::string& key) {
  if (cert.empty()) return core::Error{"admin-ssl-cert", "a certificate is required"};
  if (key.empty()) return core::Error{"admin-ssl-cert-key", "a private key is required"};
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                   ssl::context::single_dh_use);
  boost::system::error_code ec;
  if (isPem(cert)) {
    ctx->use_certificate_chain(boost::asio::buffer(cert), ec);
  } else {
    ctx->use_certificate_chain_file(cert, ec);
  }
  if (ec) {
    return core::Error{"admin-ssl-cert", "cannot load the certificate" +
                                             (isPem(cert) ? std::string() : " " + cert) + ": " +
                                             reason(ec)};
  }
  if (isPem(key)) {
    ctx->use_private_key(boost::asio::buffer(key), ssl::context::pem, ec);
  } else {
    ctx->use_private_key_file(key, ssl::context::pem, ec);
  }
  if (ec) {
    return core::Error{"admin-ssl-cert-key", "cannot load the private key" +
                                                 (isPem(key) ? std::string() : " " + key) + ": " +
                                                 reason(ec)};
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    return core::Error{"admin-ssl-cert-key", "the private key does not match the certificate"};
  }
  return ctx;
}

}  // namespace archway::admin
