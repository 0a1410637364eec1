#include "plugins/fault_injection/fault_injection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <thread>

namespace archway::plugins {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

// The same default texts as request-termination (Kong's DEFAULT_RESPONSE), so an injected
// fault looks like the real failure it stands for.
std::string defaultMessage(int status) {
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
      return "Fault injected";
  }
}

// A per-thread generator: no shared state and no lock on the request path.
bool roll(double percentage) {
  if (percentage <= 0) return false;
  if (percentage >= 100) return true;
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   std::hash<std::thread::id>{}(std::this_thread::get_id())};
  std::uniform_real_distribution<double> d(0.0, 100.0);
  return d(rng) < percentage;
}

const json::value* member(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() || it->value().is_null() ? nullptr : &it->value();
}

const json::object* subRecord(const json::object& c, std::string_view key) {
  const json::value* v = member(c, key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

bool present(const json::object* r, std::string_view key) {
  if (!r) return false;
  const json::value* v = member(*r, key);
  return v && v->is_string() && !v->as_string().empty();
}

class FaultInjection final : public Instance {
 public:
  struct Abort {
    double percentage = 0;
    int status = 503;
    std::string body;
    std::string contentType;
  };
  struct Delay {
    double percentage = 0;
    std::chrono::milliseconds duration{0};
  };

  FaultInjection(std::optional<Abort> abort, std::optional<Delay> delay)
      : abort_(std::move(abort)), delay_(delay) {}

  std::uint8_t phases() const override { return kAccess; }
  bool asyncAccess() const override { return delay_ && delay_->percentage > 0; }

  void access(Context& ctx) const override { maybeAbort(ctx); }

  asio::awaitable<void> accessAsync(Context& ctx) const override {
    if (roll(delay_->percentage)) {
      asio::any_io_executor exec;
      if (ctx.worker && ctx.worker->io)
        exec = ctx.worker->io->get_executor();
      else
        exec = co_await asio::this_coro::executor;
      asio::steady_timer timer(exec, delay_->duration);
      // Cancellation (shutdown) ends the wait early; nothing to report either way.
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    maybeAbort(ctx);
  }

 private:
  void maybeAbort(Context& ctx) const {
    if (abort_ && roll(abort_->percentage))
      ctx.exit(abort_->status, abort_->body, abort_->contentType);
  }

  std::optional<Abort> abort_;
  std::optional<Delay> delay_;
};

class FaultInjectionFactory final : public Factory {
 public:
  FaultInjectionFactory() {
    using namespace schema;
    schema_.name = "fault-injection";
    schema_.protocols = {"grpc", "grpcs", "http", "https"};
    schema_.fields = {
        record("abort",
               {
                   number("percentage")
                       .between(0, 100)
                       .describe("Share of requests answered with `status` instead of being "
                                 "proxied, in percent."),
                   integer("status").def(503).between(100, 599).describe(
                       "The status of an injected abort."),
                   str("message").describe(
                       "The message of an injected abort ({\"message\":...}); defaults to the "
                       "status's text."),
                   str("body").describe("A raw body for an injected abort, instead of a message."),
                   str("content_type").describe("The content type of `body`."),
               })
            .describe("Answer a share of requests with an error."),
        record("delay",
               {
                   number("percentage")
                       .between(0, 100)
                       .describe("Share of requests delayed, in percent."),
                   integer("duration_ms").greater(0).describe("The delay, in milliseconds."),
               })
            .describe("Delay a share of requests before they are proxied."),
    };
    schema_.entityCheck = [](const json::object& c, core::Errors& errors) {
      const json::object* abort = subRecord(c, "abort");
      const json::object* delay = subRecord(c, "delay");
      const bool abortSet = abort && member(*abort, "percentage");
      const bool delaySet = delay && member(*delay, "percentage");
      if (!abortSet && !delaySet) {
        errors.push_back({"",
                          "at least one of these fields must be non-empty: "
                          "'config.abort.percentage', 'config.delay.percentage'"});
      }
      if (delaySet && !member(*delay, "duration_ms"))
        errors.push_back({"delay.duration_ms", "required field missing"});
      // request-termination's rules for message / body / content_type.
      if (present(abort, "message") && (present(abort, "body") || present(abort, "content_type")))
        errors.push_back({"abort", "message cannot be used with content_type or body"});
      else if (present(abort, "content_type") && !present(abort, "body"))
        errors.push_back({"abort", "content_type requires a body"});
    };
  }

  std::string_view name() const override { return "fault-injection"; }
  int priority() const override { return 1000; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&, const json::object& c,
                                                        CompileEnv&) const override {
    std::optional<FaultInjection::Abort> abort;
    if (const json::object* a = subRecord(c, "abort"); a && member(*a, "percentage")) {
      FaultInjection::Abort x;
      x.percentage = member(*a, "percentage")->to_number<double>();
      if (const json::value* s = member(*a, "status")) x.status = s->to_number<int>();
      if (present(a, "body")) {
        x.body = std::string(a->at("body").as_string());
        x.contentType = present(a, "content_type") ? std::string(a->at("content_type").as_string())
                                                   : std::string("text/plain");
      } else {
        std::string message = present(a, "message") ? std::string(a->at("message").as_string())
                                                    : defaultMessage(x.status);
        x.body = "{\"message\":\"";
        appendJsonEscaped(x.body, message);
        x.body += "\"}";
        x.contentType = "application/json; charset=utf-8";
      }
      abort = std::move(x);
    }
    std::optional<FaultInjection::Delay> delay;
    if (const json::object* d = subRecord(c, "delay"); d && member(*d, "percentage")) {
      FaultInjection::Delay x;
      x.percentage = member(*d, "percentage")->to_number<double>();
      x.duration = std::chrono::milliseconds(member(*d, "duration_ms")->to_number<std::int64_t>());
      delay = x;
    }
    return std::shared_ptr<const Instance>(
        std::make_shared<FaultInjection>(std::move(abort), delay));
  }

 private:
  schema::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeFaultInjectionPlugin() {
  return std::make_unique<FaultInjectionFactory>();
}

}  // namespace archway::plugins
