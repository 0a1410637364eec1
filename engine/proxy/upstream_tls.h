#pragma once
// TLS towards the upstreams of https services (Kong's service fields tls_verify,
// tls_verify_depth, ca_certificates and client_certificate; kong-reference §1.1).
//
// One UpstreamTls per worker, touched only by its thread. It makes one client ssl::context per
// distinct setting, when a snapshot's service first needs it (never per request or per
// connection), and keeps one TLS session per connection pool so that a new connection to the
// same peer resumes instead of doing a full handshake.
//
// Kong's defaults: no verification unless tls_verify is true (tls_verify null: the node's
// proxy_ssl_verify, off); with it, the chain is checked against the service's ca_certificates,
// or the system store when it names none, to nginx's proxy_ssl_verify_depth (1) unless
// tls_verify_depth says otherwise, and the certificate must carry the name sent as SNI (the
// Host sent upstream, without its port). client_certificate (the service's, else that of the
// upstream the service is balanced over) is presented to upstreams that ask.
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/entities.h"

namespace archway::proxy {

// One distinct TLS setting on one worker.
class TlsClient {
 public:
  TlsClient();
  boost::asio::ssl::context& context() { return ctx_; }
  bool verify() const { return verify_; }
  // 16 hex digits naming the setting: part of the pool key of its connections.
  const std::string& id() const { return id_; }
  // Before the handshake of `ssl`: SNI `serverName` (none for an IP address, as nginx) and,
  // when verifying, the name or address the certificate must carry.
  void prepare(SSL* ssl, const std::string& serverName) const;

 private:
  friend class UpstreamTls;
  boost::asio::ssl::context ctx_;
  bool verify_ = false;
  std::string id_;
};

class UpstreamTls {
 public:
  UpstreamTls() = default;
  ~UpstreamTls();
  UpstreamTls(const UpstreamTls&) = delete;
  UpstreamTls& operator=(const UpstreamTls&) = delete;

  // The client of https service `svc` of `config`, the config of snapshot `generation`. Cached
  // per service for the newest generation seen; services of an older snapshot still in flight
  // share the contexts by setting. Never null: a certificate that does not load is logged and
  // left out (the handshake then fails as it would in Kong).
  const std::shared_ptr<TlsClient>& forService(std::uint64_t generation, const core::Config& config,
                                               const core::Service& svc);

  // TLS session reuse, per connection pool key.
  void resume(SSL* ssl, const std::string& poolKey) const;
  void remember(SSL* ssl, const std::string& poolKey);
  void forget(const std::string& poolKey);
  // Drops every session (drain), or all of them when there are more than `most`.
  void clear();
  void trim(std::size_t most) {
    if (sessions_.size() > most) clear();
  }

 private:
  std::shared_ptr<TlsClient> build(const core::Config& config, const core::Service& svc,
                                   const std::string& id) const;

  std::uint64_t generation_ = 0;
  std::unordered_map<const core::Service*, std::shared_ptr<TlsClient>> byService_;
  std::unordered_map<std::uint64_t, std::shared_ptr<TlsClient>> bySetting_;
  std::shared_ptr<TlsClient> uncached_;  // for a service of an older snapshot
  std::unordered_map<std::string, SSL_SESSION*> sessions_;
};

}  // namespace archway::proxy
