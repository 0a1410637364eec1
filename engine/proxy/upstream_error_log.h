#pragma once
// Upstream failures in the error log (issue 6): a failed connect, a name that did not resolve,
// an upstream timeout (504) or an invalid upstream response (502) becomes one error event, in
// nginx's words (`connect() failed (111: Connection refused) while connecting to upstream`)
// with the request's fields (client, route, service, upstream, request, host).
//
// One instance per worker, used only on that worker's thread: no lock, no atomic. Nothing here
// runs while requests succeed; the worker calls connectFailed()/connected() only on fresh
// upstream connections and report() only when it answers a failure. A token bucket (by default
// 10 events a second, bursts of 10) keeps a failing upstream from flooding the log; the events
// it holds back are counted and the next event written says how many (field "suppressed").
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace archway::proxy {

enum class UpstreamFailure { connect, timeout, invalid, dns, noPeer };

// What the worker knows about the failed request when it answers it.
struct UpstreamFailureContext {
  UpstreamFailure kind = UpstreamFailure::connect;
  std::string_view clientIp, method, path, host;  // host: the client's Host header
  std::string_view routeId, routeName, serviceName;
  std::string_view scheme = "http";   // the service's protocol
  std::string_view upstreamHost;      // the name (or address) connected to
  std::uint16_t upstreamPort = 0;
  // The connection the request went out on (its peer is the upstream address), or null.
  const boost::asio::ip::tcp::socket* socket = nullptr;
};

class UpstreamErrorLog {
 public:
  using Clock = std::chrono::steady_clock;
  explicit UpstreamErrorLog(double perSecond = 10, double burst = 10)
      : rate_(perSecond), burst_(burst), tokens_(burst) {}

  // A fresh connection attempt failed (`timedOut`: the connect timeout ran out). The next
  // report() describes it, unless connected() comes first.
  void connectFailed(const boost::system::error_code& ec, const boost::asio::ip::tcp::endpoint& ep,
                     bool timedOut) {
    noted_ = true;
    error_ = ec;
    endpoint_ = ep;
    timedOut_ = timedOut;
  }
  void connected() { noted_ = false; }

  // Writes the event for a failure answered to the client (or counts it as suppressed).
  // Returns true when written.
  bool report(const UpstreamFailureContext& c, Clock::time_point now = Clock::now());

  std::uint64_t suppressed() const { return suppressed_; }  // held back since the last event

 private:
  bool take(Clock::time_point now);

  double rate_, burst_, tokens_;
  Clock::time_point last_{};
  std::uint64_t suppressed_ = 0;
  bool noted_ = false, timedOut_ = false;
  boost::system::error_code error_;
  boost::asio::ip::tcp::endpoint endpoint_;
};

}  // namespace archway::proxy
