// The log thread: records pushed by many threads become JSON lines in the sink in per-thread
// order, a full queue drops and counts (and says so in the log), subscribers get the structured
// records on the log thread, flush() waits for what was pushed before it, and a stuck sink never
// makes a producer wait.
#include <QtTest>

#include <atomic>
#include <boost/json.hpp>
#include <thread>
#include <vector>

#include "core/log_writer.h"
#include "log_lines.h"

using namespace archway::core;

namespace {

log::Record record(std::string message,
                   std::vector<std::pair<std::string, std::string>> fields = {},
                   log::Level level = log::Level::error) {
  log::Record r;
  r.timeUs = 1700000000123456;
  r.level = level;
  r.message = std::move(message);
  r.fields = std::move(fields);
  return r;
}

std::vector<boost::json::object> readJsonLines(const QString& path) {
  std::vector<boost::json::object> out;
  for (const auto& l : archway::testing::completeLogLines(path.toStdString()))
    out.push_back(boost::json::parse(l).as_object());
  return out;
}

std::string str(const boost::json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

}  // namespace

class LogWriterTest : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;

 private slots:
  void formatsOneEscapedJsonLine() {
    const std::string line =
        log::formatJson(record("upstream \"a\" failed\n", {{"error", "refused"}, {"k\\", "v"}}));
    QCOMPARE(line,
             std::string("{\"time\":1700000000.123,\"level\":\"error\",\"message\":\"upstream "
                         "\\\"a\\\" failed\\n\",\"error\":\"refused\",\"k\\\\\":\"v\"}\n"));
  }

  void writesEveryRecordToTheFile() {
    const QString path = dir_.filePath("error.log");
    log::Writer w;
    QCOMPARE(w.setFile(path.toStdString()), std::string());
    for (int i = 0; i < 100; ++i) {
      auto r = record("r" + std::to_string(i), {{"i", std::to_string(i)}});
      QVERIFY(w.push(r));
    }
    QVERIFY(w.flush(std::chrono::seconds(10)));
    const auto lines = readJsonLines(path);
    QCOMPARE(lines.size(), std::size_t(100));
    for (int i = 0; i < 100; ++i) {
      QCOMPARE(str(lines[static_cast<std::size_t>(i)], "message"), "r" + std::to_string(i));
      QCOMPARE(str(lines[static_cast<std::size_t>(i)], "level"), std::string("error"));
    }
    QCOMPARE(w.written(), std::uint64_t(100));
    QCOMPARE(w.dropped(), std::uint64_t(0));
  }

  void theLogThreadKeepsTheNewestRecordsForReading() {
    log::Writer w;
    QVERIFY(w.setFile(dir_.filePath("recent.log").toStdString()).empty());
    w.setRecentCapacity(5);
    for (int i = 0; i < 8; ++i) {
      auto r = record("r" + std::to_string(i), {},
                      i % 2 == 0 ? log::Level::warn : log::Level::info);
      QVERIFY(w.push(r));
    }
    QVERIFY(w.flush(std::chrono::seconds(10)));
    // The last 5 (r3..r7), oldest first; a limit takes the newest.
    auto all = w.recent(100, log::Level::debug);
    QCOMPARE(all.size(), std::size_t(5));
    QCOMPARE(all.front().message, std::string("r3"));
    QCOMPARE(all.back().message, std::string("r7"));
    auto two = w.recent(2, log::Level::debug);
    QCOMPARE(two.size(), std::size_t(2));
    QCOMPARE(two[0].message, std::string("r6"));
    QCOMPARE(two[1].message, std::string("r7"));
    // By level: r4 and r6 are the warnings among them.
    auto warns = w.recent(100, log::Level::warn);
    QCOMPARE(warns.size(), std::size_t(2));
    QCOMPARE(warns[0].message, std::string("r4"));
    QCOMPARE(warns[1].message, std::string("r6"));
  }

  void aFullQueueDropsCountsAndReportsTheDrops() {
    const QString path = dir_.filePath("drops.log");
    log::Writer w(8, false);  // no log thread yet: nothing drains
    QCOMPARE(w.setFile(path.toStdString()), std::string());
    int accepted = 0;
    for (int i = 0; i < 20; ++i) {
      auto r = record("r" + std::to_string(i));
      accepted += w.push(r) ? 1 : 0;
    }
    QCOMPARE(accepted, 8);
    QCOMPARE(w.dropped(), std::uint64_t(12));
    w.start();
    QVERIFY(w.flush(std::chrono::seconds(10)));
    const auto lines = readJsonLines(path);
    QCOMPARE(lines.size(), std::size_t(9));
    for (int i = 0; i < 8; ++i)
      QCOMPARE(str(lines[static_cast<std::size_t>(i)], "message"), "r" + std::to_string(i));
    QCOMPARE(str(lines[8], "message"), std::string("log records dropped"));
    QCOMPARE(str(lines[8], "level"), std::string("warn"));
    QCOMPARE(str(lines[8], "dropped"), std::string("12"));
    // Reported once: more records do not repeat it.
    auto r = record("after");
    QVERIFY(w.push(r));
    QVERIFY(w.flush(std::chrono::seconds(10)));
    QCOMPARE(readJsonLines(path).size(), std::size_t(10));
  }

  void recordsOfEachThreadKeepTheirOrder() {
    constexpr int kThreads = 4, kEach = 3000;
    const QString path = dir_.filePath("order.log");
    log::Writer w(1 << 14);  // room for all: nothing dropped
    QCOMPARE(w.setFile(path.toStdString()), std::string());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&w, t] {
        for (int i = 0; i < kEach; ++i) {
          auto r = record("m", {{"thread", std::to_string(t)}, {"seq", std::to_string(i)}});
          w.push(r);
        }
      });
    }
    for (auto& t : threads) t.join();
    QVERIFY(w.flush(std::chrono::seconds(10)));
    QCOMPARE(w.dropped(), std::uint64_t(0));
    const auto lines = readJsonLines(path);
    QCOMPARE(lines.size(), std::size_t(kThreads * kEach));
    std::vector<int> next(kThreads, 0);
    for (const auto& o : lines) {
      const int t = std::stoi(str(o, "thread"));
      QCOMPARE(std::stoi(str(o, "seq")), next[static_cast<std::size_t>(t)]);
      ++next[static_cast<std::size_t>(t)];
    }
  }

  void subscribersGetStructuredRecordsOnTheLogThread() {
    log::Writer w;
    QCOMPARE(w.setFile(dir_.filePath("subs.log").toStdString()), std::string());
    std::vector<log::Record> got;
    std::thread::id on;
    const int token = w.subscribe([&](const log::Record& r) {
      got.push_back(r);
      on = std::this_thread::get_id();
    });
    auto r = record("dns failure", {{"host", "a.example"}}, log::Level::warn);
    QVERIFY(w.push(r));
    QVERIFY(w.flush(std::chrono::seconds(10)));
    QCOMPARE(got.size(), std::size_t(1));
    QCOMPARE(got[0].message, std::string("dns failure"));
    QCOMPARE(got[0].level, log::Level::warn);
    QCOMPARE(got[0].timeUs, std::int64_t(1700000000123456));
    QCOMPARE(got[0].fields.size(), std::size_t(1));
    QCOMPARE(got[0].fields[0].first, std::string("host"));
    QCOMPARE(got[0].fields[0].second, std::string("a.example"));
    QVERIFY(on != std::this_thread::get_id());
    w.unsubscribe(token);
    auto again = record("after unsubscribe");
    QVERIFY(w.push(again));
    QVERIFY(w.flush(std::chrono::seconds(10)));
    QCOMPARE(got.size(), std::size_t(1));
  }

  void aStuckSinkNeverMakesAProducerWait() {
    log::Writer w(8);
    QCOMPARE(w.setFile(dir_.filePath("stuck.log").toStdString()), std::string());
    std::atomic<bool> release{false}, entered{false};
    w.subscribe([&](const log::Record&) {
      entered.store(true);
      while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    auto first = record("first");
    QVERIFY(w.push(first));
    QTRY_VERIFY_WITH_TIMEOUT(entered.load(), 10000);  // the log thread is now stuck in it
    int accepted = 0;
    for (int i = 0; i < 100; ++i) {  // would hang here if a push waited for the log thread
      auto r = record("r");
      accepted += w.push(r) ? 1 : 0;
    }
    QCOMPARE(accepted, 8);
    QCOMPARE(w.dropped(), std::uint64_t(92));
    QVERIFY(!w.flush(std::chrono::milliseconds(20)));  // the flush gives up, it does not hang
    release.store(true);
    QVERIFY(w.flush(std::chrono::seconds(10)));
    QCOMPARE(w.written(), std::uint64_t(1 + 8 + 1));  // first, the 8 kept, the drop report
  }

  void anUnopenableFileIsRefusedAndTheSinkKept() {
    const QString path = dir_.filePath("kept.log");
    log::Writer w;
    QCOMPARE(w.setFile(path.toStdString()), std::string());
    const std::string error = w.setFile(dir_.filePath("no/such/dir/x.log").toStdString());
    QVERIFY2(error.starts_with("cannot open "), error.c_str());
    auto r = record("still here");
    QVERIFY(w.push(r));
    QVERIFY(w.flush(std::chrono::seconds(10)));
    const auto lines = readJsonLines(path);
    QCOMPARE(lines.size(), std::size_t(1));
    QCOMPARE(str(lines[0], "message"), std::string("still here"));
  }

  void theDestructorWritesWhatIsQueued() {
    const QString path = dir_.filePath("dtor.log");
    {
      log::Writer w(64);
      QCOMPARE(w.setFile(path.toStdString()), std::string());
      for (int i = 0; i < 50; ++i) {
        auto r = record("r");
        w.push(r);
      }
    }
    QCOMPARE(readJsonLines(path).size(), std::size_t(50));
  }
};

QTEST_GUILESS_MAIN(LogWriterTest)
#include "log_writer_test.moc"
