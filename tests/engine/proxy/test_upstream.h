#pragma once
// A small real HTTP/1.1 upstream for proxy tests: thread per connection, keep-alive, counts the
// connections it accepted and remembers the last request it saw. Paths:
//   /sleep/<ms>  answers after that many milliseconds
//   anything else answers 200 "ok"
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

class TestUpstream {
 public:
  // closeAfterEachResponse: answer with keep-alive but close the connection right after, like
  // an upstream whose keepalive timeout just expired.
  explicit TestUpstream(bool closeAfterEachResponse = false);
  ~TestUpstream();
  unsigned short port() const { return port_; }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }

  struct Seen {
    std::string method, target;
    std::map<std::string, std::string> headers;  // lower-case names
    std::size_t bodySize = 0;
  };
  Seen last();

 private:
  void serve(boost::asio::ip::tcp::socket socket);
  boost::asio::io_context ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::atomic<bool> stopping_{false};
  bool closeAfterEachResponse_ = false;
  std::thread acceptThread_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<boost::asio::ip::tcp::socket*> open_;
  Seen last_;
};

// A blocking HTTP/1.1 client connection for tests.
class TestClient {
 public:
  explicit TestClient(unsigned short port);
  struct Response {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
  };
  Response get(const std::string& target, const std::map<std::string, std::string>& headers = {},
               const std::string& method = "GET");
  bool open() const;

 private:
  boost::asio::io_context ctx_;
  boost::asio::ip::tcp::socket socket_;
  std::string buffer_;
};
