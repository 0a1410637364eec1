#include "balancer/active_checker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <chrono>

#include "core/log.h"
#include "net/dns_resolver.h"

namespace archway::balancer {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t kMaxStatusLine = 8192;

// Kong: `^HTTP/\d+\.\d+\s+(\d+)`; 0 when the line does not match (an HTTP failure).
int parseStatusLine(std::string_view line) {
  if (line.substr(0, 5) != "HTTP/") return 0;
  std::size_t i = 5;
  auto digits = [&] {
    std::size_t start = i;
    while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
    return i > start;
  };
  if (!digits() || i >= line.size() || line[i] != '.') return 0;
  ++i;
  if (!digits()) return 0;
  std::size_t ws = i;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i == ws) return 0;
  int status = 0;
  std::size_t start = i;
  while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])) && i - start < 4) {
    status = status * 10 + (line[i] - '0');
    ++i;
  }
  return i > start ? status : 0;
}

}  // namespace

// One probe of one address. Keeps its checker alive until it finishes; the checker holds it
// weakly so stop() can cancel it.
class ActiveProbe : public std::enable_shared_from_this<ActiveProbe> {
 public:
  ActiveProbe(std::shared_ptr<ActiveChecker> owner, ActiveChecker::Job job)
      : owner_(std::move(owner)), job_(std::move(job)) {
    const auto& c = owner_->config_;
    const auto& address = job_.target.address;
    timeout_ = std::chrono::seconds(std::max(0, c.timeout));
    if (timeout_.count() == 0) timeout_ = std::chrono::milliseconds(500);
    tcpOnly_ = c.type == "tcp";
    if (c.type == "https" || c.type == "grpcs") {
      sslCtx_ = owner_->sslContext();
      tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(owner_->ctx_, *sslCtx_);
      verify_ = c.httpsVerifyCertificate;
      sni_ = c.httpsSni.value_or(address.isIp ? std::string() : address.host);
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(owner_->ctx_);
    }
    std::string host = owner_->hostHeader_.value_or(address.host);
    if (!owner_->hostHeader_ && host.find(':') != std::string::npos) host = "[" + host + "]";
    request_ = "GET " + (c.httpPath.empty() ? std::string("/") : c.httpPath) + " HTTP/1.0\r\n";
    for (const auto& [name, values] : c.headers) {
      for (const auto& v : values) request_ += name + ": " + v + "\r\n";
    }
    request_ += "Host: " + host + "\r\n\r\n";
  }

  void run() {
    auto self = shared_from_this();
    lowest().expires_after(timeout_);
    lowest().async_connect(tcp::endpoint(job_.ip, job_.port), [self](error_code ec) {
      if (self->cancelled_) return self->finish(nullptr);
      if (ec) return self->finish(self->failure(ec));
      if (self->tcpOnly_) return self->finish(Outcome::success());
      if (self->tls_) return self->handshake();
      self->write();
    });
  }

  void cancel() {
    cancelled_ = true;
    error_code ec;
    lowest().socket().close(ec);
  }

 private:
  beast::tcp_stream& lowest() { return tls_ ? tls_->next_layer() : *plain_; }

  Outcome failure(const error_code& ec) const {
    return ec == beast::error::timeout ? Outcome::timeout() : Outcome::tcpFailure();
  }

  void handshake() {
    if (!sni_.empty()) SSL_set_tlsext_host_name(tls_->native_handle(), sni_.c_str());
    error_code ec;
    if (verify_) {
      tls_->set_verify_mode(asio::ssl::verify_peer, ec);
      tls_->set_verify_callback(
          asio::ssl::host_name_verification(sni_.empty() ? job_.target.address.host : sni_), ec);
    } else {
      tls_->set_verify_mode(asio::ssl::verify_none, ec);
    }
    auto self = shared_from_this();
    lowest().expires_after(timeout_);
    tls_->async_handshake(asio::ssl::stream_base::client, [self](error_code ec) {
      if (self->cancelled_) return self->finish(nullptr);
      // Kong reports any failed TLS handshake as a TCP failure.
      if (ec) return self->finish(Outcome::tcpFailure());
      self->write();
    });
  }

  void write() {
    auto self = shared_from_this();
    lowest().expires_after(timeout_);
    auto done = [self](error_code ec, std::size_t) {
      if (self->cancelled_) return self->finish(nullptr);
      if (ec) return self->finish(self->failure(ec));
      self->read();
    };
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(request_), done);
    } else {
      asio::async_write(*plain_, asio::buffer(request_), done);
    }
  }

  void read() {
    auto self = shared_from_this();
    lowest().expires_after(timeout_);
    auto done = [self](error_code ec, std::size_t n) {
      if (self->cancelled_) return self->finish(nullptr);
      if (ec) return self->finish(self->failure(ec));
      self->finish(Outcome::http(parseStatusLine(std::string_view(self->response_).substr(0, n))));
    };
    if (tls_) {
      asio::async_read_until(*tls_, asio::dynamic_buffer(response_, kMaxStatusLine), "\r\n", done);
    } else {
      asio::async_read_until(*plain_, asio::dynamic_buffer(response_, kMaxStatusLine), "\r\n",
                             done);
    }
  }

  void finish(const Outcome& o) { finish(&o); }
  void finish(const Outcome* o) {
    if (finished_) return;
    finished_ = true;
    error_code ec;
    lowest().socket().close(ec);  // HTTP/1.0 probe: no reuse, no graceful TLS shutdown needed
    owner_->probeDone(job_.key, job_.health, cancelled_ ? nullptr : o);
  }

  std::shared_ptr<ActiveChecker> owner_;
  ActiveChecker::Job job_;
  std::shared_ptr<asio::ssl::context> sslCtx_;
  std::unique_ptr<beast::tcp_stream> plain_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::chrono::steady_clock::duration timeout_{};
  std::string request_, response_, sni_;
  bool tcpOnly_ = false, verify_ = true;
  bool cancelled_ = false, finished_ = false;
};

// ---------------------------------------------------------------------------------------------

std::shared_ptr<ActiveChecker> ActiveChecker::create(asio::io_context& ctx,
                                                     std::shared_ptr<HealthState> state,
                                                     std::shared_ptr<net::DnsCache> dns) {
  return std::shared_ptr<ActiveChecker>(new ActiveChecker(ctx, std::move(state), std::move(dns)));
}

ActiveChecker::ActiveChecker(asio::io_context& ctx, std::shared_ptr<HealthState> state,
                             std::shared_ptr<net::DnsCache> dns)
    : ctx_(ctx),
      state_(std::move(state)),
      timers_{asio::steady_timer(ctx), asio::steady_timer(ctx)},
      dns_(std::move(dns)) {
  loadConfig();
}

net::DnsCache& ActiveChecker::dns() {
  if (!dns_) dns_ = std::make_shared<net::DnsCache>(ctx_, std::make_shared<net::DnsResolver>());
  return *dns_;
}

ActiveChecker::~ActiveChecker() = default;

void ActiveChecker::start() {
  asio::dispatch(ctx_, [self = shared_from_this()] { self->doStart(); });
}

void ActiveChecker::stop() {
  asio::dispatch(ctx_, [self = shared_from_this()] { self->doStop(); });
}

void ActiveChecker::updateConfig() {
  asio::dispatch(ctx_, [self = shared_from_this()] {
    const int oldIntervals[2] = {self->config_.healthyInterval, self->config_.unhealthyInterval};
    self->loadConfig();
    if (!self->running_) return;
    const int newIntervals[2] = {self->config_.healthyInterval, self->config_.unhealthyInterval};
    for (int half = 0; half < 2; ++half) {
      if (oldIntervals[half] == newIntervals[half]) continue;
      if (newIntervals[half] <= 0) {
        ++self->generation_[half];
        self->timers_[half].cancel();
      } else {
        self->arm(half == 0, oldIntervals[half] <= 0);
      }
    }
  });
}

void ActiveChecker::loadConfig() {
  auto all = state_->config();
  config_ = all.active;
  rules_ = CheckRules::active(config_);
  hostHeader_ = state_->hostHeader();
}

void ActiveChecker::doStart() {
  if (running_) return;
  running_ = true;
  arm(true, true);
  arm(false, true);
}

void ActiveChecker::doStop() {
  running_ = false;
  for (int half = 0; half < 2; ++half) {
    ++generation_[half];
    timers_[half].cancel();
  }
  queue_.clear();
  pending_.clear();
  auto probes = std::move(probes_);
  probes_.clear();
  for (auto& w : probes) {
    if (auto p = w.lock()) p->cancel();
  }
}

void ActiveChecker::arm(bool healthyHalf, bool immediately) {
  const int half = healthyHalf ? 0 : 1;
  const int interval = healthyHalf ? config_.healthyInterval : config_.unhealthyInterval;
  if (!running_ || interval <= 0) return;
  const auto gen = ++generation_[half];
  auto& timer = timers_[half];
  timer.expires_after(immediately ? std::chrono::seconds(0) : std::chrono::seconds(interval));
  timer.async_wait([weak = weak_from_this(), healthyHalf, half, gen](error_code ec) {
    auto self = weak.lock();
    if (!self || ec || !self->running_ || self->generation_[half] != gen) return;
    self->runRound(healthyHalf);
    self->arm(healthyHalf, false);
  });
}

void ActiveChecker::runRound(bool healthyHalf) {
  for (auto& t : state_->targets()) {
    // Kong checks only targets that can carry traffic; a probe still running is not doubled.
    if (t.weight <= 0) continue;
    if (!t.address.isIp) {
      resolveAndQueue(std::move(t), healthyHalf);
      continue;
    }
    if (t.health->healthy() != healthyHalf) continue;
    error_code ec;
    Job job{{}, t.health, asio::ip::make_address(t.address.host, ec), t.address.port, t.key};
    job.target = std::move(t);
    enqueue(std::move(job));
  }
  pump();
}

// The name is looked up (the DnsCache answers within the records' TTL without a query), the
// answer becomes the target's address set, and the addresses of this half are probed.
void ActiveChecker::resolveAndQueue(HealthTarget t, bool healthyHalf) {
  std::string lookupKey = t.key + (healthyHalf ? " resolving healthy" : " resolving unhealthy");
  if (!pending_.insert(lookupKey).second) return;
  auto target = std::make_shared<HealthTarget>(std::move(t));
  asio::co_spawn(ctx_, dns().lookup(target->address.host),
                 [self = shared_from_this(), target, healthyHalf, lookupKey = std::move(lookupKey)](
                     std::exception_ptr e, net::DnsCache::Lookup found) {
                   self->pending_.erase(lookupKey);
                   if (!self->running_) return;
                   if (e || found.status != net::DnsStatus::ok || !found.addresses ||
                       found.addresses->empty()) {
                     self->state_->setDnsError(target->key, true);
                     return;
                   }
                   const auto& list = *found.addresses;
                   auto health = self->state_->resolved(target->key, list, true);
                   for (std::size_t k = 0; k < health.size() && k < list.size(); ++k) {
                     if (health[k]->healthy() != healthyHalf) continue;
                     Job job{*target,
                             health[k],
                             list[k].ip,
                             list[k].port ? list[k].port : target->address.port,
                             {}};
                     job.key = target->key + " address " +
                               ResolvedAddress{job.ip, job.port, 0, false, nullptr}.text();
                     self->enqueue(std::move(job));
                   }
                   self->pump();
                 });
}

void ActiveChecker::enqueue(Job job) {
  if (!pending_.insert(job.key).second) return;
  queue_.push_back(std::move(job));
}

void ActiveChecker::pump() {
  const int limit = std::max(1, config_.concurrency);
  while (running_ && inFlight_ < limit && !queue_.empty()) {
    auto job = std::move(queue_.front());
    queue_.pop_front();
    ++inFlight_;
    auto probe = std::make_shared<ActiveProbe>(shared_from_this(), std::move(job));
    if (probes_.size() > static_cast<std::size_t>(2 * limit)) {
      std::erase_if(probes_, [](const auto& w) { return w.expired(); });
    }
    probes_.push_back(probe);
    probe->run();
  }
}

void ActiveChecker::probeDone(const std::string& key, std::shared_ptr<TargetHealth> health,
                              const Outcome* outcome) {
  --inFlight_;
  pending_.erase(key);
  if (outcome) {
    ++completed_;
    if (running_ && health) health->report(rules_, *outcome);
  }
  pump();
}

std::shared_ptr<asio::ssl::context> ActiveChecker::sslContext() {
  if (!ssl_ || sslVerify_ != config_.httpsVerifyCertificate) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    sslVerify_ = config_.httpsVerifyCertificate;
    if (sslVerify_) {
      error_code ec;
      ctx->set_default_verify_paths(ec);
      if (ec) core::log::warn("health checks: no default CA paths", {{"error", ec.message()}});
    }
    ssl_ = std::move(ctx);
  }
  return ssl_;
}

// ---------------------------------------------------------------------------------------------

ActiveCheckers::ActiveCheckers(asio::io_context& ctx, std::shared_ptr<net::DnsResolver> resolver)
    : ctx_(ctx), resolver_(std::move(resolver)) {}

void ActiveCheckers::sync(const HealthRegistry& registry) {
  std::map<std::string, std::shared_ptr<ActiveChecker>> next;
  for (const auto& state : registry.all()) {
    const auto active = state->config().active;
    if (active.healthyInterval <= 0 && active.unhealthyInterval <= 0) continue;
    auto it = checkers_.find(state->upstreamId());
    if (it != checkers_.end() && it->second->state() == state) {
      it->second->updateConfig();
      next.emplace(it->first, std::move(it->second));
      checkers_.erase(it);
      continue;
    }
    if (!dns_) {
      if (!resolver_) resolver_ = std::make_shared<net::DnsResolver>();
      dns_ = std::make_shared<net::DnsCache>(ctx_, resolver_);
    }
    auto checker = ActiveChecker::create(ctx_, state, dns_);
    checker->start();
    next.emplace(state->upstreamId(), std::move(checker));
  }
  for (auto& [id, checker] : checkers_) checker->stop();
  checkers_ = std::move(next);
}

void ActiveCheckers::stop() {
  for (auto& [id, checker] : checkers_) checker->stop();
  checkers_.clear();
}

std::shared_ptr<ActiveChecker> ActiveCheckers::find(const std::string& upstreamId) const {
  auto it = checkers_.find(upstreamId);
  return it == checkers_.end() ? nullptr : it->second;
}

}  // namespace archway::balancer
