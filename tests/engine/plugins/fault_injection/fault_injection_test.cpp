// fault-injection: schema checks, abort at 0/100 percent, a delay that waits on the worker's
// io_context without blocking it, delay then abort.
#include <QtTest>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <string>

#include "plugins/fault_injection/fault_injection.h"
#include "plugins/plugin.h"

using namespace archway;
namespace json = boost::json;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

struct Compiled {
  std::unique_ptr<plugins::Factory> factory = plugins::makeFaultInjectionPlugin();
  core::Config config;
  plugins::Persistent persistent;
  std::shared_ptr<const plugins::Instance> instance;
  QString error;

  explicit Compiled(const std::string& configJson) {
    auto valid = plugins::schema::validate(factory->schema(), json::parse(configJson));
    if (!valid) {
      error = QString::fromStdString(valid.errorText());
      return;
    }
    core::Plugin entity;
    entity.id = "55555555-5555-5555-5555-555555555555";
    entity.name = "fault-injection";
    plugins::CompileEnv env(config, persistent);
    auto inst = factory->compile(entity, *valid, env);
    if (!inst) {
      error = QString::fromStdString(inst.errorText());
      return;
    }
    instance = *inst;
  }
};

core::Result<json::object> validate(const std::string& text) {
  auto f = plugins::makeFaultInjectionPlugin();
  return plugins::schema::validate(f->schema(), json::parse(text));
}

// Runs the access phase as the proxy would: accessAsync on the worker's io_context when the
// instance asks for it, access() otherwise.
void runAccess(const plugins::Instance& inst, plugins::Context& ctx, asio::io_context& io) {
  if (!inst.asyncAccess()) {
    inst.access(ctx);
    return;
  }
  asio::co_spawn(io, inst.accessAsync(ctx), asio::detached);
  io.run();
  io.restart();
}

}  // namespace

class FaultInjectionTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void factoryNameAndPriority() {
    auto f = plugins::makeFaultInjectionPlugin();
    QCOMPARE(f->name(), std::string_view("fault-injection"));
    QCOMPARE(f->priority(), 1000);
  }

  void schemaNeedsAbortOrDelay() {
    auto r = validate("{}");
    QVERIFY(!r.ok());
    QCOMPARE(r.errors()[0].text(),
             std::string("config: at least one of these fields must be non-empty: "
                         "'config.abort.percentage', 'config.delay.percentage'"));
  }

  void schemaChecksRangesAndDelayDuration() {
    QCOMPARE(validate("{\"abort\":{\"percentage\":101}}").errors()[0].text(),
             std::string("config.abort.percentage: value should be between 0 and 100"));
    QCOMPARE(validate("{\"abort\":{\"percentage\":5,\"status\":600}}").errors()[0].text(),
             std::string("config.abort.status: value should be between 100 and 599"));
    QCOMPARE(validate("{\"delay\":{\"percentage\":5}}").errors()[0].text(),
             std::string("config.delay.duration_ms: required field missing"));
    QCOMPARE(validate("{\"delay\":{\"percentage\":5,\"duration_ms\":0}}").errors()[0].text(),
             std::string("config.delay.duration_ms: value must be greater than 0"));
    QCOMPARE(validate("{\"abort\":{\"percentage\":5,\"message\":\"m\",\"body\":\"b\"}}")
                 .errors()[0]
                 .text(),
             std::string("config.abort: message cannot be used with content_type or body"));
    auto ok = validate("{\"abort\":{\"percentage\":0}}");
    QVERIFY2(ok.ok(), ok.errorText().c_str());
    QCOMPARE(ok->at("abort").at("status").as_int64(), std::int64_t(503));
  }

  void abortAtHundredPercentAlwaysAnswers() {
    Compiled c("{\"abort\":{\"percentage\":100}}");
    QVERIFY2(c.instance, qPrintable(c.error));
    QVERIFY(!c.instance->asyncAccess());
    for (int i = 0; i < 20; ++i) {
      plugins::Context ctx;
      c.instance->access(ctx);
      QVERIFY(ctx.exited());
      QCOMPARE(ctx.exitStatus(), 503);
      QCOMPARE(ctx.exitBody(), std::string_view("{\"message\":\"Service unavailable\"}"));
    }
  }

  void abortAtZeroPercentNeverAnswers() {
    Compiled c("{\"abort\":{\"percentage\":0,\"status\":500}}");
    QVERIFY2(c.instance, qPrintable(c.error));
    for (int i = 0; i < 200; ++i) {
      plugins::Context ctx;
      c.instance->access(ctx);
      QVERIFY(!ctx.exited());
    }
  }

  void abortUsesConfiguredMessageOrBody() {
    Compiled m("{\"abort\":{\"percentage\":100,\"status\":418,\"message\":\"chaos\"}}");
    QVERIFY2(m.instance, qPrintable(m.error));
    plugins::Context ctx;
    m.instance->access(ctx);
    QCOMPARE(ctx.exitStatus(), 418);
    QCOMPARE(ctx.exitBody(), std::string_view("{\"message\":\"chaos\"}"));
    Compiled b(
        "{\"abort\":{\"percentage\":100,\"body\":\"<b>x</b>\",\"content_type\":\"text/html\"}}");
    QVERIFY2(b.instance, qPrintable(b.error));
    plugins::Context ctx2;
    b.instance->access(ctx2);
    QCOMPARE(ctx2.exitBody(), std::string_view("<b>x</b>"));
    QCOMPARE(ctx2.exitContentType(), std::string_view("text/html"));
  }

  void partialPercentageAbortsSome() {
    Compiled c("{\"abort\":{\"percentage\":50}}");
    QVERIFY2(c.instance, qPrintable(c.error));
    int aborted = 0;
    for (int i = 0; i < 2000; ++i) {
      plugins::Context ctx;
      c.instance->access(ctx);
      aborted += ctx.exited() ? 1 : 0;
    }
    // 2000 draws at p = 0.5: outside [800, 1200] is ~20 standard deviations away.
    QVERIFY2(aborted > 800 && aborted < 1200, qPrintable(QString::number(aborted)));
  }

  void delayWaitsOnTheWorkerTimer() {
    Compiled c("{\"delay\":{\"percentage\":100,\"duration_ms\":150}}");
    QVERIFY2(c.instance, qPrintable(c.error));
    QVERIFY(c.instance->asyncAccess());
    asio::io_context io;
    plugins::WorkerEnv worker;
    worker.io = &io;
    plugins::Context ctx;
    ctx.worker = &worker;
    auto start = Clock::now();
    runAccess(*c.instance, ctx, io);
    auto elapsed = Clock::now() - start;
    QVERIFY(elapsed >= std::chrono::milliseconds(150));
    QVERIFY(!ctx.exited());
  }

  void delayDoesNotBlockTheWorker() {
    Compiled c("{\"delay\":{\"percentage\":100,\"duration_ms\":500}}");
    QVERIFY2(c.instance, qPrintable(c.error));
    asio::io_context io;
    plugins::WorkerEnv worker;
    worker.io = &io;
    plugins::Context a, b;
    a.worker = b.worker = &worker;
    // Two delayed requests and a 20 ms timer share one thread: the timer fires long before the
    // delays end, and both delays end together (serialised they would take 1000 ms).
    Clock::time_point doneA{}, doneB{}, tick{};
    auto start = Clock::now();
    auto wrap = [&](plugins::Context& ctx, Clock::time_point& done) -> asio::awaitable<void> {
      co_await c.instance->accessAsync(ctx);
      done = Clock::now();
    };
    asio::co_spawn(io, wrap(a, doneA), asio::detached);
    asio::co_spawn(io, wrap(b, doneB), asio::detached);
    asio::steady_timer t(io, std::chrono::milliseconds(20));
    t.async_wait([&](boost::system::error_code) { tick = Clock::now(); });
    io.run();
    QVERIFY(tick - start < std::chrono::milliseconds(400));
    QVERIFY(doneA - start >= std::chrono::milliseconds(500));
    QVERIFY(doneB - start >= std::chrono::milliseconds(500));
    QVERIFY(std::max(doneA, doneB) - start < std::chrono::milliseconds(900));
  }

  void delayThenAbort() {
    Compiled c(
        "{\"delay\":{\"percentage\":100,\"duration_ms\":50},"
        "\"abort\":{\"percentage\":100,\"status\":502}}");
    QVERIFY2(c.instance, qPrintable(c.error));
    asio::io_context io;
    plugins::WorkerEnv worker;
    worker.io = &io;
    plugins::Context ctx;
    ctx.worker = &worker;
    auto start = Clock::now();
    runAccess(*c.instance, ctx, io);
    QVERIFY(Clock::now() - start >= std::chrono::milliseconds(50));
    QVERIFY(ctx.exited());
    QCOMPARE(ctx.exitStatus(), 502);
    QCOMPARE(ctx.exitBody(), std::string_view("{\"message\":\"Bad Gateway\"}"));
  }

  void zeroPercentDelayIsSynchronous() {
    Compiled c("{\"delay\":{\"percentage\":0,\"duration_ms\":5000}}");
    QVERIFY2(c.instance, qPrintable(c.error));
    QVERIFY(!c.instance->asyncAccess());
    plugins::Context ctx;
    c.instance->access(ctx);
    QVERIFY(!ctx.exited());
  }
};

QTEST_GUILESS_MAIN(FaultInjectionTest)
#include "fault_injection_test.moc"
