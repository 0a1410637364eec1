// The console's config diff against a real Engine (Admin API on port 0, SQLite store in a
// temporary directory): the runner reads the live config, the model groups the changes of
// config::diffConfigs, invalid text gives errors with paths, apply sends the calls with progress
// and leaves no difference, cancel stops before the next call, a wrong token is reported.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "config/declarative.h"
#include "models/config_diff_model.h"
#include "models/config_diff_runner.h"
#include "runtime/engine.h"

using namespace archway;
using models::ConfigDiffModel;
using models::ConfigDiffRunner;

namespace {

const char* const kLive =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: demo\n"
    "  url: http://127.0.0.1:9\n"
    "  routes:\n"
    "  - {name: old, paths: [/old]}\n"
    "- {name: unused, url: 'http://127.0.0.1:9'}\n"
    "consumers:\n"
    "- username: bob\n"
    "  keyauth_credentials: [{key: bob-old-key}]\n";

const char* const kDesired =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: demo\n"
    "  url: http://127.0.0.1:9\n"
    "  routes:\n"
    "  - {name: old, paths: [/older]}\n"
    "  - {name: fresh, paths: [/fresh]}\n"
    "consumers:\n"
    "- username: bob\n"
    "  keyauth_credentials: [{key: bob-new-key}]\n"
    "- username: alice\n";

QString text(const QModelIndex& i) {
  return i.data().toString();
}

// "kind/name" of every change row, in model order.
QStringList changeRows(const ConfigDiffModel& m) {
  QStringList out;
  for (int g = 0; g < m.rowCount(); ++g) {
    const QModelIndex group = m.index(g, 0);
    for (int r = 0; r < m.rowCount(group); ++r) {
      out << text(m.index(r, ConfigDiffModel::kEntityColumn, group)) + "/" +
                 text(m.index(r, ConfigDiffModel::kNameColumn, group));
    }
  }
  return out;
}

// Every cell's display and tooltip text under `parent`, recursively.
QString allText(const ConfigDiffModel& m, const QModelIndex& parent) {
  QString out;
  for (int r = 0; r < m.rowCount(parent); ++r) {
    for (int c = 0; c < m.columnCount(parent); ++c) {
      const QModelIndex i = m.index(r, c, parent);
      out += text(i) + " " + i.data(Qt::ToolTipRole).toString() + "\n";
    }
    out += allText(m, m.index(r, 0, parent));
  }
  return out;
}

}  // namespace

class ConfigDiffModelTest : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  std::unique_ptr<runtime::Engine> engine_;

  models::AdminTarget target() const {
    return {.url = "http://127.0.0.1:" + std::to_string(engine_->adminPort())};
  }

  void startEngine(const std::string& token = {}) {
    if (engine_) engine_->stop(std::chrono::milliseconds(200));
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "127.0.0.1:0";
    o.adminToken = token;
    o.workers = 1;
    engine_ = std::make_unique<runtime::Engine>();
    auto live = config::parseDeclarative(kLive);
    QVERIFY2(live.ok(), live.errorText().c_str());
    auto started = engine_->start(o, *live);
    QVERIFY2(started.ok(), started.errorText().c_str());
  }

  // Diffs `text` and waits for the outcome; the spy of the signal that ended it.
  bool diffAndWait(ConfigDiffRunner& runner, const QString& text) {
    QSignalSpy busy(&runner, &ConfigDiffRunner::busyChanged);
    if (!runner.diff(text)) return false;
    return busy.wait(20000) && (busy.size() == 2 || busy.wait(20000));
  }

 private slots:
  void init() { startEngine(); }
  void cleanup() {
    if (engine_) engine_->stop(std::chrono::milliseconds(200));
    engine_.reset();
  }

  void groupsTheChangesWithFieldsAndHidesSecrets() {
    ConfigDiffModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ConfigDiffRunner runner(&model);
    runner.setTarget(target());
    QSignalSpy ready(&runner, &ConfigDiffRunner::diffReady);
    QVERIFY(diffAndWait(runner, kDesired));
    QCOMPARE(ready.size(), 1);

    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(text(model.index(0, 0)), QStringLiteral("Create (3)"));
    QCOMPARE(text(model.index(1, 0)), QStringLiteral("Update (1)"));
    QCOMPARE(text(model.index(2, 0)), QStringLiteral("Delete (2)"));
    QVERIFY(changeRows(model).contains("consumer/alice"));
    QVERIFY(changeRows(model).contains("route/fresh"));
    QVERIFY(changeRows(model).contains("service/unused"));

    // The route update lists its changed field, before and after.
    const QModelIndex updates = model.index(1, 0);
    const QModelIndex old = model.index(0, ConfigDiffModel::kEntityColumn, updates);
    QCOMPARE(text(old), QStringLiteral("route"));
    QCOMPARE(text(model.index(0, ConfigDiffModel::kFieldColumn, updates)), QStringLiteral("paths"));
    QCOMPARE(model.rowCount(old), 1);
    QCOMPARE(text(model.index(0, ConfigDiffModel::kBeforeColumn, old)),
             QStringLiteral("[\"/old\"]"));
    QCOMPARE(text(model.index(0, ConfigDiffModel::kAfterColumn, old)),
             QStringLiteral("[\"/older\"]"));
    QCOMPARE(model.index(0, 0, old).parent(), old);
    QCOMPARE(old.parent(), updates);
    QCOMPARE(model.index(0, 0, old).data(ConfigDiffModel::kKindRole).toInt(),
             int(config::ChangeKind::update));

    // No key, old or new, appears anywhere in the model.
    const QString everything = allText(model, {});
    QVERIFY2(everything.contains("key-auth"), qPrintable(everything));
    QVERIFY2(!everything.contains("bob-old-key") && !everything.contains("bob-new-key"),
             qPrintable(everything));
    QVERIFY(model.callCount() >= 6);
  }

  void invalidTextGivesErrorsWithPathsAndClearsTheModel() {
    ConfigDiffModel model;
    ConfigDiffRunner runner(&model);
    runner.setTarget(target());
    QVERIFY(diffAndWait(runner, kDesired));
    QVERIFY(model.rowCount() > 0);
    QSignalSpy invalid(&runner, &ConfigDiffRunner::invalid);
    QVERIFY(diffAndWait(runner,
                        "_format_version: '3.0'\nservices:\n- {name: a, url: 'http://a', "
                        "routes: [{paths: [x]}]}\n"));
    QCOMPARE(invalid.size(), 1);
    const QStringList errors = invalid.at(0).at(0).toStringList();
    QVERIFY2(!errors.isEmpty() && errors.first().startsWith("services[0].routes[0].paths[0]"),
             qPrintable(errors.join('\n')));
    QCOMPARE(model.rowCount(), 0);
  }

  void applySendsEveryCallWithProgressThenNothingIsLeft() {
    ConfigDiffModel model;
    ConfigDiffRunner runner(&model);
    runner.setTarget(target());
    QVERIFY(diffAndWait(runner, kDesired));
    const int total = model.callCount();
    QSignalSpy progress(&runner, &ConfigDiffRunner::progress);
    QSignalSpy applied(&runner, &ConfigDiffRunner::applied);
    QSignalSpy ready(&runner, &ConfigDiffRunner::diffReady);
    QVERIFY(runner.apply());
    QVERIFY(!runner.apply());  // one job at a time
    QTRY_COMPARE_WITH_TIMEOUT(applied.size(), 1, 20000);
    QCOMPARE(applied.at(0).at(0).toInt(), total);
    QCOMPARE(applied.at(0).at(1).toInt(), total);
    QCOMPARE(applied.at(0).at(2).toString(), QString());
    QCOMPARE(applied.at(0).at(3).toBool(), false);
    QCOMPARE(progress.size(), total);
    QCOMPARE(progress.last().at(0).toInt(), total);
    // The refresh after apply: the node now serves the text.
    QTRY_COMPARE_WITH_TIMEOUT(ready.size(), 1, 20000);
    QVERIFY(model.diff().empty());
    QCOMPARE(model.rowCount(), 0);
    QVERIFY(engine_->config()->findService("unused") == nullptr);
  }

  void cancelStopsBeforeTheNextCall() {
    ConfigDiffModel model;
    ConfigDiffRunner runner(&model);
    runner.setTarget(target());
    QVERIFY(diffAndWait(runner, kDesired));
    const int total = model.callCount();
    QVERIFY(total > 2);
    // Runs on the worker thread right after the second call, before the third.
    connect(
        &runner, &ConfigDiffRunner::progress, &runner,
        [&runner](int done, int) {
          if (done == 2) runner.cancel();
        },
        Qt::DirectConnection);
    QSignalSpy applied(&runner, &ConfigDiffRunner::applied);
    QVERIFY(runner.apply());
    QTRY_COMPARE_WITH_TIMEOUT(applied.size(), 1, 20000);
    QCOMPARE(applied.at(0).at(0).toInt(), 2);
    QCOMPARE(applied.at(0).at(1).toInt(), total);
    QCOMPARE(applied.at(0).at(3).toBool(), true);
    // The refreshed diff has exactly the changes of the calls not sent.
    QTRY_VERIFY_WITH_TIMEOUT(!runner.busy(), 20000);
    QCOMPARE(model.callCount(), total - 2);
  }

  void aRefusedTokenAndAnUnreachableNodeAreReported() {
    startEngine("s3cret");
    ConfigDiffModel model;
    ConfigDiffRunner runner(&model);
    runner.setTarget(target());
    QSignalSpy failed(&runner, &ConfigDiffRunner::failed);
    QVERIFY(diffAndWait(runner, kDesired));
    QCOMPARE(failed.size(), 1);
    QVERIFY2(failed.at(0).at(0).toString().contains("HTTP 401"),
             qPrintable(failed.at(0).at(0).toString()));

    auto withToken = target();
    withToken.token = "s3cret";
    runner.setTarget(withToken);
    QSignalSpy ready(&runner, &ConfigDiffRunner::diffReady);
    QVERIFY(diffAndWait(runner, kDesired));
    QCOMPARE(ready.size(), 1);

    runner.setTarget({.url = "http://127.0.0.1:1"});
    QVERIFY(diffAndWait(runner, kDesired));
    QCOMPARE(failed.size(), 2);
    QVERIFY2(failed.at(1).at(0).toString().contains("127.0.0.1:1"),
             qPrintable(failed.at(1).at(0).toString()));

    runner.setTarget({});
    QVERIFY(runner.diff(kDesired));
    QVERIFY(!runner.busy());  // no Admin API: nothing to run, said at once
    QTRY_COMPARE(failed.size(), 3);
    QVERIFY2(failed.at(2).at(0).toString().contains("Admin API"),
             qPrintable(failed.at(2).at(0).toString()));
  }

  void loadLiveFetchesTheNodesConfigText() {
    ConfigDiffModel model;
    ConfigDiffRunner runner(&model);
    runner.setTarget(target());
    QSignalSpy loaded(&runner, &ConfigDiffRunner::liveConfigLoaded);
    QVERIFY(runner.loadLive());
    QTRY_COMPARE_WITH_TIMEOUT(loaded.size(), 1, 20000);
    const QString text = loaded.at(0).at(0).toString();
    QVERIFY2(text.contains("unused") && text.contains("_format_version"), qPrintable(text));
  }
};

QTEST_GUILESS_MAIN(ConfigDiffModelTest)
#include "config_diff_model_test.moc"
