#include "plugins/plugin.h"

#include "core/log.h"
#include "http/head_parser.h"

namespace archway::plugins {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// The query argument `name` in a raw query string: its value (may be empty) and whether it
// was there at all. "a&b=1": a is present with an empty value.
std::pair<std::string_view, bool> findArg(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return {eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true};
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {{}, false};
}

}  // namespace

boost::asio::awaitable<void> Instance::accessAsync(Context& ctx) const {
  access(ctx);
  co_return;
}

std::string_view Context::header(std::string_view name) const {
  if (!reqHead_) return {};
  int i = reqHead_->find(reqBase_, name);
  return i < 0 ? std::string_view{} : reqHead_->headers[static_cast<std::size_t>(i)].value.in(reqBase_);
}

bool Context::hasHeader(std::string_view name) const {
  return reqHead_ && reqHead_->find(reqBase_, name) >= 0;
}

std::vector<std::string_view> Context::headers(std::string_view name) const {
  std::vector<std::string_view> out;
  if (!reqHead_) return out;
  for (const auto& h : reqHead_->headers) {
    if (iequals(h.name.in(reqBase_), name)) out.push_back(h.value.in(reqBase_));
  }
  return out;
}

std::string_view Context::header(std::string_view name, std::size_t& count) const {
  count = 0;
  std::string_view first;
  if (!reqHead_) return first;
  for (const auto& h : reqHead_->headers) {
    if (!iequals(h.name.in(reqBase_), name)) continue;
    if (count++ == 0) first = h.value.in(reqBase_);
  }
  return first;
}

void Context::forEachHeader(
    const std::function<void(std::string_view, std::string_view)>& f) const {
  if (!reqHead_) return;
  for (const auto& h : reqHead_->headers) f(h.name.in(reqBase_), h.value.in(reqBase_));
}

std::string_view Context::queryArg(std::string_view name) const {
  return findArg(query, name).first;
}

bool Context::hasQueryArg(std::string_view name) const { return findArg(query, name).second; }

void Context::authenticate(const core::Consumer* c, std::string_view credential,
                           bool isAnonymous, bool checked) {
  consumer = c;
  credentialId.assign(credential);
  anonymous = isAnonymous;
  setConsumerHeaders(*this, c, credential, isAnonymous, checked);
}

void setConsumerHeaders(Context& ctx, const core::Consumer* consumer, std::string_view credential,
                        bool isAnonymous, bool checked) {
  // Kong's set_consumer: the headers are set, or cleared when the value is absent, so a
  // client cannot smuggle its own X-Consumer-* headers upstream. The names are constant
  // tokens, so with `checked` values the edits are trusted.
  EditList& edits = ctx.requestEdits;
  using Op = HeaderEdit::Op;
  auto set = [&](std::string_view name, std::string_view value) {
    edits.push(Op::set, name, value, checked);
  };
  auto remove = [&](std::string_view name) { edits.push(Op::remove, name, {}); };
  if (consumer) {
    set("X-Consumer-ID", consumer->id);
    if (consumer->customId)
      set("X-Consumer-Custom-ID", *consumer->customId);
    else
      remove("X-Consumer-Custom-ID");
    if (consumer->username)
      set("X-Consumer-Username", *consumer->username);
    else
      remove("X-Consumer-Username");
  } else {
    remove("X-Consumer-ID");
    remove("X-Consumer-Custom-ID");
    remove("X-Consumer-Username");
  }
  if (!credential.empty())
    set("X-Credential-Identifier", credential);
  else
    remove("X-Credential-Identifier");
  if (isAnonymous)
    edits.push(Op::set, "X-Anonymous-Consumer", "true", true);
  else
    remove("X-Anonymous-Consumer");
}

bool safeHeaderValue(std::string_view value) {
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool safeConsumerHeaders(const core::Consumer& consumer, std::string_view credential) {
  return safeHeaderValue(consumer.id) && safeHeaderValue(credential) &&
         (!consumer.customId || safeHeaderValue(*consumer.customId)) &&
         (!consumer.username || safeHeaderValue(*consumer.username));
}

bool headerNameEquals(std::string_view a, std::string_view b) { return iequals(a, b); }

void EditList::push(HeaderEdit::Op op, std::string_view name, std::string_view value,
                    bool trusted) {
  const std::uint32_t key = headerNameKey(name);
  const std::uint64_t bit = filterBit(key);
  if (op != HeaderEdit::Op::add) {
    if (nameFilter_ & bit) {  // else no earlier edit has this name
      for (std::size_t i = 0; i < size_; ++i) {
        HeaderEdit& before = items_[i];
        if (before.key == key && !before.superseded && iequals(before.name, name))
          before.superseded = true;
      }
    }
    awayFilter_ |= bit;
  }
  nameFilter_ |= bit;
  if (size_ == items_.size()) items_.emplace_back();
  HeaderEdit& e = items_[size_++];
  e.op = op;
  e.superseded = false;
  e.trusted = trusted;
  e.key = key;
  // clear() + append(): the short path for a string that keeps its capacity.
  e.name.clear();
  e.name.append(name.data(), name.size());
  e.value.clear();
  e.value.append(value.data(), value.size());
}

namespace {
void pushEdit(EditList& edits, HeaderEdit::Op op, std::string_view name, std::string_view value) {
  edits.push(op, name, value);
}
}  // namespace

void Context::setRequestHeader(std::string_view name, std::string_view value) {
  pushEdit(requestEdits, HeaderEdit::Op::set, name, value);
}
void Context::addRequestHeader(std::string_view name, std::string_view value) {
  pushEdit(requestEdits, HeaderEdit::Op::add, name, value);
}
void Context::removeRequestHeader(std::string_view name) {
  pushEdit(requestEdits, HeaderEdit::Op::remove, name, {});
}

void Context::setUpstreamPath(std::string_view p) {
  upstreamPath.assign(p);
  upstreamPathSet = true;
}
void Context::setUpstreamQuery(std::string_view q) {
  upstreamQuery.assign(q);
  upstreamQuerySet = true;
}
void Context::setUpstreamMethod(std::string_view m) {
  upstreamMethod.assign(m);
  upstreamMethodSet = true;
}
void Context::setUpstreamBody(std::string_view b) {
  upstreamBody.assign(b);
  upstreamBodySet = true;
}

void Context::exit(int statusCode, std::string_view body, std::string_view contentType) {
  exited_ = true;
  exitStatus_ = statusCode;
  exitBody_.assign(body);
  exitContentType_.assign(contentType);
  status = statusCode;
  source = Source::exit;
}

void Context::exitMessage(int statusCode, std::string_view message) {
  std::string body = "{\"message\":\"";
  appendJsonEscaped(body, message);
  body += "\"}";
  exit(statusCode, body);
}

std::string_view Context::responseHeader(std::string_view name) const {
  if (exited_) {
    if (iequals(name, "content-type")) return exitContentType_;
    return {};
  }
  if (!resHead_) return {};
  int i = resHead_->find(resBase_, name);
  return i < 0 ? std::string_view{} : resHead_->headers[static_cast<std::size_t>(i)].value.in(resBase_);
}

void Context::forEachResponseHeader(
    const std::function<void(std::string_view, std::string_view)>& f) const {
  if (exited_) {
    if (!exitContentType_.empty()) f("Content-Type", exitContentType_);
    return;
  }
  if (!resHead_) return;
  for (const auto& h : resHead_->headers) {
    if (!h.hopByHop) f(h.name.in(resBase_), h.value.in(resBase_));
  }
}

void Context::setResponseHeader(std::string_view name, std::string_view value) {
  pushEdit(responseEdits, HeaderEdit::Op::set, name, value);
}
void Context::setTrustedResponseHeader(std::string_view name, std::string_view value) {
  responseEdits.push(HeaderEdit::Op::set, name, value, true);
}
void Context::addResponseHeader(std::string_view name, std::string_view value) {
  pushEdit(responseEdits, HeaderEdit::Op::add, name, value);
}
void Context::removeResponseHeader(std::string_view name) {
  pushEdit(responseEdits, HeaderEdit::Op::remove, name, {});
}

void Context::setResponseBody(std::string_view b) {
  newResponseBody.assign(b);
  responseBodySet = true;
}

void Context::detachRequest() {
  detached_.clear();
  detached_.reserve(method.size() + path.size() + rawPath.size() + query.size() + host.size());
  std::size_t offsets[5];
  std::string_view* views[5] = {&method, &path, &rawPath, &query, &host};
  for (int i = 0; i < 5; ++i) {
    offsets[i] = detached_.size();
    detached_.append(*views[i]);
  }
  for (int i = 0; i < 5; ++i) {
    *views[i] = std::string_view(detached_).substr(offsets[i], views[i]->size());
  }
  reqHead_ = nullptr;
  reqBase_ = nullptr;
}

void Context::reset() {
  route = nullptr;
  service = nullptr;
  method = path = rawPath = query = host = clientIp = {};
  scheme = "http";
  port = 0;
  contentLength = -1;
  chunked = expectContinue = false;
  requestBodyLimit = -1;
  uriCaptures = nullptr;
  bodyAvailable = false;
  body_ = {};
  consumer = nullptr;
  credentialId.clear();
  anonymous = false;
  groups.clear();
  requestEdits.clear();
  upstreamPathSet = upstreamQuerySet = upstreamMethodSet = upstreamBodySet = false;
  upstreamPath.clear();
  upstreamQuery.clear();
  upstreamMethod.clear();
  upstreamBody.clear();
  exited_ = false;
  exitStatus_ = 0;
  exitBody_.clear();
  exitContentType_.clear();
  status = 0;
  source = Source::upstream;
  responseEdits.clear();
  responseBodyAvailable = false;
  responseBody_ = {};
  responseBodySet = false;
  newResponseBody.clear();
  startedAtMs = 0;
  totalUs = upstreamUs = kongUs = 0;
  bytesIn = bytesOut = 0;
  tries = 0;
  upstreamStatus = 0;
  upstreamUri.clear();
  upstreamHost.clear();
  requestId.clear();
  traceId = {};
  reqHead_ = nullptr;
  reqBase_ = nullptr;
  resHead_ = nullptr;
  resBase_ = nullptr;
  for (auto& s : scratch_) s.clear();
  current_ = 0;
}

void appendJsonEscaped(std::string& out, std::string_view s) { core::appendJsonEscaped(out, s); }

}  // namespace archway::plugins
