#include "proxy/upstream_error_log.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"

namespace archway::proxy {
namespace {

std::string endpointText(const boost::asio::ip::tcp::endpoint& ep) {
  const auto a = ep.address();
  std::string out = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  out += ':';
  out += std::to_string(ep.port());
  return out;
}

}  // namespace

bool UpstreamErrorLog::take(Clock::time_point now) {
  if (last_ == Clock::time_point{}) last_ = now;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  tokens_ = std::min(burst_, tokens_ + std::max(0.0, elapsed) * rate_);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool UpstreamErrorLog::report(const UpstreamFailureContext& c, Clock::time_point now) {
  const bool noted = noted_;
  noted_ = false;
  if (core::log::level() > core::log::Level::error) return false;
  if (!take(now)) {
    ++suppressed_;
    return false;
  }
  std::string message, error;
  switch (c.kind) {
    case UpstreamFailure::connect:
      if (noted && !timedOut_) {
        error = std::to_string(error_.value()) + ": " + error_.message();
        message = "connect() failed (" + error + ") while connecting to upstream";
      } else {
        message = "upstream connection failed while sending request to upstream";
      }
      break;
    case UpstreamFailure::timeout:
      error = "110: Connection timed out";
      message = noted ? "upstream timed out (110: Connection timed out) while connecting to upstream"
                      : "upstream timed out (110: Connection timed out) while reading response "
                        "header from upstream";
      break;
    case UpstreamFailure::invalid:
      message = "upstream sent an invalid response while reading response header from upstream";
      break;
    case UpstreamFailure::dns:
      message = std::string(c.upstreamHost) + " could not be resolved (name resolution failed)";
      break;
    case UpstreamFailure::noPeer:
      message = "failure to get a peer from the ring-balancer";
      break;
  }
  boost::asio::ip::tcp::endpoint peer;
  std::string upstream(c.scheme);
  upstream += "://";
  if (noted && c.kind != UpstreamFailure::dns) {
    upstream += endpointText(endpoint_);
  } else if (boost::system::error_code ec; c.socket && c.socket->is_open() &&
                                            (peer = c.socket->remote_endpoint(ec), !ec)) {
    upstream += endpointText(peer);
  } else {
    upstream.append(c.upstreamHost).append(":").append(std::to_string(c.upstreamPort));
  }
  std::string request(c.method);
  request.append(" ").append(c.path).append(" HTTP/1.1");

  std::vector<std::pair<std::string, std::string>> fields;
  fields.reserve(12);
  fields.emplace_back("client", c.clientIp);
  fields.emplace_back("request", std::move(request));
  fields.emplace_back("method", c.method);
  fields.emplace_back("path", c.path);
  fields.emplace_back("host", c.host);
  fields.emplace_back("route", c.routeName.empty() ? c.routeId : c.routeName);
  fields.emplace_back("route_id", c.routeId);
  fields.emplace_back("service", c.serviceName);
  if (c.kind == UpstreamFailure::dns) {
    fields.emplace_back("dns_host", c.upstreamHost);
  } else {
    fields.emplace_back("upstream", std::move(upstream));
  }
  if (!error.empty()) fields.emplace_back("error", std::move(error));
  if (suppressed_ != 0) {
    fields.emplace_back("suppressed", std::to_string(suppressed_));
    suppressed_ = 0;
  }
  core::log::writeFields(core::log::Level::error, message, std::move(fields));
  return true;
}

}  // namespace archway::proxy
