#pragma once
// The TLS server context of the Admin API's `ssl` listeners (Kong's admin_ssl_cert and
// admin_ssl_cert_key): TLS 1.2 and 1.3 only, one certificate chain and its private key.
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "core/result.h"

namespace archway::admin {

// `cert` and `key` are PEM file paths, or PEM text itself (starting with "-----BEGIN", as Kong
// accepts). Errors name the option: "admin-ssl-cert: ..." / "admin-ssl-cert-key: ...".
core::Result<std::shared_ptr<boost::asio::ssl::context>> makeServerTlsContext(
    const std::string& cert, const std::string& key);

}  // namespace archway::admin
