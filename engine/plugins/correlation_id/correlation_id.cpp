#include "plugins/correlation_id/correlation_id.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>

#include "core/uuid.h"

namespace archway::plugins {
namespace {

namespace json = boost::json;

// What Kong keeps per worker (init_worker): one UUID and a counter for "uuid#counter", shared
// by every correlation-id instance of the worker, plus our tracker counter.
struct WorkerIds {
  std::string uuid = core::uuid4();
  std::uint64_t counter = 0;
  std::uint64_t trackerCounter = 0;
};

const std::string kWorkerKey = "correlation-id";

WorkerIds& workerIds(Context& ctx) {
  if (ctx.worker) return ctx.worker->get<WorkerIds>(kWorkerKey);
  // No worker environment (unit tests): one set per thread, which is what a worker is.
  thread_local WorkerIds ids;
  return ids;
}

void appendNumber(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

enum class Generator { uuid, uuidCounter, tracker };

class CorrelationId final : public Instance {
 public:
  CorrelationId(std::string header, Generator generator, bool echo)
      : header_(std::move(header)), generator_(generator), echo_(echo) {}

  std::uint8_t phases() const override {
    return static_cast<std::uint8_t>(echo_ ? kAccess | kHeaderFilter : kAccess);
  }

  void access(Context& ctx) const override {
    std::string& id = ctx.scratch();
    std::string_view sent = ctx.header(header_);
    if (!sent.empty()) {
      id.assign(sent);  // a client's id is kept as is
      return;
    }
    generate(ctx, id);
    ctx.setRequestHeader(header_, id);
  }

  void headerFilter(Context& ctx) const override {
    if (!echo_) return;
    std::string& id = ctx.scratch();
    if (id.empty()) id.assign(ctx.header(header_));
    if (id.empty()) generate(ctx, id);  // access never ran (an earlier exit)
    ctx.setResponseHeader(header_, id);
  }

 private:
  void generate(Context& ctx, std::string& out) const {
    switch (generator_) {
      case Generator::uuid:
        out = core::uuid4();
        return;
      case Generator::uuidCounter: {
        WorkerIds& w = workerIds(ctx);
        out.assign(w.uuid);
        out += '#';
        appendNumber(out, ++w.counter);
        return;
      }
      case Generator::tracker: {
        WorkerIds& w = workerIds(ctx);
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        char buf[128];
        int n = std::snprintf(
            buf, sizeof buf, "0.0.0.0-%u-%d-%d-%llu-%lld.%03lld", static_cast<unsigned>(ctx.port),
            static_cast<int>(getpid()), ctx.worker ? ctx.worker->index : 0,
            static_cast<unsigned long long>(++w.trackerCounter), static_cast<long long>(now / 1000),
            static_cast<long long>(now % 1000));
        out.assign(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
        return;
      }
    }
  }

  std::string header_;
  Generator generator_;
  bool echo_;
};

class CorrelationIdFactory final : public Factory {
 public:
  CorrelationIdFactory() {
    using namespace schema;
    schema_.name = "correlation-id";
    schema_.protocols = {"grpc", "grpcs", "http", "https"};
    schema_.fields = {
        str("header_name")
            .def("Kong-Request-ID")
            .describe("The HTTP header name to use for the correlation ID."),
        str("generator")
            .req()
            .def("uuid#counter")
            .one({"uuid", "uuid#counter", "tracker"})
            .describe("The generator to use for the correlation ID. Accepted values are `uuid`, "
                      "`uuid#counter`, and `tracker`."),
        boolean("echo_downstream")
            .req()
            .def(false)
            .describe("Whether to echo the header back to downstream (the client)."),
    };
  }

  std::string_view name() const override { return "correlation-id"; }
  int priority() const override { return 100001; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&, const json::object& c,
                                                        CompileEnv&) const override {
    std::string header = "Kong-Request-ID";
    if (auto it = c.find("header_name"); it != c.end() && it->value().is_string())
      header = std::string(it->value().as_string());
    std::string_view g = c.at("generator").as_string();
    Generator gen = g == "uuid"      ? Generator::uuid
                    : g == "tracker" ? Generator::tracker
                                     : Generator::uuidCounter;
    return std::shared_ptr<const Instance>(
        std::make_shared<CorrelationId>(std::move(header), gen, c.at("echo_downstream").as_bool()));
  }

 private:
  schema::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeCorrelationIdPlugin() {
  return std::make_unique<CorrelationIdFactory>();
}

}  // namespace archway::plugins
