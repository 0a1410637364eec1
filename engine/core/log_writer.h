#pragma once
// The log thread behind core::log (one per process; tests make their own). Producers push
// records into a bounded MPMC ring (core/mpmc_queue.h) and never wait: no mutex is ever taken
// on their side, and when the ring is full the record is dropped and counted. The log thread
// drains the ring, writes the records as JSON lines to the sink in one write per batch, hands
// each record to the subscribers, and after a batch with drops writes one "log records dropped"
// warning saying how many. It sleeps on a futex (std::atomic::wait) while the ring is empty; a
// producer wakes it only when it is asleep.
//
// The writer's own mutexes (sink, subscribers) are taken only by the log thread and by callers
// of setFile()/subscribe()/unsubscribe(), never by push().
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/log.h"
#include "core/mpmc_queue.h"

namespace archway::core::log {

// One record as a JSON line with its newline: {"time":<s.ms>,"level":...,"message":...,<fields>}.
std::string formatJson(const Record& record);

// core::log::recent, counting: the log thread numbers the records it keeps 1, 2, ...; only
// those numbered above `since` are looked at, and `newest` receives the newest kept record's
// number (0: none yet). GET /archway/logs/error?since=.
std::vector<Record> recentSince(std::size_t limit, Level minLevel, std::uint64_t since,
                                std::uint64_t& newest);

class Writer {
 public:
  static constexpr std::size_t kDefaultCapacity = 4096;
  // `startThread` false leaves the log thread off until start() (tests fill the ring first).
  explicit Writer(std::size_t capacity = kDefaultCapacity, bool startThread = true);
  ~Writer();  // writes what is queued, then stops; closes an owned file
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void start();
  // Any thread; never blocks. False when the ring was full (the record is dropped and counted).
  bool push(Record& record);
  // See core::log::flush. Without a running log thread it returns false at once.
  bool flush(std::chrono::milliseconds timeout);
  // See core::log::setFile.
  std::string setFile(const std::string& path);
  int subscribe(Subscriber subscriber);
  void unsubscribe(int token);

  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Records written to the sink (and delivered), the "dropped" warnings included.
  std::uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  std::size_t capacity() const { return queue_.capacity(); }
  // See core::log::recent. `recentCapacity` records are kept (by the log thread).
  std::vector<Record> recent(std::size_t limit, Level minLevel, std::uint64_t since = 0,
                             std::uint64_t* newest = nullptr) const;
  void setRecentCapacity(std::size_t n);

 private:
  void run();
  // Writes and delivers what the ring holds now; false when it held nothing.
  bool drainOnce();
  void wake();

  MpmcQueue<Record> queue_;
  std::atomic<std::uint64_t> dropped_{0}, written_{0};
  std::uint64_t reportedDropped_ = 0;  // log thread
  // Records popped and fully handled (written, delivered): what flush() waits for.
  std::atomic<std::uint64_t> handled_{0};
  std::atomic<std::uint32_t> wakeups_{0};
  std::atomic<bool> sleeping_{false}, stop_{false};

  std::mutex sinkMutex_;
  std::FILE* out_ = stderr;
  bool ownsFile_ = false;

  // The newest records handled, a ring filled by the log thread after each batch.
  mutable std::mutex recentMutex_;
  std::deque<Record> recent_;
  std::size_t recentCapacity_ = kRecentCapacity;
  std::uint64_t recentSeq_ = 0;  // the newest kept record's sequence number (1, 2, ...)

  std::mutex subMutex_;
  std::map<int, Subscriber> subs_;
  int nextToken_ = 1;

  std::thread thread_;
};

}  // namespace archway::core::log
