// `archwayd config diff|sync` against a real Engine (Admin API on port 0, SQLite store in a
// temporary directory, the demo upstream behind it): diff, sync, diff again shows nothing, the
// proxy serves the synced routes; and the archwayd binary's output and exit codes.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>


#include "apps/admin_client.h"
#include "apps/archwayd/config_command.h"
#include "run_config_command.h"
#include "demo/demo_server.h"
#include "runtime/engine.h"

using namespace archway;

using test::has;
using test::Run;
using test::runCommand;

class ConfigSyncTest : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  demo::DemoServer upstream_;
  std::uint16_t upstreamPort_ = 0;
  std::unique_ptr<runtime::Engine> engine_;
  std::string admin_;
  std::string desiredPath_;
  const QString bin_ = QStringLiteral(ARCHWAY_BIN_DIR "/archwayd");

  std::string writeFile(const std::string& name, const std::string& text) {
    const std::string path = dir_.filePath(QString::fromStdString(name)).toStdString();
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", path.c_str());
    f.write(text.data(), static_cast<qint64>(text.size()));
    return path;
  }

  std::string upstreamUrl() const { return "http://127.0.0.1:" + std::to_string(upstreamPort_); }

  int proxyStatus(const std::string& target) {
    auto client = apps::AdminClient::create(
        "http://127.0.0.1:" + std::to_string(engine_->proxyPort()), "");
    if (!client) return -1;
    auto r = (*client)->request("GET", target);
    return r ? r->status : -1;
  }

  Run runBinary(const QStringList& args) {
    QProcess p;
    p.start(bin_, args);
    if (!p.waitForFinished(20000)) {
      p.kill();
      p.waitForFinished();
      return {};
    }
    return {p.exitCode(), p.readAllStandardOutput().toStdString(),
            p.readAllStandardError().toStdString()};
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    auto port = upstream_.start("127.0.0.1", 0);
    QVERIFY2(port.ok(), port.errorText().c_str());
    upstreamPort_ = *port;

    runtime::EngineOptions options;
    options.proxyListen = "127.0.0.1:0";
    options.adminListen = "127.0.0.1:0";
    options.workers = 1;
    options.store = "sqlite:" + dir_.filePath(QStringLiteral("archway.db")).toStdString();
    engine_ = std::make_unique<runtime::Engine>();
    auto started = engine_->start(options, core::Config{});
    QVERIFY2(started.ok(), started.errorText().c_str());
    admin_ = "http://127.0.0.1:" + std::to_string(engine_->adminPort());

    // What the node runs before the sync, loaded through its own Admin API.
    auto client = apps::AdminClient::create(admin_, "");
    QVERIFY(client.ok());
    const std::string initial =
        "{\"config\": \"_format_version: '3.0'\\nservices:\\n- name: demo\\n  url: " +
        upstreamUrl() +
        "\\n  routes:\\n  - {name: old, paths: [/old]}\\n- {name: unused, url: 'http://"
        "127.0.0.1:9'}\\nconsumers:\\n- username: gone\\n\"}";
    auto seeded = (*client)->request("POST", "/config", initial);
    QVERIFY(seeded.ok());
    QVERIFY2(seeded->status == 201, seeded->body.c_str());
    QCOMPARE(proxyStatus("/old/anything"), 200);

    desiredPath_ = writeFile(
        "kong.yml",
        "_format_version: '3.0'\n"
        "services:\n"
        "- name: demo\n"
        "  url: " + upstreamUrl() + "\n"
        "  routes:\n"
        "  - {name: old, paths: [/older]}\n"
        "  - name: secured\n"
        "    paths: [/secured]\n"
        "    plugins: [{name: key-auth}]\n"
        "- name: balanced\n"
        "  url: http://demo.upstream\n"
        "  routes: [{name: balanced, paths: [/balanced]}]\n"
        "upstreams:\n"
        "- name: demo.upstream\n"
        "  targets: [{target: '127.0.0.1:" + std::to_string(upstreamPort_) + "'}]\n"
        "consumers:\n"
        "- username: alice\n"
        "  keyauth_credentials: [{key: alice-key}]\n");
  }

  void cleanupTestCase() {
    if (engine_) engine_->stop(std::chrono::milliseconds(500));
    upstream_.stop();
  }

  void diffThenSyncThenNothingLeftAndTheProxyServesIt() {
    auto diff = runCommand({"config", "diff", desiredPath_, "--admin", admin_});
    QVERIFY2(diff.code == 0, diff.err.c_str());
    for (const char* line :
         {"creating consumer alice\n", "creating service balanced\n",
          "creating upstream demo.upstream\n",
          "updating route old  {\"paths\": [\"/old\"] -> [\"/older\"]}\n",
          "creating route secured\n", "creating route balanced\n",
          "creating plugin key-auth (route secured)\n", "deleting service unused\n",
          "deleting consumer gone\n", "Summary: Created: 8 Updated: 1 Deleted: 2\n"}) {
      QVERIFY2(has(diff.out, line), (std::string(line) + " not in:\n" + diff.out).c_str());
    }
    // diff changes nothing
    QCOMPARE(proxyStatus("/old/anything"), 200);
    QCOMPARE(proxyStatus("/older/anything"), 404);

    auto sync = runCommand({"config", "sync", desiredPath_, "--admin", admin_});
    QVERIFY2(sync.code == 0, (sync.err + sync.out).c_str());
    QCOMPARE(sync.out, diff.out);

    auto again = runCommand({"config", "diff", desiredPath_, "--admin", admin_});
    QCOMPARE(again.code, 0);
    QCOMPARE(again.out, std::string("Summary: Created: 0 Updated: 0 Deleted: 0\n"));

    QCOMPARE(proxyStatus("/older/anything"), 200);
    QCOMPARE(proxyStatus("/old/anything"), 404);
    QCOMPARE(proxyStatus("/secured/anything"), 401);
    QCOMPARE(proxyStatus("/secured/anything?apikey=alice-key"), 200);
    QCOMPARE(proxyStatus("/balanced/anything"), 200);
  }

  // Two services swapping names (ids given in the file): the first rename clashes with the
  // other service's name, the node answers 409, and sync stops there with the node's error.
  void syncStopsAtARefusedCallPrintingTheAdminApiError() {
    const std::string a = "44444444-4444-4444-8444-444444444444";
    const std::string b = "55555555-5555-4555-8555-555555555555";
    auto client = apps::AdminClient::create(admin_, "");
    QVERIFY(client.ok());
    for (const auto& [id, name] : {std::pair{a, "swap-a"}, std::pair{b, "swap-b"}}) {
      auto r = (*client)->request("POST", "/services",
                                  "{\"id\": \"" + id + "\", \"name\": \"" + name +
                                      "\", \"url\": \"http://127.0.0.1:9\"}");
      QVERIFY(r.ok());
      QVERIFY2(r->status == 201, r->body.c_str());
    }
    const std::string path = writeFile(
        "swap.yml", "_format_version: '3.0'\nservices:\n- {id: " + a +
                        ", name: swap-b, url: 'http://127.0.0.1:9'}\n- {id: " + b +
                        ", name: swap-a, url: 'http://127.0.0.1:9'}\n");
    auto r = runCommand({"config", "sync", path, "--admin", admin_});
    QCOMPARE(r.code, 1);
    QCOMPARE(r.out, std::string("updating service swap-b  {\"name\": \"swap-a\" -> \"swap-b\"}\n"
                                "Summary: Created: 0 Updated: 0 Deleted: 0\n"));
    QVERIFY2(has(r.err, "PUT /services/" + a + ": HTTP 409"), r.err.c_str());
    QVERIFY2(has(r.err, "unique"), r.err.c_str());
    // Nothing after the refused call ran: the synced routes are still there.
    QCOMPARE(proxyStatus("/older/anything"), 200);
    for (const auto& id : {a, b}) QCOMPARE((*client)->request("DELETE", "/services/" + id)->status, 204);
  }

  void tokenIsSentWhenGiven() {
    runtime::EngineOptions options;
    options.proxyListen = "127.0.0.1:0";
    options.adminListen = "127.0.0.1:0";
    options.workers = 1;
    options.adminToken = "t0ken";
    runtime::Engine guarded;
    auto started = guarded.start(options, core::Config{});
    QVERIFY2(started.ok(), started.errorText().c_str());
    const std::string url = "http://127.0.0.1:" + std::to_string(guarded.adminPort());
    auto refused = runCommand({"config", "diff", desiredPath_, "--admin", url});
    QCOMPARE(refused.code, 1);
    QVERIFY2(has(refused.err, "HTTP 401"), refused.err.c_str());
    auto ok = runCommand(
        {"config", "diff", desiredPath_, "--admin", url, "--admin-token", "t0ken"});
    QVERIFY2(ok.code == 0, ok.err.c_str());
    QVERIFY2(has(ok.out, "Summary: Created: 10 Updated: 0 Deleted: 0\n"), ok.out.c_str());
    guarded.stop(std::chrono::milliseconds(200));
  }

  void argumentErrorsExitTwoAndUnreachableExitsOne() {
    auto noFile = runCommand({"config", "diff"});
    QCOMPARE(noFile.code, 2);
    auto badSub = runCommand({"config", "apply", desiredPath_});
    QCOMPARE(badSub.code, 2);
    auto badUrl = runCommand({"config", "diff", desiredPath_, "--admin", "ftp://127.0.0.1:1"});
    QCOMPARE(badUrl.code, 2);
    QVERIFY2(has(badUrl.err, "--admin"), badUrl.err.c_str());
    const std::string bad =
        writeFile("bad.yml", "_format_version: '3.0'\nservices:\n- {name: a, url: 'http://a', "
                             "routes: [{paths: [x]}]}\n");
    auto invalid = runCommand({"config", "diff", bad, "--admin", admin_});
    QCOMPARE(invalid.code, 2);
    QVERIFY2(has(invalid.err, "services[0].routes[0].paths[0]"), invalid.err.c_str());
    // Port 1 on loopback: nothing listens there.
    auto unreachable = runCommand({"config", "diff", desiredPath_, "--admin", "http://127.0.0.1:1"});
    QCOMPARE(unreachable.code, 1);
    QVERIFY2(has(unreachable.err, "127.0.0.1:1"), unreachable.err.c_str());
  }

  void theBinaryPrintsTheDiffAndItsExitCodes() {
    auto help = runBinary({"--help"});
    QCOMPARE(help.code, 0);
    QVERIFY(has(help.out, "archwayd config diff FILE"));
    QVERIFY(has(help.out, "archwayd config sync FILE"));

    auto diff = runBinary({"config", "diff", QString::fromStdString(desiredPath_), "--admin",
                           QString::fromStdString(admin_)});
    QVERIFY2(diff.code == 0, diff.err.c_str());
    QVERIFY2(has(diff.out, "Summary: Created: "), diff.out.c_str());

    auto missing = runBinary({"config", "diff", QString::fromStdString(dir_.filePath("nope.yml")
                                                                           .toStdString())});
    QCOMPARE(missing.code, 2);
    QCOMPARE(QString::fromStdString(missing.err).trimmed().count('\n'), 0);

    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("ARCHWAY_ADMIN_URL", "http://127.0.0.1:1");
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(bin_, {"config", "diff", QString::fromStdString(desiredPath_)});
    QVERIFY(p.waitForFinished(20000));
    QCOMPARE(p.exitCode(), 1);
  }
};

QTEST_GUILESS_MAIN(ConfigSyncTest)
#include "config_sync_test.moc"
