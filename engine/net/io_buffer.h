#pragma once
// Connection byte buffers and the per-worker pool they come from.
//
// A client connection needs a read buffer only while it has bytes to parse or relay. Between
// requests (an idle keep-alive connection) nginx frees its buffers and reads again into a
// fresh one when the socket becomes readable; Archway does the same with a per-worker pool of
// fixed-size buffers: IoBuffer::releaseIfEmpty() gives the storage back, and a read through
// net::PooledRead (net/draining_buffer.h) takes a buffer only when the socket has bytes for
// it. An idle connection therefore holds no buffer at all.
//
// Neither class is thread-safe: a pool belongs to one worker thread, as do its buffers.
#include <cstddef>
#include <memory>
#include <vector>

namespace archway::net {

class BufferPool {
 public:
  // Buffers of `bufferSize` bytes; at most `maxFree` are kept for reuse, the rest are freed.
  BufferPool(std::size_t bufferSize, std::size_t maxFree);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  std::size_t bufferSize() const { return size_; }
  // A free buffer, or a new one (not zeroed).
  char* take();
  void give(char* buffer);
  std::size_t freeCount() const { return free_.size(); }
  // Buffers taken and not given back.
  std::size_t inUse() const { return inUse_; }

 private:
  std::vector<char*> free_;
  std::size_t size_, maxFree_, inUse_ = 0;
};

// A byte buffer with a read and a write position. Grows (never shrinks) up to a bound given
// per call. Its storage is either its own or a buffer of a pool (the pool's size).
class IoBuffer {
 public:
  // Its own storage of `capacity` bytes, allocated now.
  explicit IoBuffer(std::size_t capacity);
  // A buffer from `pool`, taken on first need (ensureStorage, makeRoom, a PooledRead). The
  // buffer shares the pool: a connection's coroutine frame may be destroyed after its worker
  // when a stop is forced.
  explicit IoBuffer(std::shared_ptr<BufferPool> pool);
  ~IoBuffer();
  IoBuffer(const IoBuffer&) = delete;
  IoBuffer& operator=(const IoBuffer&) = delete;

  const char* data() const { return data_ + begin_; }
  std::size_t size() const { return end_ - begin_; }
  char* space() { return data_ + end_; }
  std::size_t spaceSize() const { return cap_ - end_; }
  std::size_t capacity() const { return cap_; }
  bool hasStorage() const { return data_ != nullptr; }
  void produced(std::size_t n) { end_ += n; }
  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void clear() { begin_ = end_ = 0; }
  // Takes storage if it has none (from the pool, or its own of the last capacity).
  void ensureStorage() {
    if (!data_) takeStorage();
  }
  // Gives the storage back (to the pool, or frees it) when no bytes are in it.
  void releaseIfEmpty() {
    if (data_ && begin_ == end_) dropStorage();
  }
  // Grows an empty buffer to at least `capacity` (for relaying large bodies in fewer reads).
  void reserveEmpty(std::size_t capacity);
  // Makes room at the end: first by moving unread bytes to the front, then by growing.
  bool makeRoom(std::size_t maxCapacity);

 private:
  void takeStorage();
  void dropStorage();
  // Replaces the storage with an owned one of `capacity` bytes holding the unread bytes.
  void grow(std::size_t capacity);

  char* data_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0, end_ = 0;
  std::shared_ptr<BufferPool> pool_;
  bool fromPool_ = false;    // data_ is a pool buffer (else owned, delete[])
  // Without a pool: the size of the storage taken again after a release (it keeps its
  // growth). With one, storage taken again is a pool buffer, whatever it grew to before.
  std::size_t ownSize_ = 0;
};

}  // namespace archway::net
