#include "loadgen/load_generator.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace archway::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// A connection whose connect failed waits this long before trying again.
constexpr auto kConnectBackoff = std::chrono::milliseconds(100);
constexpr std::size_t kReadChunk = 64 * 1024;
// The open model reports `rateNotKept` when it achieved less than this share of the asked rate.
constexpr double kRateTolerance = 0.98;
// A trailing partial second shorter than this is left out of the timeline (its counts are in
// the totals); a few requests in a sliver of a second would show as a meaningless rps spike.
constexpr double kMinTrailingSpanS = 0.25;

struct Target {
  std::string host;  // for the resolver: no brackets around IPv6
  std::string port;
  std::string hostHeader;
  std::string requestTarget;  // origin-form: path and query
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

core::Result<Target> parseTarget(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return core::Error{"url", "invalid URL '" + url + "' (expected http://host[:port]/path)"};
  }
  auto u = *parsed;
  std::string_view scheme = u.scheme();
  if (iequals(scheme, "https")) return core::Error{"url", "https not supported yet"};
  if (!iequals(scheme, "http")) {
    return core::Error{"url", "unsupported scheme '" + std::string(scheme) + "' (expected http)"};
  }
  Target t;
  if (u.host_type() == boost::urls::host_type::ipv6) {
    t.host = u.host_ipv6_address().to_string();
  } else {
    t.host = u.host();
  }
  if (t.host.empty()) return core::Error{"url", "missing host in '" + url + "'"};
  t.port = u.has_port() ? std::string(u.port()) : "80";
  if (u.has_port() && (u.port_number() == 0 || u.port().empty())) {
    return core::Error{"url", "invalid port in '" + url + "'"};
  }
  t.hostHeader = std::string(u.encoded_host_and_port());
  t.requestTarget = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
  if (u.has_query()) t.requestTarget += "?" + std::string(u.encoded_query());
  return t;
}

bool hasHeader(const Plan& plan, std::string_view name) {
  return std::any_of(plan.headers.begin(), plan.headers.end(),
                     [&](const auto& h) { return iequals(h.first, name); });
}

// Serialized once per run and written as is for every request.
std::string buildRequest(const Plan& plan, const Target& t) {
  std::string out = plan.method + " " + t.requestTarget + " HTTP/1.1\r\n";
  if (!hasHeader(plan, "host")) out += "Host: " + t.hostHeader + "\r\n";
  if (!hasHeader(plan, "user-agent")) out += "User-Agent: archway-load\r\n";
  for (const auto& [name, value] : plan.headers) out += name + ": " + value + "\r\n";
  if (!plan.body.empty() && !hasHeader(plan, "content-length") &&
      !hasHeader(plan, "transfer-encoding")) {
    out += "Content-Length: " + std::to_string(plan.body.size()) + "\r\n";
  }
  out += "\r\n";
  out += plan.body;
  return out;
}

void addErrors(Errors& into, const Errors& e) {
  into.connect += e.connect;
  into.read += e.read;
  into.timeout += e.timeout;
  into.status4xx += e.status4xx;
  into.status5xx += e.status5xx;
}

// What one thread counted over some span (the whole run, a progress tick or one second).
struct Counters {
  std::uint64_t requests = 0;
  Errors errors;
  metrics::Histogram latency;

  void add(const Counters& o) {
    requests += o.requests;
    addErrors(errors, o.errors);
    latency.add(o.latency);
  }
  bool empty() const { return requests == 0 && errors.total() == 0; }
};

Progress toProgress(const Counters& c, double elapsedS, double spanS) {
  Progress p;
  p.elapsedS = elapsedS;
  p.requests = c.requests;
  p.rps = spanS > 0 ? static_cast<double>(c.requests) / spanS : 0;
  p.p50Ms = c.latency.percentileUs(0.50) / 1000.0;
  p.p99Ms = c.latency.percentileUs(0.99) / 1000.0;
  p.errors = c.errors;
  return p;
}

// Discards the body: the generator only needs the status, the framing and keep-alive.
class ResponseParser : public http::basic_parser<false> {
 public:
  int status() const { return status_; }

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int,
                       beast::error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, beast::error_code&) override {
    status_ = code;
  }
  void on_field_impl(http::field, beast::string_view, beast::string_view,
                     beast::error_code&) override {}
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, beast::error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code&) override {
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  int status_ = 0;
};

enum class ErrorKind { connect, read, timeout };

class Worker;

// One keep-alive connection. Lives on its worker's thread only. Every handler carries the
// generation it was started in; closing the connection bumps the generation, so completions
// of cancelled operations (and a timer that fired just before being cancelled) are ignored.
class Connection {
 public:
  explicit Connection(Worker& w);
  void connect();
  void close();

 private:
  void onConnected();
  void next();
  void send();
  void read();
  void onData(std::size_t n);
  void complete();
  void fail(ErrorKind kind);
  void armDeadline(ErrorKind kind);

  Worker& w_;
  tcp::socket socket_;
  asio::steady_timer wait_;      // schedule waits and connect backoff
  asio::steady_timer deadline_;  // per-request (and per-connect) timeout
  beast::flat_buffer buffer_;
  std::optional<ResponseParser> parser_;
  Clock::time_point intended_{};
  std::uint64_t gen_ = 0;
  // A deadline that fired just as its request completed must not fail the next request.
  std::uint64_t deadlineSeq_ = 0;
  bool writing_ = false;
};

// One thread and its io_context; owns its connections and counters (no sharing on the
// request path).
class Worker {
 public:
  struct Shared {
    Plan plan;
    std::string request;
    std::vector<tcp::endpoint> endpoints;
    bool head = false;
    Clock::time_point start, end;
  };

  Worker(const Shared& shared, int connections, double rate, double phaseS)
      : shared_(shared), rate_(rate), phaseS_(phaseS) {
    for (int i = 0; i < connections; ++i) conns_.push_back(std::make_unique<Connection>(*this));
  }

  void run() {
    thread_ = std::thread([this] {
      for (auto& c : conns_) c->connect();
      ctx_.run();
    });
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  // Posted: closes every connection so the io_context runs out of work and run() returns.
  void stop() {
    asio::post(ctx_, [this] {
      stopping_ = true;
      for (auto& c : conns_) c->close();
      guard_.reset();
    });
  }

  template <class F>
  void post(F&& f) {
    asio::post(ctx_, std::forward<F>(f));
  }

  // Open model: the next intended send time of this worker's share of the schedule, or nullopt
  // once the schedule is past the end of the run. Due times in the past are still handed out:
  // those requests were queued while every connection was busy.
  std::optional<Clock::time_point> takeSlot() {
    double at = phaseS_ + static_cast<double>(nextSlot_) / rate_;
    auto t = shared_.start +
             std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at));
    if (t >= shared_.end) return std::nullopt;
    ++nextSlot_;
    return t;
  }

  void recordResponse(int status, Clock::duration latency) {
    auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::microseconds>(latency).count()));
    for (Counters* c : {&total_, &progress_, &second_}) {
      ++c->requests;
      c->latency.record(us);
      if (status >= 500)
        ++c->errors.status5xx;
      else if (status >= 400)
        ++c->errors.status4xx;
    }
  }
  void recordError(ErrorKind kind) {
    for (Counters* c : {&total_, &progress_, &second_}) {
      switch (kind) {
        case ErrorKind::connect:
          ++c->errors.connect;
          break;
        case ErrorKind::read:
          ++c->errors.read;
          break;
        case ErrorKind::timeout:
          ++c->errors.timeout;
          break;
      }
    }
  }

  // Worker thread only (while running); any thread after join().
  Counters takeProgress() { return std::exchange(progress_, Counters{}); }
  Counters takeSecond() { return std::exchange(second_, Counters{}); }
  const Counters& total() const { return total_; }

  asio::io_context& ctx() { return ctx_; }
  const Shared& shared() const { return shared_; }
  bool openModel() const { return rate_ > 0; }
  bool stopping() const { return stopping_; }

 private:
  const Shared& shared_;
  asio::io_context ctx_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_{ctx_.get_executor()};
  std::vector<std::unique_ptr<Connection>> conns_;
  std::thread thread_;
  double rate_;  // this worker's share; 0: closed model
  double phaseS_;
  std::uint64_t nextSlot_ = 0;
  bool stopping_ = false;
  Counters total_, progress_, second_;
};

Connection::Connection(Worker& w) : w_(w), socket_(w.ctx()), wait_(w.ctx()), deadline_(w.ctx()) {}

void Connection::close() {
  ++gen_;
  writing_ = false;
  boost::system::error_code ec;
  socket_.close(ec);
  wait_.cancel();
  deadline_.cancel();
  parser_.reset();
  buffer_.clear();
}

void Connection::armDeadline(ErrorKind kind) {
  deadline_.expires_after(w_.shared().plan.timeout);
  deadline_.async_wait(
      [this, gen = gen_, seq = ++deadlineSeq_, kind](boost::system::error_code ec) {
        if (ec || gen != gen_ || seq != deadlineSeq_ || w_.stopping()) return;
        fail(kind);
      });
}

void Connection::connect() {
  if (w_.stopping()) return;
  close();
  armDeadline(ErrorKind::connect);
  asio::async_connect(socket_, w_.shared().endpoints,
                      [this, gen = gen_](boost::system::error_code ec, const tcp::endpoint&) {
                        if (gen != gen_ || w_.stopping()) return;
                        if (ec) return fail(ErrorKind::connect);
                        onConnected();
                      });
}

void Connection::onConnected() {
  deadline_.cancel();
  ++deadlineSeq_;
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  next();
}

void Connection::next() {
  if (!w_.openModel()) {
    intended_ = Clock::now();
    return send();
  }
  auto slot = w_.takeSlot();
  if (!slot) return;  // the schedule is over; the run ends at its deadline
  intended_ = *slot;
  if (intended_ <= Clock::now()) return send();
  wait_.expires_at(intended_);
  wait_.async_wait([this, gen = gen_](boost::system::error_code ec) {
    if (ec || gen != gen_ || w_.stopping()) return;
    send();
  });
}

void Connection::send() {
  parser_.emplace();
  parser_->eager(true);
  parser_->body_limit(boost::none);
  parser_->header_limit(64 * 1024);
  if (w_.shared().head) parser_->skip(true);
  armDeadline(ErrorKind::timeout);
  writing_ = true;
  // The read runs alongside the write so a server answering early (or closing) is seen at once.
  asio::async_write(socket_, asio::buffer(w_.shared().request),
                    [this, gen = gen_](boost::system::error_code ec, std::size_t) {
                      if (gen != gen_ || w_.stopping()) return;
                      writing_ = false;
                      if (ec) fail(ErrorKind::read);
                    });
  if (buffer_.size() > 0) return onData(0);
  read();
}

void Connection::read() {
  socket_.async_read_some(buffer_.prepare(kReadChunk),
                          [this, gen = gen_](boost::system::error_code ec, std::size_t n) {
                            if (gen != gen_ || w_.stopping()) return;
                            if (ec == asio::error::eof) {
                              beast::error_code pec;
                              parser_->put_eof(pec);
                              if (!pec && parser_->is_done()) return complete();
                              return fail(ErrorKind::read);
                            }
                            if (ec) return fail(ErrorKind::read);
                            onData(n);
                          });
}

void Connection::onData(std::size_t n) {
  buffer_.commit(n);
  while (buffer_.size() > 0 && !parser_->is_done()) {
    beast::error_code ec;
    auto used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::need_more) break;
    if (ec) return fail(ErrorKind::read);
  }
  if (parser_->is_done()) return complete();
  read();
}

void Connection::complete() {
  deadline_.cancel();
  ++deadlineSeq_;
  w_.recordResponse(parser_->status(), Clock::now() - intended_);
  // A server that answered before reading the whole request gets a fresh connection: a new
  // write must not interleave with the unfinished one.
  bool keepAlive = parser_->keep_alive() && !writing_;
  parser_.reset();
  if (!keepAlive) return connect();
  next();
}

void Connection::fail(ErrorKind kind) {
  w_.recordError(kind);
  if (kind == ErrorKind::connect) {
    close();
    wait_.expires_after(kConnectBackoff);
    wait_.async_wait([this, gen = gen_](boost::system::error_code ec) {
      if (ec || gen != gen_ || w_.stopping()) return;
      connect();
    });
    return;
  }
  connect();
}

// Aggregation of per-tick counts from every worker; the last worker to hand in its counts
// for a tick publishes the point. Touched once per worker per tick, never per request.
struct Aggregator {
  struct Pending {
    int seen = 0;
    Counters sum;
  };
  std::mutex mutex;
  std::map<std::uint64_t, Pending> progress, seconds;  // by tick number
  std::vector<Progress> timeline;                      // ordered by second
};

class RunImpl final : public Run {
 public:
  RunImpl(Plan plan, std::function<void(const Progress&)> onProgress,
          std::chrono::milliseconds progressInterval)
      : onProgress_(std::move(onProgress)), progressInterval_(progressInterval) {
    shared_.plan = std::move(plan);
    master_ = std::thread([this] { runMaster(); });
  }

  ~RunImpl() override {
    cancel();
    wait();
  }

  void cancel() override {
    asio::post(coord_, [this] { finish(true); });
  }

  bool done() const override { return done_.load(std::memory_order_acquire); }

  Report wait() override {
    std::lock_guard lock(waitMutex_);
    if (master_.joinable()) master_.join();
    return report_;
  }

 private:
  void runMaster() {
    auto& plan = shared_.plan;
    if (auto status = validatePlan(plan); !status) {
      report_.error = status.errorText();
      return markDone();
    }
    auto target = parseTarget(plan.url);
    {
      asio::io_context resolveCtx;
      tcp::resolver resolver(resolveCtx);
      boost::system::error_code ec;
      auto results = resolver.resolve(target->host, target->port, ec);
      if (ec || results.empty()) {
        report_.error = "cannot resolve '" + target->host + "': " + ec.message();
        return markDone();
      }
      for (const auto& r : results) shared_.endpoints.push_back(r.endpoint());
    }
    shared_.request = buildRequest(plan, *target);
    shared_.head = iequals(plan.method, "HEAD");

    int threads = std::min(plan.threads, plan.connections);
    shared_.start = Clock::now();
    shared_.end = shared_.start + plan.duration;
    for (int w = 0; w < threads; ++w) {
      int conns = plan.connections / threads + (w < plan.connections % threads ? 1 : 0);
      double rate = plan.rate * conns / plan.connections;
      // Workers' schedules interleave instead of all sending at the same instants.
      double phase = plan.rate > 0 ? static_cast<double>(w) / plan.rate : 0;
      workers_.push_back(std::make_unique<Worker>(shared_, conns, rate, phase));
    }
    for (auto& w : workers_) w->run();

    endTimer_.expires_at(shared_.end);
    endTimer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) finish(false);
    });
    scheduleSecond(1);
    if (onProgress_ && progressInterval_.count() > 0) scheduleProgress(1);
    coord_.run();

    for (auto& w : workers_) w->join();
    buildReport();
    markDone();
  }

  void markDone() { done_.store(true, std::memory_order_release); }

  void scheduleSecond(std::uint64_t n) {
    secondTimer_.expires_at(shared_.start + std::chrono::seconds(static_cast<std::int64_t>(n)));
    secondTimer_.async_wait([this, n](boost::system::error_code ec) {
      if (ec || finished_) return;
      lastSecond_ = n;
      for (auto& w : workers_) {
        Worker* wp = w.get();
        wp->post([this, wp, n] { handIn(agg_.seconds, n, wp->takeSecond(), true); });
      }
      scheduleSecond(n + 1);
    });
  }

  void scheduleProgress(std::uint64_t n) {
    progressTimer_.expires_at(shared_.start + static_cast<std::int64_t>(n) * progressInterval_);
    progressTimer_.async_wait([this, n](boost::system::error_code ec) {
      if (ec || finished_) return;
      lastProgress_ = n;
      for (auto& w : workers_) {
        Worker* wp = w.get();
        wp->post([this, wp, n] { handIn(agg_.progress, n, wp->takeProgress(), false); });
      }
      scheduleProgress(n + 1);
    });
  }

  // On a worker thread.
  void handIn(std::map<std::uint64_t, Aggregator::Pending>& pending, std::uint64_t n,
              Counters counts, bool second) {
    std::optional<Progress> point;
    {
      std::lock_guard lock(agg_.mutex);
      auto& p = pending[n];
      p.sum.add(counts);
      if (++p.seen < static_cast<int>(workers_.size())) return;
      if (second) {
        point = toProgress(p.sum, static_cast<double>(n), 1.0);
        agg_.timeline.push_back(*point);
      } else {
        double span = std::chrono::duration<double>(progressInterval_).count();
        point = toProgress(p.sum, span * static_cast<double>(n), span);
      }
      pending.erase(n);
    }
    if (!second && onProgress_) onProgress_(*point);
  }

  void finish(bool cancelled) {
    if (finished_) return;
    finished_ = true;
    cancelled_ = cancelled;
    endedAt_ = Clock::now();
    endTimer_.cancel();
    secondTimer_.cancel();
    progressTimer_.cancel();
    for (auto& w : workers_) w->stop();
  }

  // After every worker joined: their counters are ours to read.
  void buildReport() {
    Report& r = report_;
    auto end = finished_ ? endedAt_ : Clock::now();
    double elapsed = std::chrono::duration<double>(end - shared_.start).count();
    Counters total, trailingSecond, trailingProgress;
    for (auto& w : workers_) {
      total.add(w->total());
      trailingSecond.add(w->takeSecond());
      trailingProgress.add(w->takeProgress());
    }
    r.requests = total.requests;
    r.durationS = elapsed;
    r.rps = elapsed > 0 ? static_cast<double>(total.requests) / elapsed : 0;
    r.errors = total.errors;
    r.latency = total.latency;
    r.cancelled = cancelled_;
    r.timeline = std::move(agg_.timeline);
    double tailSpan = elapsed - static_cast<double>(lastSecond_);
    if (tailSpan >= kMinTrailingSpanS || (r.timeline.empty() && !trailingSecond.empty())) {
      r.timeline.push_back(toProgress(trailingSecond, elapsed, tailSpan));
    }
    if (onProgress_ && !trailingProgress.empty()) {
      double span = elapsed - std::chrono::duration<double>(progressInterval_).count() *
                                  static_cast<double>(lastProgress_);
      onProgress_(toProgress(trailingProgress, elapsed, span));
    }
    const Plan& plan = shared_.plan;
    if (plan.rate > 0 && elapsed > 0) {
      // Failed sends (read errors, timeouts) were still sent on schedule.
      auto sent = total.requests + total.errors.read + total.errors.timeout;
      r.rateNotKept = static_cast<double>(sent) < kRateTolerance * plan.rate * elapsed;
    }
  }

  Worker::Shared shared_;
  std::function<void(const Progress&)> onProgress_;
  std::chrono::milliseconds progressInterval_;

  // The coordinator: run by the master thread; owns the run's clock (end, seconds, ticks).
  asio::io_context coord_{1};
  asio::steady_timer endTimer_{coord_}, secondTimer_{coord_}, progressTimer_{coord_};
  bool finished_ = false, cancelled_ = false;  // coordinator only
  Clock::time_point endedAt_{};
  std::uint64_t lastSecond_ = 0, lastProgress_ = 0;

  std::vector<std::unique_ptr<Worker>> workers_;
  Aggregator agg_;
  Report report_;
  std::atomic<bool> done_{false};
  std::mutex waitMutex_;
  std::thread master_;  // last: starts after every other member exists
};

}  // namespace

core::Status validatePlan(const Plan& plan) {
  core::Errors errors;
  if (auto t = parseTarget(plan.url); !t) {
    for (const auto& e : t.errors()) errors.push_back(e);
  }
  if (plan.method.empty() || !std::all_of(plan.method.begin(), plan.method.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      })) {
    errors.push_back({"method", "invalid method '" + plan.method + "'"});
  }
  for (std::size_t i = 0; i < plan.headers.size(); ++i) {
    const auto& [name, value] = plan.headers[i];
    auto bad = [](char c) { return c == '\r' || c == '\n'; };
    if (name.empty() ||
        std::any_of(
            name.begin(), name.end(),
            [](char c) { return c == ':' || c == ' ' || c == '\t' || c == '\r' || c == '\n'; }) ||
        std::any_of(value.begin(), value.end(), bad)) {
      errors.push_back({"headers[" + std::to_string(i) + "]", "invalid header '" + name + "'"});
    }
  }
  if (plan.connections < 1) errors.push_back({"connections", "must be at least 1"});
  if (plan.threads < 1) errors.push_back({"threads", "must be at least 1"});
  if (plan.duration.count() <= 0) errors.push_back({"duration", "must be positive"});
  if (!(plan.rate >= 0) || !std::isfinite(plan.rate)) {
    errors.push_back({"rate", "must be zero (closed model) or positive"});
  }
  if (plan.timeout.count() <= 0) errors.push_back({"timeout", "must be positive"});
  if (!errors.empty()) return errors;
  return core::Ok{};
}

std::unique_ptr<Run> start(Plan plan, std::function<void(const Progress&)> onProgress,
                           std::chrono::milliseconds progressInterval) {
  return std::make_unique<RunImpl>(std::move(plan), std::move(onProgress), progressInterval);
}

}  // namespace archway::loadgen
