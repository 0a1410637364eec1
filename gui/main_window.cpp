#include "gui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QSignalBlocker>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QToolBar>
#include <iterator>

#include "gui/access_log_page.h"
#include "gui/config_diff_page.h"
#include "gui/dashboard_page.h"
#include "gui/error_log_page.h"
#include "gui/plugins_page.h"
#include "gui/traces_page.h"
#include "models/demo_traffic.h"

namespace archway::gui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      bridge_(new models::EngineBridge(this)),
      routes_(new models::RouteStatsModel(this)),
      plugins_(new models::PluginStatsModel(this)),
      consumers_(new models::RouteStatsModel(this, models::RouteStatsModel::Source::consumers)),
      targets_(new models::RouteStatsModel(this, models::RouteStatsModel::Source::targets)),
      accessLog_(new models::AccessLogModel(this)),
      errorLog_(new models::ErrorLogModel(this)),
      demo_(new models::DemoTraffic(this)) {
  setWindowTitle(tr("Archway"));
  dashboard_ = new DashboardPage(&traffic_, routes_, consumers_, targets_);
  pluginsPage_ = new PluginsPage(plugins_);
  tracesPage_ = new TracesPage(bridge_);
  accessLogPage_ = new AccessLogPage(accessLog_);
  errorLogPage_ = new ErrorLogPage(errorLog_, bridge_);
  configDiff_ = new models::ConfigDiffModel(this);
  configRunner_ = new models::ConfigDiffRunner(configDiff_, this);
  configPage_ = new ConfigDiffPage(configDiff_, configRunner_);
  pages_ = new QTabWidget;
  pages_->setObjectName(QStringLiteral("pages"));
  pages_->setDocumentMode(true);
  pages_->addTab(dashboard_, tr("Dashboard"));
  pages_->addTab(pluginsPage_, tr("Plugins"));
  pages_->addTab(tracesPage_, tr("Traces"));
  pages_->addTab(accessLogPage_, tr("Access log"));
  pages_->addTab(errorLogPage_, tr("Error log"));
  pages_->addTab(configPage_, tr("Config"));
  setCentralWidget(pages_);

  proxyLabel_ = new QLabel;
  adminLabel_ = new QLabel;
  stateLabel_ = new QLabel;
  proxyLabel_->setObjectName(QStringLiteral("proxyLabel"));
  adminLabel_->setObjectName(QStringLiteral("adminLabel"));
  stateLabel_->setObjectName(QStringLiteral("stateLabel"));
  for (QLabel* l : {proxyLabel_, adminLabel_, stateLabel_}) {
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    statusBar()->addPermanentWidget(l);
  }

  createActions();

  connect(bridge_, &models::EngineBridge::statsUpdated, this, &MainWindow::onStats);
  connect(bridge_, &models::EngineBridge::engineEvent, this, &MainWindow::onEngineEvent);
  connect(bridge_, &models::EngineBridge::accessLogLines, accessLog_,
          &models::AccessLogModel::append);
  connect(bridge_, &models::EngineBridge::errorLogRecords, errorLog_,
          &models::ErrorLogModel::append);
  connect(bridge_, &models::EngineBridge::stateChanged, this, &MainWindow::updateStatus);
  connect(demo_, &models::DemoTraffic::running, this, [this](bool on) {
    const QSignalBlocker blocker(demoAction_);
    demoAction_->setChecked(on);
    updateDemoActionIcon();
    statusBar()->showMessage(on ? tr("Sending demo traffic") : tr("Demo traffic stopped"), 4000);
  });
  connect(demo_, &models::DemoTraffic::failed, this, [this](const QString& message) {
    statusBar()->showMessage(tr("Demo traffic stopped: %1").arg(message), 10000);
  });

  updateStatus();
  resize(1200, 760);
}

MainWindow::~MainWindow() {
  shutdown();
}

void MainWindow::createActions() {
  auto* quit = new QAction(tr("&Quit"), this);
  quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
  quit->setMenuRole(QAction::QuitRole);
  connect(quit, &QAction::triggered, this, &QWidget::close);

  demoAction_ =
      new QAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("Send &demo traffic"), this);
  demoAction_->setObjectName(QStringLiteral("demoTrafficAction"));
  demoAction_->setCheckable(true);
  demoAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
  demoAction_->setToolTip(tr("Send a steady mix of requests through the gateway (Ctrl+T)"));
  connect(demoAction_, &QAction::toggled, this, &MainWindow::setDemoTraffic);

  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(quit);
  QMenu* view = menuBar()->addMenu(tr("&View"));
  const QString pageNames[] = {tr("&Dashboard"), tr("&Plugins"), tr("T&races"),
                               tr("&Access log"), tr("&Error log"), tr("&Config")};
  for (int i = 0; i < pages_->count() && i < static_cast<int>(std::size(pageNames)); ++i) {
    auto* show = new QAction(pageNames[i], this);
    show->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)));
    connect(show, &QAction::triggered, this, [this, i] { pages_->setCurrentIndex(i); });
    view->addAction(show);
  }
  QMenu* traffic = menuBar()->addMenu(tr("&Traffic"));
  traffic->addAction(demoAction_);

  QToolBar* toolbar = addToolBar(tr("Main"));
  toolbar->setObjectName(QStringLiteral("mainToolBar"));
  toolbar->setMovable(false);
  toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  toolbar->addAction(demoAction_);
}

QString MainWindow::startEngine(const models::BridgeOptions& options) {
  embeddedAdminToken_ = options.engine.adminToken;
  const std::string firstAdmin =
      options.engine.adminListen.substr(0, options.engine.adminListen.find(','));
  embeddedAdminTls_ = firstAdmin.find(" ssl") != std::string::npos;
  const QString error = bridge_->start(options);
  showError(error.isEmpty() ? QString() : tr("The gateway could not start: %1").arg(error));
  updateStatus();
  return error;
}

void MainWindow::shutdown() {
  if (remote_) remote_->stop();
  demo_->stop();
  bridge_->stop();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  shutdown();
  event->accept();
}

void MainWindow::setDemoTraffic(bool on) {
  if (!on) {
    demo_->stop();
    return;
  }
  QString error;
  if (bridge_->state() != models::EngineBridge::State::running) {
    error = tr("the gateway is not running");
  } else {
    const QString address = bridge_->proxyAddress();
    error = demo_->start(address.left(address.lastIndexOf(u':')).remove(u'[').remove(u']'),
                         bridge_->proxyPort());
  }
  if (!error.isEmpty()) {
    const QSignalBlocker blocker(demoAction_);
    demoAction_->setChecked(false);
    updateDemoActionIcon();
    statusBar()->showMessage(tr("Cannot send demo traffic: %1").arg(error), 10000);
  }
}

void MainWindow::updateDemoActionIcon() {
  // The toolbar button shows what pressing it will do next: start (play) or stop.
  demoAction_->setIcon(style()->standardIcon(demoAction_->isChecked() ? QStyle::SP_MediaStop
                                                                      : QStyle::SP_MediaPlay));
}

void MainWindow::onStats(std::shared_ptr<const metrics::StatsFrame> frame) {
  traffic_.add(*frame);
  routes_->update(*frame);
  plugins_->update(*frame);
  consumers_->update(*frame);
  targets_->update(*frame);
  dashboard_->refresh(*frame);
}

bool MainWindow::showPage(const QString& name) {
  QWidget* page = nullptr;
  if (name == QLatin1String("dashboard")) page = dashboard_;
  if (name == QLatin1String("plugins")) page = pluginsPage_;
  if (name == QLatin1String("traces")) page = tracesPage_;
  if (name == QLatin1String("log")) page = accessLogPage_;
  if (name == QLatin1String("errors")) page = errorLogPage_;
  if (name == QLatin1String("config")) page = configPage_;
  if (!page) return false;
  pages_->setCurrentWidget(page);
  return true;
}

void MainWindow::onEngineEvent(int kind, const QString& message) {
  using Kind = runtime::EngineEvent::Kind;
  switch (static_cast<Kind>(kind)) {
    case Kind::configApplied:
      statusBar()->showMessage(tr("Configuration applied"), 4000);
      break;
    case Kind::configRejected:
      statusBar()->showMessage(tr("Configuration rejected: %1").arg(message), 10000);
      break;
    case Kind::error:
      statusBar()->showMessage(tr("Gateway error: %1").arg(message), 10000);
      break;
    case Kind::healthChanged:
      statusBar()->showMessage(tr("Upstream health: %1").arg(message), 10000);
      break;
    case Kind::started:
    case Kind::stopped:
      break;
  }
  updateStatus();
}

void MainWindow::updateStatus() {
  if (remote_) {
    updateRemoteStatus();
    return;
  }
  using State = models::EngineBridge::State;
  const QString none = QStringLiteral("—");
  const QString proxy = bridge_->proxyAddress();
  const QString admin = bridge_->adminAddress();
  proxyLabel_->setText(tr("Proxy: %1").arg(proxy.isEmpty() ? none : proxy));
  adminLabel_->setText(tr("Admin API: %1").arg(admin.isEmpty() ? tr("off") : admin));
  switch (bridge_->state()) {
    case State::running:
      stateLabel_->setText(tr("Engine: running"));
      break;
    case State::stopped:
      stateLabel_->setText(tr("Engine: stopped"));
      break;
    case State::failed:
      stateLabel_->setText(tr("Engine: failed to start"));
      break;
  }
  demoAction_->setEnabled(bridge_->state() == State::running);
  if (bridge_->state() != State::running) adminLabel_->setText(tr("Admin API: %1").arg(none));
  updateConfigTarget();
}

void MainWindow::updateConfigTarget() {
  // The embedded engine's own Admin API, over loopback: its certificate (when its first listener
  // is `ssl`) is ours, so it is not checked.
  const QString admin = bridge_->adminAddress();
  models::AdminTarget target;
  if (!admin.isEmpty()) {
    target.url = (embeddedAdminTls_ ? "https://" : "http://") + admin.toStdString();
    target.token = embeddedAdminToken_;
    target.tls.skipVerify = embeddedAdminTls_;
  }
  configRunner_->setTarget(target);
  configPage_->setNodeDescription(
      admin.isEmpty()
          ? tr("The embedded gateway's Admin API is not running.")
          : tr("Compared with the embedded gateway's live configuration (Admin API %1).")
                .arg(QString::fromStdString(target.url)));
}

void MainWindow::showError(const QString& message) {
  error_ = message;
  dashboard_->showError(message);
  if (!message.isEmpty()) statusBar()->showMessage(message);
}

}  // namespace archway::gui
