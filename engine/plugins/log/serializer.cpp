#include "plugins/log/serializer.h"

#include "plugins/args.h"

#include <arpa/inet.h>

#include <boost/json/serialize.hpp>
#include <charconv>
#include <vector>

#include "config/json_shapes.h"
#include "core/uuid.h"

namespace archway::plugins::log {
namespace {

// Kong's get_headers() and get_query() default limits.
constexpr std::size_t kMaxHeaders = 100;
constexpr std::size_t kMaxArgs = 100;

void appendString(std::string& out, std::string_view s) {
  out += '"';
  appendJsonEscaped(out, s);
  out += '"';
}

template <class N>
void appendNumber(std::string& out, N n) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

void appendKey(std::string& out, std::string_view key) {
  out += '"';
  out += key;  // our own keys: never need escaping
  out += "\":";
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

void assignLower(std::string& out, std::string_view s) {
  out.resize(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) out[i] = lower(s[i]);
}

bool equalsLower(std::string_view lowered, std::string_view name) {
  if (lowered.size() != name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (lowered[i] != lower(name[i])) return false;
  }
  return true;
}

// Headers grouped by lower-case name in first-seen order. Per thread and reused, so a request
// allocates nothing here once the vectors have grown.
class HeaderTable {
 public:
  void clear() {
    for (std::size_t i = 0; i < used_; ++i) items_[i].values.clear();
    used_ = 0;
  }
  void add(std::string_view name, std::string_view value) {
    if (Item* it = find(name)) {
      it->values.push_back(value);
      return;
    }
    if (used_ >= kMaxHeaders) return;
    if (used_ == items_.size()) items_.emplace_back();
    Item& it = items_[used_++];
    assignLower(it.name, name);
    it.values.push_back(value);
  }
  void set(std::string_view name, std::string_view value) {
    remove(name);
    add(name, value);
  }
  void remove(std::string_view name) {
    if (Item* it = find(name)) it->values.clear();
  }
  void apply(const EditList& edits) {
    for (const auto& e : edits) {
      switch (e.op) {
        case HeaderEdit::Op::set:
          set(e.name, e.value);
          break;
        case HeaderEdit::Op::add:
          add(e.name, e.value);
          break;
        case HeaderEdit::Op::remove:
          remove(e.name);
          break;
      }
    }
  }
  // Kong replaces the whole value with the string "REDACTED".
  void redact(std::string_view name) {
    if (Item* it = find(name); it && !it->values.empty()) {
      it->values.clear();
      it->values.push_back("REDACTED");
    }
  }
  void appendJson(std::string& out) const {
    out += '{';
    bool first = true;
    for (std::size_t i = 0; i < used_; ++i) {
      const Item& it = items_[i];
      if (it.values.empty()) continue;
      if (!first) out += ',';
      first = false;
      appendString(out, it.name);
      out += ':';
      if (it.values.size() == 1) {
        appendString(out, it.values[0]);
      } else {
        out += '[';
        for (std::size_t v = 0; v < it.values.size(); ++v) {
          if (v) out += ',';
          appendString(out, it.values[v]);
        }
        out += ']';
      }
    }
    out += '}';
  }

 private:
  struct Item {
    std::string name;  // lower case
    std::vector<std::string_view> values;
  };
  Item* find(std::string_view name) {
    for (std::size_t i = 0; i < used_; ++i) {
      if (equalsLower(items_[i].name, name)) return &items_[i];
    }
    return nullptr;
  }
  std::vector<Item> items_;
  std::size_t used_ = 0;
};

// ngx_http_lua's argument unescaping: %XX decoded, '+' is a space, bad escapes kept as is.
void unescapeArg(std::string& out, std::string_view s) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < s.size() && hexDigit(s[i + 1]) >= 0 && hexDigit(s[i + 2]) >= 0) {
      out += static_cast<char>(hexDigit(s[i + 1]) * 16 + hexDigit(s[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
}

class QueryTable {
 public:
  void parse(std::string_view q) {
    for (std::size_t i = 0; i < used_; ++i) items_[i].values.clear();
    used_ = 0;
    std::size_t args = 0;
    while (!q.empty() && args < kMaxArgs) {
      auto amp = q.find('&');
      std::string_view seg = q.substr(0, amp);
      q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
      if (seg.empty()) continue;
      auto eq = seg.find('=');
      std::string_view rawKey = seg.substr(0, eq);
      if (rawKey.empty()) continue;
      ++args;
      unescapeArg(key_, rawKey);
      Value v;
      v.isTrue = eq == std::string_view::npos;
      if (!v.isTrue) unescapeArg(v.text, seg.substr(eq + 1));
      Item* it = nullptr;
      for (std::size_t i = 0; i < used_ && !it; ++i) {
        if (items_[i].key == key_) it = &items_[i];
      }
      if (!it) {
        if (used_ == items_.size()) items_.emplace_back();
        it = &items_[used_++];
        it->key = key_;
      }
      it->values.push_back(std::move(v));
    }
  }
  void appendJson(std::string& out) const {
    out += '{';
    for (std::size_t i = 0; i < used_; ++i) {
      const Item& it = items_[i];
      if (i) out += ',';
      appendString(out, it.key);
      out += ':';
      if (it.values.size() > 1) out += '[';
      for (std::size_t v = 0; v < it.values.size(); ++v) {
        if (v) out += ',';
        if (it.values[v].isTrue)
          out += "true";
        else
          appendString(out, it.values[v].text);
      }
      if (it.values.size() > 1) out += ']';
    }
    out += '}';
  }

 private:
  struct Value {
    bool isTrue = false;
    std::string text;
  };
  struct Item {
    std::string key;
    std::vector<Value> values;
  };
  std::vector<Item> items_;
  std::size_t used_ = 0;
  std::string key_;
};

struct Scratch {
  HeaderTable headers;
  QueryTable query;
  std::string uri, host;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Kong's cached entities carry no null fields; they do carry ws_id.
std::string compactJson(boost::json::object o) {
  for (auto it = o.begin(); it != o.end();) {
    if (it->value().is_null())
      it = o.erase(it);
    else
      ++it;
  }
  o["ws_id"] = defaultWorkspaceId();
  return boost::json::serialize(o);
}

// "host:port" (or "[v6]:port") of the peer, split for the `tries` entry.
bool splitHostPort(std::string_view hp, std::string_view& host, int& port) {
  auto colon = hp.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= hp.size()) return false;
  host = hp.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto r = std::from_chars(hp.data() + colon + 1, hp.data() + hp.size(), port);
  return r.ec == std::errc() && r.ptr == hp.data() + hp.size();
}

bool isIpLiteral(const std::string& host) {
  in_addr a4{};
  in6_addr a6{};
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

// nginx's $host: the Host header without the port, lower case.
void appendHostOnly(std::string& out, std::string_view host) {
  std::string_view h = host;
  if (!h.empty() && h.front() == '[') {
    auto close = h.find(']');
    if (close != std::string_view::npos) h = h.substr(0, close + 1);
  } else if (auto colon = h.rfind(':'); colon != std::string_view::npos) {
    h = h.substr(0, colon);
  }
  for (char c : h) out += lower(c);
}

}  // namespace

const std::string& defaultWorkspaceId() {
  static const std::string id = core::uuid5(core::kConfigNamespace, "workspace:default");
  return id;
}

std::string routeJson(const core::Route& route) {
  return compactJson(config::toJson(route));
}

std::string serviceJson(const core::Service& service) {
  return compactJson(config::toJson(service));
}

std::string consumerJson(const core::Consumer& c) {
  boost::json::object o;
  o["id"] = c.id;
  if (c.username) o["username"] = *c.username;
  if (c.customId) o["custom_id"] = *c.customId;
  if (!c.tags.empty()) {
    boost::json::array tags;
    for (const auto& t : c.tags) tags.emplace_back(t);
    o["tags"] = std::move(tags);
  }
  o["created_at"] = c.createdAt;
  o["updated_at"] = c.updatedAt;
  return compactJson(std::move(o));
}

Serializer::Serializer(const core::Config& config) {
  for (const auto& r : config.routes) routes_.emplace(r.id, routeJson(r));
  for (const auto& s : config.services) services_.emplace(s.id, serviceJson(s));
  for (const auto& c : config.consumers) consumers_.emplace(c.id, consumerJson(c));
}

void Serializer::appendEntity(std::string& out, const core::Route& r) const {
  auto it = routes_.find(r.id);
  if (it != routes_.end())
    out += it->second;
  else
    out += routeJson(r);
}

void Serializer::appendEntity(std::string& out, const core::Service& s) const {
  auto it = services_.find(s.id);
  if (it != services_.end())
    out += it->second;
  else
    out += serviceJson(s);
}

void Serializer::appendEntity(std::string& out, const core::Consumer& c) const {
  auto it = consumers_.find(c.id);
  if (it != consumers_.end())
    out += it->second;
  else
    out += consumerJson(c);
}

void appendQueryJson(std::string& out, std::string_view rawQuery) {
  auto& q = scratch().query;
  q.parse(rawQuery);
  q.appendJson(out);
}

void Serializer::serialize(const Context& ctx, std::string& out) const {
  Scratch& s = scratch();

  out += "{\"request\":{";
  appendKey(out, "id");
  appendString(out, ctx.requestId);

  // request_uri: the target as the client sent it (path and query), escaped once, used twice.
  s.uri.clear();
  appendJsonEscaped(s.uri, ctx.rawPath.empty() ? ctx.path : ctx.rawPath);
  if (!ctx.query.empty()) {
    s.uri += '?';
    appendJsonEscaped(s.uri, ctx.query);
  }
  out += ",\"uri\":\"";
  out += s.uri;
  // Kong: scheme://$host:$server_port$request_uri ($host: lower case, without the port).
  out += "\",\"url\":\"";
  appendJsonEscaped(out, ctx.scheme);
  out += "://";
  s.host.clear();
  appendHostOnly(s.host, ctx.host);
  appendJsonEscaped(out, s.host);
  if (ctx.port != 0) {
    out += ':';
    appendNumber(out, ctx.port);
  }
  out += s.uri;
  out += '"';

  out += ",\"querystring\":";
  s.query.parse(ctx.query);
  s.query.appendJson(out);

  out += ",\"method\":";
  appendString(out, ctx.method);

  out += ",\"headers\":";
  s.headers.clear();
  ctx.forEachHeader([&](std::string_view n, std::string_view v) { s.headers.add(n, v); });
  s.headers.apply(ctx.requestEdits);
  s.headers.redact("authorization");
  s.headers.redact("proxy-authorization");
  s.headers.appendJson(out);

  out += ",\"size\":";
  appendNumber(out, ctx.bytesIn);
  out += '}';

  out += ",\"upstream_uri\":";
  appendString(out, ctx.upstreamUri);
  out += ",\"upstream_status\":\"";
  if (ctx.upstreamStatus > 0) appendNumber(out, ctx.upstreamStatus);
  out += '"';

  out += ",\"response\":{\"status\":";
  appendNumber(out, ctx.status);
  out += ",\"headers\":";
  s.headers.clear();
  ctx.forEachResponseHeader([&](std::string_view n, std::string_view v) { s.headers.add(n, v); });
  s.headers.apply(ctx.responseEdits);
  s.headers.appendJson(out);
  out += ",\"size\":";
  appendNumber(out, ctx.bytesOut);
  out += '}';

  out += ",\"latencies\":{\"kong\":";
  appendNumber(out, ctx.kongUs / 1000);
  out += ",\"proxy\":";
  if (ctx.upstreamStatus > 0)
    appendNumber(out, static_cast<std::int64_t>(ctx.upstreamUs / 1000));
  else
    out += "-1";
  out += ",\"request\":";
  appendNumber(out, ctx.totalUs / 1000);
  out += ",\"receive\":0}";

  // Kong lists every balancer attempt; Archway knows the count and the last peer only. Without
  // a recorded peer, a service whose host is an address was that peer.
  if (ctx.tries > 0) {
    out += ",\"tries\":[";
    std::string_view lastHost;
    int lastPort = 0;
    bool known = splitHostPort(ctx.upstreamHost, lastHost, lastPort);
    if (!known && ctx.service && isIpLiteral(ctx.service->host)) {
      lastHost = ctx.service->host;
      lastPort = ctx.service->port;
      known = true;
    }
    for (int i = 0; i < ctx.tries; ++i) {
      if (i) out += ',';
      if (i == ctx.tries - 1 && known) {
        out += "{\"ip\":";
        appendString(out, lastHost);
        out += ",\"port\":";
        appendNumber(out, lastPort);
        out += '}';
      } else {
        out += "{}";
      }
    }
    out += ']';
  }

  if (!ctx.credentialId.empty()) {
    out += ",\"authenticated_entity\":{\"id\":";
    appendString(out, ctx.credentialId);
    if (ctx.consumer) {
      out += ",\"consumer_id\":";
      appendString(out, ctx.consumer->id);
    }
    out += '}';
  }
  if (ctx.route) {
    out += ",\"route\":";
    appendEntity(out, *ctx.route);
  }
  if (ctx.service) {
    out += ",\"service\":";
    appendEntity(out, *ctx.service);
  }
  if (ctx.consumer) {
    out += ",\"consumer\":";
    appendEntity(out, *ctx.consumer);
  }
  out += ",\"client_ip\":";
  appendString(out, ctx.clientIp);
  out += ",\"started_at\":";
  appendNumber(out, ctx.startedAtMs);
  if (!ctx.traceId.empty()) {
    out += ",\"trace_id\":{\"w3c\":";
    appendString(out, ctx.traceId);
    out += '}';
  }
  out += ",\"source\":";
  out += ctx.source == Source::upstream ? "\"upstream\"" : "\"kong\"";
  out += ",\"workspace\":";
  appendString(out, defaultWorkspaceId());
  out += ",\"workspace_name\":\"default\"}";
}

std::string Serializer::serialize(const Context& ctx) const {
  std::string out;
  serialize(ctx, out);
  return out;
}

std::string serialize(const Context& ctx) {
  static const Serializer plain;
  return plain.serialize(ctx);
}

}  // namespace archway::plugins::log
