// MainWindow managing a remote node (--connect): wiring of the RemoteNode into the pages (the
// log pages poll the node's Admin API while shown) and the status bar.
#include <QAction>
#include <QLabel>
#include <QStatusBar>
#include <QTabWidget>

#include "gui/access_log_page.h"
#include "gui/config_diff_page.h"
#include "gui/dashboard_page.h"
#include "gui/error_log_page.h"
#include "gui/main_window.h"
#include "gui/traces_page.h"
#include "models/demo_traffic.h"

namespace archway::gui {

QString MainWindow::connectRemote(const models::RemoteOptions& options) {
  auto* remote = new models::RemoteNode(this);
  connect(remote, &models::RemoteNode::statsUpdated, this, &MainWindow::onStats);
  connect(remote, &models::RemoteNode::stateChanged, this, &MainWindow::onRemoteState);
  const QString error = remote->start(options);
  if (!error.isEmpty()) {
    delete remote;
    showError(tr("Cannot manage %1: %2").arg(QString::fromStdString(options.url), error));
    return error;
  }
  remote_ = remote;
  const QString url = remote_->url();
  setWindowTitle(tr("Archway — %1").arg(url));
  tracesPage_->setRemote(remote_);

  models::AdminTarget target;
  target.url = options.url;
  target.token = options.token;
  target.tls = options.tls;
  configRunner_->setTarget(target);
  configPage_->setNodeDescription(tr("Compared with the live configuration of %1.").arg(url));

  connectRemoteLogs();
  demoAction_->setToolTip(
      tr("Demo traffic goes through the embedded gateway; not available "
         "while managing a remote node"));
  updateStatus();
  return {};
}

void MainWindow::connectRemoteLogs() {
  // The node's lines, polled while their page is shown, instead of this process's.
  disconnect(bridge_, &models::EngineBridge::accessLogLines, accessLog_, nullptr);
  disconnect(bridge_, &models::EngineBridge::errorLogRecords, errorLog_, nullptr);
  accessLog_->clear();
  errorLog_->clear();
  connect(remote_, &models::RemoteNode::accessLogLines, accessLog_,
          &models::AccessLogModel::append);
  connect(remote_, &models::RemoteNode::errorLogRecords, errorLog_, &models::ErrorLogModel::append);
  connect(remote_, &models::RemoteNode::accessLogNotice, accessLogPage_, &AccessLogPage::setNotice);
  connect(remote_, &models::RemoteNode::errorLogNotice, errorLogPage_, &ErrorLogPage::setNotice);
  connect(accessLogPage_, &AccessLogPage::shownChanged, remote_,
          &models::RemoteNode::setAccessLogWanted);
  connect(errorLogPage_, &ErrorLogPage::shownChanged, remote_,
          &models::RemoteNode::setErrorLogWanted);
  remote_->setAccessLogWanted(accessLogPage_->isVisible());
  remote_->setErrorLogWanted(errorLogPage_->isVisible());
  errorLogPage_->hideEngineLevel();
}

void MainWindow::onRemoteState(models::RemoteNode::State state, const QString& message) {
  using State = models::RemoteNode::State;
  if (state == State::connected) {
    showError({});
    statusBar()->showMessage(tr("Connected to %1").arg(remote_->url()), 4000);
  } else if (!message.isEmpty()) {
    showError(message);
  }
  updateStatus();
}

void MainWindow::updateRemoteStatus() {
  using State = models::RemoteNode::State;
  proxyLabel_->setText(tr("Node: %1").arg(remote_->url()));
  adminLabel_->setText({});
  adminLabel_->hide();
  switch (remote_->state()) {
    case State::stopped:
      stateLabel_->setText(tr("Disconnected"));
      break;
    case State::connecting:
      stateLabel_->setText(tr("Connecting…"));
      break;
    case State::connected:
      stateLabel_->setText(tr("Connected"));
      break;
    case State::unreachable:
      stateLabel_->setText(tr("Unreachable, retrying"));
      break;
    case State::unauthorized:
      stateLabel_->setText(tr("Token refused, retrying"));
      break;
    case State::unsupported:
      stateLabel_->setText(tr("No stats stream"));
      break;
  }
  demoAction_->setEnabled(false);
}

}  // namespace archway::gui
