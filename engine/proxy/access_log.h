#pragma once
// The access log: one JSON line per request, written by a log thread, never by a worker.
// Each worker pushes fixed-size entries into its own single-producer ring (no lock, no
// allocation); the log thread drains every ring, formats and writes. A full ring drops the
// entry and counts it rather than slow the worker down.
//
// The log thread also keeps the newest lines (kKeptCapacity) for GET /archway/logs/access.
// Workers produce entries only while a line is wanted: a file, a sink (the embedded console), or
// an Admin API reader in the last kReaderLease (noteReader()); otherwise they skip the entry
// after one relaxed load.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace archway::proxy {

template <std::size_t N>
struct FixedText {
  char data[N] = {};
  std::uint16_t size = 0;
  void assign(std::string_view s) {
    size = static_cast<std::uint16_t>(std::min(s.size(), N));
    if (size) std::memcpy(data, s.data(), size);  // an empty view may have a null data()
  }
  std::string_view view() const { return {data, size}; }
};

struct AccessEntry {
  std::int64_t timeMs = 0;  // wall clock when the request ended
  std::uint64_t totalUs = 0, upstreamUs = 0, bytesIn = 0, bytesOut = 0;
  std::uint16_t status = 0;
  FixedText<16> method;
  FixedText<46> clientIp;
  FixedText<512> path;
  FixedText<64> route, service, consumer;
  FixedText<32> traceId;
};

class AccessLog {
 public:
  // `target`: "-" for stdout, "" for no file (lines go only to the sink), else a file path
  // (appended). The sink, when set, receives every formatted line on the log thread (the
  // console's live log). Without a file, a sink or a reader, wanted() is false and the workers
  // push nothing.
  AccessLog(int workers, std::string target, std::size_t capacityPerWorker = 4096);
  ~AccessLog();  // writes what is queued, then stops
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  bool ok() const { return running_; }
  // Any thread: whether a line would go anywhere (a file, a sink, a recent reader). One relaxed
  // load.
  bool wanted() const { return out_ != nullptr || want_.load(std::memory_order_relaxed); }
  // Worker `worker` only. False when its ring was full (the entry is dropped and counted).
  bool push(int worker, const AccessEntry& e);
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  void setSink(std::function<void(std::string_view line)> sink);

  static std::string format(const AccessEntry& e);

  // One line kept for GET /archway/logs/access.
  struct Kept {
    std::uint64_t seq = 0;    // 1, 2, ... in the order the log thread kept the entries
    std::int64_t timeMs = 0;  // when the request ended (a batch is kept in this order)
    std::uint16_t status = 0;
    std::string route;  // the entry's route (name, else id), as in the line
    std::string line;   // the JSON line without its newline
  };
  static constexpr std::size_t kKeptCapacity = 1000;
  static constexpr std::chrono::seconds kReaderLease{60};
  // Any thread (the Admin API's): somebody reads the kept lines, so entries are produced, file
  // or not, until kReaderLease after the last call. Returns whether they were produced already.
  bool noteReader();
  // Any thread: calls `visit` with the kept lines whose seq is above `since`, newest first,
  // until it returns false. Returns the newest kept seq (0: none yet). A short lock shared only
  // with the log thread.
  std::uint64_t visitKept(std::uint64_t since, const std::function<bool(const Kept&)>& visit) const;

 private:
  struct Ring {
    std::unique_ptr<AccessEntry[]> entries;
    std::size_t capacity = 0;
    alignas(64) std::atomic<std::uint64_t> head{0};  // next to write (worker)
    alignas(64) std::atomic<std::uint64_t> tail{0};  // next to read (log thread)
  };
  void run();
  bool drainOnce();

  std::vector<std::unique_ptr<Ring>> rings_;
  std::FILE* out_ = nullptr;
  bool ownsFile_ = false;
  bool running_ = false;
  std::atomic<bool> want_{false};  // a sink or a reader's lease; under mu_ when written
  std::chrono::steady_clock::time_point readerUntil_{};  // under mu_
  std::atomic<std::uint64_t> dropped_{0}, written_{0};
  std::mutex mu_;  // log thread's wake-up and the sink; never taken by workers
  std::condition_variable wake_;
  bool stop_ = false;
  std::function<void(std::string_view)> sink_;
  mutable std::mutex keptMu_;  // the log thread and readers of kept_, never workers
  std::deque<Kept> kept_;
  std::uint64_t keptSeq_ = 0;  // the newest kept line's seq, under keptMu_
  std::thread thread_;
};

}  // namespace archway::proxy
