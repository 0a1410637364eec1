#include "plugins/opentelemetry/opentelemetry.h"

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/uuid.h"
#include "plugins/opentelemetry/exporter.h"
#include "plugins/opentelemetry/http_poster.h"
#include "trace/recorder.h"
#include "trace/sampler.h"

#ifndef ARCHWAY_VERSION
#define ARCHWAY_VERSION "0.0.0"
#endif

namespace archway::plugins {
namespace {
namespace json = boost::json;
using namespace schema;

// Kong's typedefs.url validator (kong/db/schema/typedefs.lua validate_url).
std::string checkUrl(const json::value& v) {
  if (!v.is_string()) return {};
  std::string_view s = v.as_string();
  auto colon = s.find("://");
  if (colon == std::string_view::npos || colon == 0) return "missing scheme in url";
  std::string_view rest = s.substr(colon + 3);
  if (rest.empty() || rest.front() == '/' || rest.front() == ':' || rest.front() == '?') {
    return "missing host in url";
  }
  return {};
}

bool headerNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Kong's typedefs.header_name.
std::string checkHeaderName(std::string_view name) {
  bool ok = !name.empty();
  for (char c : name) ok = ok && headerNameChar(c);
  if (ok) return {};
  return "bad header name '" + std::string(name) +
         "', allowed characters are A-Z, a-z, 0-9, '_', and '-'";
}

const std::vector<std::string> kExtractors{"b3",      "w3c", "jaeger", "ot",
                                           "datadog", "aws", "gcp",    "instana"};
const std::vector<std::string> kInjectors{"preserve", "b3",      "b3-single", "w3c", "jaeger",
                                          "ot",       "datadog", "aws",       "gcp", "instana"};
const std::vector<std::string> kFormats{"b3",      "b3-single", "w3c", "jaeger", "ot",
                                        "datadog", "aws",       "gcp", "instana"};

Field timeout(std::string name, int dflt) {
  return integer(std::move(name)).def(dflt).between(0, 2147483646);
}

Schema makeSchema() {
  Schema s;
  s.name = "opentelemetry";
  s.fields = {
      str("traces_endpoint").validate(checkUrl).describe("OTLP/HTTP traces endpoint"),
      str("logs_endpoint").validate(checkUrl),
      mapOf("headers", str("value")).validate([](const json::value& v) -> std::string {
        if (!v.is_object()) return {};
        for (const auto& kv : v.as_object()) {
          if (auto m = checkHeaderName(kv.key()); !m.empty()) return m;
        }
        return {};
      }),
      mapOf("resource_attributes", str("value").validate([](const json::value& v) {
        return v.is_string() && v.as_string().empty() ? std::string("required field missing")
                                                      : std::string();
      })),
      record("queue",
             {
                 integer("max_batch_size").def(200).between(1, 1000000),
                 number("max_coalescing_delay").def(1).between(0, 3600),
                 integer("max_entries").def(10000).between(1, 1000000),
                 integer("max_bytes"),
                 number("max_retry_time").def(60),
                 number("initial_retry_delay").def(0.01).between(0.001, 1000000),
                 number("max_retry_delay").def(60).between(0.001, 1000000),
                 integer("concurrency_limit").def(1).validate([](const json::value& v) {
                   return v.is_int64() && v.as_int64() != 1 && v.as_int64() != -1
                              ? std::string("expected one of: -1, 1")
                              : std::string();
                 }),
             }),
      integer("batch_span_count").describe("deprecated: use queue.max_batch_size"),
      integer("batch_flush_delay").describe("deprecated: use queue.max_coalescing_delay"),
      timeout("connect_timeout", 1000),
      timeout("send_timeout", 5000),
      timeout("read_timeout", 5000),
      str("http_response_header_for_traceid"),
      str("header_type")
          .def("preserve")
          .one({"preserve", "ignore", "b3", "b3-single", "w3c", "jaeger", "ot", "aws", "gcp",
                "datadog"}),
      number("sampling_rate").between(0, 1),
      record("propagation",
             {
                 arrayOf("extract", str("format").one(kExtractors)),
                 arrayOf("clear", str("header").validate([](const json::value& v) {
                   return v.is_string() ? checkHeaderName(v.as_string()) : std::string();
                 })),
                 arrayOf("inject", str("format").one(kInjectors)),
                 str("default_format").req().def("w3c").one(kFormats),
             }),
      // Kong's deprecated shorthand for traces_endpoint.
      str("endpoint").validate(checkUrl).describe("deprecated: use traces_endpoint"),
  };
  s.entityCheck = [](const json::object& c, core::Errors& errors) {
    auto set = [&](const char* k) {
      auto it = c.find(k);
      return it != c.end() && it->value().is_string();
    };
    if (!set("traces_endpoint") && !set("logs_endpoint") && !set("endpoint")) {
      errors.push_back({"",
                        "at least one of these fields must be non-empty: 'traces_endpoint', "
                        "'logs_endpoint'"});
    }
  };
  return s;
}

std::optional<std::string> optString(const json::object& c, std::string_view key) {
  auto it = c.find(key);
  if (it == c.end() || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().as_string());
}

double num(const json::value& v, double dflt) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_double()) return v.as_double();
  return dflt;
}

double numAt(const json::object& o, std::string_view key, double dflt) {
  auto it = o.find(key);
  return it == o.end() ? dflt : num(it->value(), dflt);
}

const std::string& processInstanceId() {
  // Kong sends its node id; an Archway process gets one random id for its lifetime.
  static const std::string id = core::uuid4();
  return id;
}

class OpentelemetryInstance final : public Instance {
 public:
  OpentelemetryInstance(std::shared_ptr<otel::Exporter> exporter,
                        std::optional<double> samplingRate, std::string traceIdHeader,
                        std::vector<std::string> clear)
      : exporter_(std::move(exporter)),
        samplingRate_(samplingRate),
        traceIdHeader_(std::move(traceIdHeader)),
        clear_(std::move(clear)) {}

  std::uint8_t phases() const override {
    std::uint8_t p = 0;
    if (!clear_.empty()) p |= kAccess;
    if (!traceIdHeader_.empty()) p |= kHeaderFilter;
    if (exporter_) p |= kLog;
    return p;
  }

  void access(Context& ctx) const override {
    for (const auto& h : clear_) ctx.removeRequestHeader(h);
  }

  void headerFilter(Context& ctx) const override {
    if (!ctx.traceId.empty()) ctx.addResponseHeader(traceIdHeader_, ctx.traceId);
  }

  void log(Context& ctx) const override {
    trace::TraceRecorder* rec = ctx.trace;
    if (!rec || !exporter_) return;
    bool keep;
    if (samplingRate_) {
      auto parent = rec->parentSampled();
      keep = parent ? *parent : trace::Sampler::ratioSampled(rec->traceId(), *samplingRate_);
    } else {
      keep = rec->wouldKeep(ctx.status, ctx.totalUs);
    }
    if (!keep) return;
    trace::RequestSummary s;
    s.method = ctx.method;
    s.scheme = ctx.scheme;
    s.host = ctx.host;
    s.path = ctx.path;
    s.clientIp = ctx.clientIp;
    if (ctx.route) {
      s.routeId = ctx.route->id;
      if (ctx.route->name) s.routeName = *ctx.route->name;
    }
    if (ctx.service && ctx.service->name) s.serviceName = *ctx.service->name;
    s.status = ctx.status;
    s.upstreamStatus = ctx.upstreamStatus;
    s.totalUs = ctx.totalUs;
    exporter_->enqueue(rec->snapshot(s));
  }

 private:
  std::shared_ptr<otel::Exporter> exporter_;  // null: no traces_endpoint
  std::optional<double> samplingRate_;
  std::string traceIdHeader_;
  std::vector<std::string> clear_;
};

class OpentelemetryFactory final : public Factory {
 public:
  std::string_view name() const override { return "opentelemetry"; }
  int priority() const override { return 14; }
  const Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&, const json::object& c,
                                                        CompileEnv& env) const override {
    std::optional<std::string> endpoint = optString(c, "traces_endpoint");
    if (!endpoint) endpoint = optString(c, "endpoint");
    std::shared_ptr<otel::Exporter> exporter;
    if (endpoint) {
      auto url = otel::parseHttpUrl(*endpoint);
      if (!url) return core::Error{"config.traces_endpoint", url.errors().front().message};
      otel::ExporterConfig ec;
      ec.endpoint = *url;
      ec.endpointText = *endpoint;
      if (auto it = c.find("headers"); it != c.end() && it->value().is_object()) {
        for (const auto& kv : it->value().as_object()) {
          if (kv.value().is_string()) ec.headers.emplace_back(kv.key(), kv.value().as_string());
        }
      }
      trace::Attributes overrides;
      if (auto it = c.find("resource_attributes"); it != c.end() && it->value().is_object()) {
        for (const auto& kv : it->value().as_object()) {
          if (kv.value().is_string()) overrides.emplace_back(kv.key(), kv.value().as_string());
        }
      }
      ec.resource = trace::resourceAttributes(processInstanceId(), ARCHWAY_VERSION, overrides);
      ec.scopeVersion = ARCHWAY_VERSION;
      if (auto it = c.find("queue"); it != c.end() && it->value().is_object()) {
        const auto& q = it->value().as_object();
        ec.maxBatchSpans = static_cast<std::size_t>(numAt(q, "max_batch_size", 200));
        ec.maxCoalescingDelay = numAt(q, "max_coalescing_delay", 1);
        ec.maxEntries = static_cast<std::size_t>(numAt(q, "max_entries", 10000));
        ec.maxRetryTime = numAt(q, "max_retry_time", 60);
        ec.initialRetryDelay = numAt(q, "initial_retry_delay", 0.01);
        ec.maxRetryDelay = numAt(q, "max_retry_delay", 60);
      }
      // The deprecated fields win when set, as in Kong's handler (get_params).
      if (auto it = c.find("batch_span_count"); it != c.end() && !it->value().is_null()) {
        ec.maxBatchSpans = static_cast<std::size_t>(std::max(1.0, num(it->value(), 200)));
      }
      if (auto it = c.find("batch_flush_delay"); it != c.end() && !it->value().is_null()) {
        ec.maxCoalescingDelay = std::max(0.0, num(it->value(), 1));
      }
      ec.timeouts.connectMs = static_cast<int>(numAt(c, "connect_timeout", 1000));
      ec.timeouts.sendMs = static_cast<int>(numAt(c, "send_timeout", 5000));
      ec.timeouts.readMs = static_cast<int>(numAt(c, "read_timeout", 5000));
      exporter = env.persistent().get<otel::ExporterRegistry>("opentelemetry.exporters")->get(ec);
    }
    std::optional<double> rate;
    if (auto it = c.find("sampling_rate"); it != c.end() && !it->value().is_null()) {
      rate = num(it->value(), 1);
    }
    std::vector<std::string> clear;
    if (auto it = c.find("propagation"); it != c.end() && it->value().is_object()) {
      const auto& p = it->value().as_object();
      if (auto cl = p.find("clear"); cl != p.end() && cl->value().is_array()) {
        for (const auto& h : cl->value().as_array()) {
          if (h.is_string()) clear.emplace_back(h.as_string());
        }
      }
    }
    return std::shared_ptr<const Instance>(std::make_shared<OpentelemetryInstance>(
        std::move(exporter), rate, optString(c, "http_response_header_for_traceid").value_or(""),
        std::move(clear)));
  }

 private:
  Schema schema_ = makeSchema();
};

}  // namespace

std::unique_ptr<Factory> makeOpentelemetryPlugin() {
  return std::make_unique<OpentelemetryFactory>();
}

}  // namespace archway::plugins
