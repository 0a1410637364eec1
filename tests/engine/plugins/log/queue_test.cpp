// Kong's plugin queue: batching, coalescing, retries with backoff, dropping the oldest entries
// when full, never blocking producers, surviving reloads, and stopping cleanly.
#include <QtTest>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "plugins/log/queue.h"

using namespace archway;
using plugins::log::Entry;
using plugins::log::LogQueue;
using plugins::log::QueueSettings;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Records batches; fails the first `failures` calls; can hold calls at a gate.
class Recorder final : public plugins::log::Handler {
 public:
  bool send(std::span<const Entry* const> batch, std::string& error) override {
    std::unique_lock lock(mu_);
    ++calls_;
    callTimes_.push_back(Clock::now());
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    if (failures_ > 0 || failAlways_) {
      --failures_;
      error = "boom";
      return false;
    }
    std::vector<std::string> b;
    for (const Entry* e : batch) b.emplace_back(e->text());
    batches_.push_back(std::move(b));
    cv_.notify_all();
    return true;
  }

  void failFirst(int n) {
    std::lock_guard lock(mu_);
    failures_ = n;
  }
  void failAlways() {
    std::lock_guard lock(mu_);
    failAlways_ = true;
  }
  void close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool waitCalls(int n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return calls_ >= n; });
  }
  bool waitEntries(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return entriesLocked() >= n; });
  }
  std::vector<std::vector<std::string>> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::vector<std::string> entries() {
    std::lock_guard lock(mu_);
    std::vector<std::string> all;
    for (const auto& b : batches_) all.insert(all.end(), b.begin(), b.end());
    return all;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::vector<Clock::time_point> callTimes() {
    std::lock_guard lock(mu_);
    return callTimes_;
  }

 private:
  std::size_t entriesLocked() const {
    std::size_t n = 0;
    for (const auto& b : batches_) n += b.size();
    return n;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int failures_ = 0;
  bool failAlways_ = false;
  int calls_ = 0;
  std::vector<Clock::time_point> callTimes_;
  std::vector<std::vector<std::string>> batches_;
};

QueueSettings settings(int batch = 1, double delay = 1, int maxEntries = 10000) {
  QueueSettings s;
  s.maxBatchSize = batch;
  s.maxCoalescingDelay = delay;
  s.maxEntries = maxEntries;
  s.initialRetryDelay = 0.01;
  return s;
}

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

class QueueTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void cleanup() { plugins::log::shutdownQueues(); }

  void deliversEntriesInOrderOnePerBatch() {
    auto rec = std::make_shared<Recorder>();
    LogQueue q("t", settings(1), rec);
    for (int i = 0; i < 50; ++i) QVERIFY(q.enqueue("e" + std::to_string(i)));
    QVERIFY(rec->waitEntries(50));
    auto batches = rec->batches();
    QCOMPARE(batches.size(), std::size_t(50));
    for (int i = 0; i < 50; ++i) QCOMPARE(batches[i][0], "e" + std::to_string(i));
    QVERIFY(q.waitIdle(2s));
    QCOMPARE(q.stats().processed, std::uint64_t(50));
    QCOMPARE(q.stats().batches, std::uint64_t(50));
  }

  void fullBatchesGoWithoutWaitingForTheDelay() {
    auto rec = std::make_shared<Recorder>();
    LogQueue q("t", settings(10, 30), rec);
    auto start = Clock::now();
    for (int i = 0; i < 20; ++i) QVERIFY(q.enqueue("e" + std::to_string(i)));
    QVERIFY(rec->waitEntries(20, 3s));
    QVERIFY(seconds(Clock::now() - start) < 3);
    auto batches = rec->batches();
    QCOMPARE(batches.size(), std::size_t(2));
    QCOMPARE(batches[0].size(), std::size_t(10));
    QCOMPARE(batches[1].size(), std::size_t(10));
    QCOMPARE(batches[1][9], std::string("e19"));
  }

  void partialBatchWaitsForTheCoalescingDelay() {
    auto rec = std::make_shared<Recorder>();
    LogQueue q("t", settings(10, 0.4), rec);
    auto start = Clock::now();
    for (int i = 0; i < 3; ++i) QVERIFY(q.enqueue("e" + std::to_string(i)));
    QVERIFY(rec->waitEntries(3));
    double elapsed = seconds(rec->callTimes().front() - start);
    QVERIFY2(elapsed >= 0.33, qPrintable(QString::number(elapsed)));
    QVERIFY2(elapsed < 2.0, qPrintable(QString::number(elapsed)));
    QCOMPARE(rec->batches().size(), std::size_t(1));
    QCOMPARE(rec->batches()[0].size(), std::size_t(3));
  }

  void coalescingDelayUnderFiftyMillisecondsSendsAtOnce() {
    // Kong starts no coalescing wait shorter than 50 ms: every batch holds one entry.
    auto rec = std::make_shared<Recorder>();
    rec->close();
    LogQueue q("t", settings(10, 0.01), rec);
    QVERIFY(q.enqueue("a"));
    QVERIFY(rec->waitCalls(1));
    QVERIFY(q.enqueue("b"));
    QVERIFY(q.enqueue("c"));
    rec->open();
    QVERIFY(rec->waitEntries(3));
    for (const auto& b : rec->batches()) QCOMPARE(b.size(), std::size_t(1));
  }

  void drainAvailableTakesWhatIsQueued() {
    auto rec = std::make_shared<Recorder>();
    rec->close();
    auto s = settings(100, 0);
    s.drainAvailable = true;
    LogQueue q("t", s, rec);
    QVERIFY(q.enqueue("a"));
    QVERIFY(rec->waitCalls(1));
    for (int i = 0; i < 5; ++i) QVERIFY(q.enqueue("b"));
    rec->open();
    QVERIFY(rec->waitEntries(6));
    QCOMPARE(rec->batches().size(), std::size_t(2));
    QCOMPARE(rec->batches()[1].size(), std::size_t(5));
  }

  void retriesFailedBatchWithExponentialBackoff() {
    auto rec = std::make_shared<Recorder>();
    rec->failFirst(3);
    auto s = settings(1);
    s.initialRetryDelay = 0.05;
    LogQueue q("t", s, rec);
    QVERIFY(q.enqueue("x"));
    QVERIFY(rec->waitEntries(1));
    auto times = rec->callTimes();
    QCOMPARE(times.size(), std::size_t(4));
    // 0.05, 0.1, 0.2 seconds between the attempts.
    QVERIFY(seconds(times[1] - times[0]) >= 0.045);
    QVERIFY(seconds(times[2] - times[1]) >= 0.095);
    QVERIFY(seconds(times[3] - times[2]) >= 0.19);
    QVERIFY(q.waitIdle(2s));
    QCOMPARE(q.stats().failures, std::uint64_t(3));
    QCOMPARE(q.stats().processed, std::uint64_t(1));
    QCOMPARE(q.stats().lost, std::uint64_t(0));
  }

  void retryDelayIsCappedByMaxRetryDelay() {
    auto rec = std::make_shared<Recorder>();
    rec->failFirst(4);
    auto s = settings(1);
    s.initialRetryDelay = 0.05;
    s.maxRetryDelay = 0.06;
    LogQueue q("t", s, rec);
    QVERIFY(q.enqueue("x"));
    QVERIFY(rec->waitEntries(1));
    auto times = rec->callTimes();
    QCOMPARE(times.size(), std::size_t(5));
    QVERIFY(seconds(times[4] - times[3]) < 0.5);  // 0.06, not 0.4
  }

  void givesUpAfterMaxRetryTime() {
    auto rec = std::make_shared<Recorder>();
    rec->failAlways();
    auto s = settings(1);
    s.initialRetryDelay = 0.02;
    s.maxRetryTime = 0.2;
    LogQueue q("t", s, rec);
    QVERIFY(q.enqueue("x"));
    QVERIFY(q.enqueue("y"));
    QTRY_COMPARE_WITH_TIMEOUT(q.stats().lost, std::uint64_t(2), 5000);
    QVERIFY(q.stats().failures >= 4);
    QCOMPARE(q.stats().processed, std::uint64_t(0));
  }

  void negativeMaxRetryTimeMeansNoRetry() {
    auto rec = std::make_shared<Recorder>();
    rec->failAlways();
    auto s = settings(1);
    s.maxRetryTime = -1;
    LogQueue q("t", s, rec);
    QVERIFY(q.enqueue("x"));
    QTRY_COMPARE_WITH_TIMEOUT(q.stats().lost, std::uint64_t(1), 5000);
    QCOMPARE(q.stats().failures, std::uint64_t(1));
  }

  void fullQueueDropsTheOldestEntries() {
    auto rec = std::make_shared<Recorder>();
    rec->close();
    LogQueue q("t", settings(1, 1, 5), rec);
    QVERIFY(q.enqueue("in-flight"));
    QVERIFY(rec->waitCalls(1));  // taken out of the queue: no longer counts
    for (int i = 1; i <= 8; ++i) QVERIFY(q.enqueue("e" + std::to_string(i)));
    QCOMPARE(q.size(), std::size_t(5));
    QCOMPARE(q.stats().dropped, std::uint64_t(3));
    rec->open();
    QVERIFY(rec->waitEntries(6));
    auto got = rec->entries();
    std::vector<std::string> want{"in-flight", "e4", "e5", "e6", "e7", "e8"};
    QCOMPARE(got, want);
  }

  void maxBytesDropsTheOldestAndRefusesOversizedEntries() {
    auto rec = std::make_shared<Recorder>();
    rec->close();
    auto s = settings(1);
    s.maxBytes = 10;
    LogQueue q("t", s, rec);
    QVERIFY(q.enqueue("zero"));
    QVERIFY(rec->waitCalls(1));
    QVERIFY(q.enqueue("aaaa"));
    QVERIFY(q.enqueue("bbbb"));
    QVERIFY(q.enqueue("cccc"));  // 12 bytes would not fit: "aaaa" goes
    QVERIFY(!q.enqueue("this is longer than ten"));
    QCOMPARE(q.size(), std::size_t(2));
    rec->open();
    QVERIFY(rec->waitEntries(3));
    std::vector<std::string> want{"zero", "bbbb", "cccc"};
    QCOMPARE(rec->entries(), want);
    QCOMPARE(q.stats().dropped, std::uint64_t(2));  // one dropped, one refused
  }

  void producersNeverBlockWhileTheHandlerStalls() {
    auto rec = std::make_shared<Recorder>();
    rec->close();
    LogQueue q("t", settings(1, 1, 1000), rec);
    QVERIFY(q.enqueue("first"));
    QVERIFY(rec->waitCalls(1));
    auto start = Clock::now();
    std::vector<std::thread> producers;
    for (int t = 0; t < 4; ++t) {
      producers.emplace_back([&q] {
        for (int i = 0; i < 50000; ++i) q.enqueue("entry");
      });
    }
    for (auto& p : producers) p.join();
    double elapsed = seconds(Clock::now() - start);
    QVERIFY2(elapsed < 5, qPrintable(QString::number(elapsed)));
    QVERIFY(q.size() <= 1000);
    QVERIFY(q.stats().dropped >= 199000);
    rec->open();
    QVERIFY(q.waitIdle(10s));
    QVERIFY(rec->entries().size() <= 1001);
  }

  void concurrentProducersLoseNothingAndKeepTheirOrder() {
    auto rec = std::make_shared<Recorder>();
    LogQueue q("t", settings(500, 0.05, 1000000), rec);
    constexpr int kThreads = 4, kEach = 20000;
    std::vector<std::thread> producers;
    for (int t = 0; t < kThreads; ++t) {
      producers.emplace_back([&q, t] {
        for (int i = 0; i < kEach; ++i) q.enqueue(std::to_string(t) + ":" + std::to_string(i));
      });
    }
    for (auto& p : producers) p.join();
    QVERIFY(rec->waitEntries(kThreads * kEach, 20s));
    std::vector<int> next(kThreads, 0);
    for (const auto& e : rec->entries()) {
      auto colon = e.find(':');
      int t = std::stoi(e.substr(0, colon));
      int i = std::stoi(e.substr(colon + 1));
      QCOMPARE(i, next[t]);
      ++next[t];
    }
    for (int t = 0; t < kThreads; ++t) QCOMPARE(next[t], kEach);
    QCOMPARE(q.stats().dropped, std::uint64_t(0));
  }

  void persistentQueueSurvivesReloadAndTakesTheNewHandler() {
    plugins::Persistent persistent;
    core::Config config;
    auto first = std::make_shared<Recorder>();
    first->failAlways();
    std::shared_ptr<LogQueue> q1;
    {
      plugins::CompileEnv env(config, persistent);
      auto s = settings(1);
      s.initialRetryDelay = 0.02;
      s.maxRetryDelay = 0.02;
      q1 = plugins::log::obtainQueue(env, "plugin-1", "t", s, first);
    }
    QVERIFY(q1->enqueue("kept"));
    QVERIFY(first->waitCalls(2));  // failing and being retried
    auto second = std::make_shared<Recorder>();
    std::shared_ptr<LogQueue> q2;
    {
      plugins::CompileEnv env(config, persistent);
      auto s = settings(1);
      s.initialRetryDelay = 0.02;
      s.maxRetryDelay = 0.02;
      q2 = plugins::log::obtainQueue(env, "plugin-1", "t", s, second);
    }
    QCOMPARE(q2.get(), q1.get());
    q1.reset();  // the old snapshot goes
    QVERIFY(second->waitEntries(1));
    QCOMPARE(second->entries()[0], std::string("kept"));
    QCOMPARE(q2->stats().lost, std::uint64_t(0));
  }

  void changedSettingsGiveANewQueue() {
    plugins::Persistent persistent;
    core::Config config;
    plugins::CompileEnv env(config, persistent);
    auto rec = std::make_shared<Recorder>();
    auto a = plugins::log::obtainQueue(env, "p", "t", settings(1), rec);
    auto b = plugins::log::obtainQueue(env, "p", "t", settings(5), rec);
    QVERIFY(a.get() != b.get());
    auto c = plugins::log::obtainQueue(env, "other", "t", settings(5), rec);
    QVERIFY(c.get() != b.get());
    auto d = plugins::log::obtainQueue(env, "p", "t", settings(5), rec);
    QCOMPARE(d.get(), b.get());
  }

  void releasedQueueSendsWhatItHolds() {
    auto rec = std::make_shared<Recorder>();
    rec->close();
    {
      LogQueue q("t", settings(1), rec);
      for (int i = 0; i < 10; ++i) QVERIFY(q.enqueue("e" + std::to_string(i)));
      QVERIFY(rec->waitCalls(1));
    }  // the handle goes; the destructor did not wait for the stalled handler
    rec->open();
    QVERIFY(rec->waitEntries(10));
    plugins::log::shutdownQueues();
    QCOMPARE(rec->entries().size(), std::size_t(10));
  }

  void shutdownIsBoundedByTheStopGrace() {
    auto rec = std::make_shared<Recorder>();
    rec->failAlways();
    auto s = settings(1);
    s.initialRetryDelay = 0.05;
    s.stopGrace = 200ms;
    auto q = std::make_shared<LogQueue>("t", s, rec);
    for (int i = 0; i < 100; ++i) QVERIFY(q->enqueue("e"));
    QVERIFY(rec->waitCalls(1));
    auto start = Clock::now();
    plugins::log::shutdownQueues();
    double elapsed = seconds(Clock::now() - start);
    QVERIFY2(elapsed < 2, qPrintable(QString::number(elapsed)));
    QCOMPARE(q->stats().lost, std::uint64_t(100));
    QVERIFY(q->stopped());
    QVERIFY(!q->enqueue("late"));
  }

  void settingsFromKongQueueRecord() {
    plugins::schema::Schema s;
    s.fields = {plugins::log::queueField()};
    auto v = plugins::schema::validate(s, boost::json::object{});
    QVERIFY(v.ok());
    auto got = plugins::log::queueSettingsFromJson(v->at("queue").as_object());
    QCOMPARE(got, QueueSettings{});
    QVERIFY(v->at("queue").at("max_bytes").is_null());
    auto bad = plugins::schema::validate(
        s, boost::json::parse("{\"queue\":{\"concurrency_limit\":2,\"max_batch_size\":0,"
                              "\"initial_retry_delay\":0}}"));
    QVERIFY(!bad.ok());
    QString text = QString::fromStdString(bad.errorText());
    QVERIFY2(text.contains("config.queue.concurrency_limit: expected one of: -1, 1"),
             qPrintable(text));
    QVERIFY2(text.contains("config.queue.max_batch_size: value should be between 1 and 1000000"),
             qPrintable(text));
    QVERIFY2(text.contains("config.queue.initial_retry_delay: value should be between 0.001 and "
                           "1000000"),
             qPrintable(text));
    auto custom = plugins::schema::validate(
        s, boost::json::parse("{\"queue\":{\"max_batch_size\":20,\"max_coalescing_delay\":0.5,"
                              "\"max_bytes\":4096,\"concurrency_limit\":-1}}"));
    QVERIFY(custom.ok());
    auto c = plugins::log::queueSettingsFromJson(custom->at("queue").as_object());
    QCOMPARE(c.maxBatchSize, 20);
    QCOMPARE(c.maxCoalescingDelay, 0.5);
    QCOMPARE(c.maxBytes.value_or(0), std::int64_t(4096));
    QCOMPARE(c.concurrencyLimit, -1);
  }
};

QTEST_GUILESS_MAIN(QueueTest)
#include "queue_test.moc"
