#pragma once
// The Config page: a kong.yml / JSON text (opened from a file, loaded from the node, or edited
// in place) on the left; on the right what applying it would change on the node the console
// manages — creates, updates and deletes with entity kind, name and changed fields (the diff of
// `archwayd config diff`), or the text's validation errors with their paths. "Apply" sends the
// calls with a progress bar and a Cancel button. All network work runs in the ConfigDiffRunner's
// thread; this page only reacts to its signals.
#include <QWidget>

class QLabel;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTreeView;

namespace archway::models {
class ConfigDiffModel;
class ConfigDiffRunner;
}  // namespace archway::models

namespace archway::gui {

class ConfigDiffPage : public QWidget {
  Q_OBJECT
 public:
  ConfigDiffPage(models::ConfigDiffModel* model, models::ConfigDiffRunner* runner,
                 QWidget* parent = nullptr);

  // Loads a file into the editor and diffs it. False (and a message) when it cannot be read.
  bool openFile(const QString& path);
  // Where the runner's Admin API is, for the caption ("http://127.0.0.1:8001").
  void setNodeDescription(const QString& text);

  QPlainTextEdit* editor() const { return editor_; }
  QTreeView* tree() const { return tree_; }
  QListWidget* errors() const { return errors_; }
  QLabel* message() const { return message_; }
  QPushButton* openButton() const { return open_; }
  QPushButton* loadButton() const { return load_; }
  QPushButton* diffButton() const { return diff_; }
  QPushButton* applyButton() const { return apply_; }
  QPushButton* cancelButton() const { return cancel_; }
  QProgressBar* progress() const { return progress_; }

 private:
  void chooseFile();
  void runDiff();
  void runApply();
  void onDiffReady();
  void onInvalid(const QStringList& errors);
  void onFailed(const QString& message);
  void onProgress(int done, int total);
  void onApplied(int done, int total, const QString& error, bool cancelled);
  void updateButtons();
  void showMessage(const QString& text, bool error);

  models::ConfigDiffModel* model_;
  models::ConfigDiffRunner* runner_;
  QLabel* node_;
  QLabel* file_;
  QPlainTextEdit* editor_;
  QTreeView* tree_;
  QListWidget* errors_;
  QLabel* summary_;
  QLabel* message_;
  QPushButton* open_;
  QPushButton* load_;
  QPushButton* diff_;
  QPushButton* apply_;
  QPushButton* cancel_;
  QProgressBar* progress_;
  bool diffCurrent_ = false;  // the tree shows the diff of the editor's text as it is
  bool applying_ = false;
  QString applyResult_;  // shown again after the refresh that follows an apply
};

}  // namespace archway::gui
