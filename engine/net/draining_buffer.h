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

// One recv for a DrainingBuffer read.
inline reactor_op::status performRecv(const archway::net::DrainingBuffer& b, socket_type socket,
                                      socket_ops::state_type state,
                                      socket_base::message_flags flags,
                                      boost::system::error_code& ec, std::size_t& transferred) {
  return drainingRecv(socket, state, b.buffer().data(), b.buffer().size(), flags, ec,
                      transferred);
}

// One recv for a PooledRead: the buffer's storage is taken when the socket is readable, and
// given back when the recv brought nothing (EAGAIN, an error or EOF).
inline reactor_op::status performRecv(const archway::net::PooledRead& r, socket_type socket,
                                      socket_ops::state_type state,
                                      socket_base::message_flags flags,
                                      boost::system::error_code& ec, std::size_t& transferred) {
  archway::net::IoBuffer& b = r.target();
  b.ensureStorage();
  const auto st = drainingRecv(socket, state, b.space(), b.spaceSize(), flags, ec, transferred);
  if (st == reactor_op::not_done || transferred == 0) b.releaseIfEmpty();
  return st;
}

// Asio's receive operation with performRecv as its perform step (Asio's own makes one recv,
// not_done on EAGAIN, and reports the socket emptied only at EOF).
template <class Buffers>
class archway_recv_op : public reactor_op {
 public:
  archway_recv_op(const boost::system::error_code& success_ec, socket_type socket,
                  socket_ops::state_type state, const Buffers& buffers,
                  socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &archway_recv_op::do_perform, complete_func),
        socket_(socket),
        state_(state),
        buffers_(buffers),
        flags_(flags) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<archway_recv_op*>(base);
    return performRecv(o->buffers_, o->socket_, o->state_, o->flags_, o->ec_,
                       o->bytes_transferred_);
  }

 protected:
  socket_type socket_;
  socket_ops::state_type state_;
  Buffers buffers_;
  socket_base::message_flags flags_;
};

template <>
class reactive_socket_recv_op_base<archway::net::DrainingBuffer>
    : public archway_recv_op<archway::net::DrainingBuffer> {
 public:
  using archway_recv_op::archway_recv_op;
};

template <>
class reactive_socket_recv_op_base<archway::net::PooledRead>
    : public archway_recv_op<archway::net::PooledRead> {
 public:
  using archway_recv_op::archway_recv_op;
};

}  // namespace boost::asio::detail
