#pragma once
// A tiny real DNS server for tests: UDP on 127.0.0.1 (port 0), answering real DNS packets from a
// table the test edits while it runs. A and SRV records with a TTL (SRV answers carry their
// targets' A records in the additional section); NOERROR with no answer for a type a name does
// not have; NXDOMAIN for unknown names. It can be switched to answer SERVFAIL to everything, to
// play a broken nameserver. One thread; the destructor stops it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

class DnsTestServer {
 public:
  struct Srv {
    std::uint16_t priority = 10, weight = 10, port = 0;
    std::string target;
  };

  DnsTestServer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    socklen_t len = sizeof sin;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len);
    port_ = ntohs(sin.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~DnsTestServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  unsigned short port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  void setA(const std::string& name, std::vector<std::string> ips, std::uint32_t ttl) {
    std::lock_guard lock(mu_);
    auto& r = records_[lower(name)];
    r.a = std::move(ips);
    r.ttl = ttl;
  }
  void setSrv(const std::string& name, std::vector<Srv> srv, std::uint32_t ttl) {
    std::lock_guard lock(mu_);
    auto& r = records_[lower(name)];
    r.srv = std::move(srv);
    r.ttl = ttl;
  }
  void remove(const std::string& name) {
    std::lock_guard lock(mu_);
    records_.erase(lower(name));
  }
  void setServfail(bool on) { servfail_ = on; }
  // Queries received for `name` (any type).
  int queries(const std::string& name) {
    std::lock_guard lock(mu_);
    return counts_[lower(name)];
  }

 private:
  struct Record {
    std::vector<std::string> a;
    std::vector<Srv> srv;
    std::uint32_t ttl = 1;
  };

  static std::string lower(std::string s) {
    for (char& c : s) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    while (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  static void put16(std::string& out, unsigned v) {
    out += static_cast<char>((v >> 8) & 0xff);
    out += static_cast<char>(v & 0xff);
  }
  static void put32(std::string& out, std::uint32_t v) {
    put16(out, v >> 16);
    put16(out, v & 0xffff);
  }
  static void putName(std::string& out, const std::string& name) {
    std::size_t start = 0;
    std::string n = lower(name);
    while (start < n.size()) {
      auto dot = n.find('.', start);
      if (dot == std::string::npos) dot = n.size();
      out += static_cast<char>(dot - start);
      out.append(n, start, dot - start);
      start = dot + 1;
    }
    out += '\0';
  }
  static void putA(std::string& out, const std::string& ip, std::uint32_t ttl, bool pointer,
                   const std::string& name) {
    if (pointer)
      put16(out, 0xc00c);
    else
      putName(out, name);
    put16(out, 1);  // A
    put16(out, 1);  // IN
    put32(out, ttl);
    put16(out, 4);
    in_addr a{};
    ::inet_pton(AF_INET, ip.c_str(), &a);
    out.append(reinterpret_cast<const char*>(&a), 4);
  }

  void run() {
    unsigned char buf[1500];
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      sockaddr_in from{};
      socklen_t fromLen = sizeof from;
      ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
      if (n < 17) continue;
      // The question: labels from offset 12, then type and class.
      std::size_t i = 12;
      std::string name;
      while (i < static_cast<std::size_t>(n) && buf[i] != 0) {
        std::size_t l = buf[i];
        if (i + 1 + l > static_cast<std::size_t>(n)) break;
        if (!name.empty()) name += '.';
        name.append(reinterpret_cast<const char*>(buf + i + 1), l);
        i += 1 + l;
      }
      const std::size_t qend = i + 5;
      if (qend > static_cast<std::size_t>(n)) continue;
      const unsigned qtype = (buf[i + 1] << 8) | buf[i + 2];
      std::string out;
      out.append(reinterpret_cast<const char*>(buf), 2);  // id
      std::string answers, additional;
      unsigned ancount = 0, arcount = 0, rcode = 0;
      {
        std::lock_guard lock(mu_);
        const std::string key = lower(name);
        ++counts_[key];
        auto it = records_.find(key);
        if (servfail_) {
          rcode = 2;
        } else if (it == records_.end()) {
          rcode = 3;  // NXDOMAIN
        } else if (qtype == 1) {
          for (const auto& ip : it->second.a) {
            putA(answers, ip, it->second.ttl, true, key);
            ++ancount;
          }
        } else if (qtype == 33) {
          for (const auto& s : it->second.srv) {
            put16(answers, 0xc00c);
            put16(answers, 33);
            put16(answers, 1);
            put32(answers, it->second.ttl);
            std::string rdata;
            put16(rdata, s.priority);
            put16(rdata, s.weight);
            put16(rdata, s.port);
            putName(rdata, s.target);
            put16(answers, static_cast<unsigned>(rdata.size()));
            answers += rdata;
            ++ancount;
            if (auto t = records_.find(lower(s.target)); t != records_.end()) {
              for (const auto& ip : t->second.a) {
                putA(additional, ip, t->second.ttl, false, s.target);
                ++arcount;
              }
            }
          }
        }
      }
      put16(out, 0x8180 | rcode);  // response, recursion desired and available
      put16(out, 1);
      put16(out, ancount);
      put16(out, 0);
      put16(out, arcount);
      out.append(reinterpret_cast<const char*>(buf + 12), qend - 12);
      out += answers;
      out += additional;
      ::sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), fromLen);
    }
  }

  int fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> servfail_{false};
  std::mutex mu_;
  std::map<std::string, Record> records_;
  std::map<std::string, int> counts_;
  std::thread thread_;
};
