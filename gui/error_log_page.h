#pragma once
// The Error log page: the engine's error log (core::log records: start-up, config reloads,
// upstream and DNS failures, ...) live, the same records --error-log writes. The engine's
// run-time level (what is logged at all, process-wide, as PUT /debug/node/log-level sets it) is
// shown and changed here; a second choice and a filter box narrow what the table shows;
// pause/resume and clear as on the access log page. For a remote node the records are polled
// while the page is shown (shownChanged()), the level choice (this process's) is hidden, and a
// notice line says what the console should know about them (setNotice()).
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;
class QTimer;

namespace archway::models {
class EngineBridge;
class ErrorLogFilter;
class ErrorLogModel;
}  // namespace archway::models

namespace archway::gui {

class ErrorLogPage : public QWidget {
  Q_OBJECT
 public:
  ErrorLogPage(models::ErrorLogModel* log, models::EngineBridge* bridge, QWidget* parent = nullptr);

  QTableView* table() const { return table_; }
  QComboBox* engineLevel() const { return engineLevel_; }
  QComboBox* shownLevel() const { return shownLevel_; }
  QLineEdit* filter() const { return filter_; }
  QPushButton* pauseButton() const { return pause_; }
  QPushButton* clearButton() const { return clear_; }
  models::ErrorLogFilter* proxy() const { return filtered_; }
  QLabel* notice() const { return notice_; }
  // A line above the table ("" hides it).
  void setNotice(const QString& text);
  // Hides the choice of the embedded gateway's level (a remote node's records are shown).
  void hideEngineLevel();

  // Shows the engine's current level (it may have changed through the Admin API).
  void refreshEngineLevel();

 protected:
  void showEvent(QShowEvent* event) override;
  void hideEvent(QHideEvent* event) override;

 signals:
  void shownChanged(bool shown);

 private:
  void updatePaused();

  models::ErrorLogModel* log_;
  models::EngineBridge* bridge_;
  QComboBox* engineLevel_;
  QComboBox* shownLevel_;
  QLineEdit* filter_;
  QPushButton* pause_;
  QPushButton* clear_;
  QLabel* status_;
  QLabel* notice_;
  QLabel* engineLabel_;
  QTableView* table_;
  models::ErrorLogFilter* filtered_;
  QTimer* levelTimer_;
};

}  // namespace archway::gui
