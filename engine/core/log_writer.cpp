#include "core/log_writer.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <vector>

namespace archway::core::log {
namespace {

void appendString(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  appendJsonEscaped(out, name);
  out += "\":\"";
  appendJsonEscaped(out, value);
  out += '"';
}

}  // namespace

std::string formatJson(const Record& r) {
  std::string line;
  line.reserve(96 + r.message.size());
  char ts[40];
  const std::int64_t ms = r.timeUs / 1000;
  std::snprintf(ts, sizeof ts, "{\"time\":%lld.%03lld", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  line += ts;
  line += ",\"level\":\"";
  line += levelName(r.level);
  line += '"';
  appendString(line, "message", r.message);
  for (const auto& [k, v] : r.fields) appendString(line, k, v);
  line += "}\n";
  return line;
}

Writer::Writer(std::size_t capacity, bool startThread) : queue_(capacity) {
  if (startThread) start();
}

Writer::~Writer() {
  stop_.store(true, std::memory_order_release);
  wake();
  if (thread_.joinable()) thread_.join();
  if (ownsFile_) std::fclose(out_);
}

void Writer::start() {
  if (thread_.joinable()) return;
  // The thread blocks every signal: a daemon that sigwait()s for SIGTERM must not have it
  // delivered here (whichever thread logged first creates this one, maybe before the main
  // thread blocked its stop signals).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  thread_ = std::thread([this] { run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_setname_np(thread_.native_handle(), "aw-log");
}

bool Writer::push(Record& record) {
  if (!queue_.tryPush(record)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // Pairs with the fence in run(): either the log thread sees this record before it sleeps, or
  // this thread sees it asleep and wakes it.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleeping_.load(std::memory_order_relaxed)) wake();
  return true;
}

void Writer::wake() {
  wakeups_.fetch_add(1, std::memory_order_release);
  wakeups_.notify_one();
}

bool Writer::flush(std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) return false;
  const std::uint64_t target = queue_.pushed();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (handled_.load(std::memory_order_acquire) < target) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    wake();  // in case it sleeps through a record whose producer had not finished writing it
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return true;
}

std::string Writer::setFile(const std::string& path) {
  std::FILE* next = stderr;
  if (!path.empty() && path != "-") {
    next = std::fopen(path.c_str(), "a");
    if (!next) return "cannot open " + path + " for appending";
  }
  flush(std::chrono::seconds(5));
  std::lock_guard lock(sinkMutex_);
  if (ownsFile_) std::fclose(out_);
  out_ = next;
  ownsFile_ = next != stderr;
  return {};
}

int Writer::subscribe(Subscriber subscriber) {
  std::lock_guard lock(subMutex_);
  const int token = nextToken_++;
  subs_.emplace(token, std::move(subscriber));
  return token;
}

void Writer::unsubscribe(int token) {
  std::lock_guard lock(subMutex_);
  subs_.erase(token);
}

std::vector<Record> Writer::recent(std::size_t limit, Level minLevel, std::uint64_t since,
                                   std::uint64_t* newest) const {
  std::vector<Record> out;
  std::lock_guard lock(recentMutex_);
  if (newest) *newest = recentSeq_;
  std::uint64_t seq = recentSeq_;
  for (auto it = recent_.rbegin(); it != recent_.rend() && out.size() < limit && seq > since;
       ++it, --seq) {
    if (it->level >= minLevel) out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

void Writer::setRecentCapacity(std::size_t n) {
  std::lock_guard lock(recentMutex_);
  recentCapacity_ = n;
  while (recent_.size() > n) recent_.pop_front();
}

bool Writer::drainOnce() {
  thread_local std::vector<Record> batch;
  batch.clear();
  Record r;
  while (batch.size() < queue_.capacity() && queue_.tryPop(r)) batch.push_back(std::move(r));
  const std::uint64_t popped = batch.size();
  const std::uint64_t drops = dropped_.load(std::memory_order_relaxed);
  if (drops != reportedDropped_) {
    Record warn;
    warn.timeUs = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    warn.level = Level::warn;
    warn.message = "log records dropped";
    warn.fields.emplace_back("dropped", std::to_string(drops - reportedDropped_));
    warn.fields.emplace_back("reason", "the log queue was full");
    reportedDropped_ = drops;
    batch.push_back(std::move(warn));
  }
  if (batch.empty()) return false;
  std::string text;
  for (const Record& rec : batch) text += formatJson(rec);
  {
    std::lock_guard lock(sinkMutex_);
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fflush(out_);
  }
  {
    std::lock_guard lock(subMutex_);
    for (const Record& rec : batch)
      for (auto& [token, cb] : subs_) cb(rec);
  }
  {
    std::lock_guard lock(recentMutex_);
    for (Record& rec : batch) {
      if (recentCapacity_ == 0) break;
      if (recent_.size() >= recentCapacity_) recent_.pop_front();
      recent_.push_back(std::move(rec));
      ++recentSeq_;
    }
  }
  written_.fetch_add(batch.size(), std::memory_order_relaxed);
  handled_.fetch_add(popped, std::memory_order_release);
  return true;
}

void Writer::run() {
  for (;;) {
    while (drainOnce()) {
    }
    if (stop_.load(std::memory_order_acquire)) {
      while (drainOnce()) {
      }
      return;
    }
    const std::uint32_t seen = wakeups_.load(std::memory_order_acquire);
    sleeping_.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!queue_.readable() && !stop_.load(std::memory_order_relaxed)) wakeups_.wait(seen);
    sleeping_.store(false, std::memory_order_relaxed);
  }
}

}  // namespace archway::core::log
