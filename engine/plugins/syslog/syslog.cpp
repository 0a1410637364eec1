#include "plugins/syslog/syslog.h"

#include <syslog.h>

#include <atomic>
#include <mutex>

#include "plugins/log/log_instance.h"
#include "plugins/log/validate.h"

namespace archway::plugins {
namespace syslog_plugin {
namespace {

std::atomic<Sink> gSink{nullptr};

void systemSink(int priority, std::string_view message) {
  static std::once_flag opened;
  // The facility rides in each message's priority; openlog only names the sender.
  std::call_once(opened, [] { ::openlog("kong", LOG_PID, LOG_USER); });
  ::syslog(priority, "%.*s", static_cast<int>(message.size()), message.data());
}

}  // namespace

void setSinkForTesting(Sink sink) {
  gSink.store(sink);
}

}  // namespace syslog_plugin

namespace {

namespace json = boost::json;

const std::vector<std::string>& severities() {
  static const std::vector<std::string> v{"debug", "info", "notice", "warning",
                                          "err",   "crit", "alert",  "emerg"};
  return v;
}

// syslog(3) levels; also Kong's LOG_PRIORITIES (emerg 0 .. debug 7).
int levelOf(std::string_view severity) {
  static constexpr std::pair<std::string_view, int> kLevels[] = {
      {"debug", LOG_DEBUG}, {"info", LOG_INFO}, {"notice", LOG_NOTICE}, {"warning", LOG_WARNING},
      {"err", LOG_ERR},     {"crit", LOG_CRIT}, {"alert", LOG_ALERT},   {"emerg", LOG_EMERG}};
  for (const auto& [name, level] : kLevels) {
    if (name == severity) return level;
  }
  return LOG_INFO;
}

int facilityOf(std::string_view name) {
  static constexpr std::pair<std::string_view, int> kFacilities[] = {
      {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"cron", LOG_CRON},
      {"daemon", LOG_DAEMON}, {"ftp", LOG_FTP},           {"kern", LOG_KERN},
      {"lpr", LOG_LPR},       {"mail", LOG_MAIL},         {"news", LOG_NEWS},
      {"syslog", LOG_SYSLOG}, {"user", LOG_USER},         {"uucp", LOG_UUCP},
      {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},     {"local2", LOG_LOCAL2},
      {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},     {"local5", LOG_LOCAL5},
      {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}};
  for (const auto& [n, f] : kFacilities) {
    if (n == name) return f;
  }
  return LOG_USER;
}

struct Levels {
  int logLevel = LOG_INFO;
  int successful = LOG_INFO;
  int clientErrors = LOG_INFO;
  int serverErrors = LOG_INFO;

  int forStatus(int status) const {
    if (status >= 500) return serverErrors;
    if (status >= 400) return clientErrors;
    return successful;
  }
};

class SyslogInstance final : public log::QueuedLogInstance {
 public:
  SyslogInstance(std::shared_ptr<const log::Serializer> s, std::shared_ptr<log::LogQueue> q,
                 Levels levels)
      : QueuedLogInstance(std::move(s), std::move(q)), levels_(levels) {}

 protected:
  bool accepts(const Context& ctx) const override {
    return levels_.forStatus(ctx.status) <= levels_.logLevel;
  }
  int tag(const Context& ctx) const override { return levels_.forStatus(ctx.status); }

 private:
  Levels levels_;
};

// Sender thread only. The entry's tag is its syslog level.
class SyslogHandler final : public log::Handler {
 public:
  explicit SyslogHandler(int facility) : facility_(facility) {}
  bool send(std::span<const log::Entry* const> batch, std::string&) override {
    syslog_plugin::Sink sink = syslog_plugin::gSink.load();
    if (!sink) sink = syslog_plugin::systemSink;
    for (const auto* e : batch) sink(facility_ | e->tag(), e->text());
    return true;
  }

 private:
  int facility_;
};

class SyslogFactory final : public Factory {
 public:
  SyslogFactory() {
    using namespace schema;
    auto severity = [](std::string name) {
      return str(std::move(name)).def("info").req().one(severities());
    };
    schema_.name = "syslog";
    schema_.fields = {
        severity("log_level"),
        severity("successful_severity"),
        severity("client_errors_severity"),
        severity("server_errors_severity"),
        log::luaCodeField(),
        str("facility")
            .def("user")
            .req()
            .one({"auth",   "authpriv", "cron",   "daemon", "ftp",    "kern",   "lpr",
                  "mail",   "news",     "syslog", "user",   "uucp",   "local0", "local1",
                  "local2", "local3",   "local4", "local5", "local6", "local7"})
            .describe("The facility is used by the operating system to decide how to handle "
                      "each log message."),
    };
  }
  std::string_view name() const override { return "syslog"; }
  int priority() const override { return 4; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin& entity,
                                                        const json::object& config,
                                                        CompileEnv& env) const override {
    log::warnIgnoredLua("syslog", entity, config);
    Levels levels;
    levels.logLevel = levelOf(config.at("log_level").as_string());
    levels.successful = levelOf(config.at("successful_severity").as_string());
    levels.clientErrors = levelOf(config.at("client_errors_severity").as_string());
    levels.serverErrors = levelOf(config.at("server_errors_severity").as_string());
    int facility = facilityOf(config.at("facility").as_string());
    auto queue =
        log::obtainQueue(env, entity.id, "syslog plugin " + entity.id,
                         log::unqueuedPluginSettings(), std::make_shared<SyslogHandler>(facility));
    return std::shared_ptr<const Instance>(
        std::make_shared<SyslogInstance>(log::sharedSerializer(env), queue, levels));
  }

 private:
  schema::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeSyslogPlugin() {
  return std::make_unique<SyslogFactory>();
}

}  // namespace archway::plugins
