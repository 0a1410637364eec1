#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace archway::net {

// One listen address: "ADDR:PORT", "[v6]:PORT" or "PORT"; an optional trailing " ssl" flag.
struct ListenAddress {
  boost::asio::ip::tcp::endpoint endpoint;
  bool ssl = false;
  std::string text;
};

core::Result<ListenAddress> parseListenAddress(std::string_view text);
// Comma-separated list of the above (Kong's proxy_listen syntax).
core::Result<std::vector<ListenAddress>> parseListenList(std::string_view text);

bool isLoopback(const boost::asio::ip::address& a);

// An acceptor bound and listening; SO_REUSEPORT lets every worker own a listener on the same
// port so the kernel spreads connections without a shared accept queue.
core::Result<boost::asio::ip::tcp::acceptor> listen(boost::asio::io_context& ctx,
                                                    const boost::asio::ip::tcp::endpoint& ep,
                                                    bool reusePort);

}  // namespace archway::net
