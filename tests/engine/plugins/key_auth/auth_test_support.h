#pragma once
// Shared by the auth plugin unit tests (key-auth, basic-auth, jwt, acl): a plugin Context over a
// real parsed request head, compiling a plugin from JSON config text against a core::Config,
// and looking up the header edits a plugin made.
#include <QtTest>
#include <boost/json.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "http/head_parser.h"
#include "plugins/plugin.h"
#include "plugins/schema.h"

namespace authtest {

// A request as the proxy hands it to plugins. Not movable: the Context points into it.
struct Request {
  std::string bytes;
  std::string body;
  archway::http::RequestHead head;
  archway::plugins::Context ctx;

  explicit Request(std::string text, std::string requestBody = {})
      : bytes(std::move(text)), body(std::move(requestBody)) {
    archway::http::Limits limits;
    head.reserve(limits);
    archway::http::ParseError err;
    auto st = archway::http::parseRequestHead(bytes.data(), bytes.size(), limits, head, err);
    if (st != archway::http::ParseStatus::complete) qFatal("request did not parse");
    ctx.reset();
    ctx.bindRequest(&head, bytes.data());
    ctx.method = head.method.in(bytes.data());
    ctx.path = head.path.in(bytes.data());
    ctx.rawPath = ctx.path;
    ctx.query = head.query.in(bytes.data());
    ctx.host = ctx.header("host");
    ctx.clientIp = "127.0.0.1";
    ctx.contentLength = head.contentLength;
    if (!body.empty()) ctx.setBody(body);
    ctx.enter(0);
  }
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
};

inline bool sameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// The last edit of header `name` (case-insensitive), or null.
inline const archway::plugins::HeaderEdit* lastEdit(
    const archway::plugins::EditList& edits, std::string_view name) {
  const archway::plugins::HeaderEdit* found = nullptr;
  for (const auto& e : edits) {
    if (sameName(e.name, name)) found = &e;
  }
  return found;
}

// The value a `set` edit gives header `name` upstream; "<removed>" / "<none>" otherwise.
inline std::string upstreamHeader(const archway::plugins::Context& ctx, std::string_view name) {
  const auto* e = lastEdit(ctx.requestEdits, name);
  if (!e) return "<none>";
  if (e->op == archway::plugins::HeaderEdit::Op::remove) return "<removed>";
  return e->value;
}

inline std::string responseHeader(const archway::plugins::Context& ctx, std::string_view name) {
  const auto* e = lastEdit(ctx.responseEdits, name);
  if (!e) return "<none>";
  if (e->op == archway::plugins::HeaderEdit::Op::remove) return "<removed>";
  return e->value;
}

// The "message" of an exit body, or the whole body when it has none.
inline std::string exitMessage(const archway::plugins::Context& ctx) {
  boost::system::error_code ec;
  auto v = boost::json::parse(ctx.exitBody(), ec);
  if (!ec && v.is_object() && v.as_object().contains("message") &&
      v.as_object().at("message").is_string()) {
    return std::string(v.as_object().at("message").as_string());
  }
  return std::string(ctx.exitBody());
}

inline archway::core::Result<boost::json::object> validate(const archway::plugins::Factory& factory,
                                                           std::string_view configJson) {
  boost::json::value input =
      configJson.empty() ? boost::json::value() : boost::json::parse(configJson);
  return archway::plugins::schema::validate(factory.schema(), input);
}

// Validates `configJson` and compiles it against `config` (which must outlive the instance).
inline std::shared_ptr<const archway::plugins::Instance> compile(
    const archway::plugins::Factory& factory, const archway::core::Config& config,
    std::string_view configJson) {
  auto validated = validate(factory, configJson);
  if (!validated) qFatal("config did not validate: %s", validated.errorText().c_str());
  archway::plugins::Persistent persistent;
  archway::plugins::CompileEnv env(config, persistent);
  archway::core::Plugin entity;
  entity.name = std::string(factory.name());
  auto instance = factory.compile(entity, *validated, env);
  if (!instance) qFatal("plugin did not compile: %s", instance.errorText().c_str());
  return *instance;
}

inline archway::core::Consumer consumer(std::string id, std::string username,
                                        std::optional<std::string> customId = std::nullopt) {
  archway::core::Consumer c;
  c.id = std::move(id);
  c.username = std::move(username);
  c.customId = std::move(customId);
  return c;
}

}  // namespace authtest
