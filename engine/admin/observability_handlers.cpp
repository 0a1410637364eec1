#include "admin/observability_handlers.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>

#include "admin/entity_handlers.h"
#include "admin/query_filters.h"
#include "admin/request_body.h"
#include "core/log.h"
#include "core/log_writer.h"
#include "trace/sampler.h"
#include "trace/trace_json.h"

namespace archway::admin {
namespace json = boost::json;
namespace {

// A number from JSON, or from a form's string.
std::optional<double> number(const json::value& v) {
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_string()) {
    std::string_view s = v.as_string();
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc() && p == s.data() + s.size() && std::isfinite(d)) return d;
  }
  return std::nullopt;
}

std::optional<bool> boolean(const json::value& v) {
  if (v.is_bool()) return v.as_bool();
  if (v.is_string()) {
    if (v.as_string() == "true") return true;
    if (v.as_string() == "false") return false;
  }
  return std::nullopt;
}

}  // namespace

AdminResponse handleTracing(trace::Sampler* sampler, const AdminRequest& req) {
  if (!sampler) return messageResponse(404, "Not found");
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (get) return jsonResponse(200, trace::toJson(sampler->get()));
  if (req.method != "PATCH" && req.method != "PUT" && req.method != "POST")
    return messageResponse(405, "Method not allowed");
  auto body = parseRequestBody(req.body, req.contentType);
  if (!body) return messageResponse(400, body.errors().front().message);
  trace::SamplingPolicy p = sampler->get();
  core::Errors errors;
  for (const auto& [key, value] : body->fields) {
    if (key == "sample_rate") {
      auto d = number(value);
      if (!d) errors.push_back({"sample_rate", "expected a number"});
      else if (*d < 0 || *d > 1) errors.push_back({"sample_rate", "value should be between 0 and 1"});
      else p.rate = *d;
    } else if (key == "slow_ms") {
      auto d = number(value);
      if (!d || *d != std::floor(*d)) errors.push_back({"slow_ms", "expected an integer"});
      else if (*d < 0 || *d > 4294967295.0)
        errors.push_back({"slow_ms", "value should be between 0 and 4294967295"});
      else p.slowMs = static_cast<std::uint32_t>(*d);
    } else if (key == "enabled" || key == "errors" || key == "client_errors" ||
               key == "respect_parent") {
      auto b = boolean(value);
      if (!b) {
        errors.push_back({std::string(key), "expected a boolean"});
        continue;
      }
      bool& field = key == "enabled"         ? p.enabled
                    : key == "errors"        ? p.keepServerErrors
                    : key == "client_errors" ? p.keepClientErrors
                                             : p.respectParentSampled;
      field = *b;
    } else {
      errors.push_back({std::string(key), "unknown field"});
    }
  }
  if (!errors.empty()) return schemaViolation(errors);
  sampler->set(p);
  core::log::info("tracing changed", {{"sample_rate", std::to_string(p.rate)},
                                      {"slow_ms", std::to_string(p.slowMs)}});
  return jsonResponse(200, trace::toJson(p));
}

namespace {

// ?limit= (1..1000, default 100) and ?since= (a sequence number) of the log endpoints; the other
// keys go to `other`, which returns an error message or "". Returns the first error or "".
std::string parseLogQuery(
    std::string_view query, std::size_t& limit, std::uint64_t& since,
    const std::function<std::string(std::string_view key, std::string_view value)>& other) {
  std::string target = "/?";
  target.append(query);
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return "invalid query string";
  for (auto p : url->params()) {
    const char* first = p.value.data();
    const char* last = first + p.value.size();
    if (p.key == "limit") {
      if (!parseLimit(p.value, limit)) return "limit must be an integer between 1 and 1000";
    } else if (p.key == "since") {
      auto [end, ec] = std::from_chars(first, last, since);
      if (ec != std::errc() || end != last || p.value.empty())
        return "since must be a sequence number (the next_since of an earlier answer)";
    } else if (auto error = other(p.key, p.value); !error.empty()) {
      return error;
    }
  }
  return {};
}

// ?status=502 (exact) or ?status=5xx (class); false when it is neither.
bool parseStatusFilter(std::string_view v, int& exact, int& cls) {
  exact = 0;
  if ((cls = statusClass(v))) return true;
  if (v.size() != 3 || v[0] < '1' || v[0] > '5') return false;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), exact);
  return ec == std::errc() && end == v.data() + v.size();
}

}  // namespace

AdminResponse handleErrorLogs(std::string_view query) {
  std::size_t limit = 100;
  std::uint64_t since = 0;
  core::log::Level level = core::log::Level::debug;
  auto error = parseLogQuery(query, limit, since, [&](std::string_view key, std::string_view v) {
    if (key == "level" && (!core::log::parseLevel(v, level) || level == core::log::Level::off))
      return std::string("level must be one of debug, info, warn, error");
    return std::string();
  });
  if (!error.empty()) return messageResponse(400, error);
  std::uint64_t newest = 0;
  auto records = core::log::recentSince(limit, level, since, newest);
  if (since > newest) records = core::log::recentSince(limit, level, 0, newest);  // a restart
  json::array data;
  for (const auto& r : records) {
    boost::system::error_code ec;
    auto v = json::parse(core::log::formatJson(r), ec);
    if (!ec) data.push_back(std::move(v));
  }
  return jsonResponse(200, json::object{{"data", std::move(data)}, {"next_since", newest}});
}

AdminResponse handleAccessLogs(const AdminContext& ctx, std::string_view query) {
  if (!ctx.accessLog) return messageResponse(404, "Not found");
  std::size_t limit = 100;
  std::uint64_t since = 0;
  int exact = 0, cls = 0;
  std::vector<std::string> routes;  // the names (else ids) a line's route may have
  auto error = parseLogQuery(query, limit, since, [&](std::string_view key, std::string_view v) {
    if (key == "status" && !parseStatusFilter(v, exact, cls))
      return std::string("status must be a status code like 502 or a class like 5xx");
    if (key == "route") {
      routes.emplace_back(v);
      // A line names its route by name, else by id: a filter by either finds it.
      const auto config = ctx.config ? ctx.config() : nullptr;
      if (!config) return std::string();
      for (const auto& r : config->routes) {
        if (r.id == v && r.name) routes.push_back(*r.name);
        if (r.name && *r.name == v) routes.push_back(r.id);
      }
    }
    return std::string();
  });
  if (!error.empty()) return messageResponse(400, error);
  std::string body = "{\"data\":[";
  std::size_t count = 0;
  auto visit = [&](const AccessLine& l) {
    if (exact && l.status != exact) return true;
    if (cls && l.status / 100 != cls) return true;
    if (!routes.empty() && std::find(routes.begin(), routes.end(), l.route) == routes.end())
      return true;
    if (count++) body += ',';
    body += l.line;
    return count < limit;
  };
  const AccessLogRead read = ctx.accessLog(since, visit);
  if (since > read.newest) ctx.accessLog(0, visit);  // the node restarted: numbers began anew
  body += "],\"next_since\":" + std::to_string(read.newest);
  if (!read.produced) {
    body +=
        ",\"message\":\"the access log was off (no --access-log file, no console, no reader "
        "in the last " +
        std::to_string(read.leaseSeconds) + " s): requests are kept from now on, while this " +
        "endpoint is read at least every " + std::to_string(read.leaseSeconds) + " s\"";
  }
  body += '}';
  return AdminResponse{200, std::move(body)};
}

}  // namespace archway::admin
