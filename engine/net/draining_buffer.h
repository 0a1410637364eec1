#pragma once
// A read buffer that tells Asio's reactor when a read emptied the socket.
//
// Asio 1.81 starts every socket read with a speculative recv, and on a keep-alive connection
// that recv almost always fails with EAGAIN: the next request (or the upstream's answer) is not
// there yet the moment the previous exchange ends. strace counted 4 recvfrom per proxied
// request where nginx makes 2; each EAGAIN costs ~0.5 µs of a ~17 µs request.
//
// The reactor already has the mechanism: a read that reports `done_and_exhausted` turns the
// speculative attempt off until epoll next reports the socket (epoll_reactor::start_op and
// descriptor_state::perform_io), but 1.81's stream recv reports it only at EOF. Reading into
// a DrainingBuffer makes a short read report it too: a recv that returned fewer bytes than it
// was offered has emptied the socket's receive queue, so nothing is lost. Data that arrives
// later raises a new edge, which marks the socket for a speculative read again (or performs
// the queued read), exactly as for any other read. This is nginx's `ready` flag.
//
// It works by specialising the reactor's receive operation for this buffer type; other reads
// are untouched. Tied to the Boost version it was checked against (see the static_assert).
#include <boost/asio/buffer.hpp>
#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#include <boost/asio/detail/socket_ops.hpp>
#include <boost/version.hpp>

#include <cstddef>

#include "net/io_buffer.h"

static_assert(BOOST_VERSION == 108100,
              "net/draining_buffer.h specialises an Asio 1.81 internal: re-check it "
              "(reactive_socket_recv_op_base) before building with another Boost");

namespace archway::net {

// One contiguous mutable buffer; a MutableBufferSequence of one element.
class DrainingBuffer {
 public:
  using value_type = boost::asio::mutable_buffer;
  using const_iterator = const boost::asio::mutable_buffer*;

  DrainingBuffer(void* data, std::size_t size) : buffer_(data, size) {}
  const_iterator begin() const { return &buffer_; }
  const_iterator end() const { return &buffer_ + 1; }
  const boost::asio::mutable_buffer& buffer() const { return buffer_; }

 private:
  boost::asio::mutable_buffer buffer_;
};

// A read into an IoBuffer's free space that takes the buffer's storage from its pool only
// when the socket has bytes for it (and gives it back if the read finds none): an idle
// keep-alive connection waits for its next request without holding a buffer. Reads like a
// DrainingBuffer otherwise. The IoBuffer must outlive the read.
class PooledRead {
 public:
  using value_type = boost::asio::mutable_buffer;
  using const_iterator = const boost::asio::mutable_buffer*;

  // `fallbackSize`: the size the read is declared with while the buffer has no storage (Asio
  // completes a read of zero bytes at once).
  PooledRead(IoBuffer& buffer, std::size_t fallbackSize)
      : target_(&buffer),
        declared_(buffer.hasStorage() ? buffer.space() : nullptr,
                  buffer.hasStorage() ? buffer.spaceSize() : fallbackSize) {}
  const_iterator begin() const { return &declared_; }
  const_iterator end() const { return &declared_ + 1; }
  IoBuffer& target() const { return *target_; }

 private:
  IoBuffer* target_;
  boost::asio::mutable_buffer declared_;
};

}  // namespace archway::net

namespace boost::asio::detail {

// One non-blocking recv into [data, data + size) with the DrainingBuffer rule: a short read is
// `done_and_exhausted`.
inline reactor_op::status drainingRecv(socket_type socket, socket_ops::state_type state,
                                       void* data, std::size_t size,
                                       socket_base::message_flags flags,
                                       boost::system::error_code& ec, std::size_t& transferred) {
  const bool stream = (state & socket_ops::stream_oriented) != 0;
  if (!socket_ops::non_blocking_recv1(socket, data, size, flags, stream, ec, transferred))
    return reactor_op::not_done;
  if (stream && !ec && transferred < size)
    return reactor_op::done_and_exhausted;  // the receive queue is empty now
  if (stream && transferred == 0) return reactor_op::done_and_exhausted;  // EOF, as Asio
  return reactor_op::done;
}

// The receive operation's perform step for DrainingBuffer reads: as Asio's own (one recv,
// not_done on EAGAIN), but a short read is `done_and_exhausted`.
template <>
class reactive_socket_recv_op_base<archway::net::DrainingBuffer> : public reactor_op {
 public:
  reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                               socket_ops::state_type state,
                               const archway::net::DrainingBuffer& buffers,
                               socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
        socket_(socket),
        state_(state),
        buffer_(buffers.buffer()),
        flags_(flags) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<reactive_socket_recv_op_base*>(base);
    return drainingRecv(o->socket_, o->state_, o->buffer_.data(), o->buffer_.size(), o->flags_,
                        o->ec_, o->bytes_transferred_);
  }

 protected:
  socket_type socket_;
  socket_ops::state_type state_;
  boost::asio::mutable_buffer buffer_;
  socket_base::message_flags flags_;
};

// The same for a PooledRead: the buffer's storage is taken when the socket is readable, and
// given back when the recv brought nothing (EAGAIN, an error or EOF).
template <>
class reactive_socket_recv_op_base<archway::net::PooledRead> : public reactor_op {
 public:
  reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                               socket_ops::state_type state,
                               const archway::net::PooledRead& buffers,
                               socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
        socket_(socket),
        state_(state),
        target_(&buffers.target()),
        flags_(flags) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<reactive_socket_recv_op_base*>(base);
    archway::net::IoBuffer& b = *o->target_;
    b.ensureStorage();
    const status st = drainingRecv(o->socket_, o->state_, b.space(), b.spaceSize(), o->flags_,
                                   o->ec_, o->bytes_transferred_);
    if (st == not_done || o->bytes_transferred_ == 0) b.releaseIfEmpty();
    return st;
  }

 protected:
  socket_type socket_;
  socket_ops::state_type state_;
  archway::net::IoBuffer* target_;
  socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
