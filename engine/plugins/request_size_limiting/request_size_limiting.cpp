#include "plugins/request_size_limiting/request_size_limiting.h"

#include <boost/json.hpp>
#include <cstdint>
#include <limits>

namespace archway::plugins {
namespace {

namespace json = boost::json;

bool iequalsTrimmed(std::string_view v, std::string_view lowerWord) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.size() != lowerWord.size()) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != lowerWord[i]) return false;
  }
  return true;
}

class RequestSizeLimiting final : public Instance {
 public:
  RequestSizeLimiting(std::int64_t allowedBytes, bool requireContentLength)
      : allowedBytes_(allowedBytes), requireContentLength_(requireContentLength) {}

  // No needsRequestBody(): access runs before the proxy reads (or sends 100 Continue for)
  // the body, so a Content-Length is refused without reading it and `Expect: 100-continue`
  // gets its 417 before the client sends anything. A chunked body is capped by the proxy
  // as it reads it (Context::requestBodyLimit).
  std::uint8_t phases() const override { return kAccess; }

  void access(Context& ctx) const override {
    if (ctx.contentLength >= 0) {
      check(ctx, ctx.contentLength);
      return;
    }
    if (requireContentLength_ && !ctx.chunked) {
      ctx.exitMessage(411, "A valid Content-Length header is required");
      return;
    }
    // A body another plugin had read is measured now; otherwise the proxy stops a chunked
    // body at the limit while reading it (Kong reads the whole body first).
    if (ctx.bodyAvailable) {
      check(ctx, static_cast<std::int64_t>(ctx.body().size()));
      return;
    }
    if (ctx.requestBodyLimit < 0 || ctx.requestBodyLimit > allowedBytes_)
      ctx.requestBodyLimit = allowedBytes_;
  }

 private:
  void check(Context& ctx, std::int64_t length) const {
    if (length <= allowedBytes_) return;
    const bool expectContinue =
        ctx.expectContinue || iequalsTrimmed(ctx.header("expect"), "100-continue");
    ctx.exitMessage(expectContinue ? 417 : 413, "Request size limit exceeded");
  }

  std::int64_t allowedBytes_;
  bool requireContentLength_;
};

class RequestSizeLimitingFactory final : public Factory {
 public:
  RequestSizeLimitingFactory() {
    using namespace schema;
    schema_.name = "request-size-limiting";
    schema_.protocols = {"grpc", "grpcs", "http", "https"};
    schema_.fields = {
        integer("allowed_payload_size")
            .def(128)
            .describe("Allowed request payload size in megabytes. Default is `128` megabytes "
                      "(128000000 bytes)."),
        str("size_unit")
            .req()
            .def("megabytes")
            .one({"megabytes", "kilobytes", "bytes"})
            .describe("Size unit can be set either in `bytes`, `kilobytes`, or `megabytes` "
                      "(default)."),
        boolean("require_content_length")
            .req()
            .def(false)
            .describe("Set to `true` to ensure a valid `Content-Length` header exists before "
                      "reading the request body."),
    };
  }

  std::string_view name() const override { return "request-size-limiting"; }
  int priority() const override { return 951; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&, const json::object& c,
                                                        CompileEnv&) const override {
    std::int64_t size = 128;
    if (auto it = c.find("allowed_payload_size"); it != c.end() && it->value().is_number())
      size = it->value().to_number<std::int64_t>();
    std::string_view unit = c.at("size_unit").as_string();
    const std::int64_t factor = unit == "megabytes" ? 1048576 : unit == "kilobytes" ? 1024 : 1;
    std::int64_t bytes = 0;
    if (__builtin_mul_overflow(size, factor, &bytes))
      bytes = std::numeric_limits<std::int64_t>::max();
    return std::shared_ptr<const Instance>(
        std::make_shared<RequestSizeLimiting>(bytes, c.at("require_content_length").as_bool()));
  }

 private:
  schema::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeRequestSizeLimitingPlugin() {
  return std::make_unique<RequestSizeLimitingFactory>();
}

}  // namespace archway::plugins
