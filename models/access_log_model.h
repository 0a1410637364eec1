#pragma once
// The live access log as a table: one row per request, parsed from the engine's JSON access
// log lines (the same lines --access-log writes). Keeps the newest `capacity` rows: appending
// past it removes the oldest (beginRemoveRows/beginInsertRows, never a reset). While paused,
// new lines wait (the newest `capacity` of them) and are shown on resume. GUI thread only.
#include <QAbstractTableModel>
#include <QString>
#include <QStringList>
#include <deque>

namespace archway::models {

class AccessLogModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    kTimeColumn,
    kMethodColumn,
    kPathColumn,
    kStatusColumn,
    kLatencyColumn,
    kRouteColumn,
    kConsumerColumn,
    kColumnCount
  };
  static constexpr int kLineRole = Qt::UserRole + 1;  // the JSON line as received
  // What a filter matches (every column): method, path, status, route and consumer, one per
  // line. Not the time or the latency, whose digits would match a status ("…:13.502").
  static constexpr int kFilterRole = Qt::UserRole + 2;
  static constexpr int kDefaultCapacity = 1000;

  explicit AccessLogModel(QObject* parent = nullptr, int capacity = kDefaultCapacity);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

  // JSON access log lines. Each batch is put in time order (the engine drains one ring per
  // worker, so a batch interleaves workers). Lines that are not access entries are skipped.
  void append(const QStringList& lines);
  void setPaused(bool paused);
  bool paused() const { return paused_; }
  int pendingCount() const { return static_cast<int>(pending_.size()); }
  int capacity() const { return capacity_; }
  // Removes every row and every waiting line.
  void clear();

 signals:
  void pendingChanged(int count);

 private:
  struct Row {
    QString time, method, path, route, consumer, line;
    int status = 0;
    double latencyMs = 0;
    qint64 timeMs = 0;
  };
  static bool parse(const QString& line, Row& out);
  void show(std::deque<Row>& rows);

  int capacity_;
  bool paused_ = false;
  std::deque<Row> rows_;
  std::deque<Row> pending_;  // arrived while paused
};

}  // namespace archway::models
