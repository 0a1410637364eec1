#pragma once
// Real servers the logging plugin tests send to, each on 127.0.0.1 port 0 with its own
// threads, stopped (sockets shut down, threads joined) by the destructor:
//   HttpSink  an HTTP/1.1 server (plain or TLS) recording every request; its answers' statuses
//             can be scripted (500 first, then 200).
//   LineSink  a TCP server (plain or TLS) collecting newline-terminated lines per connection.
//   UdpSink   a UDP socket collecting datagrams.
// Plus a self-signed certificate made at run time for the TLS variants.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace logtest {

struct SelfSigned {
  std::string certPem, keyPem;
};
SelfSigned makeSelfSigned();  // CN=localhost, RSA 2048, valid one day

class HttpSink {
 public:
  // closeAfterResponse: answer with keep-alive, then close the connection anyway (a server
  // whose idle timeout just expired).
  explicit HttpSink(bool tls = false, bool closeAfterResponse = false);
  ~HttpSink();
  unsigned short port() const { return port_; }

  struct Request {
    std::string method, target, body;
    std::map<std::string, std::string> headers;  // lower-case names
    int connection = 0;                          // 1-based, in accept order
  };
  // Statuses for the next answers, in order; afterwards 200.
  void script(std::vector<int> statuses);
  bool waitRequests(std::size_t n, std::chrono::milliseconds timeout);
  std::vector<Request> requests();
  int connections() const { return connections_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  unsigned short port_ = 0;
  std::atomic<int> connections_{0};
};

class LineSink {
 public:
  // closeAfterFirstLine: the server closes each connection after reading one line.
  explicit LineSink(bool tls = false, bool closeAfterFirstLine = false);
  ~LineSink();
  unsigned short port() const { return port_; }
  bool waitLines(std::size_t n, std::chrono::milliseconds timeout);
  std::vector<std::string> lines();
  int connections() const { return connections_.load(); }
  std::string lastSni();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  unsigned short port_ = 0;
  std::atomic<int> connections_{0};
};

class UdpSink {
 public:
  UdpSink();
  ~UdpSink();
  unsigned short port() const { return port_; }
  bool waitDatagrams(std::size_t n, std::chrono::milliseconds timeout);
  std::vector<std::string> datagrams();

 private:
  boost::asio::io_context ctx_;
  boost::asio::ip::udp::socket socket_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> got_;
  std::thread thread_;
};

}  // namespace logtest
