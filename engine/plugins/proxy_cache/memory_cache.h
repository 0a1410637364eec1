#pragma once
// proxy-cache's memory strategy: Kong keeps cached responses in an nginx shared dict
// (`kong_db_cache` by default) that every worker reads; here one MemoryCache per dictionary
// name, shared by all workers and kept across config reloads (plugins::Persistent).
//
// Concurrency: the cache is split into shards by key hash, each with its own
// std::shared_mutex. Lookups take the shard's lock shared and only for the map find and a
// shared_ptr copy; stores, deletes and evictions take it exclusively for the map and list
// update. Entries are immutable once stored (shared_ptr<const CachedResponse>), so a worker
// serving a hit never holds a lock while it copies the body. No lock outside this class is
// taken on the request path.
//
// Bounded size with approximate LRU eviction (CLOCK / second chance): a hit sets the entry's
// `referenced` bit (an atomic store under the shared lock); eviction walks from the oldest
// entry, gives referenced entries a second chance at the front and drops the first one that
// was not used since. The budget is split evenly over the shards. Kong sizes kong_db_cache
// with mem_cache_size, 128m by default; kDefaultMaxBytes is the same.
//
// Expiry follows ngx.shared.DICT:set(key, value, ttl): a TTL of 0 never expires; an expired
// entry reads as absent and its memory is reclaimed by eviction or by the next store of that
// key. Time comes from an injectable clock (whole seconds, as ngx.time()) so tests drive it.
#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

namespace archway::plugins {
class Persistent;
}

namespace archway::plugins::proxy_cache {

// What Kong stores per key (handler.lua body_filter): CACHE_VERSION 1.
struct CachedResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // as the client got them
  std::string body;
  std::int64_t timestamp = 0;  // seconds, when stored
  std::int64_t ttl = 0;        // the resource's TTL (cache_ttl, or from Cache-Control)
  int version = 1;

  std::size_t bytes() const;
};

// Kong's GET /proxy-cache/{key} body: the stored object as its memory strategy encodes it.
boost::json::object toJson(const CachedResponse& r);

class MemoryCache {
 public:
  using Clock = std::function<std::int64_t()>;  // seconds since the epoch
  static constexpr std::size_t kDefaultMaxBytes = std::size_t(128) << 20;
  static constexpr std::size_t kDefaultShards = 16;

  explicit MemoryCache(std::size_t maxBytes = kDefaultMaxBytes, Clock clock = {},
                       std::size_t shards = kDefaultShards);
  MemoryCache(const MemoryCache&) = delete;
  MemoryCache& operator=(const MemoryCache&) = delete;

  std::int64_t now() const { return clock_ ? clock_() : systemNow(); }

  // The entry for `key`, or null when absent or expired. Any thread.
  std::shared_ptr<const CachedResponse> get(std::string_view key) const;
  // Stores `value` under `key` for `ttlSeconds` (0: no expiry). False when it was not stored:
  // a negative TTL, or bigger than a shard's whole budget. Evicts as needed. Any thread.
  bool set(std::string_view key, std::shared_ptr<const CachedResponse> value,
           std::int64_t ttlSeconds);
  // Removes `key`; true when a live entry was there.
  bool erase(std::string_view key);
  void clear();

  std::size_t size() const;   // entries, expired ones included until reclaimed
  std::size_t bytes() const;  // their accounted size
  std::size_t maxBytes() const { return maxBytes_; }

 private:
  struct Node {
    std::string key;
    std::shared_ptr<const CachedResponse> value;
    std::int64_t expiresAt = 0;  // 0: never
    std::size_t cost = 0;
    mutable std::atomic<bool> referenced{false};
  };
  struct Shard {
    mutable std::shared_mutex mu;
    std::list<Node> order;  // front: newest; eviction looks at the back
    std::unordered_map<std::string_view, std::list<Node>::iterator> index;  // views of Node::key
    std::size_t bytes = 0;
  };

  static std::int64_t systemNow();
  Shard& shardFor(std::string_view key) const;
  static void removeLocked(Shard& s, std::list<Node>::iterator it);
  bool expired(const Node& n, std::int64_t now) const {
    return n.expiresAt != 0 && now >= n.expiresAt;
  }

  std::size_t maxBytes_;
  std::size_t shardBudget_;
  Clock clock_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

// Every memory cache of this node, by dictionary name. Lives in plugins::Persistent under the
// key "proxy-cache", so caches survive config reloads like Kong's shared dicts survive
// `kong reload`. Its own mutex guards only the name map (compile and Admin API paths).
class Stores {
 public:
  // The cache named `dictionary`, created with the defaults on first use.
  std::shared_ptr<MemoryCache> obtain(const std::string& dictionary);
  // Puts `cache` in place of the one named `dictionary` (tests: a small budget, a fake clock).
  void install(const std::string& dictionary, std::shared_ptr<MemoryCache> cache);
  std::shared_ptr<MemoryCache> find(std::string_view dictionary) const;
  std::vector<std::shared_ptr<MemoryCache>> all() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<MemoryCache>, std::less<>> caches_;
};

Stores& stores(Persistent& persistent);

// ---- For the Admin API (Kong's kong/plugins/proxy-cache/api.lua) --------------------------
// DELETE /proxy-cache: purges every cache (answer 204).
void purgeAll(Persistent& persistent);
// GET /proxy-cache/{cache_key}: the stored object from the first cache holding the key (200
// with this body), or nothing (404).
std::optional<boost::json::object> lookup(Persistent& persistent, std::string_view key);
// DELETE /proxy-cache/{cache_key}: true when some cache held the key (204), else 404.
bool purge(Persistent& persistent, std::string_view key);
// The /proxy-cache/{plugin_id}/caches/{cache_key} forms: the plugin's
// config.memory.dictionary_name picks the cache.
std::optional<boost::json::object> lookup(Persistent& persistent, std::string_view dictionary,
                                          std::string_view key);
bool purge(Persistent& persistent, std::string_view dictionary, std::string_view key);

}  // namespace archway::plugins::proxy_cache
