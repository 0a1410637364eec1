#include <signal.h>

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include "demo/demo_server.h"

using archway::demo::DemoServer;

namespace {

struct Outcome {
  int exitCode = -1;
  QString out, err;
};

QString program() {
  return QStringLiteral(ARCHWAY_BIN_DIR "/archway-load");
}

// Runs archway-load to completion with a clean ARCHWAY_LOAD_* environment.
Outcome runLoad(const QStringList& args, int timeoutMs = 20000) {
  QProcess p;
  auto env = QProcessEnvironment::systemEnvironment();
  for (const auto& key : env.keys()) {
    if (key.startsWith("ARCHWAY_LOAD_")) env.remove(key);
  }
  p.setProcessEnvironment(env);
  p.start(program(), args);
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished();
    return {};
  }
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
          QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

}  // namespace

class ArchwayLoadCliTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QVERIFY2(QFileInfo::exists(program()), qPrintable(program()));
    auto port = demo_.start("127.0.0.1", 0);
    QVERIFY2(port.ok(), port.errorText().c_str());
    url_ = QString("http://127.0.0.1:%1/anything").arg(*port);
  }
  void cleanupTestCase() { demo_.stop(); }

  void helpExitsZeroAndListsTheFlags() {
    auto o = runLoad({"--help"});
    QCOMPARE(o.exitCode, 0);
    QVERIFY(o.out.contains("Usage: archway-load"));
    QVERIFY(o.out.contains("--connections"));
    QVERIFY(o.out.contains("--rate"));
  }

  void badArgumentsExitTwoWithOneLineNamingThem_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("named");
    QTest::newRow("unknown flag") << QStringList{"--bogus", "http://x/"} << "--bogus";
    QTest::newRow("bad duration") << QStringList{"-d", "5x", "http://x/"} << "-d";
    QTest::newRow("bad connections") << QStringList{"-c", "zero", "http://x/"} << "-c";
    QTest::newRow("bad rate") << QStringList{"-R", "-3", "http://x/"} << "-R";
    QTest::newRow("bad header") << QStringList{"-H", "NoColon", "http://x/"} << "-H";
    QTest::newRow("bad timeout") << QStringList{"--timeout", "x", "http://x/"} << "--timeout";
    QTest::newRow("missing url") << QStringList{"-c", "2"} << "URL";
    QTest::newRow("https url") << QStringList{"https://x/"} << "https not supported yet";
    QTest::newRow("two urls") << QStringList{"http://a/", "http://b/"} << "http://b/";
    QTest::newRow("missing body file")
        << QStringList{"--body", "/nonexistent/f", "http://x/"} << "--body";
    QTest::newRow("malformed threshold")
        << QStringList{"--threshold", "p99<5ms", "--threshold", "p99<<5ms", "http://x/"}
        << "p99<<5ms";
    QTest::newRow("unknown threshold metric")
        << QStringList{"--threshold", "latency<5ms", "http://x/"} << "latency<5ms";
    QTest::newRow("bad stage") << QStringList{"--stage", "10s", "http://x/"} << "--stage";
    QTest::newRow("bad stage rate") << QStringList{"--stage", "10s:-1", "http://x/"} << "--stage";
    QTest::newRow("stage with duration")
        << QStringList{"--stage", "1s:10", "-d", "1s", "http://x/"} << "--stage";
    QTest::newRow("bad warmup") << QStringList{"--warmup", "x", "http://x/"} << "--warmup";
    QTest::newRow("bad url weight") << QStringList{"--url", "http://x/b@0", "http://x/"} << "--url";
    QTest::newRow("url on another port")
        << QStringList{"--url", "http://x:81/b", "http://x/"} << "http://x:81/b";
  }
  void badArgumentsExitTwoWithOneLineNamingThem() {
    QFETCH(QStringList, args);
    QFETCH(QString, named);
    auto o = runLoad(args);
    QCOMPARE(o.exitCode, 2);
    QVERIFY2(o.err.contains(named), qPrintable(o.err));
    QCOMPARE(o.err.trimmed().count('\n'), 0);
    QVERIFY(o.out.isEmpty());
  }

  void notYetBuiltFlagsAreRefused_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("named");
    QTest::newRow("http2") << QStringList{"--http2", "http://x/"} << "--http2";
  }
  void notYetBuiltFlagsAreRefused() {
    QFETCH(QStringList, args);
    QFETCH(QString, named);
    auto o = runLoad(args);
    QCOMPARE(o.exitCode, 2);
    QVERIFY2(o.err.contains(named) && o.err.contains("not built yet"), qPrintable(o.err));
  }

  void jsonReportHasTheDocumentedKeys() {
    auto o = runLoad({"-c", "2", "-d", "1s", "--json", url_});
    QCOMPARE(o.exitCode, 0);
    QJsonParseError error;
    auto doc = QJsonDocument::fromJson(o.out.toUtf8(), &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(o.out));
    QVERIFY(doc.isObject());
    auto r = doc.object();
    for (const char* key : {"requests", "duration_s", "rps", "errors", "latency_us", "timeline"}) {
      QVERIFY2(r.contains(key), key);
    }
    QVERIFY(r["requests"].toDouble() > 0);
    auto errors = r["errors"].toObject();
    for (const char* key : {"connect", "read", "timeout", "status_4xx", "status_5xx"}) {
      QVERIFY2(errors.contains(key), key);
      QCOMPARE(errors[key].toDouble(), 0.0);
    }
    auto latency = r["latency_us"].toObject();
    for (const char* key : {"mean", "p50", "p90", "p99", "p999", "max"}) {
      QVERIFY2(latency.contains(key), key);
    }
    auto timeline = r["timeline"].toArray();
    QVERIFY(!timeline.isEmpty());
    for (const char* key : {"second", "requests", "rps", "p50_ms", "p99_ms", "errors"}) {
      QVERIFY2(timeline[0].toObject().contains(key), key);
    }
  }

  void humanReportLooksLikeWrk() {
    auto o = runLoad({"-c", "2", "-t", "1", "-d", "500ms", "-H", "X-A: b", url_});
    QCOMPARE(o.exitCode, 0);
    QVERIFY2(o.out.contains("Running 500ms test @ " + url_), qPrintable(o.out));
    QVERIFY(o.out.contains("1 threads and 2 connections"));
    QVERIFY(o.out.contains("Latency Distribution"));
    QVERIFY(o.out.contains("99.9%"));
    QVERIFY(o.out.contains("requests in"));
    QVERIFY(o.out.contains("Requests/sec:"));
  }

  void passingThresholdsExitZero() {
    auto o = runLoad({"-c", "2", "-t", "1", "-d", "500ms", "--threshold", "p99<5s", "--threshold",
                      "errors<1%", "--threshold", "rps>1", url_});
    QCOMPARE(o.exitCode, 0);
    QVERIFY2(o.out.contains("Thresholds:"), qPrintable(o.out));
    QVERIFY(o.out.contains("ok  p99<5s"));
    QVERIFY(!o.out.contains("FAILED"));
  }

  void aFailingThresholdExitsOneAndIsNamed() {
    auto o = runLoad({"-c", "2", "-t", "1", "-d", "500ms", "--threshold", "p99<5s", "--threshold",
                      "rps>100000000", url_});
    QCOMPARE(o.exitCode, 1);
    QVERIFY2(o.out.contains("FAILED  rps>100000000"), qPrintable(o.out));
    QVERIFY(o.out.contains("ok  p99<5s"));
  }

  void jsonListsThresholdResults() {
    auto o = runLoad({"-c", "1", "-d", "300ms", "--json", "--threshold", "max<1us", "--threshold",
                      "errors==0", url_});
    QCOMPARE(o.exitCode, 1);
    auto r = QJsonDocument::fromJson(o.out.toUtf8()).object();
    QVERIFY2(r.contains("rate_not_kept"), qPrintable(o.out));
    auto thresholds = r["thresholds"].toArray();
    QCOMPARE(thresholds.size(), 2);
    auto first = thresholds[0].toObject();
    QCOMPARE(first["expr"].toString(), QString("max<1us"));
    QCOMPARE(first["ok"].toBool(), false);
    QVERIFY(first["value"].toDouble() > 0.001);
    auto second = thresholds[1].toObject();
    QCOMPARE(second["expr"].toString(), QString("errors==0"));
    QCOMPARE(second["ok"].toBool(), true);
    QCOMPARE(second["value"].toDouble(), 0.0);
  }

  void stagesWarmupAndWeightedUrlsRun() {
    auto base = url_.left(url_.lastIndexOf('/'));
    auto o =
        runLoad({"-c", "2", "-t", "1", "--warmup", "300ms", "--stage", "500ms:100", "--stage",
                 "500ms:100", "--url", base + "/anything/b@3", "--json", base + "/anything/a"});
    QCOMPARE(o.exitCode, 0);
    auto r = QJsonDocument::fromJson(o.out.toUtf8()).object();
    // 25 on the ramp, 50 held.
    QVERIFY2(r["requests"].toDouble() >= 65 && r["requests"].toDouble() <= 85, qPrintable(o.out));
    QCOMPARE(r["rate_not_kept"].toBool(), false);
  }

  void aRateItCannotKeepIsReported() {
    auto base = url_.left(url_.lastIndexOf('/'));
    auto o = runLoad({"-c", "1", "-t", "1", "-R", "100", "-d", "1s", base + "/delay/0.1"});
    QCOMPARE(o.exitCode, 0);
    QVERIFY2(o.out.contains("Warning: rate not kept"), qPrintable(o.out));
    o = runLoad({"-c", "1", "-t", "1", "-R", "100", "-d", "1s", "--json", base + "/delay/0.1"});
    QCOMPARE(QJsonDocument::fromJson(o.out.toUtf8()).object()["rate_not_kept"].toBool(), true);
  }

  void sigintPrintsThePartialReport() {
    QProcess p;
    p.start(program(), {"-c", "1", "-d", "60s", url_});
    QVERIFY(p.waitForStarted());
    QByteArray raw;
    QElapsedTimer t;
    t.start();
    while (!raw.contains("Running") && t.elapsed() < 5000) {
      p.waitForReadyRead(100);
      raw += p.readAllStandardOutput();
    }
    QVERIFY2(raw.contains("Running"), raw.constData());
    QTest::qWait(300);
    ::kill(static_cast<pid_t>(p.processId()), SIGINT);
    QVERIFY(p.waitForFinished(5000));
    QCOMPARE(p.exitCode(), 0);
    raw += p.readAllStandardOutput();
    auto out = QString::fromUtf8(raw);
    QVERIFY2(out.contains("Requests/sec:"), qPrintable(out));
    QVERIFY(out.contains("Interrupted"));
  }

 private:
  DemoServer demo_;
  QString url_;
};

QTEST_GUILESS_MAIN(ArchwayLoadCliTest)
#include "archway_load_cli_test.moc"
