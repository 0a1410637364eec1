#pragma once
// Shared by the logging plugin tests: a Context over a real parsed request (and response) head,
// filled the way the proxy fills it for the log phase, and a compile helper.
#include <boost/json.hpp>
#include <memory>
#include <string>

#include "core/entities.h"
#include "http/head_parser.h"
#include "plugins/log/log_instance.h"
#include "plugins/plugin.h"
#include "plugins/schema.h"

namespace logtest {

struct ParsedRequest {
  std::string bytes;
  archway::http::RequestHead head;
  explicit ParsedRequest(std::string text) : bytes(std::move(text)) {
    archway::http::Limits limits;
    head.reserve(limits);
    archway::http::ParseError err;
    auto st = archway::http::parseRequestHead(bytes.data(), bytes.size(), limits, head, err);
    if (st != archway::http::ParseStatus::complete) qFatal("request did not parse");
  }
};

struct ParsedResponse {
  std::string bytes;
  archway::http::ResponseHead head;
  explicit ParsedResponse(std::string text) : bytes(std::move(text)) {
    archway::http::Limits limits;
    head.reserve(limits);
    archway::http::ParseError err;
    auto st = archway::http::parseResponseHead(bytes.data(), bytes.size(), limits, head, err);
    if (st != archway::http::ParseStatus::complete) qFatal("response did not parse");
  }
};

// A request that went through route/service to an upstream that answered 200.
struct Exchange {
  ParsedRequest req{
      "GET /api/items?x=1&flag HTTP/1.1\r\nHost: Gateway.Example:8000\r\n"
      "User-Agent: test\r\nAuthorization: Basic dTpw\r\nX-Multi: one\r\nx-multi: two\r\n\r\n"};
  ParsedResponse res{
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
      "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n"};
  archway::core::Service service;
  archway::core::Route route;
  archway::plugins::Context ctx;

  explicit Exchange(int status = 200) {
    service.id = "5b1b3a58-7a8f-4a36-8a57-8b1c1f3b0001";
    service.name = "items";
    service.host = "127.0.0.1";
    service.port = 9000;
    route.id = "5b1b3a58-7a8f-4a36-8a57-8b1c1f3b0002";
    route.name = "items-route";
    route.paths = {"/api"};
    route.serviceId = service.id;
    const char* base = req.bytes.data();
    ctx.bindRequest(&req.head, base);
    ctx.method = req.head.method.in(base);
    ctx.path = req.head.path.in(base);
    ctx.rawPath = req.head.path.in(base);
    ctx.query = req.head.query.in(base);
    ctx.host = ctx.header("host");
    ctx.clientIp = "10.1.2.3";
    ctx.port = 8000;
    ctx.route = &route;
    ctx.service = &service;
    ctx.requestId = "0123456789abcdef0123456789abcdef";
    ctx.bindResponse(&res.head, res.bytes.data());
    ctx.status = status;
    ctx.upstreamStatus = status;
    ctx.source = archway::plugins::Source::upstream;
    ctx.upstreamUri = "/items?x=1&flag";
    ctx.upstreamHost = "127.0.0.1:9000";
    ctx.tries = 1;
    ctx.startedAtMs = 1700000000123;
    ctx.totalUs = 12'345;
    ctx.upstreamUs = 10'100;
    ctx.kongUs = 2'200;
    ctx.bytesIn = static_cast<std::uint64_t>(req.bytes.size());
    ctx.bytesOut = static_cast<std::uint64_t>(res.bytes.size()) + 2;
  }
};

// Validates `config` against the factory's schema and compiles it as plugin `id`.
inline std::shared_ptr<const archway::plugins::Instance> compile(
    const archway::plugins::Factory& f, const boost::json::value& config,
    archway::plugins::Persistent& persistent, const archway::core::Config& whole = {},
    const std::string& id = "6a0c4f64-1a34-4c57-9b6a-6f2f7d4e0001") {
  auto valid = archway::plugins::schema::validate(f.schema(), config);
  if (!valid) qFatal("config invalid: %s", valid.errorText().c_str());
  archway::core::Plugin entity;
  entity.id = id;
  entity.name = std::string(f.name());
  entity.config = boost::json::serialize(*valid);
  archway::plugins::CompileEnv env(whole, persistent);
  auto inst = f.compile(entity, *valid, env);
  if (!inst) qFatal("compile failed: %s", inst.errorText().c_str());
  return *inst;
}

inline archway::plugins::log::LogQueue& queueOf(const archway::plugins::Instance& i) {
  return *dynamic_cast<const archway::plugins::log::QueuedLogInstance&>(i).queue();
}

inline QString errorsOf(const archway::core::Result<boost::json::object>& r) {
  return QString::fromStdString(r.errorText());
}

}  // namespace logtest
