#pragma once
// The Access log page: every request the gateway answers, live, from the engine's JSON access
// log (the bridge delivers the lines; the AccessLogModel keeps the newest ones). Filter box,
// pause/resume and clear; the view follows new rows while scrolled to the bottom.
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

 private:
  void updatePaused();

  models::AccessLogModel* log_;
  QLineEdit* filter_;
  QPushButton* pause_;
  QPushButton* clear_;
  QLabel* status_;
  QTableView* table_;
  QSortFilterProxyModel* filtered_;
};

}  // namespace archway::gui
