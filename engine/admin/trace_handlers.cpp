#include "admin/trace_handlers.h"

#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <cstdlib>

#include "admin/query_filters.h"
#include "trace/trace_json.h"

namespace archway::admin {
namespace {

TraceHandlerResult message(int status, std::string_view text) {
  return {status, boost::json::serialize(boost::json::object{{"message", text}})};
}

bool parseInt(std::string_view s, long long& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parseMs(std::string_view s, double& out) {
  // from_chars for double is in GCC 12's libstdc++; it rejects "nan"/"inf" only when asked
  // to, so check the value as well.
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0 && out < 1e12;
}

}  // namespace

TraceHandlerResult handleTraceList(const trace::TraceStore& store, std::string_view query) {
  trace::TraceQuery q;
  std::string target = "/?";
  target.append(query);
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return message(400, "invalid query string");
  for (auto p : url->params()) {  // percent-decoded
    const std::string& key = p.key;
    const std::string& value = p.value;
    if (key == "limit") {
      if (!parseLimit(value, q.limit)) {
        return message(400, "limit must be an integer between 1 and 1000");
      }
    } else if (key == "route") {
      q.route = value;
    } else if (key == "status") {
      long long v = 0;
      if (const int cls = statusClass(value)) {
        q.statusClass = cls;
      } else if (parseInt(value, v) && v >= 100 && v <= 599) {
        q.status = static_cast<int>(v);
      } else {
        return message(400, "status must be a status code (100-599) or a class like 5xx");
      }
    } else if (key == "min_ms") {
      double ms = 0;
      if (!parseMs(value, ms)) return message(400, "min_ms must be a non-negative number");
      q.minUs = static_cast<std::uint64_t>(ms * 1000.0);
    }
  }
  return {200, trace::renderTraces(store.recent(q))};
}

TraceHandlerResult handleTraceById(const trace::TraceStore& store, std::string_view id) {
  auto traceId = trace::parseTraceIdHex(id);
  if (!traceId) return message(400, "trace id must be 32 hexadecimal digits");
  auto found = store.byId(*traceId);
  if (!found) return message(404, "Not found");
  return {200, trace::renderTrace(*found)};
}

}  // namespace archway::admin
