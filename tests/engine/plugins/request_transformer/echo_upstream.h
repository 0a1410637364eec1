#pragma once
// Test support for the cors, request-transformer, response-transformer and proxy-cache proxy
// tests: an upstream that answers with canned responses per path and otherwise echoes the
// request it got as JSON, and a client that sends bodies and keeps repeated response headers.
// Thread per connection; everything stops in the destructor.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace plugintest {

class EchoUpstream {
 public:
  struct Canned {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };

  EchoUpstream();
  ~EchoUpstream();
  EchoUpstream(const EchoUpstream&) = delete;
  EchoUpstream& operator=(const EchoUpstream&) = delete;

  unsigned short port() const { return port_; }
  int requests() const { return requests_.load(); }
  // Requests whose target starts with `prefix` get this answer instead of the echo.
  void setResponse(const std::string& prefix, Canned canned);

  // Echo body: {"method":..,"target":..,"headers":{lower-case name: value or [values]},
  // "body":..}, Content-Type application/json.

 private:
  void serve(boost::asio::ip::tcp::socket socket);
  boost::asio::io_context ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptThread_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<boost::asio::ip::tcp::socket*> open_;
  std::vector<std::pair<std::string, Canned>> canned_;
};

struct Response {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined with ", "
  bool has(const std::string& name) const { return headers.count(name) != 0; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// One request on a fresh connection to 127.0.0.1:port.
Response request(unsigned short port, const std::string& method, const std::string& target,
                 const std::vector<std::pair<std::string, std::string>>& headers = {},
                 const std::string& body = {});

}  // namespace plugintest
