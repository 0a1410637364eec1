#pragma once
// A built-in httpbin-like upstream for the demo config, the tour and tests (never benchmarks):
//   /anything[/...]   echoes method, path, query args, headers and body as JSON
//   /status/{code}    answers with that status
//   /delay/{seconds}  answers after that many seconds (fractions allowed, at most 10)
//   /bytes/{n}        answers n pseudo-random bytes (at most 10 MiB)
//   /                 a small JSON index of the above
// HTTP/1.1 with keep-alive, on its own thread(s) and io_context(s).
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"

namespace archway::demo {

class DemoServer {
 public:
  DemoServer();
  ~DemoServer();  // stops
  DemoServer(const DemoServer&) = delete;
  DemoServer& operator=(const DemoServer&) = delete;

  // Binds address:port (port 0 picks a free one) and starts serving; returns the bound port.
  core::Result<std::uint16_t> start(const std::string& address, std::uint16_t port,
                                    int threads = 1);
  void stop();  // closes the listener and every connection, joins the threads
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace archway::demo
