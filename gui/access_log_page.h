#pragma once
// The Access log page: every request the gateway answers, live, from the engine's JSON access
// log (the bridge delivers the lines; the AccessLogModel keeps the newest ones). Filter box,
// pause/resume and clear; the view follows new rows while scrolled to the bottom. For a remote
// node the lines are polled while the page is shown (shownChanged()), and a notice line says
// what the console should know about them (setNotice()).
#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace archway::models {
class AccessLogModel;
}

namespace archway::gui {

class AccessLogPage : public QWidget {
  Q_OBJECT
 public:
  explicit AccessLogPage(models::AccessLogModel* log, QWidget* parent = nullptr);

  QTableView* table() const { return table_; }
  QLineEdit* filter() const { return filter_; }
  QPushButton* pauseButton() const { return pause_; }
  QPushButton* clearButton() const { return clear_; }
  QSortFilterProxyModel* proxy() const { return filtered_; }
  QLabel* notice() const { return notice_; }
  // A line above the table ("" hides it).
  void setNotice(const QString& text);

 signals:
  void shownChanged(bool shown);

 protected:
  void showEvent(QShowEvent* event) override;
  void hideEvent(QHideEvent* event) override;

 private:
  void updatePaused();

  models::AccessLogModel* log_;
  QLineEdit* filter_;
  QPushButton* pause_;
  QPushButton* clear_;
  QLabel* status_;
  QLabel* notice_;
  QTableView* table_;
  QSortFilterProxyModel* filtered_;
};

}  // namespace archway::gui
