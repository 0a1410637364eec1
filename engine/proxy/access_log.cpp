#include "proxy/access_log.h"

#include <chrono>
#include <cstring>

#include "core/log.h"

namespace archway::proxy {
namespace {

void field(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":\"";
  core::appendJsonEscaped(out, value);
  out += '"';
}

void number(std::string& out, std::string_view name, double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, ",\"%.*s\":%.3f", static_cast<int>(name.size()), name.data(), v);
  out += buf;
}

}  // namespace

AccessLog::AccessLog(int workers, std::string target, std::size_t capacityPerWorker) {
  for (int i = 0; i < std::max(1, workers); ++i) {
    auto r = std::make_unique<Ring>();
    r->capacity = std::max<std::size_t>(16, capacityPerWorker);
    r->entries = std::make_unique<AccessEntry[]>(r->capacity);
    rings_.push_back(std::move(r));
  }
  if (target == "-") {
    out_ = stdout;
  } else if (!target.empty()) {
    out_ = std::fopen(target.c_str(), "a");
    ownsFile_ = out_ != nullptr;
  }
  running_ = target.empty() || out_ != nullptr;
  if (running_) thread_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (ownsFile_) std::fclose(out_);
}

bool AccessLog::push(int worker, const AccessEntry& e) {
  if (!running_ || worker < 0 || static_cast<std::size_t>(worker) >= rings_.size()) return false;
  Ring& r = *rings_[static_cast<std::size_t>(worker)];
  const auto head = r.head.load(std::memory_order_relaxed);
  if (head - r.tail.load(std::memory_order_acquire) >= r.capacity) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  r.entries[head % r.capacity] = e;
  r.head.store(head + 1, std::memory_order_release);
  return true;
}

void AccessLog::setSink(std::function<void(std::string_view)> sink) {
  std::lock_guard lock(mu_);
  sink_ = std::move(sink);
  want_.store(sink_ || readerUntil_ != std::chrono::steady_clock::time_point{},
              std::memory_order_relaxed);
  wake_.notify_all();
}

bool AccessLog::noteReader() {
  std::lock_guard lock(mu_);
  const bool was = wanted();
  readerUntil_ = std::chrono::steady_clock::now() + kReaderLease;
  want_.store(true, std::memory_order_relaxed);
  if (!was) wake_.notify_all();
  return was;
}

std::uint64_t AccessLog::visitKept(std::uint64_t since,
                                   const std::function<bool(const Kept&)>& visit) const {
  std::lock_guard lock(keptMu_);
  for (auto it = kept_.rbegin(); it != kept_.rend() && it->seq > since; ++it)
    if (!visit(*it)) break;
  return keptSeq_;
}

std::string AccessLog::format(const AccessEntry& e) {
  std::string out;
  out.reserve(256);
  char buf[48];
  std::snprintf(buf, sizeof buf, "{\"time\":%lld.%03lld", static_cast<long long>(e.timeMs / 1000),
                static_cast<long long>(e.timeMs % 1000));
  out += buf;
  out += ",\"type\":\"access\"";
  field(out, "client_ip", e.clientIp.view());
  field(out, "method", e.method.view());
  field(out, "path", e.path.view());
  out += ",\"status\":" + std::to_string(e.status);
  out += ",\"bytes_in\":" + std::to_string(e.bytesIn);
  out += ",\"bytes_out\":" + std::to_string(e.bytesOut);
  number(out, "latency_ms", static_cast<double>(e.totalUs) / 1000.0);
  number(out, "upstream_ms", static_cast<double>(e.upstreamUs) / 1000.0);
  if (e.route.size) field(out, "route", e.route.view());
  if (e.service.size) field(out, "service", e.service.view());
  if (e.consumer.size) field(out, "consumer", e.consumer.view());
  if (e.traceId.size) field(out, "trace_id", e.traceId.view());
  out += "}\n";
  return out;
}

bool AccessLog::drainOnce() {
  bool any = false;
  std::string batch;
  std::function<void(std::string_view)> sink;
  {
    std::lock_guard lock(mu_);
    sink = sink_;
  }
  std::vector<Kept> kept;
  for (auto& rp : rings_) {
    Ring& r = *rp;
    auto tail = r.tail.load(std::memory_order_relaxed);
    const auto head = r.head.load(std::memory_order_acquire);
    for (; tail != head; ++tail) {
      const AccessEntry& e = r.entries[tail % r.capacity];
      std::string line = format(e);
      if (sink) sink(line);
      if (out_) batch += line;
      line.pop_back();  // the newline
      kept.push_back(Kept{0, e.timeMs, e.status, std::string(e.route.view()), std::move(line)});
      any = true;
      written_.fetch_add(1, std::memory_order_relaxed);
    }
    r.tail.store(tail, std::memory_order_release);
  }
  if (!batch.empty() && out_) {
    std::fwrite(batch.data(), 1, batch.size(), out_);
    std::fflush(out_);
  }
  if (!kept.empty()) {
    // One ring per worker: put the batch in time order before numbering it.
    std::stable_sort(kept.begin(), kept.end(),
                     [](const Kept& a, const Kept& b) { return a.timeMs < b.timeMs; });
    std::lock_guard lock(keptMu_);
    for (Kept& k : kept) {
      k.seq = ++keptSeq_;
      if (kept_.size() >= kKeptCapacity) kept_.pop_front();
      kept_.push_back(std::move(k));
    }
  }
  return any;
}

void AccessLog::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    // Workers never signal (that would be a syscall on the request path): poll, slowly while
    // no line is wanted (an entry pushed just before a reader's lease ended still goes out).
    const auto now = std::chrono::steady_clock::now();
    if (readerUntil_ != std::chrono::steady_clock::time_point{} && now >= readerUntil_) {
      readerUntil_ = {};
      want_.store(static_cast<bool>(sink_), std::memory_order_relaxed);
    }
    const bool idle = !wanted();
    wake_.wait_for(lock, std::chrono::milliseconds(idle ? 1000 : 100),
                   [this, idle] { return stop_ || (idle && wanted()); });
    lock.unlock();
    while (drainOnce()) {
    }
    lock.lock();
  }
  lock.unlock();
  while (drainOnce()) {
  }
}

}  // namespace archway::proxy
