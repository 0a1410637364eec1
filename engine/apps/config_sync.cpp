#include "apps/config_sync.h"

#include <boost/json/parse.hpp>
#include <string>
#include <string_view>

#include "config/declarative.h"

namespace archway::apps {

namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

core::Result<std::string> fetchConfigText(AdminClient& admin) {
  auto reply = admin.request("GET", "/config");
  if (!reply) return reply.errors();
  const std::string what = "GET " + admin.url() + "/config: ";
  if (reply->status != 200) {
    return core::Error{"",
                       what + "HTTP " + std::to_string(reply->status) + " " + trimmed(reply->body)};
  }
  boost::json::error_code ec;
  boost::json::value doc = boost::json::parse(reply->body, ec);
  const boost::json::value* text =
      !ec && doc.is_object() ? doc.as_object().if_contains("config") : nullptr;
  if (!text || !text->is_string()) return core::Error{"", what + "expected {\"config\": \"...\"}"};
  return std::string(text->as_string());
}

core::Result<core::Config> fetchLiveConfig(AdminClient& admin) {
  auto text = fetchConfigText(admin);
  if (!text) return text.errors();
  auto live = config::parseDeclarative(*text);
  if (!live) {
    const std::string what = "GET " + admin.url() + "/config: ";
    std::string all;
    for (const auto& e : live.errors()) all += (all.empty() ? "" : "; ") + e.text();
    return core::Error{"", what + "the node's configuration does not parse: " + all};
  }
  return live;
}

core::Status sendCall(AdminClient& admin, const config::AdminCall& call) {
  auto r = admin.request(call.method, call.path, call.body);
  if (!r) return r.errors();
  const bool gone = call.method == "DELETE" && r->status == 404;
  if (r->status < 300 || gone) return core::Ok{};
  return core::Error{"", call.method + " " + call.path + ": HTTP " + std::to_string(r->status) +
                             " " + trimmed(r->body)};
}

}  // namespace archway::apps
