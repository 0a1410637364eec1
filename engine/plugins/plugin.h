#pragma once
// The plugin API. A plugin is a Factory (name, Kong priority, schema) that compiles one plugin
// entity's validated config into an immutable Instance once per config snapshot, on the
// control thread. Workers call the Instance's phase methods with a per-request Context; the
// Instance must be safe to call from every worker at once (it is const; anything it changes
// per worker lives in WorkerEnv, anything node-wide in atomics it owns).
//
// Phases are Kong's: rewrite, access, header_filter, body_filter, log. Plugins run in
// descending priority in each phase. A plugin ends a request early with ctx.exit(); the
// remaining access-phase plugins are skipped, header_filter and log still run (as in Kong's
// kong.response.exit).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "core/config_delta.h"
#include "core/entities.h"
#include "core/result.h"
#include "plugins/schema.h"

namespace archway::router {
class Captures;  // router/captures.h (header-only)
}

namespace archway::http {
struct RequestHead;
struct ResponseHead;
}  // namespace archway::http
namespace archway::trace {
class TraceRecorder;
}  // namespace archway::trace

namespace archway::plugins {

struct HeaderEdit {
  enum class Op : std::uint8_t { set, add, remove };
  Op op = Op::set;
  // A later set or remove of the same name drops this edit's line (EditList::push marks it).
  bool superseded = false;
  // The plugin vouches that the name is a token and the value holds no control byte (a
  // constant name, a number it formatted): the proxy writes it without the injection check.
  bool trusted = false;
  std::uint32_t key = 0;  // headerNameKey(name)
  std::string name;
  std::string value;
};

// A case-insensitive fingerprint of a header name (its length and four bytes folded to lower
// case): equal names ignoring case have equal keys, so a key mismatch skips the comparison.
// The bytes are the first, the middle and the last two (RateLimit-Limit / RateLimit-Reset
// differ only near the end).
inline std::uint32_t headerNameKey(std::string_view name) {
  if (name.empty()) return 0;
  auto low = [](char c) { return static_cast<std::uint32_t>(static_cast<unsigned char>(c) | 0x20); };
  const std::size_t n = name.size();
  return (static_cast<std::uint32_t>(n & 0xff) << 24) | (low(name.front()) << 16) |
         (((low(name[n / 2]) * 7) ^ low(name[n - (n > 1 ? 2 : 1)])) & 0xff) << 8 |
         low(name.back());
}

// The header edits of one request, in order. A Context lives as long as its connection, so
// clear() keeps the entries and their strings' capacity: the next request's edits reuse them
// instead of allocating (names like X-RateLimit-Remaining-Second exceed the small-string
// buffer). push() does the bookkeeping the proxy needs to write the edits in one pass: which
// entries a later set or remove supersedes, and a 64-bit filter of the names set or removed.
class EditList {
 public:
  using value_type = HeaderEdit;
  using const_iterator = const HeaderEdit*;
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const HeaderEdit& operator[](std::size_t i) const { return items_[i]; }
  const HeaderEdit* begin() const { return items_.data(); }
  const HeaderEdit* end() const { return items_.data() + size_; }
  void clear() {
    size_ = 0;
    awayFilter_ = 0;
    nameFilter_ = 0;
  }
  void push(HeaderEdit::Op op, std::string_view name, std::string_view value,
            bool trusted = false);
  // False when no set or remove of this list can have the name of `key` (no false negatives).
  bool mayReplace(std::uint32_t key) const { return (awayFilter_ & filterBit(key)) != 0; }

 private:
  static std::uint64_t filterBit(std::uint32_t key) {
    return std::uint64_t{1} << ((key * 0x9e3779b1u) >> 26);
  }
  std::vector<HeaderEdit> items_;
  std::size_t size_ = 0;
  std::uint64_t awayFilter_ = 0;
  std::uint64_t nameFilter_ = 0;  // every name pushed: a set of a new name skips the scan
};

// Per-worker objects that outlive config snapshots: a Redis connection pool, a local cache.
// Only the owning worker thread touches it.
struct WorkerEnv {
  boost::asio::io_context* io = nullptr;
  int index = 0;  // 0..count-1
  int count = 1;
  // Keyed by a plugin-chosen string ("redis:127.0.0.1:6379/0").
  std::unordered_map<std::string, std::shared_ptr<void>> objects;

  template <class T, class... Args>
  T& get(const std::string& key, Args&&... args) {
    auto& slot = objects[key];
    if (!slot) slot = std::make_shared<T>(std::forward<Args>(args)...);
    return *static_cast<T*>(slot.get());
  }
};

// Why the response the client got was produced (Kong's log serializer `source`).
enum class Source : std::uint8_t { upstream, kong, exit };

// One request as the plugins see it. Owned by the downstream session and reset per request,
// so its vectors and strings keep their capacity (no allocation in the steady state).
class Context {
 public:
  // ---------------------------------------------------------------- the request (read only)
  const core::Route* route = nullptr;
  const core::Service* service = nullptr;
  std::string_view method;  // as sent
  std::string_view path;    // normalised, as routed (without the query)
  std::string_view rawPath;
  std::string_view query;  // after '?', without it; raw (percent-encoded)
  std::string_view host;   // Host header (or authority), may carry :port
  std::string_view clientIp;
  std::string_view scheme = "http";
  std::uint16_t port = 0;  // the local port the request arrived on
  std::int64_t contentLength = -1;
  bool chunked = false;
  bool expectContinue = false;
  // The most request-body bytes a plugin allows (request-size-limiting): a body the proxy
  // does not hand to plugins whole (chunked, or streamed because it is too large to buffer)
  // is cut off with 413 {"message":"Request size limit exceeded"} once it passes this.
  // -1: no limit. Added for request-size-limiting (helper B); enforced by the proxy.
  std::int64_t requestBodyLimit = -1;
  // The groups of the regex path the route matched with (Kong's
  // router_matches.uri_captures); set by the proxy only when a plugin of the chain says
  // usesUriCaptures(), else null. Valid for the request.
  const router::Captures* uriCaptures = nullptr;

  // First header `name` (ASCII case-insensitive); empty when absent (use hasHeader to tell an
  // empty value from none).
  std::string_view header(std::string_view name) const;
  bool hasHeader(std::string_view name) const;
  // Every value of `name`, in order.
  std::vector<std::string_view> headers(std::string_view name) const;
  // The first value of `name` and how many headers carry that name (0: absent); no allocation.
  std::string_view header(std::string_view name, std::size_t& count) const;
  // Every header, in order.
  void forEachHeader(const std::function<void(std::string_view, std::string_view)>& f) const;
  // The raw value of query argument `name` (first occurrence); hasQueryArg for presence.
  std::string_view queryArg(std::string_view name) const;
  bool hasQueryArg(std::string_view name) const;

  // The whole request body. Only when the chain has a plugin with needsRequestBody() and the
  // body fit the request buffer; bodyAvailable says so. Chunked bodies are given de-chunked.
  std::string_view body() const { return body_; }
  bool bodyAvailable = false;

  // ------------------------------------------------------------------------- identity
  const core::Consumer* consumer = nullptr;
  std::string credentialId;  // the credential that authenticated (X-Credential-Identifier)
  bool anonymous = false;    // authenticated as the `anonymous` consumer
  // Groups of the authenticated consumer (acl), filled by auth plugins or acl itself.
  std::vector<std::string> groups;
  // Auth plugins call this: sets consumer, credential and Kong's X-Consumer-* headers upstream.
  // `checked`: the plugin verified (once, when it indexed its credentials) that the consumer's
  // id, custom_id, username and the credential are safe header values (safeHeaderValue), so
  // the proxy writes the headers without checking them per request.
  void authenticate(const core::Consumer* c, std::string_view credential, bool isAnonymous,
                    bool checked = false);

  // -------------------------------------------------------------- request edits (upstream)
  // Applied in order when the proxy writes the upstream head. `set` replaces every header of
  // that name, `remove` drops them, `add` appends one more.
  EditList requestEdits;
  void setRequestHeader(std::string_view name, std::string_view value);
  void addRequestHeader(std::string_view name, std::string_view value);
  void removeRequestHeader(std::string_view name);
  // Replace the upstream path (Kong: kong.service.request.set_path) / query string (without
  // '?') / method / body. The proxy sets Content-Length for a replaced body.
  bool upstreamPathSet = false, upstreamQuerySet = false, upstreamMethodSet = false,
       upstreamBodySet = false;
  std::string upstreamPath, upstreamQuery, upstreamMethod, upstreamBody;
  void setUpstreamPath(std::string_view p);
  void setUpstreamQuery(std::string_view q);
  void setUpstreamMethod(std::string_view m);
  void setUpstreamBody(std::string_view b);

  // --------------------------------------------------------------------- early response
  // Kong's kong.response.exit(status, body, headers). Headers go through responseEdits.
  void exit(int status, std::string_view body,
            std::string_view contentType = "application/json; charset=utf-8");
  // exit with Kong's {"message":"..."} body (message JSON-escaped).
  void exitMessage(int status, std::string_view message);
  bool exited() const { return exited_; }
  int exitStatus() const { return exitStatus_; }
  std::string_view exitBody() const { return exitBody_; }
  std::string_view exitContentType() const { return exitContentType_; }

  // ------------------------------------------------ the response (header_filter onwards)
  int status = 0;  // the status the client gets
  Source source = Source::upstream;
  // Response header as the client will get it before responseEdits (upstream's, or ours).
  std::string_view responseHeader(std::string_view name) const;
  void forEachResponseHeader(
      const std::function<void(std::string_view, std::string_view)>& f) const;
  EditList responseEdits;
  void setResponseHeader(std::string_view name, std::string_view value);
  // setResponseHeader for a name that is a token and a value without control bytes (the
  // caller guarantees both; rate-limiting's constant names and numbers): no check when written.
  void setTrustedResponseHeader(std::string_view name, std::string_view value);
  void addResponseHeader(std::string_view name, std::string_view value);
  void removeResponseHeader(std::string_view name);

  // body_filter: the whole response body (the proxy buffers it when the chain has a plugin
  // with needsResponseBody() and it fits; responseBodyAvailable says so). Replace it with
  // setResponseBody (the proxy fixes Content-Length).
  std::string_view responseBody() const { return responseBody_; }
  bool responseBodyAvailable = false;
  bool responseBodySet = false;
  std::string newResponseBody;
  void setResponseBody(std::string_view b);

  // ------------------------------------------------------------------------ log phase
  std::int64_t startedAtMs = 0;  // wall clock, ms since the epoch
  std::uint64_t totalUs = 0;     // request: first byte in to last byte out
  std::uint64_t upstreamUs = 0;  // Kong's latencies.proxy
  std::uint64_t kongUs = 0;      // Kong's latencies.kong (gateway's own time)
  std::uint64_t bytesIn = 0, bytesOut = 0;
  int tries = 0;             // balancer attempts
  int upstreamStatus = 0;    // 0 when the upstream was not reached
  std::string upstreamUri;   // path and query as sent upstream
  std::string upstreamHost;  // "host:port" of the peer
  std::string requestId;     // Kong's request id (hex), unique per request

  // -------------------------------------------------------------- per plugin, per worker
  // Scratch the current plugin keeps from one phase to the next of this request (a cache
  // key, a counter), cleared per request. Valid for the plugin being called.
  std::string& scratch() { return scratch_[current_]; }
  WorkerEnv* worker = nullptr;
  // A trace id when this request is traced (W3C, 32 hex), else empty.
  std::string_view traceId;
  // The request's span recorder (engine/trace/recorder.h), set by the proxy for every request
  // while tracing is enabled, else null. Added for the opentelemetry plugin, whose log phase
  // exports the spans; plugins read it, only the proxy records spans.
  trace::TraceRecorder* trace = nullptr;

  // ------------------------------------------------------------- for the proxy and tests
  void reset();  // before each request; keeps capacity
  void bindRequest(const http::RequestHead* head, const char* base) {
    reqHead_ = head;
    reqBase_ = base;
  }
  void rebaseRequest(const char* base) { reqBase_ = base; }
  // The buffer the head was parsed in is about to be reused (a streamed body): keep copies of
  // method, path, query and host; headers are no longer available.
  void detachRequest();
  void bindResponse(const http::ResponseHead* head, const char* base) {
    resHead_ = head;
    resBase_ = base;
  }
  void setBody(std::string_view b) {
    body_ = b;
    bodyAvailable = true;
  }
  void setResponseBodyView(std::string_view b) {
    responseBody_ = b;
    responseBodyAvailable = true;
  }
  void enter(std::size_t position) {
    if (scratch_.size() <= position) scratch_.resize(position + 1);
    current_ = position;
  }

 private:
  const http::RequestHead* reqHead_ = nullptr;
  const char* reqBase_ = nullptr;
  const http::ResponseHead* resHead_ = nullptr;
  const char* resBase_ = nullptr;
  std::string_view body_, responseBody_;
  std::string detached_;  // method, path, rawPath, query, host after detachRequest()
  bool exited_ = false;
  int exitStatus_ = 0;
  std::string exitBody_;
  std::string exitContentType_;
  std::vector<std::string> scratch_;
  std::size_t current_ = 0;
};

// One compiled plugin entity. Phase methods are const and may run on every worker at once.
class Instance {
 public:
  virtual ~Instance() = default;
  virtual void rewrite(Context&) const {}
  virtual void access(Context&) const {}
  // For plugins whose access phase waits on I/O (Redis): called instead of access() when
  // asyncAccess() is true. Runs on the worker's io_context; must never block it.
  virtual boost::asio::awaitable<void> accessAsync(Context& ctx) const;
  virtual void headerFilter(Context&) const {}
  virtual void bodyFilter(Context&) const {}
  virtual void log(Context&) const {}

  // Which phases do something: the proxy skips the others without a virtual call.
  enum Phase : std::uint8_t {
    kRewrite = 1,
    kAccess = 2,
    kHeaderFilter = 4,
    kBodyFilter = 8,
    kLog = 16,
  };
  virtual std::uint8_t phases() const = 0;
  virtual bool asyncAccess() const { return false; }
  virtual bool needsRequestBody() const { return false; }
  virtual bool needsResponseBody() const { return false; }
  // Plugins that read Context::uriCaptures answer true, so the proxy extracts them.
  virtual bool usesUriCaptures() const { return false; }
  // Plugins that must run on preflight OPTIONS requests answer true (run_on_preflight).
  virtual bool runOnPreflight() const { return true; }
};

// Objects that outlive snapshots and are shared by all workers (node-wide rate-limit
// counters, log shipping queues), created on first use by a compile step. Thread-safe.
class Persistent {
 public:
  template <class T, class... Args>
  std::shared_ptr<T> get(const std::string& key, Args&&... args) {
    std::lock_guard lock(mu_);
    auto& slot = objects_[Key{key, typeid(T)}];
    if (!slot) slot = std::make_shared<T>(std::forward<Args>(args)...);
    return std::static_pointer_cast<T>(slot);
  }

 private:
  struct Key {
    std::string name;
    std::type_index type;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::string>()(k.name) ^ k.type.hash_code();
    }
  };
  std::mutex mu_;
  std::unordered_map<Key, std::shared_ptr<void>, KeyHash> objects_;
};

// The shared indexes (CompileEnv::sharedAcross) of the snapshot in force, handed to the
// build of the next one with what the change did (core/config_delta.h): an index whose
// entities the change left alone is reused, one it touched may be updated from the previous
// one instead of rebuilt. It lives in Persistent under kKey; the engine opens a Scope around
// each snapshot build (under its apply lock, so one build at a time) and keeps the indexes the
// build used with the snapshot (Snapshot::sharedIndexes). Without a Scope (tests that compile
// on their own) every index is built.
struct SharedHandover {
  static constexpr const char* kKey = "plugins:shared-handover";
  using Objects = std::unordered_map<std::string, std::shared_ptr<const void>>;
  std::shared_ptr<const Objects> previous;  // the indexes of the snapshot in force
  const core::Config* before = nullptr;     // that snapshot's config
  const core::ConfigDelta* delta = nullptr;  // before -> the config being built
  std::shared_ptr<Objects> built;            // what this build's instances use
  // Over the node's life: indexes handed on unchanged, updated, built (for a debugger).
  std::atomic<std::uint64_t> reused{0}, updated{0}, rebuilt{0};

  class Scope {
   public:
    Scope(SharedHandover& h, std::shared_ptr<const Objects> previous, const core::Config* before,
          const core::ConfigDelta* delta)
        : h_(h) {
      h_.previous = before && delta ? std::move(previous) : nullptr;
      h_.before = before;
      h_.delta = delta;
      h_.built = std::make_shared<Objects>();
    }
    ~Scope() {
      h_.previous.reset();
      h_.before = nullptr;
      h_.delta = nullptr;
      h_.built.reset();
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    // The indexes the build used (for the snapshot).
    std::shared_ptr<const Objects> built() const { return h_.built; }

   private:
    SharedHandover& h_;
  };
};

// For CompileEnv::sharedAcross updates: a kind the change left as it was, and one it only
// appended to (every entity before keeps its position and its value).
inline bool unchanged(const core::KindDelta& d) {
  return d.addedCount() == 0 && d.removedCount() == 0;
}
inline bool onlyAppended(const core::KindDelta& d) {
  return d.removedCount() == 0 && d.suffix == 0;
}

// What a compile step can see: the whole config (consumers and credentials to index), the
// plugin entity being compiled, per-snapshot shared indexes and the persistent objects.
class CompileEnv {
 public:
  CompileEnv(const core::Config& config, Persistent& persistent)
      : config_(config), persistent_(persistent) {}
  const core::Config& config() const { return config_; }
  Persistent& persistent() { return persistent_; }
  int workerCount = 1;
  // Built once per snapshot and shared by every instance that asks (a credential index).
  template <class T>
  std::shared_ptr<const T> shared(const std::string& key,
                                  const std::function<std::shared_ptr<const T>()>& build) {
    auto& slot = shared_[key];
    if (!slot) slot = build();
    return std::static_pointer_cast<const T>(slot);
  }

  // shared(), for an index that outlives its snapshot: it must not point into the config (it
  // holds positions into it, which a change of other kinds leaves as they are). When a
  // snapshot is in force (SharedHandover::Scope) and the change touched none of `kinds`, the
  // previous snapshot's index is returned as it is; when it touched them, `update(previous,
  // before, delta)` may return one updated for this config (null: build it).
  using Kinds = std::initializer_list<core::KindDelta core::ConfigDelta::*>;
  template <class T>
  using Update = std::function<std::shared_ptr<const T>(
      const std::shared_ptr<const T>&, const core::Config&, const core::ConfigDelta&)>;
  template <class T>
  std::shared_ptr<const T> sharedAcross(const std::string& key, Kinds kinds,
                                        const std::function<std::shared_ptr<const T>()>& build,
                                        const Update<T>& update) {
    auto& slot = shared_[key];
    if (slot) return std::static_pointer_cast<const T>(slot);
    auto handover = persistent_.get<SharedHandover>(SharedHandover::kKey);
    std::shared_ptr<const void> previous;
    if (handover->previous) {
      if (auto it = handover->previous->find(key); it != handover->previous->end())
        previous = it->second;
    }
    if (previous) {
      bool touched = false;
      for (auto kind : kinds) touched = touched || !unchanged((*handover->delta).*kind);
      if (!touched) {
        slot = previous;
        ++handover->reused;
      } else if (update) {
        slot = update(std::static_pointer_cast<const T>(previous), *handover->before,
                      *handover->delta);
        if (slot) ++handover->updated;
      }
    }
    if (!slot) {
      slot = build();
      ++handover->rebuilt;
    }
    if (handover->built) (*handover->built)[key] = slot;
    return std::static_pointer_cast<const T>(slot);
  }

 private:
  const core::Config& config_;
  Persistent& persistent_;
  std::unordered_map<std::string, std::shared_ptr<const void>> shared_;
};

class Factory {
 public:
  virtual ~Factory() = default;
  virtual std::string_view name() const = 0;
  virtual int priority() const = 0;  // Kong's PRIORITY (kong-reference §5.1)
  virtual const schema::Schema& schema() const = 0;
  // `config` has passed schema::validate (defaults filled). Errors carry paths relative to
  // the plugin entity ("config.redis.host").
  virtual core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin& entity,
                                                                const boost::json::object& config,
                                                                CompileEnv& env) const = 0;
};

// Kong's X-Consumer-* upstream headers for an authenticated consumer (Context::authenticate
// uses it; exposed for tests).
void setConsumerHeaders(Context& ctx, const core::Consumer* consumer, std::string_view credential,
                        bool isAnonymous, bool checked = false);

// True when `value` may go into a header line as it is: no control byte except HTAB.
bool safeHeaderValue(std::string_view value);
// safeHeaderValue of everything setConsumerHeaders writes for this consumer and credential.
bool safeConsumerHeaders(const core::Consumer& consumer, std::string_view credential);

// ASCII case-insensitive equality, as header names compare.
bool headerNameEquals(std::string_view a, std::string_view b);

// Escapes a string for a JSON string literal (without the quotes).
void appendJsonEscaped(std::string& out, std::string_view s);

}  // namespace archway::plugins
