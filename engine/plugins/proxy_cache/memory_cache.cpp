#include "plugins/proxy_cache/memory_cache.h"

#include <boost/json.hpp>
#include <chrono>

#include "plugins/plugin.h"

namespace archway::plugins::proxy_cache {

std::size_t CachedResponse::bytes() const {
  std::size_t n = sizeof(CachedResponse) + body.size();
  for (const auto& [k, v] : headers) n += k.size() + v.size() + 2 * sizeof(std::string);
  return n;
}

boost::json::object toJson(const CachedResponse& r) {
  namespace json = boost::json;
  json::object headers;
  for (const auto& [k, v] : r.headers) {
    auto it = headers.find(k);
    if (it == headers.end()) {
      headers[k] = v;
    } else if (it->value().is_array()) {
      it->value().as_array().push_back(json::string(v));
    } else {
      json::array a{it->value(), json::string(v)};
      it->value() = std::move(a);
    }
  }
  json::object o;
  o["status"] = r.status;
  o["headers"] = std::move(headers);
  o["body"] = r.body;
  o["body_len"] = r.body.size();
  o["timestamp"] = r.timestamp;
  o["ttl"] = r.ttl;
  o["version"] = r.version;
  return o;
}

MemoryCache::MemoryCache(std::size_t maxBytes, Clock clock, std::size_t shards)
    : maxBytes_(maxBytes), clock_(std::move(clock)) {
  if (shards == 0) shards = 1;
  shardBudget_ = maxBytes / shards;
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

std::int64_t MemoryCache::systemNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

MemoryCache::Shard& MemoryCache::shardFor(std::string_view key) const {
  return *shards_[std::hash<std::string_view>()(key) % shards_.size()];
}

void MemoryCache::removeLocked(Shard& s, std::list<Node>::iterator it) {
  s.index.erase(std::string_view(it->key));
  s.bytes -= it->cost;
  s.order.erase(it);
}

std::shared_ptr<const CachedResponse> MemoryCache::get(std::string_view key) const {
  const std::int64_t t = now();
  Shard& s = shardFor(key);
  std::shared_lock lock(s.mu);
  auto found = s.index.find(key);
  if (found == s.index.end()) return nullptr;
  const Node& n = *found->second;
  if (expired(n, t)) return nullptr;
  n.referenced.store(true, std::memory_order_relaxed);
  return n.value;
}

bool MemoryCache::set(std::string_view key, std::shared_ptr<const CachedResponse> value,
                      std::int64_t ttlSeconds) {
  if (ttlSeconds < 0 || !value) return false;
  const std::int64_t t = now();
  const std::size_t cost = sizeof(Node) + 2 * key.size() + value->bytes();
  Shard& s = shardFor(key);
  std::unique_lock lock(s.mu);
  if (auto found = s.index.find(key); found != s.index.end()) removeLocked(s, found->second);
  if (cost > shardBudget_) return false;
  // CLOCK: an entry used since it was last looked at goes back to the front once.
  while (s.bytes + cost > shardBudget_ && !s.order.empty()) {
    auto oldest = std::prev(s.order.end());
    if (!expired(*oldest, t) && oldest->referenced.exchange(false, std::memory_order_relaxed)) {
      s.order.splice(s.order.begin(), s.order, oldest);
      continue;
    }
    removeLocked(s, oldest);
  }
  s.order.emplace_front();
  Node& n = s.order.front();
  n.key.assign(key);
  n.value = std::move(value);
  n.expiresAt = ttlSeconds == 0 ? 0 : t + ttlSeconds;
  n.cost = cost;
  s.index.emplace(std::string_view(n.key), s.order.begin());
  s.bytes += cost;
  return true;
}

bool MemoryCache::erase(std::string_view key) {
  const std::int64_t t = now();
  Shard& s = shardFor(key);
  std::unique_lock lock(s.mu);
  auto found = s.index.find(key);
  if (found == s.index.end()) return false;
  const bool live = !expired(*found->second, t);
  removeLocked(s, found->second);
  return live;
}

void MemoryCache::clear() {
  for (auto& sp : shards_) {
    std::unique_lock lock(sp->mu);
    sp->index.clear();
    sp->order.clear();
    sp->bytes = 0;
  }
}

std::size_t MemoryCache::size() const {
  std::size_t n = 0;
  for (const auto& sp : shards_) {
    std::shared_lock lock(sp->mu);
    n += sp->index.size();
  }
  return n;
}

std::size_t MemoryCache::bytes() const {
  std::size_t n = 0;
  for (const auto& sp : shards_) {
    std::shared_lock lock(sp->mu);
    n += sp->bytes;
  }
  return n;
}

std::shared_ptr<MemoryCache> Stores::obtain(const std::string& dictionary) {
  std::lock_guard lock(mu_);
  auto& slot = caches_[dictionary];
  if (!slot) slot = std::make_shared<MemoryCache>();
  return slot;
}

void Stores::install(const std::string& dictionary, std::shared_ptr<MemoryCache> cache) {
  std::lock_guard lock(mu_);
  caches_[dictionary] = std::move(cache);
}

std::shared_ptr<MemoryCache> Stores::find(std::string_view dictionary) const {
  std::lock_guard lock(mu_);
  auto it = caches_.find(dictionary);
  return it == caches_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<MemoryCache>> Stores::all() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<MemoryCache>> out;
  for (const auto& [name, cache] : caches_) out.push_back(cache);
  return out;
}

Stores& stores(Persistent& persistent) {
  return *persistent.get<Stores>("proxy-cache");
}

void purgeAll(Persistent& persistent) {
  for (const auto& c : stores(persistent).all()) c->clear();
}

std::optional<boost::json::object> lookup(Persistent& persistent, std::string_view key) {
  for (const auto& c : stores(persistent).all()) {
    if (auto r = c->get(key)) return toJson(*r);
  }
  return std::nullopt;
}

bool purge(Persistent& persistent, std::string_view key) {
  bool any = false;
  for (const auto& c : stores(persistent).all()) any = c->erase(key) || any;
  return any;
}

std::optional<boost::json::object> lookup(Persistent& persistent, std::string_view dictionary,
                                          std::string_view key) {
  auto c = stores(persistent).find(dictionary);
  if (!c) return std::nullopt;
  if (auto r = c->get(key)) return toJson(*r);
  return std::nullopt;
}

bool purge(Persistent& persistent, std::string_view dictionary, std::string_view key) {
  auto c = stores(persistent).find(dictionary);
  return c && c->erase(key);
}

}  // namespace archway::plugins::proxy_cache
