#include "proxy/upstream_tls.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <cstdio>

#include "core/log.h"

namespace archway::proxy {

namespace asio = boost::asio;

namespace {

// nginx's proxy_ssl_verify_depth default, which Kong keeps when tls_verify_depth is null.
constexpr int kDefaultVerifyDepth = 1;

struct Fnv {
  std::uint64_t h = 0xcbf29ce484222325ull;
  void add(std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
    h ^= 0xff;  // separator: ("ab","c") differs from ("a","bc")
    h *= 0x100000001b3ull;
  }
};

const core::CaCertificate* findCa(const core::Config& config, const std::string& id) {
  for (const auto& ca : config.caCertificates) {
    if (ca.id == id) return &ca;
  }
  return nullptr;
}

const core::Certificate* findCertificate(const core::Config& config, const std::string& id) {
  for (const auto& c : config.certificates) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

// The certificate presented to the upstream: the service's, else (a service balanced over an
// upstream) the upstream's client_certificate.
const core::Certificate* clientCertificateOf(const core::Config& config, const core::Service& svc) {
  if (svc.clientCertificate) return findCertificate(config, *svc.clientCertificate);
  for (const auto& u : config.upstreams) {
    if (u.name == svc.host && u.clientCertificate)
      return findCertificate(config, *u.clientCertificate);
  }
  return nullptr;
}

// The setting's identity: everything that makes two contexts differ.
std::uint64_t fingerprintOf(const core::Config& config, const core::Service& svc) {
  Fnv f;
  const bool verify = svc.tlsVerify.value_or(false);
  f.add(verify ? "verify" : "noverify");
  if (verify) {
    f.add(std::to_string(svc.tlsVerifyDepth.value_or(kDefaultVerifyDepth)));
    for (const auto& id : svc.caCertificates) {
      const auto* ca = findCa(config, id);
      f.add(ca ? std::string_view(ca->cert) : std::string_view(id));
    }
  }
  if (const auto* c = clientCertificateOf(config, svc)) {
    f.add(c->cert);
    f.add(c->key);
  }
  return f.h;
}

}  // namespace

TlsClient::TlsClient() : ctx_(asio::ssl::context::tls_client) {}

void TlsClient::prepare(SSL* ssl, const std::string& serverName) const {
  boost::system::error_code ec;
  asio::ip::make_address(serverName, ec);
  const bool isIp = !ec;
  if (!serverName.empty() && !isIp) SSL_set_tlsext_host_name(ssl, serverName.c_str());
  if (!verify_ || serverName.empty()) return;
  if (isIp) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName.c_str());
  } else {
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(ssl, serverName.c_str());
  }
}

UpstreamTls::~UpstreamTls() {
  clear();
}

const std::shared_ptr<TlsClient>& UpstreamTls::forService(std::uint64_t generation,
                                                          const core::Config& config,
                                                          const core::Service& svc) {
  if (generation == generation_) {
    if (auto it = byService_.find(&svc); it != byService_.end()) return it->second;
  } else if (generation > generation_) {
    // A new snapshot: its services are looked up afresh; settings nobody uses any more go
    // (connections still open hold their own reference).
    generation_ = generation;
    byService_.clear();
    std::erase_if(bySetting_, [](const auto& kv) { return kv.second.use_count() == 1; });
  }
  const std::uint64_t fp = fingerprintOf(config, svc);
  std::shared_ptr<TlsClient> client;
  if (auto it = bySetting_.find(fp); it != bySetting_.end()) {
    client = it->second;
  } else {
    char id[17];
    std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(fp));
    client = build(config, svc, id);
    bySetting_.emplace(fp, client);
  }
  if (generation != generation_) {
    uncached_ = std::move(client);
    return uncached_;
  }
  return byService_.emplace(&svc, std::move(client)).first->second;
}

std::shared_ptr<TlsClient> UpstreamTls::build(const core::Config& config, const core::Service& svc,
                                              const std::string& id) const {
  auto client = std::make_shared<TlsClient>();
  client->id_ = id;
  auto& ctx = client->ctx_;
  boost::system::error_code ec;
  auto problem = [&](std::string_view what) {
    core::log::warn("upstream TLS: " + std::string(what),
                    {{"service", svc.name.value_or(svc.id)}, {"error", ec.message()}});
  };
  client->verify_ = svc.tlsVerify.value_or(false);
  if (client->verify_) {
    ctx.set_verify_mode(asio::ssl::verify_peer, ec);
    SSL_CTX_set_verify_depth(ctx.native_handle(), svc.tlsVerifyDepth.value_or(kDefaultVerifyDepth));
    if (svc.caCertificates.empty()) {
      ctx.set_default_verify_paths(ec);
      if (ec) problem("no system CA store");
    }
    for (const auto& caId : svc.caCertificates) {
      const auto* ca = findCa(config, caId);
      if (!ca) continue;  // validation guarantees it exists
      ctx.add_certificate_authority(asio::buffer(ca->cert), ec);
      if (ec) problem("CA certificate " + caId + " does not load");
    }
  } else {
    ctx.set_verify_mode(asio::ssl::verify_none, ec);
  }
  if (const auto* c = clientCertificateOf(config, svc)) {
    ctx.use_certificate_chain(asio::buffer(c->cert), ec);
    if (ec) problem("client certificate does not load");
    ctx.use_private_key(asio::buffer(c->key), asio::ssl::context::pem, ec);
    if (ec) problem("client certificate key does not load");
  }
  return client;
}

void UpstreamTls::resume(SSL* ssl, const std::string& poolKey) const {
  if (auto it = sessions_.find(poolKey); it != sessions_.end()) SSL_set_session(ssl, it->second);
}

void UpstreamTls::remember(SSL* ssl, const std::string& poolKey) {
  SSL_SESSION* s = SSL_get1_session(ssl);
  if (!s) return;
  if (!SSL_SESSION_is_resumable(s)) {
    SSL_SESSION_free(s);
    return;
  }
  auto [it, fresh] = sessions_.try_emplace(poolKey, s);
  if (!fresh) {
    SSL_SESSION_free(it->second);
    it->second = s;
  }
}

void UpstreamTls::forget(const std::string& poolKey) {
  if (auto it = sessions_.find(poolKey); it != sessions_.end()) {
    SSL_SESSION_free(it->second);
    sessions_.erase(it);
  }
}

void UpstreamTls::clear() {
  for (auto& [key, s] : sessions_) SSL_SESSION_free(s);
  sessions_.clear();
}

}  // namespace archway::proxy
