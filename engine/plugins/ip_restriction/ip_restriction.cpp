#include "plugins/ip_restriction/ip_restriction.h"

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "plugins/ip_restriction/ip_set.h"

namespace archway::plugins {
namespace {

namespace json = boost::json;

bool nonEmptyArray(const json::object& c, std::string_view key) {
  auto it = c.find(key);
  return it != c.end() && it->value().is_array() && !it->value().as_array().empty();
}

class IpRestriction final : public Instance {
 public:
  IpRestriction(ip::IpSet allow, ip::IpSet deny, int status, std::optional<std::string> message)
      : allow_(std::move(allow)), deny_(std::move(deny)), status_(status) {
    if (message) {
      body_ = "{\"message\":\"";
      appendJsonEscaped(body_, *message);
      body_ += "\"}";
    }
  }

  std::uint8_t phases() const override { return kAccess; }

  void access(Context& ctx) const override {
    auto addr = ip::parseAddress(ctx.clientIp);
    if (!addr) {
      // Kong: a client without an IP (a unix socket) is always refused.
      ctx.exitMessage(403,
                      "Cannot identify the client IP address, unix domain sockets are not "
                      "supported.");
      return;
    }
    if (!deny_.empty() && deny_.contains(*addr)) return refuse(ctx);
    if (!allow_.empty() && !allow_.contains(*addr)) return refuse(ctx);
  }

 private:
  void refuse(Context& ctx) const {
    if (!body_.empty()) {
      ctx.exit(status_, body_);
      return;
    }
    // Kong 3.4+'s default names the client (3.0-3.3 said "Your IP address is not allowed").
    // A refusal is the slow path; the string is built only here.
    std::string message = "IP address not allowed: ";
    message.append(ctx.clientIp);
    ctx.exitMessage(status_, message);
  }

  ip::IpSet allow_, deny_;
  int status_;
  std::string body_;  // the configured message as Kong's JSON, precomputed
};

class IpRestrictionFactory final : public Factory {
 public:
  IpRestrictionFactory() {
    using namespace schema;
    auto ipOrCidr = [] {
      return str("").validate([](const json::value& v) -> std::string {
        std::string_view s = v.as_string();
        if (ip::isValidIpOrCidr(s)) return {};
        return "invalid ip or cidr range: '" + std::string(s) + "'";
      });
    };
    schema_.name = "ip-restriction";
    schema_.protocols = {"http", "https", "tcp", "tls", "grpc", "grpcs"};
    schema_.fields = {
        arrayOf("allow", ipOrCidr())
            .describe("List of IPs or CIDR ranges to allow. One of `config.allow` or "
                      "`config.deny` must be specified."),
        arrayOf("deny", ipOrCidr())
            .describe("List of IPs or CIDR ranges to deny. One of `config.allow` or "
                      "`config.deny` must be specified."),
        number("status").describe(
            "The HTTP status of the requests that will be rejected by the plugin."),
        str("message").describe("The message to send as a response body to rejected requests."),
    };
    // Kong's entity check at_least_one_of {config.allow, config.deny} (an entity-level error).
    schema_.entityCheck = [](const json::object& c, core::Errors& errors) {
      if (!nonEmptyArray(c, "allow") && !nonEmptyArray(c, "deny")) {
        errors.push_back(
            {"", "at least one of these fields must be non-empty: 'config.allow', 'config.deny'"});
      }
    };
  }

  std::string_view name() const override { return "ip-restriction"; }
  int priority() const override { return 990; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&, const json::object& c,
                                                        CompileEnv&) const override {
    core::Errors errors;
    auto build = [&](std::string_view key) {
      ip::IpSet set;
      auto it = c.find(key);
      if (it != c.end() && it->value().is_array()) {
        const auto& a = it->value().as_array();
        for (std::size_t i = 0; i < a.size(); ++i) {
          std::string_view s = a[i].as_string();
          if (!set.add(s)) {
            errors.push_back({"config." + std::string(key) + "[" + std::to_string(i) + "]",
                              "invalid ip or cidr range: '" + std::string(s) + "'"});
          }
        }
      }
      set.finish();
      return set;
    };
    ip::IpSet allow = build("allow"), deny = build("deny");
    if (!errors.empty()) return errors;
    int status = 403;
    if (auto it = c.find("status"); it != c.end() && it->value().is_number())
      status = static_cast<int>(it->value().to_number<double>());
    std::optional<std::string> message;
    if (auto it = c.find("message"); it != c.end() && it->value().is_string())
      message = std::string(it->value().as_string());
    return std::shared_ptr<const Instance>(
        std::make_shared<IpRestriction>(std::move(allow), std::move(deny), status, message));
  }

 private:
  schema::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeIpRestrictionPlugin() {
  return std::make_unique<IpRestrictionFactory>();
}

}  // namespace archway::plugins
