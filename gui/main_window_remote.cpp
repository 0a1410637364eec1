// MainWindow managing a remote node (--connect): wiring of the RemoteNode into the pages, the
// status bar and the notices of pages that only the embedded gateway can fill.
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

  const QString noEndpoint =
      tr("Not available for a remote node: %1 has no Admin API endpoint "
         "for it. Run the console with the gateway embedded (without "
         "--connect), or read the node's own log files.");
  showUnavailable(accessLogPage(), noEndpoint.arg(url));
  showUnavailable(errorLogPage(), noEndpoint.arg(url));
  demoAction_->setToolTip(
      tr("Demo traffic goes through the embedded gateway; not available "
         "while managing a remote node"));
  updateStatus();
  return {};
}

void MainWindow::showUnavailable(QWidget* page, const QString& why) {
  const int index = pages_->indexOf(page);
  if (index < 0) return;
  auto* notice = new QLabel(why);
  notice->setObjectName(QStringLiteral("unavailableNotice"));
  notice->setWordWrap(true);
  notice->setAlignment(Qt::AlignCenter);
  notice->setMargin(48);
  const QString title = pages_->tabText(index);
  pages_->removeTab(index);
  page->setParent(this);  // kept (its accessors stay valid), never shown
  page->hide();
  pages_->insertTab(index, notice, title);
  notices_.insert(page, notice);
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
