#pragma once
// The Admin API's HTTP/1.1 listeners (keep-alive, plain or TLS), on the engine's control
// io_context.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

namespace boost::asio::ssl {
class context;
}

#include "admin/admin_api.h"
#include "core/background_cpu.h"

namespace archway::admin {

class AdminServer {
 public:
  // With `background`, each request is answered inside one of its scopes (a POST /config that
  // builds a large snapshot gives way to the workers); it must outlive the server.
  AdminServer(boost::asio::io_context& ctx, std::shared_ptr<const AdminApi> api,
              core::BackgroundCpu* background = nullptr);
  ~AdminServer();
  // Starts accepting on a bound acceptor; once per listener. With `tls`, connections speak
  // TLS (a plain HTTP request there gets a 400 and the connection closes).
  void start(boost::asio::ip::tcp::acceptor acceptor,
             std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  // Control thread: closes the listeners and open connections.
  void close();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace archway::admin
