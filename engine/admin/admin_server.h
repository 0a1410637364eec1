#pragma once
// The Admin API's HTTP/1.1 listener (keep-alive), on the engine's control io_context.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "admin/admin_api.h"

namespace archway::admin {

class AdminServer {
 public:
  AdminServer(boost::asio::io_context& ctx, std::shared_ptr<const AdminApi> api);
  ~AdminServer();
  // Starts accepting on a bound acceptor.
  void start(boost::asio::ip::tcp::acceptor acceptor);
  // Control thread: closes the listener and open connections.
  void close();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace archway::admin
