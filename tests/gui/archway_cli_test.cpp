#include <QProcess>
#include <QProcessEnvironment>
#include <QTest>

// The console's command line works without a display: --help and flag errors are handled
// before QApplication exists (the child gets a platform plugin that cannot load).
class ArchwayCliTest : public QObject {
  Q_OBJECT

 private slots:
  void helpPrintsTheFlagsAndExitsZero() {
    const auto [code, out, err] = run({"--help"});
    QCOMPARE(code, 0);
    for (const char* flag :
         {"--config", "--db", "--proxy-listen", "--admin-listen", "--workers", "--demo-listen",
          "--log-level", "--connect", "--token", "--page", "--trace-sample-rate", "--diff",
          "--ca-cert", "--tls-skip-verify"}) {
      QVERIFY2(out.contains(flag), flag);
    }
  }

  void badFlagIsOneLineNamingItAndExitsTwo_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("named");
    QTest::newRow("unknown") << QStringList{"--bogus"} << "--bogus";
    QTest::newRow("missing value") << QStringList{"--proxy-listen"} << "--proxy-listen";
    QTest::newRow("workers") << QStringList{"--workers", "many"} << "--workers";
    QTest::newRow("log level") << QStringList{"--log-level", "loud"} << "--log-level";
    QTest::newRow("page") << QStringList{"--page", "settings"} << "--page";
    QTest::newRow("sample rate") << QStringList{"--trace-sample-rate", "2"}
                                 << "--trace-sample-rate";
    QTest::newRow("sample rate text")
        << QStringList{"--trace-sample-rate", "half"} << "--trace-sample-rate";
    QTest::newRow("connect url") << QStringList{"--connect", "ftp://x:8001"} << "--connect";
    QTest::newRow("token alone") << QStringList{"--token", "t"} << "--token";
    QTest::newRow("connect with config")
        << QStringList{"--connect", "http://127.0.0.1:8001", "--config", "kong.yml"}
        << "--config";
    QTest::newRow("connect ca file") << QStringList{"--connect", "https://127.0.0.1:8444",
                                                    "--ca-cert", "/nonexistent/ca.pem"}
                                     << "--connect";
    QTest::newRow("page name") << QStringList{"--page", "connect"} << "--page";
  }
  void badFlagIsOneLineNamingItAndExitsTwo() {
    QFETCH(QStringList, args);
    QFETCH(QString, named);
    const auto [code, out, err] = run(args);
    QCOMPARE(code, 2);
    QVERIFY2(err.contains(named), qPrintable(err));
    QCOMPARE(err.trimmed().count('\n'), 0);
  }

 private:
  struct Outcome {
    int code;
    QString out, err;
  };
  static Outcome run(const QStringList& args) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString& key : env.keys()) {
      if (key.startsWith("ARCHWAY_")) env.remove(key);
    }
    env.remove("DISPLAY");
    env.remove("WAYLAND_DISPLAY");
    env.insert("QT_QPA_PLATFORM", "archway-test-no-such-platform");
    p.setProcessEnvironment(env);
    p.start(ARCHWAY_BIN_DIR "/archway", args);
    if (!p.waitForFinished(10000)) {
      p.kill();
      p.waitForFinished();
      return {-1, {}, QStringLiteral("timed out")};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
  }
};

QTEST_GUILESS_MAIN(ArchwayCliTest)
#include "archway_cli_test.moc"
