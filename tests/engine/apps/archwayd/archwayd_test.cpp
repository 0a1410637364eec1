// archwayd as a user runs it: flags, exit codes, and proxying a kong.yml route.
#include <QtNetwork/QTcpServer>
#include <QtTest>

#include <unistd.h>

class ArchwaydTest : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  const QString bin_ = QStringLiteral(ARCHWAY_BIN_DIR "/archwayd");

  QString writeFile(const QString& name, const QByteArray& text) {
    QFile f(dir_.filePath(name));
    f.open(QIODevice::WriteOnly);
    f.write(text);
    return f.fileName();
  }

  struct Run {
    int code;
    QString err;
    QString out;
  };
  Run run(const QStringList& args) {
    QProcess p;
    p.start(bin_, args);
    if (!p.waitForFinished(10000)) {
      p.kill();
      p.waitForFinished();
      return {-1, "timeout", {}};
    }
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardError()),
            QString::fromUtf8(p.readAllStandardOutput())};
  }

 private slots:
  void helpListsTheContractFlags() {
    auto r = run({"--help"});
    QCOMPARE(r.code, 0);
    for (auto flag : {"--config", "--db", "--proxy-listen", "--admin-listen", "--workers",
                      "--log-level", "--access-log", "--error-log"}) {
      QVERIFY2(r.out.contains(flag), flag);
    }
  }

  void unknownFlagExitsTwoNamingIt() {
    auto r = run({"--frobnicate"});
    QCOMPARE(r.code, 2);
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    QVERIFY(r.err.contains("--frobnicate"));
  }

  void badWorkersValueNamesTheFlag() {
    auto r = run({"--config", "x.yml", "--workers", "lots"});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains("--workers"));
  }

  void invalidConfigExitsTwoNamingTheField() {
    auto path = writeFile("bad.yml",
                          "_format_version: '3.0'\nservices:\n- name: a\n  url: http://a\n  "
                          "routes:\n  - paths: [x]\n");
    auto r = run({"--config", path, "--proxy-listen", "127.0.0.1:0", "--admin-listen", "off"});
    QCOMPARE(r.code, 2);
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    QVERIFY2(r.err.contains("services[0].routes[0].paths[0]"), qPrintable(r.err));
  }

  void badListenAddressNamesTheFlag() {
    auto path = writeFile("ok.yml", "_format_version: '3.0'\n");
    auto r = run({"--config", path, "--proxy-listen", "127.0.0.1:99999"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("--proxy-listen"), qPrintable(r.err));
  }

  void nonLoopbackAdminWithoutTokenExitsTwo() {
    auto path = writeFile("ok.yml", "_format_version: '3.0'\n");
    auto r = run({"--config", path, "--proxy-listen", "127.0.0.1:0", "--admin-listen",
                  "0.0.0.0:0"});
    QCOMPARE(r.code, 2);
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    QVERIFY2(r.err.contains("--admin-listen") && r.err.contains("--admin-token"),
             qPrintable(r.err));
  }

  void sslAdminListenerWithoutCertificateExitsTwo() {
    auto path = writeFile("ok.yml", "_format_version: '3.0'\n");
    auto r = run({"--config", path, "--proxy-listen", "127.0.0.1:0", "--admin-listen",
                  "127.0.0.1:0 ssl"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains("--admin-ssl-cert"), qPrintable(r.err));
    r = run({"--config", path, "--proxy-listen", "127.0.0.1:0", "--admin-listen",
             "127.0.0.1:0 ssl", "--admin-ssl-cert", dir_.filePath("none.pem"),
             "--admin-ssl-cert-key", dir_.filePath("none.key")});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.startsWith("archwayd: --admin-ssl-cert: "), qPrintable(r.err));
  }

  void errorLogFlagWritesTheLogToAFile() {
    auto path = writeFile("ok-errlog.yml", "_format_version: '3.0'\n");
    const QString log = dir_.filePath("error.log");
    QProcess gw;
    gw.start(bin_, {"--config", path, "--proxy-listen", "127.0.0.1:0", "--admin-listen", "off",
                    "--error-log", log});
    QVERIFY(gw.waitForStarted());
    auto fileText = [&log] {
      QFile f(log);
      return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
    };
    QTRY_VERIFY_WITH_TIMEOUT(fileText().contains("\"message\":\"engine started\""), 10000);
    gw.terminate();
    QVERIFY(gw.waitForFinished(10000));
    QCOMPARE(gw.exitCode(), 0);
    // Written before exit: the stop line is there, and nothing went to stderr.
    QVERIFY2(fileText().contains("\"message\":\"stopping\""), qPrintable(fileText()));
    QCOMPARE(gw.readAllStandardError(), QByteArray());
  }

  void unwritableErrorLogExitsTwoNamingTheFlag() {
    auto path = writeFile("ok-errlog2.yml", "_format_version: '3.0'\n");
    auto r = run({"--config", path, "--proxy-listen", "127.0.0.1:0", "--admin-listen", "off",
                  "--error-log", dir_.filePath("no/such/dir/error.log")});
    QCOMPARE(r.code, 2);
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    QVERIFY2(r.err.startsWith("archwayd: --error-log: cannot open "), qPrintable(r.err));
  }

  void badSessionValueNamesTheFlag() {
    auto r = run({"--config", "x.yml", "--session", "detached"});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.startsWith("archwayd: --session: "), qPrintable(r.err));
  }

  // Started without a terminal on standard input (QProcess gives it a pipe), archwayd leads a
  // session of its own, as a daemon does; --session inherit keeps the starter's session.
  void leadsASessionOfItsOwnWithoutATerminal() {
    auto path = writeFile("ok-session.yml", "_format_version: '3.0'\n");
    for (const QString mode : {"auto", "inherit"}) {
      QProcess gw;
      gw.start(bin_, {"--config", path, "--proxy-listen", "127.0.0.1:0", "--admin-listen", "off",
                      "--session", mode});
      QVERIFY(gw.waitForStarted());
      QString log;
      QTRY_VERIFY_WITH_TIMEOUT(
          (log += QString::fromUtf8(gw.readAllStandardError()), log.contains("engine started")),
          10000);
      const pid_t pid = static_cast<pid_t>(gw.processId());
      if (mode == "auto")
        QCOMPARE(::getsid(pid), pid);
      else
        QCOMPARE(::getsid(pid), ::getsid(0));
      gw.terminate();
      QVERIFY(gw.waitForFinished(10000));
      QCOMPARE(gw.exitCode(), 0);
    }
  }

  void proxiesAKongYmlRoute() {
    // A real upstream: a QTcpServer answering one fixed HTTP response per request.
    QTcpServer upstream;
    QVERIFY(upstream.listen(QHostAddress::LocalHost, 0));
    connect(&upstream, &QTcpServer::newConnection, this, [&upstream] {
      while (auto* s = upstream.nextPendingConnection()) {
        connect(s, &QTcpSocket::readyRead, s, [s] {
          if (!s->readAll().contains("\r\n\r\n")) return;
          s->write(
              "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nContent-Type: text/plain\r\n\r\nupstream");
        });
      }
    });
    auto path = writeFile(
        "kong.yml",
        QByteArray("_format_version: '3.0'\nservices:\n- name: up\n  url: http://127.0.0.1:") +
            QByteArray::number(upstream.serverPort()) +
            "\n  routes:\n  - name: r\n    paths: [/up]\n");
    QProcess gw;
    gw.start(bin_, {"--config", path, "--proxy-listen", "127.0.0.1:0", "--admin-listen",
                    "127.0.0.1:0", "--workers", "2"});
    QVERIFY(gw.waitForStarted());
    // The start-up log line names the bound ports.
    QString log;
    QRegularExpression portRe(R"re("proxy_port":"(\d+)")re");
    QTRY_VERIFY_WITH_TIMEOUT(
        (log += QString::fromUtf8(gw.readAllStandardError()), portRe.match(log).hasMatch()), 10000);
    int port = portRe.match(log).captured(1).toInt();

    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, static_cast<quint16>(port));
    QVERIFY(client.waitForConnected(5000));
    client.write("GET /up/x HTTP/1.1\r\nHost: test\r\n\r\n");
    QByteArray response;
    QTRY_VERIFY_WITH_TIMEOUT((response += client.readAll(), response.contains("upstream")), 10000);
    QVERIFY(response.startsWith("HTTP/1.1 200"));
    client.write("GET /elsewhere HTTP/1.1\r\nHost: test\r\n\r\n");
    response.clear();
    QTRY_VERIFY_WITH_TIMEOUT((response += client.readAll(), response.contains("no Route matched")),
                             10000);
    QVERIFY(response.startsWith("HTTP/1.1 404"));

    gw.terminate();  // SIGTERM: graceful drain, exit 0
    QVERIFY(gw.waitForFinished(10000));
    QCOMPARE(gw.exitStatus(), QProcess::NormalExit);
    QCOMPARE(gw.exitCode(), 0);
  }
};

QTEST_GUILESS_MAIN(ArchwaydTest)
#include "archwayd_test.moc"
