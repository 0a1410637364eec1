#include "net/io_buffer.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace archway::net {

BufferPool::BufferPool(std::size_t bufferSize, std::size_t maxFree)
    : size_(bufferSize), maxFree_(maxFree) {
  free_.reserve(std::min<std::size_t>(maxFree, 1024));
}

BufferPool::~BufferPool() {
  for (char* b : free_) delete[] b;
}

char* BufferPool::take() {
  ++inUse_;
  if (free_.empty()) return new char[size_];
  char* b = free_.back();
  free_.pop_back();
  return b;
}

void BufferPool::give(char* buffer) {
  --inUse_;
  if (free_.size() < maxFree_)
    free_.push_back(buffer);
  else
    delete[] buffer;
}

IoBuffer::IoBuffer(std::size_t capacity) : ownSize_(capacity) { takeStorage(); }

IoBuffer::IoBuffer(std::shared_ptr<BufferPool> pool) : pool_(std::move(pool)) {}

IoBuffer::~IoBuffer() {
  if (data_) dropStorage();
}

void IoBuffer::takeStorage() {
  if (pool_) {
    data_ = pool_->take();
    cap_ = pool_->bufferSize();
    fromPool_ = true;
  } else {
    data_ = new char[ownSize_];
    cap_ = ownSize_;
    fromPool_ = false;
  }
  begin_ = end_ = 0;
}

void IoBuffer::dropStorage() {
  if (fromPool_)
    pool_->give(data_);
  else
    delete[] data_;
  data_ = nullptr;
  cap_ = begin_ = end_ = 0;
}

void IoBuffer::grow(std::size_t capacity) {
  char* bigger = new char[capacity];
  const std::size_t n = end_ - begin_;
  if (n) std::memcpy(bigger, data_ + begin_, n);
  if (data_) {
    if (fromPool_)
      pool_->give(data_);
    else
      delete[] data_;
  }
  data_ = bigger;
  cap_ = capacity;
  fromPool_ = false;
  begin_ = 0;
  end_ = n;
  if (!pool_) ownSize_ = capacity;
}

void IoBuffer::reserveEmpty(std::size_t capacity) {
  if (size() != 0) return;
  if (!data_) takeStorage();
  if (cap_ >= capacity) return;
  grow(capacity);
}

bool IoBuffer::makeRoom(std::size_t maxCapacity) {
  if (!data_) {
    takeStorage();
    return cap_ > 0;
  }
  if (begin_ > 0) {
    std::memmove(data_, data_ + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    if (end_ < cap_) return true;
  }
  if (cap_ >= maxCapacity) return false;
  grow(std::min(cap_ * 2, maxCapacity));
  return true;
}

}  // namespace archway::net
