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
#include <cstdlib>
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

// Where the open model's arrivals fall: piecewise-linear rate segments (the warm-up, then the
// stages). count(t) integrates the rate; timeAt inverts it, so the k-th arrival of the whole
// run is due at timeAt(k) seconds after the start and the schedule follows a ramp exactly.
class Schedule {
 public:
  Schedule() = default;
  explicit Schedule(const Plan& plan) {
    auto seconds = [](std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1e3; };
    double r = plan.rate;
    if (plan.warmup.count() > 0) add(seconds(plan.warmup), r, r);
    if (plan.stages.empty()) {
      add(seconds(plan.duration), r, r);
      return;
    }
    for (const auto& st : plan.stages) {
      add(seconds(st.duration), r, st.rate);
      r = st.rate;
    }
  }

  double totalCount() const { return segs_.empty() ? 0 : segs_.back().c0 + segs_.back().count(); }

  // Arrivals due in [0, t).
  double countAt(double t) const {
    double c = 0;
    for (const auto& s : segs_) {
      if (t <= s.t0) break;
      double tau = std::min(t - s.t0, s.d);
      c = s.c0 + s.r0 * tau + (s.r1 - s.r0) * tau * tau / (2 * s.d);
    }
    return c;
  }

  // Seconds from the start at which the cumulative count reaches `count`; nullopt past the end.
  std::optional<double> timeAt(double count) const {
    for (const auto& s : segs_) {
      double n = s.count();
      if (count >= s.c0 + n) continue;
      double y = count - s.c0;
      if (y <= 0) return s.t0;
      // a*tau^2 + b*tau = y, solved in the form that stays exact for a == 0 and a < 0.
      double a = (s.r1 - s.r0) / (2 * s.d), b = s.r0;
      double disc = std::max(0.0, b * b + 4 * a * y);
      return s.t0 + std::min(s.d, 2 * y / (b + std::sqrt(disc)));
    }
    return std::nullopt;
  }

 private:
  struct Segment {
    double t0, d, r0, r1, c0;
    double count() const { return (r0 + r1) / 2 * d; }
  };
  void add(double d, double r0, double r1) {
    double t0 = segs_.empty() ? 0 : segs_.back().t0 + segs_.back().d;
    segs_.push_back({t0, d, r0, r1, totalCount()});
  }
  std::vector<Segment> segs_;
};

bool isOpenModel(const Plan& plan) {
  return plan.rate > 0 || !plan.stages.empty();
}

std::chrono::milliseconds measuredDuration(const Plan& plan) {
  if (plan.stages.empty()) return plan.duration;
  std::chrono::milliseconds total{0};
  for (const auto& st : plan.stages) total += st.duration;
  return total;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool hasHeader(const Plan& plan, std::string_view name) {
  return std::any_of(plan.headers.begin(), plan.headers.end(),
                     [&](const auto& h) { return iequals(h.first, name); });
}

// Serialized once per run and written as is for every request.
std::string buildRequest(const Plan& plan, const Target& t) {
  // Host: the same for every target (they share host:port).
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
  const std::string* request_ = nullptr;  // in flight; owned by Worker::Shared
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
    std::vector<std::string> requests;  // one per target, serialized once
    std::vector<double> weights;        // of each target
    std::vector<tcp::endpoint> endpoints;
    bool head = false;
    bool open = false;
    Schedule schedule;
    Clock::time_point start, measureStart, end;
  };

  // `share`: this worker's fraction of the arrivals; `index`: its offset in the interleaving.
  Worker(const Shared& shared, int connections, double share, int index)
      : shared_(shared), share_(share), index_(index), current_(shared.weights.size(), 0.0) {
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
  // those requests were queued while every connection was busy. Worker w of a run takes the
  // global arrivals w, w + 1/share, w + 2/share, ... so workers interleave.
  std::optional<Clock::time_point> takeSlot() {
    auto at = shared_.schedule.timeAt(static_cast<double>(nextSlot_) / share_ + index_);
    if (!at) return std::nullopt;
    auto t = shared_.start +
             std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*at));
    if (t >= shared_.end) return std::nullopt;
    ++nextSlot_;
    return t;
  }

  // The next target's serialized request: smooth weighted round-robin, so the split follows
  // the weights exactly over any window instead of only on average.
  const std::string& nextRequest() {
    const auto& reqs = shared_.requests;
    if (reqs.size() == 1) return reqs.front();
    std::size_t best = 0;
    double total = 0;
    for (std::size_t i = 0; i < reqs.size(); ++i) {
      current_[i] += shared_.weights[i];
      total += shared_.weights[i];
      if (current_[i] > current_[best]) best = i;
    }
    current_[best] -= total;
    return reqs[best];
  }

  // Requests sent before the measured part (the warm-up) are not counted.
  bool counted(Clock::time_point sentOrDue) const { return sentOrDue >= shared_.measureStart; }

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
  bool openModel() const { return shared_.open; }
  bool stopping() const { return stopping_; }

 private:
  const Shared& shared_;
  asio::io_context ctx_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_{ctx_.get_executor()};
  std::vector<std::unique_ptr<Connection>> conns_;
  std::thread thread_;
  double share_;
  int index_;
  std::vector<double> current_;  // weighted round-robin state
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
  request_ = &w_.nextRequest();
  asio::async_write(socket_, asio::buffer(*request_),
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
  if (w_.counted(intended_)) w_.recordResponse(parser_->status(), Clock::now() - intended_);
  // A server that answered before reading the whole request gets a fresh connection: a new
  // write must not interleave with the unfinished one.
  bool keepAlive = parser_->keep_alive() && !writing_;
  parser_.reset();
  if (!keepAlive) return connect();
  next();
}

void Connection::fail(ErrorKind kind) {
  // A connect error counts by when it happened; a request's error by when it was due.
  if (w_.counted(kind == ErrorKind::connect ? Clock::now() : intended_)) w_.recordError(kind);
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
    shared_.requests.push_back(buildRequest(plan, *target));
    shared_.weights.push_back(plan.urlWeight);
    for (const auto& u : plan.urls) {
      shared_.requests.push_back(buildRequest(plan, *parseTarget(u.url)));
      shared_.weights.push_back(u.weight);
    }
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
    shared_.head = iequals(plan.method, "HEAD");
    shared_.open = isOpenModel(plan);
    if (shared_.open) shared_.schedule = Schedule(plan);

    int threads = std::min(plan.threads, plan.connections);
    shared_.start = Clock::now();
    shared_.measureStart = shared_.start + plan.warmup;
    shared_.end = shared_.measureStart + measuredDuration(plan);
    for (int w = 0; w < threads; ++w) {
      int conns = plan.connections / threads + (w < plan.connections % threads ? 1 : 0);
      double share = static_cast<double>(conns) / plan.connections;
      workers_.push_back(std::make_unique<Worker>(shared_, conns, share, w));
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
    secondTimer_.expires_at(shared_.measureStart +
                            std::chrono::seconds(static_cast<std::int64_t>(n)));
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
    progressTimer_.expires_at(shared_.measureStart +
                              static_cast<std::int64_t>(n) * progressInterval_);
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
    double elapsed =
        std::max(0.0, std::chrono::duration<double>(end - shared_.measureStart).count());
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
    if (shared_.open && elapsed > 0) {
      double warmupS = std::chrono::duration<double>(shared_.plan.warmup).count();
      double asked =
          shared_.schedule.countAt(warmupS + elapsed) - shared_.schedule.countAt(warmupS);
      r.askedRps = asked / elapsed;
      // Failed sends (read errors, timeouts) were still sent on schedule.
      auto sent = total.requests + total.errors.read + total.errors.timeout;
      r.rateNotKept = static_cast<double>(sent) < kRateTolerance * asked;
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
  for (std::size_t i = 0; i < plan.urls.size(); ++i) {
    std::string path = "urls[" + std::to_string(i) + "]";
    const auto& u = plan.urls[i];
    auto t = parseTarget(u.url);
    if (!t) {
      errors.push_back({path, t.errors().front().message});
    } else if (auto main = parseTarget(plan.url);
               main && (lower(t->host) != lower(main->host) || t->port != main->port)) {
      errors.push_back({path, "'" + u.url + "' is not on " + main->hostHeader +
                                  " (every URL must share the first one's host:port)"});
    }
    if (!(u.weight > 0) || !std::isfinite(u.weight)) {
      errors.push_back({path, "weight must be positive"});
    }
  }
  if (!(plan.urlWeight > 0) || !std::isfinite(plan.urlWeight)) {
    errors.push_back({"urlWeight", "must be positive"});
  }
  if (plan.connections < 1) errors.push_back({"connections", "must be at least 1"});
  if (plan.threads < 1) errors.push_back({"threads", "must be at least 1"});
  if (plan.stages.empty() && plan.duration.count() <= 0) {
    errors.push_back({"duration", "must be positive"});
  }
  bool anyRate = plan.rate > 0;
  for (std::size_t i = 0; i < plan.stages.size(); ++i) {
    const auto& st = plan.stages[i];
    std::string path = "stages[" + std::to_string(i) + "]";
    if (st.duration.count() <= 0) errors.push_back({path, "duration must be positive"});
    if (!(st.rate >= 0) || !std::isfinite(st.rate)) {
      errors.push_back({path, "rate must be zero or positive"});
    }
    anyRate = anyRate || st.rate > 0;
  }
  if (!plan.stages.empty() && !anyRate) {
    errors.push_back({"stages", "every rate is zero: nothing would be sent"});
  }
  if (plan.warmup.count() < 0) errors.push_back({"warmup", "must not be negative"});
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

core::Result<Threshold> parseThreshold(std::string_view expr) {
  auto bad = [&](const std::string& why) {
    return core::Error{"threshold", "invalid threshold '" + std::string(expr) + "': " + why};
  };
  std::string text;
  for (char c : expr) {
    if (c != ' ' && c != '\t')
      text += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  auto opAt = text.find_first_of("<>=");
  if (opAt == std::string::npos) return bad("expected METRIC OP VALUE, e.g. p99<50ms");
  Threshold t;
  t.expr = std::string(expr);
  std::string metric = text.substr(0, opAt);
  std::size_t opLen = opAt + 1 < text.size() && text[opAt + 1] == '=' ? 2 : 1;
  std::string op = text.substr(opAt, opLen);
  if (op == "<")
    t.op = Threshold::Op::lt;
  else if (op == "<=")
    t.op = Threshold::Op::le;
  else if (op == ">")
    t.op = Threshold::Op::gt;
  else if (op == ">=")
    t.op = Threshold::Op::ge;
  else if (op == "==")
    t.op = Threshold::Op::eq;
  else
    return bad("unknown operator '" + op + "' (use < <= > >= ==)");

  if (metric == "mean" || metric == "avg") {
    t.metric = Threshold::Metric::mean;
  } else if (metric == "max") {
    t.metric = Threshold::Metric::max;
  } else if (metric == "errors") {
    t.metric = Threshold::Metric::errors;
  } else if (metric == "rps") {
    t.metric = Threshold::Metric::rps;
  } else if (metric.size() > 1 && metric[0] == 'p' &&
             metric.find_first_not_of("0123456789.", 1) == std::string::npos) {
    std::string digits = metric.substr(1);
    char* end = nullptr;
    double q = digits == "999" ? 99.9 : std::strtod(digits.c_str(), &end);
    if (digits != "999" && (end != digits.c_str() + digits.size() || !(q > 0) || q > 100)) {
      return bad("percentile '" + metric + "' must be between p0 and p100");
    }
    t.metric = Threshold::Metric::percentile;
    t.quantile = q / 100;
  } else {
    return bad(metric.empty() ? "missing metric"
                              : "unknown metric '" + metric + "' (pN, mean, max, errors, rps)");
  }

  std::string value = text.substr(opAt + opLen);
  const char* begin = value.c_str();
  char* end = nullptr;
  double v = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(v) || v < 0 || value.find_first_of("+-") == 0) {
    return bad("expected a number after '" + op + "'");
  }
  std::string unit(end);
  switch (t.metric) {
    case Threshold::Metric::percentile:
    case Threshold::Metric::mean:
    case Threshold::Metric::max:
      if (unit == "us")
        t.limit = v;
      else if (unit.empty() || unit == "ms")
        t.limit = v * 1e3;
      else if (unit == "s")
        t.limit = v * 1e6;
      else
        return bad("unknown latency unit '" + unit + "' (us, ms, s)");
      break;
    case Threshold::Metric::errors:
      if (unit == "%") {
        if (v > 100) return bad("a share above 100%");
        t.percent = true;
        t.limit = v / 100;
      } else if (unit.empty()) {
        t.limit = v;
      } else {
        return bad("errors take a count or a percentage, not '" + unit + "'");
      }
      break;
    case Threshold::Metric::rps:
      if (!unit.empty()) return bad("rps takes a plain number, not '" + unit + "'");
      t.limit = v;
      break;
  }
  return t;
}

ThresholdResult evaluate(const Threshold& t, const Report& r) {
  ThresholdResult out;
  out.expr = t.expr;
  double actual = 0;  // in the limit's unit
  bool latency = false;
  switch (t.metric) {
    case Threshold::Metric::percentile:
      actual = r.latency.percentileUs(t.quantile);
      latency = true;
      break;
    case Threshold::Metric::mean:
      actual = r.latency.meanUs();
      latency = true;
      break;
    case Threshold::Metric::max:
      actual = static_cast<double>(r.latency.maxUs());
      latency = true;
      break;
    case Threshold::Metric::errors: {
      auto count = static_cast<double>(r.errors.total());
      if (t.percent) {
        auto attempts =
            static_cast<double>(r.requests + r.errors.connect + r.errors.read + r.errors.timeout);
        actual = attempts > 0 ? count / attempts : 0;
        out.value = actual * 100;
      } else {
        actual = count;
        out.value = count;
      }
      break;
    }
    case Threshold::Metric::rps:
      actual = r.rps;
      out.value = actual;
      break;
  }
  if (latency) out.value = actual / 1e3;
  switch (t.op) {
    case Threshold::Op::lt:
      out.ok = actual < t.limit;
      break;
    case Threshold::Op::le:
      out.ok = actual <= t.limit;
      break;
    case Threshold::Op::gt:
      out.ok = actual > t.limit;
      break;
    case Threshold::Op::ge:
      out.ok = actual >= t.limit;
      break;
    case Threshold::Op::eq:
      out.ok = actual == t.limit;
      break;
  }
  if (latency && r.latency.count() == 0) out.ok = false;  // nothing was measured
  return out;
}

}  // namespace archway::loadgen
