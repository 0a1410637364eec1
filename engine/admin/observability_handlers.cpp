#include "admin/observability_handlers.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "admin/entity_handlers.h"
#include "admin/request_body.h"
#include "core/log.h"
#include "core/log_writer.h"
#include "trace/sampler.h"

namespace archway::admin {
namespace json = boost::json;
namespace {

json::object tracingJson(const trace::SamplingPolicy& p) {
  return json::object{{"enabled", p.enabled},
                      {"sample_rate", p.rate},
                      {"slow_ms", p.slowMs},
                      {"errors", p.keepServerErrors},
                      {"client_errors", p.keepClientErrors},
                      {"respect_parent", p.respectParentSampled}};
}

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
  if (get) return jsonResponse(200, tracingJson(sampler->get()));
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
  return jsonResponse(200, tracingJson(p));
}

AdminResponse handleErrorLogs(std::string_view query) {
  std::size_t limit = 100;
  core::log::Level level = core::log::Level::debug;
  std::string target = "/?";
  target.append(query);
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return messageResponse(400, "invalid query string");
  for (auto p : url->params()) {
    if (p.key == "limit") {
      long long v = 0;
      auto [end, ec] = std::from_chars(p.value.data(), p.value.data() + p.value.size(), v);
      if (ec != std::errc() || end != p.value.data() + p.value.size() || v < 1 || v > 1000)
        return messageResponse(400, "limit must be an integer between 1 and 1000");
      limit = static_cast<std::size_t>(v);
    } else if (p.key == "level") {
      if (!core::log::parseLevel(p.value, level) || level == core::log::Level::off)
        return messageResponse(400, "level must be one of debug, info, warn, error");
    }
  }
  json::array data;
  for (const auto& r : core::log::recent(limit, level)) {
    boost::system::error_code ec;
    auto v = json::parse(core::log::formatJson(r), ec);
    if (!ec) data.push_back(std::move(v));
  }
  return jsonResponse(200, json::object{{"data", std::move(data)}});
}

}  // namespace archway::admin
