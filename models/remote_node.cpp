#include "models/remote_node.h"

#include <QMetaObject>
#include <QTime>
#include <algorithm>
#include <cmath>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "metrics/stats_json.h"
#include "trace/trace_json.h"
#include "trace/trace_json_read.h"

namespace archway::models {

namespace {

constexpr std::size_t kMaxEventBytes = 64 * 1024 * 1024;  // a frame of a very large node
constexpr int kStreamSlot = 0, kPollSlot = 1;

// The payload of one server-sent event: its data lines joined (the "data:" prefix and one
// following space removed), other fields ignored.
std::string eventData(std::string_view event) {
  std::string data;
  while (!event.empty()) {
    const auto end = event.find('\n');
    std::string_view line = event.substr(0, end);
    event = end == std::string_view::npos ? std::string_view() : event.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 5) != "data:") continue;
    line.remove_prefix(5);
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (!data.empty()) data += '\n';
    data += line;
  }
  return data;
}

}  // namespace

RemoteNode::RemoteNode(QObject* parent) : QObject(parent) {
  qRegisterMetaType<std::shared_ptr<const archway::metrics::StatsFrame>>();
  qRegisterMetaType<archway::models::RemoteNode::State>();
}

RemoteNode::~RemoteNode() {
  stop();
}

std::unique_ptr<apps::AdminClient> RemoteNode::newClient() const {
  auto client =
      apps::AdminClient::create(options_.url, options_.token, options_.tls, options_.timeout);
  return client ? std::move(*client) : nullptr;
}

QString RemoteNode::start(const RemoteOptions& options) {
  stop();
  auto check = apps::AdminClient::create(options.url, options.token, options.tls);
  if (!check) return QString::fromStdString(check.errors().front().message);
  options_ = options;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  state_ = State::connecting;
  message_.clear();
  emit stateChanged(state_, message_);
  accessSince_ = errorSince_ = 0;
  accessFrom_.clear();
  accessNotice_.clear();
  errorNotice_.clear();
  streamThread_ = std::thread([this] { streamLoop(); });
  pollThread_ = std::thread([this] { pollLoop(); });
  return {};
}

void RemoteNode::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto* client : active_) {
      if (client) client->cancel();
    }
  }
  wake_.notify_all();
  if (streamThread_.joinable()) streamThread_.join();
  if (pollThread_.joinable()) pollThread_.join();
  {
    std::lock_guard lock(mutex_);
    pending_.reset();
    traces_.clear();
    tracingCall_.reset();
  }
  if (state_ != State::stopped) {
    state_ = State::stopped;
    message_.clear();
    emit stateChanged(state_, message_);
  }
}

void RemoteNode::setActive(int slot, apps::AdminClient* client) {
  std::lock_guard lock(mutex_);
  active_[slot] = client;
  // A client registered after stop() began would never be cancelled: cancel it here.
  if (client && stopping_) client->cancel();
}

bool RemoteNode::sleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [this] { return stopping_; });
  return !stopping_;
}

void RemoteNode::post(State state, const QString& message) {
  QMetaObject::invokeMethod(
      this,
      [this, state, message] {
        if (state_ == State::stopped) return;  // a report from before stop()
        if (state_ == state && message_ == message) return;
        state_ = state;
        message_ = message;
        emit stateChanged(state_, message_);
      },
      Qt::QueuedConnection);
}

bool RemoteNode::onStreamData(std::string_view data, std::string& pending, bool& connected) {
  pending.append(data);
  for (auto at = pending.find("\n\n"); at != std::string::npos; at = pending.find("\n\n")) {
    const std::string payload = eventData(std::string_view(pending).substr(0, at));
    pending.erase(0, at + 2);
    auto frame = metrics::parseStatsJson(payload);
    if (!frame) continue;  // a comment or keep-alive event
    if (!connected) {
      connected = true;
      post(State::connected, {});
    }
    {
      std::lock_guard lock(mutex_);
      pending_ = std::make_shared<const metrics::StatsFrame>(std::move(*frame));
      if (posted_) continue;
      posted_ = true;
    }
    QMetaObject::invokeMethod(this, &RemoteNode::deliverStats, Qt::QueuedConnection);
  }
  std::lock_guard lock(mutex_);
  return pending.size() < kMaxEventBytes && !stopping_;
}

void RemoteNode::deliverStats() {
  std::shared_ptr<const metrics::StatsFrame> frame;
  {
    std::lock_guard lock(mutex_);
    frame = std::move(pending_);
    pending_.reset();
    posted_ = false;
  }
  if (frame && state_ != State::stopped) emit statsUpdated(frame);
}

void RemoteNode::streamLoop() {
  auto backoff = options_.minBackoff;
  while (true) {
    auto client = newClient();
    if (!client) return;  // start() checked the options
    setActive(kStreamSlot, client.get());
    std::string pending;
    bool connected = false;
    auto reply = client->stream("/archway/stats/stream", [&](std::string_view data) {
      return onStreamData(data, pending, connected);
    });
    setActive(kStreamSlot, nullptr);
    client.reset();
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (connected) backoff = options_.minBackoff;
    const QString url = QString::fromStdString(options_.url);
    if (!reply) {
      post(State::unreachable, tr("Cannot reach the node: %1")
                                   .arg(QString::fromStdString(reply.errors().front().message)));
    } else if (reply->status == 401) {
      post(State::unauthorized,
           tr("The node at %1 refused the Admin API token (HTTP 401): pass the right one with "
              "--token.")
               .arg(url));
    } else if (reply->status == 404) {
      post(State::unsupported,
           tr("The node at %1 has no stats stream (GET /archway/stats/stream answered 404): it "
              "is not an Archway node, so there are no live stats.")
               .arg(url));
    } else if (reply->status != 200) {
      post(State::unreachable, tr("The node at %1 answered HTTP %2 to the stats stream: %3")
                                   .arg(url)
                                   .arg(reply->status)
                                   .arg(QString::fromStdString(reply->body).trimmed()));
    } else {
      post(State::unreachable, tr("The node at %1 ended the stats stream.").arg(url));
    }
    if (!sleepFor(backoff)) return;
    backoff = std::min(backoff * 2, options_.maxBackoff);
    post(State::connecting, {});
  }
}

void RemoteNode::pollLoop() {
  std::unique_ptr<apps::AdminClient> client;
  while (true) {
    bool traces = false, access = false, errors = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] {
        return stopping_ || tracesWanted_ || accessWanted_ || errorsWanted_ || tracingCall_;
      });
      if (stopping_) return;
      traces = tracesWanted_;
      access = accessWanted_;
      errors = errorsWanted_;
    }
    if (!client) client = newClient();
    if (!client) return;
    runTracingCall(*client);
    if (traces) pollTraces(*client);
    if (access) pollAccessLog(*client);
    if (errors) pollErrorLog(*client);
    if (!traces && !access && !errors) continue;  // only a tracing call
    // Failures are the stream's to report; the next poll tries again. A tracing call, or
    // something newly wanted (a page just shown), cuts the wait short.
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, options_.poll, [&] {
      return stopping_ || tracingCall_ || (tracesWanted_ && !traces) ||
             (accessWanted_ && !access) || (errorsWanted_ && !errors);
    });
    if (stopping_) return;
  }
}

void RemoteNode::pollTraces(apps::AdminClient& client) {
  setActive(kPollSlot, &client);
  auto reply = client.request("GET", "/archway/traces?limit=1000");
  setActive(kPollSlot, nullptr);
  if (!reply || reply->status != 200) return;
  auto traces = trace::parseTraces(reply->body);
  if (!traces) return;
  {
    std::lock_guard lock(mutex_);
    traces_ = std::move(*traces);
  }
  QMetaObject::invokeMethod(
      this, [this] { emit tracesUpdated(); }, Qt::QueuedConnection);
}

void RemoteNode::runTracingCall(apps::AdminClient& client) {
  std::string call;
  {
    std::lock_guard lock(mutex_);
    if (!tracingCall_) return;
    call = std::move(*tracingCall_);
    tracingCall_.reset();
  }
  setActive(kPollSlot, &client);
  auto reply = call == "GET" ? client.request("GET", "/archway/tracing")
                             : client.request("PATCH", "/archway/tracing", call);
  setActive(kPollSlot, nullptr);
  QString error;
  std::optional<trace::SamplingPolicy> policy;
  if (!reply) {
    error = tr("No answer from the node: %1")
                .arg(QString::fromStdString(reply.errors().front().message));
  } else if (reply->status == 401) {
    error = tr("The node refused the token (401 Unauthorized).");
  } else if (reply->status == 404 || reply->status == 405) {
    error = tr("This node cannot change its trace sampling over the Admin API (HTTP %1); "
               "it may be an older version.")
                .arg(reply->status);
  } else if (reply->status != 200) {
    boost::system::error_code ec;
    auto v = boost::json::parse(reply->body, ec);
    const auto* m = !ec && v.is_object() ? v.as_object().if_contains("message") : nullptr;
    error = tr("The node refused the sampling settings (HTTP %1): %2")
                .arg(reply->status)
                .arg(m && m->is_string() ? QString::fromUtf8(m->as_string().c_str())
                                         : QString::fromStdString(reply->body));
  } else if (!(policy = trace::parseSamplingPolicy(reply->body))) {
    error = tr("The node answered with sampling settings the console cannot read.");
  }
  QMetaObject::invokeMethod(
      this,
      [this, error, policy] {
        if (state_ == State::stopped) return;
        if (policy) emit tracingLoaded(*policy);
        else emit tracingFailed(error);
      },
      Qt::QueuedConnection);
}

void RemoteNode::loadTracing() {
  {
    std::lock_guard lock(mutex_);
    if (!tracingCall_) tracingCall_ = "GET";
  }
  wake_.notify_all();
}

void RemoteNode::setTracing(const trace::SamplingPolicy& p) {
  {
    std::lock_guard lock(mutex_);
    tracingCall_ = boost::json::serialize(trace::toJson(p));
  }
  wake_.notify_all();
}

void RemoteNode::setTracesWanted(bool wanted) {
  {
    std::lock_guard lock(mutex_);
    tracesWanted_ = wanted;
  }
  wake_.notify_all();
}

void RemoteNode::setAccessLogWanted(bool wanted) {
  {
    std::lock_guard lock(mutex_);
    accessWanted_ = wanted;
  }
  wake_.notify_all();
}

void RemoteNode::setErrorLogWanted(bool wanted) {
  {
    std::lock_guard lock(mutex_);
    errorsWanted_ = wanted;
  }
  wake_.notify_all();
}

namespace {

// The text of each element of the "data" array of a log endpoint's answer, as the node sent it
// (GET /archway/logs/access writes its lines verbatim: {"data":[line,...],...}). `body` is
// valid JSON.
std::vector<std::string_view> dataElements(std::string_view body) {
  std::vector<std::string_view> out;
  constexpr std::string_view kStart = "{\"data\":[";
  if (body.substr(0, kStart.size()) != kStart) return out;
  int depth = 0;
  bool inString = false, escaped = false;
  std::size_t start = kStart.size();
  for (std::size_t i = start; i < body.size(); ++i) {
    const char c = body[i];
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == ',' && depth == 0) || ((c == '}' || c == ']') && depth-- == 0)) {
      if (i > start) out.push_back(body.substr(start, i - start));
      if (c != ',') break;  // the array's end
      start = i + 1;
    }
  }
  return out;
}

// An error log event of GET /archway/logs/error as the record the node logged.
std::optional<core::log::Record> toRecord(const boost::json::value& v) {
  if (!v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  const auto* time = o.if_contains("time");
  const auto* level = o.if_contains("level");
  const auto* message = o.if_contains("message");
  if (!time || !time->is_number() || !level || !level->is_string() || !message ||
      !message->is_string())
    return std::nullopt;
  core::log::Record r;
  boost::system::error_code ec;
  r.timeUs = static_cast<std::int64_t>(std::llround(time->to_number<double>(ec) * 1e6));
  if (ec || !core::log::parseLevel(level->as_string(), r.level)) return std::nullopt;
  r.message = message->as_string();
  for (const auto& [key, value] : o) {
    if (key == "time" || key == "level" || key == "message") continue;
    r.fields.emplace_back(std::string(key), value.is_string() ? std::string(value.as_string())
                                                              : boost::json::serialize(value));
  }
  return r;
}

}  // namespace

bool RemoteNode::fetchLog(apps::AdminClient& client, const std::string& target, std::string& body,
                          boost::json::object& answer, QString& notice) {
  setActive(kPollSlot, &client);
  auto reply = client.request("GET", target);
  setActive(kPollSlot, nullptr);
  if (!reply) return false;  // the stream reports an unreachable node
  const QString path = QString::fromStdString(target.substr(0, target.find('?')));
  if (reply->status == 404) {
    notice = tr("This node has no Admin API endpoint for this log (GET %1 answered 404); it "
                "may be an older version.")
                 .arg(path);
    return false;
  }
  if (reply->status != 200) {
    if (reply->status != 401)  // a refused token is the stream's to report
      notice = tr("The node answered HTTP %1 to GET %2.").arg(reply->status).arg(path);
    return false;
  }
  boost::system::error_code ec;
  auto v = boost::json::parse(reply->body, ec);
  auto* o = ec ? nullptr : v.if_object();
  const auto* next = o ? o->if_contains("next_since") : nullptr;
  const auto* data = o ? o->if_contains("data") : nullptr;
  if (!next || !next->is_number() || !data || !data->is_array()) {
    notice = tr("The node answered GET %1 with something the console cannot read.").arg(path);
    return false;
  }
  body = std::move(reply->body);
  answer = std::move(*o);
  return true;
}

void RemoteNode::postNotice(void (RemoteNode::*signal)(const QString&), QString& last,
                            const QString& notice) {
  if (notice == last) return;
  last = notice;
  QMetaObject::invokeMethod(
      this,
      [this, signal, notice] {
        if (state_ != State::stopped) emit(this->*signal)(notice);
      },
      Qt::QueuedConnection);
}

void RemoteNode::pollAccessLog(apps::AdminClient& client) {
  std::string body;
  boost::json::object answer;
  QString notice;
  if (!fetchLog(client, "/archway/logs/access?limit=1000&since=" + std::to_string(accessSince_),
                body, answer, notice)) {
    postNotice(&RemoteNode::accessLogNotice, accessNotice_, notice);
    return;
  }
  // Without a file the node produces access entries only while they are read: not before the
  // first read, nor after the page was hidden for a while. Say since when the lines are whole.
  if (answer.contains("message"))
    accessFrom_ = QTime::currentTime().toString(QStringLiteral("HH:mm:ss"));
  if (!accessFrom_.isEmpty())
    notice = tr("The node keeps no access log of its own (no --access-log file): requests are "
                "shown from %1 on, while this page is open.")
                 .arg(accessFrom_);
  postNotice(&RemoteNode::accessLogNotice, accessNotice_, notice);
  boost::system::error_code ec;
  accessSince_ = answer.at("next_since").to_number<std::uint64_t>(ec);
  QStringList lines;
  const auto elements = dataElements(body);
  for (auto it = elements.rbegin(); it != elements.rend(); ++it)  // newest first: reverse
    lines << QString::fromUtf8(it->data(), static_cast<qsizetype>(it->size()));
  if (lines.isEmpty()) return;
  QMetaObject::invokeMethod(
      this,
      [this, lines] {
        if (state_ != State::stopped) emit accessLogLines(lines);
      },
      Qt::QueuedConnection);
}

void RemoteNode::pollErrorLog(apps::AdminClient& client) {
  std::string body;
  boost::json::object answer;
  QString notice;
  const bool ok =
      fetchLog(client, "/archway/logs/error?limit=1000&since=" + std::to_string(errorSince_), body,
               answer, notice);
  postNotice(&RemoteNode::errorLogNotice, errorNotice_, notice);
  if (!ok) return;
  boost::system::error_code ec;
  errorSince_ = answer.at("next_since").to_number<std::uint64_t>(ec);
  std::vector<core::log::Record> records;
  for (const auto& e : answer.at("data").as_array())  // oldest first
    if (auto r = toRecord(e)) records.push_back(std::move(*r));
  if (records.empty()) return;
  QMetaObject::invokeMethod(
      this,
      [this, records = std::move(records)] {
        if (state_ != State::stopped) emit errorLogRecords(records);
      },
      Qt::QueuedConnection);
}

std::vector<trace::FinishedTrace> RemoteNode::recentTraces(const trace::TraceQuery& query) const {
  std::vector<trace::FinishedTrace> out;
  std::lock_guard lock(mutex_);
  for (const auto& t : traces_) {
    if (out.size() >= query.limit) break;
    if (trace::TraceStore::matches(t, query)) out.push_back(t);
  }
  return out;
}

}  // namespace archway::models
