#include "plugins/http_log/http_log.h"

#include <openssl/evp.h>

#include <charconv>
#include <map>

#include "core/log.h"
#include "http/chunked_scanner.h"
#include "http/head_parser.h"
#include "http/head_writer.h"
#include "plugins/log/connection.h"
#include "plugins/log/log_instance.h"
#include "plugins/log/validate.h"

namespace archway::plugins {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

milliseconds msFrom(const json::value& v) {
  double d = v.is_double() ? v.as_double() : static_cast<double>(v.to_number<std::int64_t>());
  return milliseconds(static_cast<std::int64_t>(d));
}

struct HttpSettings {
  log::HttpUrl url;
  std::string method;
  std::string contentType;
  milliseconds timeout{10000};
  milliseconds keepalive{60000};
  std::vector<std::pair<std::string, std::string>> headers;
  bool singleEntry = true;  // queue.max_batch_size == 1: the body is the entry itself
};

// Sends batches over one kept-alive connection. Sender thread only.
class HttpHandler final : public log::Handler {
 public:
  explicit HttpHandler(HttpSettings s) : s_(std::move(s)) {
    // The head is the same for every batch but Content-Length: build it once.
    http::appendRequestLine(headPrefix_, s_.method, s_.url.target);
    std::string host = s_.url.ipv6 ? "[" + s_.url.host + "]" : s_.url.host;
    bool defaultPort = (s_.url.scheme == "http" && s_.url.port == 80) ||
                       (s_.url.scheme == "https" && s_.url.port == 443);
    if (!defaultPort) host += ":" + std::to_string(s_.url.port);
    http::appendHeader(headPrefix_, "Host", host);
    http::appendHeader(headPrefix_, "User-Agent", "archway-http-log");
    http::appendHeader(headPrefix_, "Content-Type", s_.contentType);
    if (!s_.url.userinfo.empty())
      http::appendHeader(headPrefix_, "Authorization", "Basic " + base64(s_.url.userinfo));
    for (const auto& [name, value] : s_.headers) http::appendHeader(headPrefix_, name, value);
    peer_ = s_.url.host + ":" + std::to_string(s_.url.port);
  }

  bool send(std::span<const log::Entry* const> batch, std::string& error) override {
    request_.assign(headPrefix_);
    std::size_t length = 0;
    if (s_.singleEntry && batch.size() == 1) {
      length = batch[0]->text().size();
    } else {
      length = 2 + (batch.empty() ? 0 : batch.size() - 1);
      for (const auto* e : batch) length += e->text().size();
    }
    request_ += "Content-Length: ";
    request_ += std::to_string(length);
    request_ += "\r\n\r\n";
    if (s_.singleEntry && batch.size() == 1) {
      request_ += batch[0]->text();
    } else {
      request_ += '[';
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (i) request_ += ',';
        request_ += batch[i]->text();
      }
      request_ += ']';
    }

    // A kept-alive connection the server dropped in between fails on first use: one more try
    // on a fresh connection, as HTTP clients do.
    bool reused = conn_.reusable(s_.keepalive);
    int status = exchange(reused, error);
    if (status < 0 && reused) {
      error.clear();
      status = exchange(false, error);
    }
    if (request_.capacity() > (4u << 20)) std::string().swap(request_);
    if (status < 0) {
      error = "failed request to " + peer_ + ": " + error;
      return false;
    }
    core::log::debug("http-log sent data log server",
                     {{"peer", peer_}, {"status", std::to_string(status)}});
    if (status < 300) return true;
    error = "request to " + peer_ + " returned status code " + std::to_string(status) +
            " and body " + body_;
    return false;
  }

 private:
  // One request and its response. The status, or -1 with `error`.
  int exchange(bool reuse, std::string& error) {
    if (!reuse &&
        !conn_.connect(s_.url.host, s_.url.port, s_.timeout, s_.url.scheme == "https", {}, error)) {
      return -1;
    }
    if (!conn_.sendAll(request_, s_.timeout, error)) {
      conn_.close();
      return -1;
    }
    int status = readResponse(error);
    if (status < 0) conn_.close();
    return status;
  }

  int readResponse(std::string& error) {
    static constexpr std::size_t kMaxBody = 1 << 20;  // kept for the error message only
    buffer_.clear();
    body_.clear();
    http::ResponseHead head;
    http::Limits limits;
    http::ParseError perr;
    for (;;) {
      auto st = http::parseResponseHead(buffer_.data(), buffer_.size(), limits, head, perr);
      if (st == http::ParseStatus::complete) break;
      if (st == http::ParseStatus::error) {
        error = "invalid response: " + std::string(perr.message);
        return -1;
      }
      long n = conn_.receive(buffer_, s_.timeout, error);
      if (n <= 0) {
        if (n == 0) error = "closed";
        return -1;
      }
    }
    if (head.status >= 100 && head.status < 200) {
      // An interim response (100 Continue): the final one follows.
      buffer_.erase(0, head.headEnd);
      return readResponse(error);
    }
    std::string rest = buffer_.substr(head.headEnd);
    bool keep = head.keepAlive;
    if (head.noBody) {
      // nothing
    } else if (head.chunked) {
      http::ChunkedScanner scanner;
      std::size_t used = scanner.feed(rest.data(), rest.size());
      appendBody(rest.substr(0, used), kMaxBody);
      while (!scanner.done()) {
        if (scanner.error()) {
          error = "invalid chunked body";
          return -1;
        }
        std::string more;
        long n = conn_.receive(more, s_.timeout, error);
        if (n <= 0) {
          if (n == 0) error = "closed";
          return -1;
        }
        used = scanner.feed(more.data(), more.size());
        appendBody(std::string_view(more).substr(0, used), kMaxBody);
      }
    } else if (head.contentLength >= 0) {
      auto want = static_cast<std::size_t>(head.contentLength);
      std::size_t have = std::min(rest.size(), want);
      appendBody(std::string_view(rest).substr(0, have), kMaxBody);
      while (have < want) {
        std::string more;
        long n = conn_.receive(more, s_.timeout, error);
        if (n <= 0) {
          if (n == 0) error = "closed";
          return -1;
        }
        std::size_t take = std::min(more.size(), want - have);
        appendBody(std::string_view(more).substr(0, take), kMaxBody);
        have += take;
      }
    } else {
      // Until close.
      appendBody(rest, kMaxBody);
      for (;;) {
        std::string more;
        long n = conn_.receive(more, s_.timeout, error);
        if (n < 0) return -1;
        if (n == 0) break;
        appendBody(more, kMaxBody);
      }
      keep = false;
    }
    if (keep) {
      conn_.touch();
    } else {
      conn_.close();
    }
    return head.status;
  }

  void appendBody(std::string_view b, std::size_t max) {
    if (body_.size() < max) body_.append(b.substr(0, max - body_.size()));
  }

  HttpSettings s_;
  std::string headPrefix_;
  std::string peer_;
  log::Connection conn_;
  std::string request_, buffer_, body_;
};

std::string checkHeaderNames(const json::value& v) {
  for (const auto& kv : v.as_object()) {
    std::string_view name = kv.key();
    if (name.empty()) return "no header name provided";
    for (char c : name) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_';
      if (!ok)
        return "bad header name '" + std::string(name) +
               "', allowed characters are A-Z, a-z, 0-9, '_', and '-'";
    }
    if (iequals(name, "host")) return "cannot contain 'Host' header";
    if (iequals(name, "content-length")) return "cannot contain 'Content-Length' header";
    if (iequals(name, "content-type")) return "cannot contain 'Content-Type' header";
  }
  return {};
}

class HttpLogFactory final : public Factory {
 public:
  HttpLogFactory() {
    using namespace schema;
    schema_.name = "http-log";
    schema_.fields = {
        str("http_endpoint")
            .req()
            .validate([](const json::value& v) -> std::string {
              std::string_view url = v.as_string();
              if (auto m = log::checkUrl(url); !m.empty()) return m;
              // Kong accepts any scheme here and fails at send time; Archway speaks http(s).
              if (!log::parseHttpUrl(url)) return "unsupported url: expected an http or https URL";
              return {};
            })
            .describe("A string representing a URL, such as "
                      "https://example.com/path/to/resource?q=search."),
        str("method")
            .def("POST")
            .one({"POST", "PUT", "PATCH"})
            .describe("An optional method used to send data to the HTTP server. Supported "
                      "values are `POST` (default), `PUT`, and `PATCH`."),
        str("content_type")
            .def("application/json")
            .one({"application/json", "application/json; charset=utf-8"})
            .describe("Indicates the type of data sent. The only available option is "
                      "`application/json`."),
        number("timeout").def(10000).describe(
            "An optional timeout in milliseconds when sending data to the upstream server."),
        number("keepalive")
            .def(60000)
            .describe("An optional value in milliseconds that defines how long an idle "
                      "connection will live before being closed."),
        integer("retry_count")
            .describe(
                "Number of times to retry when sending data to the upstream server (deprecated: "
                "use queue.max_retry_time)."),
        integer("queue_size")
            .describe(
                "Maximum number of log entries to be sent on each message to the upstream server "
                "(deprecated: use queue.max_batch_size)."),
        number("flush_timeout")
            .describe("Optional time in seconds. If `queue_size` > 1, this is the max idle "
                      "time before sending a log with less than `queue_size` records "
                      "(deprecated: use queue.max_coalescing_delay)."),
        mapOf("headers", str("value"))
            .validate(checkHeaderNames)
            .describe("An optional table of headers included in the HTTP message to the "
                      "upstream server. Values are indexed by header name, and each header "
                      "name accepts a single string."),
        log::queueField(),
        log::luaCodeField(),
    };
    schema_.entityCheck = [](const json::object& config, core::Errors& errors) {
      auto url = log::parseHttpUrl(config.at("http_endpoint").as_string());
      auto it = config.find("headers");
      if (!url || url->userinfo.empty() || it == config.end() || !it->value().is_object()) return;
      for (const auto& kv : it->value().as_object()) {
        if (iequals(kv.key(), "authorization")) {
          errors.push_back({"",
                            "specifying both an 'Authorization' header and user info in "
                            "'http_endpoint' is not allowed"});
          return;
        }
      }
    };
  }
  std::string_view name() const override { return "http-log"; }
  int priority() const override { return 12; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin& entity,
                                                        const json::object& config,
                                                        CompileEnv& env) const override {
    log::warnIgnoredLua("http-log", entity, config);
    HttpSettings s;
    auto url = log::parseHttpUrl(config.at("http_endpoint").as_string());
    if (!url) return core::Error{"config.http_endpoint", "unsupported url"};
    s.url = std::move(*url);
    s.method = std::string(config.at("method").as_string());
    s.contentType = std::string(config.at("content_type").as_string());
    s.timeout = msFrom(config.at("timeout"));
    s.keepalive = msFrom(config.at("keepalive"));
    if (auto it = config.find("headers"); it != config.end() && it->value().is_object()) {
      for (const auto& kv : it->value().as_object()) {
        if (kv.value().is_string())
          s.headers.emplace_back(std::string(kv.key()), std::string(kv.value().as_string()));
      }
    }

    log::QueueSettings q;
    if (auto it = config.find("queue"); it != config.end() && it->value().is_object())
      q = log::queueSettingsFromJson(it->value().as_object());
    // Kong's Queue.get_plugin_params: the deprecated fields still steer the queue.
    if (auto it = config.find("queue_size");
        it != config.end() && it->value().is_int64() && it->value().as_int64() != 1) {
      q.maxBatchSize = static_cast<int>(it->value().as_int64());
      core::log::warn(
          "the queue_size parameter is deprecated, please update your "
          "configuration to use queue.max_batch_size instead",
          {{"id", entity.id}});
    }
    if (auto it = config.find("flush_timeout"); it != config.end() && it->value().is_number()) {
      double v = it->value().to_number<double>();
      if (v != 2) {
        q.maxCoalescingDelay = v;
        core::log::warn(
            "the flush_timeout parameter is deprecated, please update your "
            "configuration to use queue.max_coalescing_delay instead",
            {{"id", entity.id}});
      }
    }
    if (auto it = config.find("retry_count");
        it != config.end() && it->value().is_int64() && it->value().as_int64() != 10) {
      core::log::warn(
          "the retry_count parameter no longer works, please update your "
          "configuration to use initial_retry_delay and max_retry_time instead",
          {{"id", entity.id}});
    }
    s.singleEntry = q.maxBatchSize == 1 || q.concurrencyLimit == -1;

    std::string tag = "http-log plugin " + entity.id;
    if (entity.instanceName) tag += " (" + *entity.instanceName + ")";
    auto queue = log::obtainQueue(env, entity.id, tag, q, std::make_shared<HttpHandler>(s));
    return std::shared_ptr<const Instance>(
        std::make_shared<log::QueuedLogInstance>(log::sharedSerializer(env), queue));
  }

 private:
  schema::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeHttpLogPlugin() {
  return std::make_unique<HttpLogFactory>();
}

}  // namespace archway::plugins
