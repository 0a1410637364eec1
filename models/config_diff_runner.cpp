#include "models/config_diff_runner.h"

#include <QMetaObject>

#include "apps/config_sync.h"
#include "config/diff.h"
#include "models/config_diff_model.h"

namespace archway::models {

namespace {

constexpr auto kTimeout = std::chrono::seconds(20);

QString fromErrors(const core::Errors& errors) {
  return errors.empty() ? QString() : QString::fromStdString(errors.front().message);
}

}  // namespace

ConfigDiffRunner::ConfigDiffRunner(ConfigDiffModel* model, QObject* parent)
    : QObject(parent), model_(model), worker_(new QObject) {
  thread_.setObjectName(QStringLiteral("config-diff"));
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  thread_.start();
}

ConfigDiffRunner::~ConfigDiffRunner() {
  cancel();
  {
    std::lock_guard lock(activeMutex_);
    closing_ = true;
    if (active_) active_->cancel();
  }
  thread_.quit();
  thread_.wait();
}

QString ConfigDiffRunner::noAdminApi() const {
  return tr(
      "The node has no Admin API the console can reach (the embedded gateway runs with "
      "--admin-listen off, or is not running); the config diff needs one.");
}

// Runs `job` (a callable taking the AdminClient) on the worker thread with a fresh client for
// the target; `job` reports back with queued calls on `this`, which outlives the thread.
template <class Job>
bool ConfigDiffRunner::start(Job&& job) {
  if (busy_) return false;
  if (target_.url.empty()) {
    // Queued like every other outcome, so callers see it after diff()/apply() returned.
    QMetaObject::invokeMethod(
        this, [this] { emit failed(noAdminApi()); }, Qt::QueuedConnection);
    return true;
  }
  busy_ = true;
  cancelled_->store(false);
  emit busyChanged(true);
  QMetaObject::invokeMethod(
      worker_,
      [this, target = target_, job = std::forward<Job>(job)]() mutable {
        auto client = apps::AdminClient::create(target.url, target.token, target.tls, kTimeout);
        if (!client) {
          const QString error = fromErrors(client.errors());
          QMetaObject::invokeMethod(
              this,
              [this, error] {
                finish();
                emit failed(error);
              },
              Qt::QueuedConnection);
          return;
        }
        {
          std::lock_guard lock(activeMutex_);
          active_ = client->get();
          if (closing_) active_->cancel();
        }
        job(**client);
        std::lock_guard lock(activeMutex_);
        active_ = nullptr;
      },
      Qt::QueuedConnection);
  return true;
}

void ConfigDiffRunner::finish() {
  busy_ = false;
  emit busyChanged(false);
}

bool ConfigDiffRunner::diff(const QString& text) {
  if (busy_) return false;
  lastText_ = text;
  return start([this, text = text.toStdString()](apps::AdminClient& admin) {
    auto desired = config::parseDesired(text);
    if (!desired) {
      QStringList errors;
      for (const auto& e : desired.errors()) errors << QString::fromStdString(e.text());
      QMetaObject::invokeMethod(
          this,
          [this, errors] {
            finish();
            model_->clear();
            emit invalid(errors);
          },
          Qt::QueuedConnection);
      return;
    }
    auto live = apps::fetchLiveConfig(admin);
    if (!live) {
      const QString error = fromErrors(live.errors());
      QMetaObject::invokeMethod(
          this,
          [this, error] {
            finish();
            model_->clear();
            emit failed(error);
          },
          Qt::QueuedConnection);
      return;
    }
    auto diff = std::make_shared<config::ConfigDiff>(config::diffConfigs(*live, *desired));
    QMetaObject::invokeMethod(
        this,
        [this, diff] {
          finish();
          model_->setDiff(std::move(*diff));
          emit diffReady();
        },
        Qt::QueuedConnection);
  });
}

bool ConfigDiffRunner::loadLive() {
  return start([this](apps::AdminClient& admin) {
    auto text = apps::fetchConfigText(admin);
    const bool ok = text.ok();
    const QString result = ok ? QString::fromStdString(*text) : fromErrors(text.errors());
    QMetaObject::invokeMethod(
        this,
        [this, ok, result] {
          finish();
          if (ok) {
            emit liveConfigLoaded(result);
          } else {
            emit failed(result);
          }
        },
        Qt::QueuedConnection);
  });
}

bool ConfigDiffRunner::apply() {
  if (busy_) return false;
  std::vector<config::AdminCall> calls;
  for (const auto& change : model_->diff().changes) {
    calls.insert(calls.end(), change.calls.begin(), change.calls.end());
  }
  const int total = static_cast<int>(calls.size());
  return start(
      [this, calls = std::move(calls), total, cancelled = cancelled_](apps::AdminClient& admin) {
        int done = 0;
        QString error;
        bool stopped = false;
        for (const auto& call : calls) {
          if (cancelled->load()) {
            stopped = true;
            break;
          }
          auto sent = apps::sendCall(admin, call);
          if (!sent) {
            error = fromErrors(sent.errors());
            break;
          }
          ++done;
          emit progress(done, total);
        }
        QMetaObject::invokeMethod(
            this,
            [this, done, total, error, stopped] {
              finish();
              emit applied(done, total, error, stopped);
              diff(lastText_);  // show what is left
            },
            Qt::QueuedConnection);
      });
}

}  // namespace archway::models
