#include "plugins/tcp_log/tcp_log.h"

#include "plugins/log/connection.h"
#include "plugins/log/log_instance.h"
#include "plugins/log/validate.h"

namespace archway::plugins {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

milliseconds msFrom(const json::value& v) {
  return milliseconds(static_cast<std::int64_t>(v.to_number<double>()));
}

struct TcpSettings {
  std::string host;
  std::uint16_t port = 0;
  milliseconds timeout{10000};
  milliseconds keepalive{60000};
  bool tls = false;
  std::string sni;
};

// Sender thread only.
class TcpHandler final : public log::Handler {
 public:
  explicit TcpHandler(TcpSettings s)
      : s_(std::move(s)), peer_(s_.host + ":" + std::to_string(s_.port)) {}

  bool send(std::span<const log::Entry* const> batch, std::string& error) override {
    buffer_.clear();
    for (const auto* e : batch) {
      buffer_ += e->text();
      buffer_ += '\n';
    }
    bool reused = conn_.reusable(s_.keepalive);
    bool ok = attempt(reused, error);
    if (!ok && reused) {
      // The kept connection died while idle: once more on a fresh one.
      error.clear();
      ok = attempt(false, error);
    }
    if (buffer_.capacity() > (4u << 20)) std::string().swap(buffer_);
    return ok;
  }

 private:
  bool attempt(bool reuse, std::string& error) {
    if (!reuse) {
      std::string e;
      if (!conn_.connect(s_.host, s_.port, s_.timeout, s_.tls, s_.sni, e)) {
        error = (e.rfind("TLS", 0) == 0 ? "failed to perform TLS handshake to "
                                        : "failed to connect to ") +
                peer_ + ": " + e;
        return false;
      }
    }
    std::string e;
    if (!conn_.sendAll(buffer_, s_.timeout, e)) {
      conn_.close();
      error = "failed to send data to " + peer_ + ": " + e;
      return false;
    }
    conn_.touch();
    return true;
  }

  TcpSettings s_;
  std::string peer_;
  log::Connection conn_;
  std::string buffer_;
};

class TcpLogFactory final : public Factory {
 public:
  TcpLogFactory() {
    using namespace schema;
    schema_.name = "tcp-log";
    schema_.fields = {
        str("host")
            .req()
            .validate([](const json::value& v) { return log::checkHost(v.as_string()); })
            .describe("The IP address or host name to send data to."),
        integer("port").req().between(0, 65535).describe(
            "The port to send data to on the upstream server."),
        number("timeout").def(10000).describe(
            "An optional timeout in milliseconds when sending data to the upstream server."),
        number("keepalive")
            .def(60000)
            .describe("An optional value in milliseconds that defines how long an idle "
                      "connection lives before being closed."),
        boolean("tls").req().def(false).describe(
            "Indicates whether to perform a TLS handshake against the remote server."),
        str("tls_sni").describe(
            "An optional string that defines the SNI (Server Name Indication) hostname to send "
            "in the TLS handshake."),
        log::luaCodeField(),
    };
  }
  std::string_view name() const override { return "tcp-log"; }
  int priority() const override { return 7; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin& entity,
                                                        const json::object& config,
                                                        CompileEnv& env) const override {
    log::warnIgnoredLua("tcp-log", entity, config);
    TcpSettings s;
    s.host = std::string(config.at("host").as_string());
    s.port = static_cast<std::uint16_t>(config.at("port").to_number<std::int64_t>());
    s.timeout = msFrom(config.at("timeout"));
    s.keepalive = msFrom(config.at("keepalive"));
    s.tls = config.at("tls").as_bool();
    if (auto it = config.find("tls_sni"); it != config.end() && it->value().is_string())
      s.sni = std::string(it->value().as_string());
    auto queue =
        log::obtainQueue(env, entity.id, "tcp-log plugin " + entity.id,
                         log::unqueuedPluginSettings(), std::make_shared<TcpHandler>(std::move(s)));
    return std::shared_ptr<const Instance>(
        std::make_shared<log::QueuedLogInstance>(log::sharedSerializer(env), queue));
  }

 private:
  schema::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeTcpLogPlugin() {
  return std::make_unique<TcpLogFactory>();
}

}  // namespace archway::plugins
