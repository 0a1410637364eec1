#pragma once
// A small real HTTP/1.1 upstream for proxy tests: thread per connection, keep-alive, counts the
// connections it accepted and remembers the last request it saw. Paths:
//   /sleep/<ms>  answers after that many milliseconds
//   anything else answers 200 "ok"
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// Accepts on 127.0.0.1:0 and hands each connection to `serve` on a thread of its own. stop()
// (also the destructor) stops accepting, shuts down the sockets the serving threads track()
// while they block on them, and joins every thread. Declare it after what `serve` uses.
class ConnectionThreads {
 public:
  explicit ConnectionThreads(std::function<void(boost::asio::ip::tcp::socket)> serve);
  ~ConnectionThreads() { stop(); }
  void stop();
  unsigned short port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  bool stopping() const { return stopping_.load(); }
  void track(boost::asio::ip::tcp::socket* s);
  void untrack(boost::asio::ip::tcp::socket* s);

 private:
  boost::asio::io_context ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptThread_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<boost::asio::ip::tcp::socket*> open_;
};

class TestUpstream {
 public:
  // closeAfterEachResponse: answer with keep-alive but close the connection right after, like
  // an upstream whose keepalive timeout just expired.
  explicit TestUpstream(bool closeAfterEachResponse = false);
  ~TestUpstream() { threads_.stop(); }
  unsigned short port() const { return threads_.port(); }
  int connections() const { return threads_.accepted(); }
  int requests() const { return requests_.load(); }

  struct Seen {
    std::string method, target;
    std::map<std::string, std::string> headers;  // lower-case names
    std::size_t bodySize = 0;
  };
  Seen last();

 private:
  void serve(boost::asio::ip::tcp::socket socket);
  std::atomic<int> requests_{0};
  bool closeAfterEachResponse_ = false;
  std::mutex mutex_;
  Seen last_;
  ConnectionThreads threads_;  // last: its threads use the members above
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
  // A request with a body (sent with its Content-Length).
  Response send(const std::string& method, const std::string& target, const std::string& body,
                const std::map<std::string, std::string>& headers = {});
  bool open() const;

 private:
  boost::asio::io_context ctx_;
  boost::asio::ip::tcp::socket socket_;
  std::string buffer_;
};
