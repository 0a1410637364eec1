#include "net/endpoint.h"

#include <sys/socket.h>

#include <charconv>

namespace archway::net {

namespace asio = boost::asio;
using asio::ip::tcp;

core::Result<ListenAddress> parseListenAddress(std::string_view text) {
  ListenAddress out;
  out.text = std::string(text);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (auto sp = text.find(' '); sp != std::string_view::npos) {
    std::string_view flags = text.substr(sp + 1);
    text = text.substr(0, sp);
    if (flags == "ssl") {
      out.ssl = true;
    } else {
      return core::Error{"", "unknown listen flag '" + std::string(flags) + "'"};
    }
  }
  std::string_view host = "0.0.0.0";
  std::string_view port = text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return core::Error{"", "expected [ADDR]:PORT, got '" + std::string(text) + "'"};
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value > 65535) {
    return core::Error{"", "invalid port in '" + std::string(text) + "'"};
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code aec;
  auto addr = asio::ip::make_address(std::string(host), aec);
  if (aec) return core::Error{"", "invalid address '" + std::string(host) + "'"};
  out.endpoint = tcp::endpoint(addr, static_cast<unsigned short>(value));
  return out;
}

core::Result<std::vector<ListenAddress>> parseListenList(std::string_view text) {
  std::vector<ListenAddress> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto part = text.substr(0, comma);
    auto one = parseListenAddress(part);
    if (!one) return one.errors();
    out.push_back(*one);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.empty()) return core::Error{"", "no listen address"};
  return out;
}

bool isLoopback(const asio::ip::address& a) {
  return a.is_loopback();
}

core::Result<tcp::acceptor> listen(asio::io_context& ctx, const tcp::endpoint& ep, bool reusePort) {
  boost::system::error_code ec;
  tcp::acceptor acceptor(ctx);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec && reusePort) {
    int one = 1;
    if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      ec = boost::system::error_code(errno, boost::system::system_category());
    }
  }
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::Error{"", "cannot listen on " + ep.address().to_string() + ":" +
                               std::to_string(ep.port()) + ": " + ec.message()};
  }
  return acceptor;
}

}  // namespace archway::net
