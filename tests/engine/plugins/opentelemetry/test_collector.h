#pragma once
// A real OTLP/HTTP collector for tests: listens on 127.0.0.1:0, keeps connections alive,
// records every request (target, headers, body) and answers with scripted statuses (200 once
// the script runs out). Its own threads; stopped and joined by the destructor.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

class TestCollector {
 public:
  TestCollector();
  ~TestCollector();
  unsigned short port() const { return port_; }
  std::string url(const std::string& path = "/v1/traces") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  struct Request {
    std::string method, target, body;
    std::map<std::string, std::string> headers;  // lower-case names
  };
  // Statuses for the next requests, in order.
  void script(std::vector<int> statuses);
  // Waits until at least n requests arrived; false on timeout.
  bool waitFor(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::vector<Request> requests();
  int connections() const { return connections_.load(); }

 private:
  void serve(int fd);
  int listenFd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread acceptThread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
  std::vector<int> open_;
  std::deque<int> script_;
  std::vector<Request> requests_;
};
