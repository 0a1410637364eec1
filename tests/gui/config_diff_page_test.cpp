// The Config page offscreen, in a MainWindow with a real embedded engine (Admin API and proxy on
// port 0): a file's diff against the live configuration, validation errors with paths, Apply
// with its progress bar until nothing is left, and Cancel stopping before the next call.
#include <QFile>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSemaphore>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>

#include "gui/config_diff_page.h"
#include "gui/main_window.h"
#include "models/config_diff_model.h"
#include "models/config_diff_runner.h"

using archway::gui::ConfigDiffPage;
using archway::gui::MainWindow;
using archway::models::BridgeOptions;
using archway::models::ConfigDiffModel;
using archway::models::ConfigDiffRunner;

namespace {

const char* const kRunning =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: shop\n"
    "  url: http://127.0.0.1:9\n"
    "  routes:\n"
    "  - {name: cart, paths: [/cart]}\n"
    "- {name: legacy, url: 'http://127.0.0.1:9'}\n";

// Six creates (three services, each with a route), one update, one delete.
const char* const kWanted =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: shop\n"
    "  url: http://127.0.0.1:9\n"
    "  routes:\n"
    "  - {name: cart, paths: [/cart, /basket]}\n"
    "- {name: a, url: 'http://127.0.0.1:9', routes: [{name: ra, paths: [/a]}]}\n"
    "- {name: b, url: 'http://127.0.0.1:9', routes: [{name: rb, paths: [/b]}]}\n"
    "- {name: c, url: 'http://127.0.0.1:9', routes: [{name: rc, paths: [/c]}]}\n";

}  // namespace

class ConfigDiffPageTest : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  QString running_, wanted_;
  std::unique_ptr<MainWindow> window_;

  QString write(const QString& name, const char* text) {
    const QString path = dir_.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(text);
    return path;
  }

  ConfigDiffPage* page() const { return window_->configPage(); }
  const ConfigDiffModel* model() const {
    return static_cast<const ConfigDiffModel*>(page()->tree()->model());
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    running_ = write("running.yml", kRunning);
    wanted_ = write("wanted.yml", kWanted);
  }

  void init() {
    window_ = std::make_unique<MainWindow>();
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    BridgeOptions o;
    o.engine.proxyListen = "127.0.0.1:0";
    o.engine.adminListen = "127.0.0.1:0";
    o.engine.workers = 1;
    o.demoListen = "off";
    o.source.configFile = running_.toStdString();
    QCOMPARE(window_->startEngine(o), QString());
    QVERIFY(window_->showPage("config"));
    QCOMPARE(window_->pages()->currentWidget(), page());
  }

  void cleanup() { window_.reset(); }

  void showsTheDiffOfAFileAgainstTheEmbeddedEngine() {
    QVERIFY(!page()->applyButton()->isEnabled());
    QVERIFY(page()->openFile(wanted_));
    QCOMPARE(page()->editor()->toPlainText(), QString::fromUtf8(kWanted));
    QTRY_COMPARE_WITH_TIMEOUT(model()->rowCount(), 3, 20000);
    QCOMPARE(model()->count(archway::config::ChangeKind::create), 6);
    QCOMPARE(model()->count(archway::config::ChangeKind::update), 1);
    QCOMPARE(model()->count(archway::config::ChangeKind::remove), 1);
    QVERIFY(page()->tree()->isVisible());
    QVERIFY(page()->tree()->isExpanded(model()->index(1, 0)));
    QVERIFY2(page()->findChild<QLabel*>("configSummary")->text().contains("6"),
             qPrintable(page()->findChild<QLabel*>("configSummary")->text()));
    QVERIFY(page()->applyButton()->isEnabled());

    // Editing the text makes the diff out of date: nothing to apply until it is diffed again.
    page()->editor()->appendPlainText("# edited\n");
    QVERIFY(!page()->applyButton()->isEnabled());
    QCOMPARE(page()->diffButton()->shortcut(), QKeySequence(Qt::Key_F5));
    QTest::mouseClick(page()->diffButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(page()->applyButton()->isEnabled(), 20000);
  }

  void showsValidationErrorsWithTheirPaths() {
    page()->editor()->setPlainText(
        "_format_version: '3.0'\nservices:\n- {name: a, url: 'http://a', routes: [{paths: "
        "[x]}]}\n");
    QTest::mouseClick(page()->diffButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(page()->errors()->isVisible(), 20000);
    QVERIFY(page()->errors()->count() >= 1);
    QVERIFY2(page()->errors()->item(0)->text().startsWith("services[0].routes[0].paths[0]"),
             qPrintable(page()->errors()->item(0)->text()));
    QVERIFY(!page()->tree()->isVisible());
    QVERIFY(!page()->applyButton()->isEnabled());
  }

  void applyShowsProgressThenNothingIsLeft() {
    QVERIFY(page()->openFile(wanted_));
    QTRY_VERIFY_WITH_TIMEOUT(page()->applyButton()->isEnabled(), 20000);
    const int calls = model()->callCount();
    QTest::mouseClick(page()->applyButton(), Qt::LeftButton);
    QVERIFY(page()->progress()->isVisible());
    QCOMPARE(page()->progress()->maximum(), calls);
    QVERIFY(page()->cancelButton()->isVisible());
    QVERIFY(!page()->diffButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(!page()->progress()->isVisible(), 20000);
    QTRY_VERIFY_WITH_TIMEOUT(!window_->configRunner().busy() && model()->rowCount() == 0, 20000);
    QVERIFY2(page()->message()->text().contains(QStringLiteral("%1 of %1").arg(calls)),
             qPrintable(page()->message()->text()));
    QVERIFY(window_->bridge().engine().config()->findService("c") != nullptr);
    QVERIFY(window_->bridge().engine().config()->findService("legacy") == nullptr);
  }

  void cancelStopsBeforeTheNextCall() {
    QVERIFY(page()->openFile(wanted_));
    QTRY_VERIFY_WITH_TIMEOUT(page()->applyButton()->isEnabled(), 20000);
    const int calls = model()->callCount();
    // Hold the worker after its first call until the test has pressed Cancel.
    QSemaphore pressed;
    struct Release {  // never leave the worker waiting when a check below fails
      QSemaphore& s;
      ~Release() { s.release(1); }
    } release{pressed};
    connect(
        &window_->configRunner(), &ConfigDiffRunner::progress, page(),
        [&pressed](int done, int) {
          if (done == 1) pressed.acquire();
        },
        Qt::DirectConnection);
    QTest::mouseClick(page()->applyButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(page()->progress()->value(), 1, 20000);
    QTest::mouseClick(page()->cancelButton(), Qt::LeftButton);
    QVERIFY(!page()->cancelButton()->isEnabled());
    pressed.release();
    QTRY_VERIFY_WITH_TIMEOUT(!page()->progress()->isVisible(), 20000);
    QTRY_VERIFY_WITH_TIMEOUT(!window_->configRunner().busy() && page()->message()->isVisible(),
                             20000);
    QVERIFY2(page()->message()->text().contains(QStringLiteral("1 of %1").arg(calls)),
             qPrintable(page()->message()->text()));
    // The refreshed diff lists what was not sent.
    QTRY_COMPARE_WITH_TIMEOUT(model()->callCount(), calls - 1, 20000);
  }
};

QTEST_MAIN(ConfigDiffPageTest)
#include "config_diff_page_test.moc"
