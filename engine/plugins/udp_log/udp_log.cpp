#include "plugins/udp_log/udp_log.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "plugins/log/log_instance.h"
#include "plugins/log/validate.h"

namespace archway::plugins {
namespace {

namespace json = boost::json;

// Sender thread only. One connected socket, resolved again after an error.
class UdpHandler final : public log::Handler {
 public:
  UdpHandler(std::string host, std::uint16_t port, std::chrono::milliseconds timeout)
      : host_(std::move(host)),
        port_(port),
        timeout_(timeout),
        peer_(host_ + ":" + std::to_string(port_)) {}
  ~UdpHandler() override { closeSocket(); }

  bool send(std::span<const log::Entry* const> batch, std::string& error) override {
    if (fd_ < 0 && !open(error)) return false;
    std::size_t failed = 0;
    std::string firstError;
    for (const auto* e : batch) {
      std::string_view text = e->text();
      ssize_t n;
      do {
        n = ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
      } while (n < 0 && errno == EINTR);
      if (n < 0) {
        if (failed++ == 0) firstError = std::strerror(errno);
      }
    }
    if (failed == 0) return true;
    closeSocket();
    error = "could not send data to " + peer_ + ": " + firstError + " (" + std::to_string(failed) +
            " of " + std::to_string(batch.size()) + " entries)";
    return false;
  }

 private:
  bool open(std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    std::string service = std::to_string(port_);
    if (int rc = ::getaddrinfo(host_.c_str(), service.c_str(), &hints, &res); rc != 0) {
      error = "could not connect to " + peer_ + ": " + gai_strerror(rc);
      return false;
    }
    std::string last = "no address";
    for (addrinfo* ai = res; ai && fd_ < 0; ai = ai->ai_next) {
      int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) {
        last = std::strerror(errno);
        continue;
      }
      timeval tv{};
      tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
      tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        fd_ = fd;
      } else {
        last = std::strerror(errno);
        ::close(fd);
      }
    }
    ::freeaddrinfo(res);
    if (fd_ < 0) error = "could not connect to " + peer_ + ": " + last;
    return fd_ >= 0;
  }

  void closeSocket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string host_;
  std::uint16_t port_;
  std::chrono::milliseconds timeout_;
  std::string peer_;
  int fd_ = -1;
};

class UdpLogFactory final : public Factory {
 public:
  UdpLogFactory() {
    using namespace schema;
    schema_.name = "udp-log";
    schema_.fields = {
        str("host").req().validate(
            [](const json::value& v) { return log::checkHost(v.as_string()); }),
        integer("port").req().between(0, 65535),
        number("timeout").def(10000).describe(
            "An optional timeout in milliseconds when sending data to the upstream server."),
        log::luaCodeField(),
    };
  }
  std::string_view name() const override { return "udp-log"; }
  int priority() const override { return 8; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin& entity,
                                                        const json::object& config,
                                                        CompileEnv& env) const override {
    log::warnIgnoredLua("udp-log", entity, config);
    auto handler = std::make_shared<UdpHandler>(
        std::string(config.at("host").as_string()),
        static_cast<std::uint16_t>(config.at("port").to_number<std::int64_t>()),
        std::chrono::milliseconds(
            static_cast<std::int64_t>(config.at("timeout").to_number<double>())));
    auto queue = log::obtainQueue(env, entity.id, "udp-log plugin " + entity.id,
                                  log::unqueuedPluginSettings(), handler);
    return std::shared_ptr<const Instance>(
        std::make_shared<log::QueuedLogInstance>(log::sharedSerializer(env), queue));
  }

 private:
  schema::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeUdpLogPlugin() {
  return std::make_unique<UdpLogFactory>();
}

}  // namespace archway::plugins
