#pragma once
// The node-wide ring buffer of recent finished traces, for GET /archway/traces and the console.
//
// Writers are the proxy workers, on the request path, so pushing takes no mutex: a writer takes
// a ticket (one fetch_add), claims the ticket's slot with one compare-and-swap on the slot's
// sequence number (odd while written; a writer that finds the slot busy drops its trace rather
// than wait) and stores the trace as relaxed atomic words. Readers (Admin API, console) copy a
// slot and keep the copy only if the sequence number was even and unchanged around the copy (a
// seqlock), so they never block writers and never see a torn trace. The memory is allocated
// once: capacity * ~2.5 KB.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trace/finished_trace.h"

namespace archway::trace {

struct TraceQuery {
  std::size_t limit = 100;
  std::string route;        // a route name or id; empty: any
  int status = 0;           // an exact status; 0: any
  int statusClass = 0;      // 1..5 for "1xx".."5xx"; 0: any
  std::uint64_t minUs = 0;  // at least this long
};

class TraceStore {
 public:
  explicit TraceStore(std::size_t capacity = 1024);
  ~TraceStore();
  TraceStore(const TraceStore&) = delete;
  TraceStore& operator=(const TraceStore&) = delete;

  // Any thread, lock-free. False when the trace was dropped (its slot was being written by a
  // writer that wrapped around the whole ring meanwhile).
  bool push(const FinishedTrace& trace);

  // Any thread. The newest traces first, at most q.limit of them, that match every filter.
  std::vector<FinishedTrace> recent(const TraceQuery& q) const;
  // The newest trace with this trace id (a client may send several requests in one trace).
  std::optional<FinishedTrace> byId(const TraceId& id) const;

  std::size_t capacity() const { return capacity_; }
  std::uint64_t pushed() const { return next_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  static bool matches(const FinishedTrace& t, const TraceQuery& q);

 private:
  struct Slot;
  bool read(std::uint64_t ticket, FinishedTrace& out) const;
  template <class Visit>
  void scan(Visit&& visit) const;

  std::size_t capacity_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<std::uint64_t> next_{0};
  alignas(64) std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace archway::trace
