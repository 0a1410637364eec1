// The Admin API client over https against a real Engine with a TLS Admin API listener (a
// certificate for "localhost" made by the openssl command): certificate checks (a given CA file,
// the system store, the host name, skipping), the Kong-Admin-Token, the server-sent stats stream
// and cancelling it; and `archwayd config diff` with --ca-cert / --tls-skip-verify.
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <thread>

#include "apps/admin_client.h"
#include "apps/archwayd/config_command.h"
#include "run_config_command.h"
#include "runtime/engine.h"

using namespace archway;

using test::has;
using test::runCommand;

class AdminClientTest : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  std::string cert_, key_, kongYml_;
  runtime::Engine engine_;
  std::string https_;  // https://localhost:PORT
  std::uint16_t tlsPort_ = 0;

  std::string errorOf(const core::Result<apps::HttpReply>& r) {
    return r ? "HTTP " + std::to_string(r->status) : r.errors().front().message;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    if (QStandardPaths::findExecutable("openssl").isEmpty())
      QSKIP("the openssl command is not installed (Debian package openssl)");
    QProcess p;
    p.setWorkingDirectory(dir_.path());
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start("openssl", {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "2", "-subj",
                        "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"});
    QVERIFY(p.waitForFinished(30000));
    QVERIFY2(p.exitCode() == 0, p.readAll().constData());
    cert_ = dir_.filePath("cert.pem").toStdString();
    key_ = dir_.filePath("key.pem").toStdString();

    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "127.0.0.1:0 ssl";
    o.adminSslCert = cert_;
    o.adminSslCertKey = key_;
    o.adminToken = "t0ken";
    o.workers = 1;
    auto started = engine_.start(o, core::Config{});
    QVERIFY2(started.ok(), started.errorText().c_str());
    tlsPort_ = engine_.adminPort();
    https_ = "https://localhost:" + std::to_string(tlsPort_);

    kongYml_ = dir_.filePath("kong.yml").toStdString();
    QFile f(QString::fromStdString(kongYml_));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("_format_version: '3.0'\nservices:\n- {name: tls-demo, url: 'http://127.0.0.1:9'}\n");
  }

  void cleanupTestCase() { engine_.stop(std::chrono::milliseconds(200)); }

  void trustsTheGivenCaFileAndSendsTheToken() {
    auto client = apps::AdminClient::create(https_, "t0ken", {.caFile = cert_});
    QVERIFY2(client.ok(), client.errorText().c_str());
    auto r = (*client)->request("GET", "/status");
    QVERIFY2(r && r->status == 200, errorOf(r).c_str());
    // The same kept-alive TLS connection serves the next request.
    auto again = (*client)->request("GET", "/services");
    QVERIFY2(again && again->status == 200, errorOf(again).c_str());
  }

  void aMissingOrWrongTokenIsRefusedWith401() {
    for (std::string token : {"", "wrong"}) {
      auto client = apps::AdminClient::create(https_, token, {.caFile = cert_});
      QVERIFY(client.ok());
      auto r = (*client)->request("GET", "/status");
      QVERIFY2(r.ok(), errorOf(r).c_str());
      QCOMPARE(r->status, 401);
    }
  }

  void refusesACertificateTheSystemStoreDoesNotTrust() {
    auto client = apps::AdminClient::create(https_, "t0ken");
    QVERIFY2(client.ok(), client.errorText().c_str());
    auto r = (*client)->request("GET", "/status");
    QVERIFY(!r.ok());
    QVERIFY2(has(r.errors().front().message, "certificate verify failed"), errorOf(r).c_str());
  }

  void refusesACertificateForAnotherHostName() {
    // The certificate names localhost only, not the address 127.0.0.1.
    auto client = apps::AdminClient::create("https://127.0.0.1:" + std::to_string(tlsPort_),
                                            "t0ken", {.caFile = cert_});
    QVERIFY(client.ok());
    auto r = (*client)->request("GET", "/status");
    QVERIFY(!r.ok());
    QVERIFY2(has(r.errors().front().message, "TLS handshake"), errorOf(r).c_str());
  }

  void skipVerifyAcceptsAnyCertificate() {
    auto client = apps::AdminClient::create("https://127.0.0.1:" + std::to_string(tlsPort_),
                                            "t0ken", {.skipVerify = true});
    QVERIFY(client.ok());
    auto r = (*client)->request("GET", "/status");
    QVERIFY2(r && r->status == 200, errorOf(r).c_str());
  }

  void badUrlsAndCaFilesAreErrorsBeforeConnecting() {
    QVERIFY(!apps::AdminClient::create("ftp://localhost", "").ok());
    QVERIFY(!apps::AdminClient::create("https://", "").ok());
    auto missing =
        apps::AdminClient::create(https_, "", {.caFile = dir_.filePath("nope.pem").toStdString()});
    QVERIFY(!missing.ok());
    QVERIFY2(has(missing.errors().front().message, "nope.pem"), missing.errorText().c_str());
    // Plain http to the TLS port gets an answer, not a hang.
    auto plain = apps::AdminClient::create("http://127.0.0.1:" + std::to_string(tlsPort_), "");
    QVERIFY(plain.ok());
    auto r = (*plain)->request("GET", "/status");
    QVERIFY2(r && r->status == 400, errorOf(r).c_str());
  }

  void streamsServerSentStatsEventsOverTls() {
    auto client = apps::AdminClient::create(https_, "t0ken", {.caFile = cert_});
    QVERIFY(client.ok());
    std::string received;
    int events = 0;
    bool calledAfterStop = false, stopped = false;
    auto r = (*client)->stream("/archway/stats/stream", [&](std::string_view data) {
      if (stopped) calledAfterStop = true;
      received.append(data);
      for (auto at = received.find("\n\n"); at != std::string::npos; at = received.find("\n\n")) {
        if (received.rfind("data: {", 0) == 0) ++events;
        received.erase(0, at + 2);
      }
      stopped = events >= 3;
      return !stopped;
    });
    QVERIFY2(r && r->status == 200, errorOf(r).c_str());
    QVERIFY(events >= 3);
    QVERIFY(!calledAfterStop);
  }

  void aRefusedStreamReturnsTheStatusAndBody() {
    auto client = apps::AdminClient::create(https_, "wrong", {.caFile = cert_});
    QVERIFY(client.ok());
    bool called = false;
    auto r = (*client)->stream("/archway/stats/stream", [&](std::string_view) {
      called = true;
      return true;
    });
    QVERIFY2(r.ok(), errorOf(r).c_str());
    QCOMPARE(r->status, 401);
    QVERIFY2(has(r->body, "Unauthorized"), r->body.c_str());
    QVERIFY(!called);
  }

  void cancelEndsAStreamFromAnotherThread() {
    auto client = apps::AdminClient::create(https_, "t0ken", {.caFile = cert_});
    QVERIFY(client.ok());
    apps::AdminClient* c = client->get();
    std::atomic<int> chunks{0};
    std::optional<core::Result<apps::HttpReply>> result;
    std::thread reader([&] {
      result = c->stream("/archway/stats/stream", [&](std::string_view) {
        ++chunks;
        return true;
      });
    });
    QTRY_VERIFY_WITH_TIMEOUT(chunks >= 1, 10000);
    c->cancel();
    reader.join();
    QVERIFY(result && !result->ok());
    QVERIFY2(has(result->errors().front().message, "cancelled"), errorOf(*result).c_str());
    // Later calls end at once.
    auto after = c->request("GET", "/status");
    QVERIFY(!after.ok());
  }

  void configDiffVerifiesHttpsWithCaCertOrSkipsWithTlsSkipVerify() {
    auto withCa = runCommand({"config", "diff", kongYml_, "--admin", https_, "--admin-token",
                              "t0ken", "--ca-cert", cert_});
    QVERIFY2(withCa.code == 0, withCa.err.c_str());
    QVERIFY2(has(withCa.out, "creating service tls-demo\n"), withCa.out.c_str());

    auto skip = runCommand({"config", "diff", kongYml_, "--admin", https_, "--admin-token", "t0ken",
                            "--tls-skip-verify"});
    QVERIFY2(skip.code == 0, skip.err.c_str());

    auto untrusted =
        runCommand({"config", "diff", kongYml_, "--admin", https_, "--admin-token", "t0ken"});
    QCOMPARE(untrusted.code, 1);
    QVERIFY2(has(untrusted.err, "certificate verify failed"), untrusted.err.c_str());

    auto both = runCommand(
        {"config", "diff", kongYml_, "--admin", https_, "--ca-cert", cert_, "--tls-skip-verify"});
    QCOMPARE(both.code, 2);

    auto sync = runCommand({"config", "sync", kongYml_, "--admin", https_, "--admin-token", "t0ken",
                            "--ca-cert", cert_});
    QVERIFY2(sync.code == 0, sync.err.c_str());
    QCOMPARE(engine_.config()->services.size(), std::size_t(1));
  }
};

QTEST_GUILESS_MAIN(AdminClientTest)
#include "admin_client_test.moc"
