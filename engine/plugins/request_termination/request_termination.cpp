#include "plugins/request_termination/request_termination.h"

#include "plugins/args.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <optional>
#include <string>

namespace archway::plugins {
namespace {

namespace json = boost::json;

// Kong's DEFAULT_RESPONSE table (request-termination/handler.lua): the message used when
// neither `message` nor `body` is configured. Other statuses answer with an empty body.
std::optional<std::string> defaultMessage(int status) {
  switch (status) {
    case 401:
      return "Unauthorized";
    case 404:
      return "Not found";
    case 405:
      return "Method not allowed";
    case 500:
      return "An unexpected error occurred";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service unavailable";
    default:
      return std::nullopt;
  }
}

// Kong's typedefs.header_name (kong/tools/http.lua validate_header_name).
std::string checkHeaderName(const json::value& v) {
  std::string_view s = v.as_string();
  if (s.empty()) return "no header name provided";
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) {
      return "bad header name '" + std::string(s) +
             "', allowed characters are A-Z, a-z, 0-9, '_', and '-'";
    }
  }
  return {};
}

bool present(const json::object& c, std::string_view key) {
  auto it = c.find(key);
  return it != c.end() && it->value().is_string() && !it->value().as_string().empty();
}

// application/x-www-form-urlencoded decoding ('+' is a space), as ngx.decode_args does.
std::string formDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hexDigit(s[i + 1]) >= 0 &&
               hexDigit(s[i + 2]) >= 0) {
      out += static_cast<char>(hexDigit(s[i + 1]) * 16 + hexDigit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Adds `value` under `key` the way Kong's get_headers / get_query build their tables: the
// first value as is, later ones turn the entry into an array.
void addMulti(json::object& o, const std::string& key, json::value value) {
  auto it = o.find(key);
  if (it == o.end()) {
    o[key] = std::move(value);
  } else if (it->value().is_array()) {
    it->value().as_array().push_back(std::move(value));
  } else {
    json::array a;
    a.push_back(std::move(it->value()));
    a.push_back(std::move(value));
    it->value() = std::move(a);
  }
}

// ngx.req.get_uri_args / ngx.decode_args: "a" is true, "a=" is "", repeated names collect.
json::object decodeArgs(std::string_view q) {
  json::object out;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      std::string key = formDecode(pair.substr(0, eq));
      if (!key.empty()) {
        if (eq == std::string_view::npos)
          addMulti(out, key, true);
        else
          addMulti(out, key, json::string(formDecode(pair.substr(eq + 1))));
      }
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// Kong's Admin API shapes of the matched route and service. config::toJson has the same
// shapes but lives in archway_config, which links the plugin registry (a link cycle).
json::value optString(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  return json::value(*s);
}

json::value arrayOrNull(const std::vector<std::string>& v) {
  if (v.empty()) return nullptr;
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object routeJson(const core::Route& r) {
  json::object headers;
  for (const auto& [k, v] : r.headers) headers[k] = arrayOrNull(v);
  json::object o;
  o["id"] = r.id;
  o["name"] = optString(r.name);
  o["protocols"] = arrayOrNull(r.protocols);
  o["methods"] = arrayOrNull(r.methods);
  o["hosts"] = arrayOrNull(r.hosts);
  o["paths"] = arrayOrNull(r.paths);
  if (headers.empty())
    o["headers"] = nullptr;
  else
    o["headers"] = std::move(headers);
  o["strip_path"] = r.stripPath;
  o["preserve_host"] = r.preserveHost;
  o["regex_priority"] = r.regexPriority;
  o["path_handling"] = r.pathHandling;
  o["https_redirect_status_code"] = r.httpsRedirectStatusCode;
  o["request_buffering"] = r.requestBuffering;
  o["response_buffering"] = r.responseBuffering;
  if (r.serviceId)
    o["service"] = json::object{{"id", *r.serviceId}};
  else
    o["service"] = nullptr;
  o["tags"] = arrayOrNull(r.tags);
  o["created_at"] = r.createdAt;
  o["updated_at"] = r.updatedAt;
  return o;
}

json::object serviceJson(const core::Service& s) {
  json::object o;
  o["id"] = s.id;
  o["name"] = optString(s.name);
  o["protocol"] = s.protocol;
  o["host"] = s.host;
  o["port"] = s.port;
  o["path"] = optString(s.path);
  o["retries"] = s.retries;
  o["connect_timeout"] = s.connectTimeout;
  o["write_timeout"] = s.writeTimeout;
  o["read_timeout"] = s.readTimeout;
  o["enabled"] = s.enabled;
  o["tags"] = arrayOrNull(s.tags);
  o["created_at"] = s.createdAt;
  o["updated_at"] = s.updatedAt;
  return o;
}

std::string hostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

class RequestTermination final : public Instance {
 public:
  RequestTermination(int status, std::optional<std::string> message,
                     std::optional<std::string> body, std::string contentType, bool echo,
                     std::optional<std::string> trigger)
      : status_(status),
        message_(std::move(message)),
        echo_(echo),
        trigger_(std::move(trigger)),
        hostname_(hostName()) {
    if (body) {
      exitBody_ = std::move(*body);
      // Kong sends a configured body with the configured type; without one nginx's default
      // type applies.
      exitType_ = contentType.empty() ? "text/plain" : std::move(contentType);
    } else if (message_) {
      exitBody_ = "{\"message\":\"";
      appendJsonEscaped(exitBody_, *message_);
      exitBody_ += "\"}";
      exitType_ = "application/json; charset=utf-8";
    }
    // Neither: Kong exits with no body at all.
  }

  std::uint8_t phases() const override { return kAccess; }
  // Echo reports the request body, so the proxy must read it first.
  bool needsRequestBody() const override { return echo_; }

  void access(Context& ctx) const override {
    if (trigger_ && !ctx.hasHeader(*trigger_) && !ctx.hasQueryArg(*trigger_)) return;
    if (echo_) {
      std::string body = json::serialize(echoBody(ctx));
      ctx.exit(status_, body);
      return;
    }
    ctx.exit(status_, exitBody_, exitType_);
  }

 private:
  // Kong's echo document (request-termination/handler.lua). `kong.node_id` is not known to a
  // plugin here and is left out.
  json::object echoBody(const Context& ctx) const {
    json::object request;
    request["scheme"] = ctx.scheme;
    std::string_view host = ctx.host;
    if (!host.empty() && host.front() == '[') {
      auto close = host.find(']');
      host = host.substr(0, close == std::string_view::npos ? host.size() : close + 1);
    } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
      host = host.substr(0, colon);
    }
    request["host"] = lower(host);
    request["port"] = ctx.port;
    json::object headers;
    ctx.forEachHeader([&](std::string_view name, std::string_view value) {
      addMulti(headers, lower(name), json::string(value));
    });
    request["headers"] = std::move(headers);
    request["query"] = decodeArgs(ctx.query);
    request["body"] = parsedBody(ctx);
    if (ctx.bodyAvailable)
      request["raw_body"] = ctx.body();
    else
      request["raw_body"] = nullptr;
    request["method"] = ctx.method;
    request["path"] = ctx.path;
    request["uri_captures"] = json::object{{"named", json::object()}, {"unnamed", json::object()}};

    json::object out;
    if (message_)
      out["message"] = *message_;
    else
      out["message"] = nullptr;
    out["kong"] =
        json::object{{"worker_pid", static_cast<std::int64_t>(getpid())}, {"hostname", hostname_}};
    out["request"] = std::move(request);
    if (ctx.route)
      out["matched_route"] = routeJson(*ctx.route);
    else
      out["matched_route"] = nullptr;
    if (ctx.service)
      out["matched_service"] = serviceJson(*ctx.service);
    else
      out["matched_service"] = nullptr;
    return out;
  }

  // kong.request.get_body(): JSON and form bodies decoded by their Content-Type, else null.
  static json::value parsedBody(const Context& ctx) {
    if (!ctx.bodyAvailable || ctx.body().empty()) return nullptr;
    std::string type = lower(ctx.header("content-type"));
    if (type.find("application/json") != std::string::npos) {
      boost::system::error_code ec;
      json::value v = json::parse(ctx.body(), ec);
      if (ec) return nullptr;
      return v;
    }
    if (type.find("application/x-www-form-urlencoded") != std::string::npos)
      return decodeArgs(ctx.body());
    return nullptr;
  }

  int status_;
  std::optional<std::string> message_;
  bool echo_;
  std::optional<std::string> trigger_;
  std::string hostname_;
  std::string exitBody_;
  std::string exitType_;
};

class RequestTerminationFactory final : public Factory {
 public:
  RequestTerminationFactory() {
    using namespace schema;
    schema_.name = "request-termination";
    schema_.protocols = {"grpc", "grpcs", "http", "https"};
    schema_.fields = {
        integer("status_code")
            .req()
            .def(503)
            .between(100, 599)
            .describe("The response code to send. Must be an integer between 100 and 599."),
        str("message").describe("The message to send, if using the default response generator."),
        str("content_type")
            .describe("Content type of the raw response configured with `config.body`."),
        str("body").describe(
            "The raw response body to send. This is mutually exclusive with the `config.message` "
            "field."),
        boolean("echo").req().def(false).describe(
            "When set, the plugin will echo a copy of the request back to the client."),
        str("trigger")
            .validate(checkHeaderName)
            .describe("A string representing an HTTP header name."),
    };
    // Kong's custom_validator on the config record: its errors belong to `config` itself.
    schema_.entityCheck = [](const json::object& c, core::Errors& errors) {
      const bool message = present(c, "message"), type = present(c, "content_type"),
                 body = present(c, "body");
      if (message && (type || body)) {
        errors.push_back({"", "message cannot be used with content_type or body"});
      } else if (type && !body) {
        errors.push_back({"", "content_type requires a body"});
      } else if (c.at("echo").as_bool() && (type || body)) {
        errors.push_back({"", "echo cannot be used with content_type and body"});
      }
    };
  }

  std::string_view name() const override { return "request-termination"; }
  int priority() const override { return 2; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&, const json::object& c,
                                                        CompileEnv&) const override {
    const int status = static_cast<int>(c.at("status_code").to_number<std::int64_t>());
    auto optStr = [&](std::string_view key) -> std::optional<std::string> {
      auto it = c.find(key);
      if (it == c.end() || !it->value().is_string()) return std::nullopt;
      return std::string(it->value().as_string());
    };
    std::optional<std::string> message = optStr("message");
    std::optional<std::string> body = optStr("body");
    if (!message && !body) message = defaultMessage(status);
    return std::shared_ptr<const Instance>(std::make_shared<RequestTermination>(
        status, std::move(message), std::move(body), optStr("content_type").value_or(""),
        c.at("echo").as_bool(), optStr("trigger")));
  }

 private:
  schema::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeRequestTerminationPlugin() {
  return std::make_unique<RequestTerminationFactory>();
}

}  // namespace archway::plugins
