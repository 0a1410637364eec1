#include "plugins/key_auth/key_auth.h"

#include "core/flat_hash.h"
#include "http/multipart.h"
#include "plugins/args.h"
#include "plugins/anonymous.h"
#include "plugins/config_read.h"

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace archway::plugins {
namespace {
namespace json = boost::json;

constexpr std::string_view kNoKey = "No API key found in request";
constexpr std::string_view kDuplicate = "Duplicate API key found";
constexpr std::string_view kUnauthorized = "Unauthorized";

// ----------------------------------------------------------------------- small text helpers

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (iequals(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

// Calls f(rawName, rawValue, hasValue) for each "name[=value]" of an a=1&b&c=3 string; empty
// segments are skipped as nginx does.
template <class F>
void forEachArg(std::string_view args, F&& f) {
  while (!args.empty()) {
    std::size_t amp = args.find('&');
    std::string_view pair = args.substr(0, amp);
    if (!pair.empty()) {
      std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        f(pair, std::string_view{}, false);
      } else {
        f(pair.substr(0, eq), pair.substr(eq + 1), true);
      }
    }
    if (amp == std::string_view::npos) break;
    args.remove_prefix(amp + 1);
  }
}

// `args` without every argument named `name` (decoded), order kept; nullopt when none was there.
std::optional<std::string> withoutArg(std::string_view args, std::string_view name) {
  std::string out;
  bool removed = false;
  while (!args.empty()) {
    std::size_t amp = args.find('&');
    std::string_view pair = args.substr(0, amp);
    std::string_view rawName = pair.substr(0, pair.find('='));
    if (!pair.empty() && decodedEquals(rawName, name)) {
      removed = true;
    } else if (!pair.empty()) {
      if (!out.empty()) out += '&';
      out += pair;
    }
    if (amp == std::string_view::npos) break;
    args.remove_prefix(amp + 1);
  }
  if (!removed) return std::nullopt;
  return out;
}

// ------------------------------------------------------------------------ the key index

std::atomic<std::uint64_t> gBuilds{0}, gUpdates{0};

std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// keyauth_credentials by key, shared by every key-auth instance of a snapshot and handed on to
// the next snapshots (CompileEnv::sharedAcross) until a change touches consumers or
// credentials. So it holds no pointer into a config: entries name the credential and its
// consumer by position, which the instance resolves in its own snapshot's config, and the keys
// are this index's own copy. A change that appends or edits in place (what single Admin API
// writes do) is an overlay over the full index it derives from: the keys it added or changed,
// and the ones it removed. Flat tables: with 10^5 credentials the full build allocates a few
// times, not 2 x 10^5 times.
struct KeyIndex {
  struct Entry {
    std::uint32_t credential = 0;  // in config.keyauthCredentials
    std::uint32_t consumer = 0;    // in config.consumers
    bool removed = false;          // overlay: the key is gone since `base` was built
    bool headersChecked = false;   // safeConsumerHeaders: no per-request check upstream
    std::int64_t expiresAt = 0;    // seconds since the epoch; 0: never
  };
  struct Change {
    std::string key;
    Entry entry;
  };
  std::shared_ptr<const KeyIndex> base;  // overlay only; a full index has none
  std::vector<Change> changes;           // overlay only, in order (the later wins)
  std::string keys;                      // full index: every key, one after the other
  core::FlatMap<std::string_view, Entry> byKey;  // views into `keys` or `changes`

  const Entry* find(std::string_view key) const {
    if (const Entry* e = byKey.find(key)) return e->removed ? nullptr : e;
    return base ? base->byKey.find(key) : nullptr;
  }
};

constexpr std::size_t kMaxOverlay = 512;  // changes before the index is built in full again
constexpr std::size_t kMaxAdded = 16;     // added credentials per change (a consumer scan each)

KeyIndex::Entry entryOf(const core::Config& config, std::size_t credential, std::size_t consumer,
                        std::int64_t now) {
  const auto& k = config.keyauthCredentials[credential];
  std::int64_t expiresAt = 0;
  // A credential without a creation time counts from when it was indexed.
  if (k.ttl && *k.ttl > 0) expiresAt = (k.createdAt > 0 ? k.createdAt : now) + *k.ttl;
  return {static_cast<std::uint32_t>(credential), static_cast<std::uint32_t>(consumer), false,
          safeConsumerHeaders(config.consumers[consumer], k.id), expiresAt};
}

std::shared_ptr<const KeyIndex> buildIndex(const core::Config& config) {
  ++gBuilds;
  core::FlatMap<std::string_view, std::uint32_t> consumers(config.consumers.size());
  for (std::size_t i = 0; i < config.consumers.size(); ++i)
    consumers.emplace(config.consumers[i].id, static_cast<std::uint32_t>(i));
  const std::int64_t now = nowSeconds();
  auto index = std::make_shared<KeyIndex>();
  std::size_t bytes = 0;
  for (const auto& k : config.keyauthCredentials) bytes += k.key.size();
  index->keys.reserve(bytes);  // the views below stay valid: no reallocation
  index->byKey.reserve(config.keyauthCredentials.size());
  for (std::size_t i = 0; i < config.keyauthCredentials.size(); ++i) {
    const auto& k = config.keyauthCredentials[i];
    const std::uint32_t* consumer = consumers.find(k.consumerId);
    if (!consumer || k.key.empty()) continue;
    const std::size_t at = index->keys.size();
    index->keys += k.key;
    index->byKey.emplace(std::string_view(index->keys).substr(at, k.key.size()),
                         entryOf(config, i, *consumer, now));
  }
  return index;
}

// `previous` (the index of `before`) updated for `after`, when the change only appended
// consumers and appended or edited credentials in place, so every other position is as it was;
// null otherwise (the caller builds the index in full).
std::shared_ptr<const KeyIndex> updateIndex(const std::shared_ptr<const KeyIndex>& previous,
                                            const core::Config& before, const core::Config& after,
                                            const core::ConfigDelta& delta) {
  const core::KindDelta& c = delta.consumers;
  const core::KindDelta& k = delta.keyauthCredentials;
  if (!onlyAppended(c)) return nullptr;  // a consumer edited or removed
  if (k.suffix != 0 && k.beforeSize != k.afterSize) return nullptr;  // positions moved
  if (unchanged(k)) return previous;  // consumers appended: no entry differs
  const std::size_t count = previous->changes.size() + k.removedCount() + k.addedCount();
  if (k.addedCount() > kMaxAdded || count > kMaxOverlay) return nullptr;
  auto index = std::make_shared<KeyIndex>();
  index->base = previous->base ? previous->base : previous;
  index->changes.reserve(count);
  index->changes = previous->changes;
  for (std::size_t i = k.prefix; i < k.beforeSize - k.suffix; ++i) {
    const auto& cred = before.keyauthCredentials[i];
    if (!cred.key.empty()) index->changes.push_back({cred.key, KeyIndex::Entry{0, 0, true}});
  }
  const std::int64_t now = nowSeconds();
  for (std::size_t i = k.prefix; i < k.afterSize - k.suffix; ++i) {
    const auto& cred = after.keyauthCredentials[i];
    if (cred.key.empty()) continue;
    std::size_t consumer = after.consumers.size();
    while (consumer > 0 && after.consumers[consumer - 1].id != cred.consumerId) --consumer;
    if (consumer == 0) continue;  // validate() lets no credential without its consumer through
    index->changes.push_back({cred.key, entryOf(after, i, consumer - 1, now)});
  }
  index->byKey.reserve(index->changes.size());
  for (const auto& ch : index->changes) {  // `changes` is final: the views stay valid
    auto [entry, inserted] = index->byKey.emplace(ch.key, ch.entry);
    if (!inserted) *entry = ch.entry;
  }
  ++gUpdates;
  return index;
}

// ------------------------------------------------------------------------- the instance

struct Settings {
  std::vector<std::string> keyNames;
  // The key name with '_' as '-' (or empty when it has none): ngx.req.get_headers() finds
  // "api_key" in an "Api-Key" header too.
  std::vector<std::string> hyphenNames;
  bool hideCredentials = false;
  bool inHeader = true, inQuery = true, inBody = false;
  bool runOnPreflight = true;
  Anonymous anonymous;
  std::string wwwAuthenticate;
};

// What Kong's lookup `headers[name]` / `query[name]` / `body[name]` gives: nothing, one string,
// a table (the name repeated, or a JSON array/object) or another value (`?apikey` is `true`).
enum class Kind : std::uint8_t { none, string, table, other };

struct Found {
  Kind kind = Kind::none;
  std::string_view value;  // Kind::string; may point into ctx.scratch()
};

// The request body as kong.request.get_body() parses it, once per request.
struct Body {
  enum class Type : std::uint8_t { unparsed, empty, json, form, multipart };
  Type type = Type::unparsed;
  json::object object;    // json
  std::string_view text;  // form
  std::string_view boundary;                 // multipart
  std::vector<http::multipart::Part> parts;  // multipart: views into the body
};

class KeyAuth final : public Instance {
 public:
  // `config`: the snapshot's, which outlives the instance; the index's positions are into it.
  KeyAuth(Settings s, std::shared_ptr<const KeyIndex> index, const core::Config& config)
      : s_(std::move(s)), index_(std::move(index)), config_(config) {}

  std::uint8_t phases() const override { return kAccess; }
  bool needsRequestBody() const override { return s_.inBody; }
  bool runOnPreflight() const override { return s_.runOnPreflight; }

  void access(Context& ctx) const override {
    if (!s_.runOnPreflight && ctx.method == "OPTIONS") return;
    if (s_.anonymous.access(ctx, [&] { return authenticate(ctx).status == 0; })) return;
    Failure f = authenticate(ctx);
    if (f.status == 0) return;
    ctx.setResponseHeader("WWW-Authenticate", s_.wwwAuthenticate);
    ctx.exitMessage(f.status, f.message);
  }

 private:
  struct Failure {
    int status = 0;  // 0: authenticated
    std::string_view message;
  };

  Failure authenticate(Context& ctx) const {
    Body body;
    std::string& decoded = ctx.scratch();
    Found key;
    std::size_t keyIndex = 0;
    for (; keyIndex < s_.keyNames.size(); ++keyIndex) {
      const std::string& name = s_.keyNames[keyIndex];
      Found v;
      if (s_.inHeader) v = fromHeaders(ctx, name, s_.hyphenNames[keyIndex]);
      if (v.kind == Kind::none && s_.inQuery) v = fromArgs(queryOf(ctx), name, decoded);
      if (v.kind == Kind::none && s_.inBody) v = fromBody(ctx, body, name, decoded);
      if (v.kind == Kind::string) {
        key = v;
        break;
      }
      if (v.kind == Kind::table) return {401, kDuplicate};
    }
    if (key.kind != Kind::string) return {401, kNoKey};
    // Looked up before hiding: hiding edits the parsed body the value may point into.
    const KeyIndex::Entry* found = nullptr;
    if (!key.value.empty()) found = index_->find(key.value);
    // As Kong: a key that was found is hidden even when it is empty or unknown.
    if (s_.hideCredentials) hide(ctx, body, s_.keyNames[keyIndex], s_.hyphenNames[keyIndex]);
    if (key.value.empty()) return {401, kNoKey};
    if (!found) return {401, kUnauthorized};
    const KeyIndex::Entry& e = *found;
    if (e.expiresAt != 0) {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      if (now >= e.expiresAt) return {401, kUnauthorized};
    }
    ctx.authenticate(&config_.consumers[e.consumer], config_.keyauthCredentials[e.credential].id,
                     false, e.headersChecked);
    return {};
  }

  static std::string_view queryOf(const Context& ctx) {
    return ctx.upstreamQuerySet ? std::string_view(ctx.upstreamQuery) : ctx.query;
  }

  // The header `name` (or its hyphenated form): a string once, a table when repeated.
  static Found fromHeaders(const Context& ctx, std::string_view name, std::string_view hyphen) {
    std::size_t count = 0, hyphenCount = 0;
    const std::string_view value = ctx.header(name, count);
    const std::string_view hyphenValue =
        hyphen.empty() ? std::string_view{} : ctx.header(hyphen, hyphenCount);
    if (count + hyphenCount == 0) return {};
    if (count + hyphenCount > 1) return {Kind::table, {}};
    return {Kind::string, count ? value : hyphenValue};
  }

  // `name` among a=1&b=2 arguments; a string value is decoded into `decoded`.
  static Found fromArgs(std::string_view args, std::string_view name, std::string& decoded) {
    Found found;
    std::string_view raw;
    forEachArg(args, [&](std::string_view n, std::string_view v, bool hasValue) {
      if (!decodedEquals(n, name)) return;
      if (found.kind == Kind::none) {
        found.kind = hasValue ? Kind::string : Kind::other;
        raw = v;
      } else {
        found.kind = Kind::table;
      }
    });
    if (found.kind == Kind::string) {
      decodeInto(raw, decoded);
      found.value = decoded;
    }
    return found;
  }

  static void parseBody(const Context& ctx, Body& body) {
    if (body.type != Body::Type::unparsed) return;
    body.type = Body::Type::empty;
    if (!ctx.bodyAvailable) return;
    std::string_view type = ctx.header("content-type");
    if (icontains(type, "application/x-www-form-urlencoded")) {
      body.type = Body::Type::form;
      body.text = ctx.body();
    } else if (icontains(type, "application/json")) {
      boost::system::error_code ec;
      json::value v = json::parse(ctx.body(), ec);
      if (ec || !v.is_object()) return;
      body.object = std::move(v.as_object());
      body.type = Body::Type::json;
    } else if (auto boundary = http::multipart::boundaryOf(type); !boundary.empty()) {
      // A malformed multipart body has no fields (as an unparsable JSON body has none).
      auto parts = http::multipart::parse(ctx.body(), boundary);
      if (!parts) return;
      body.parts = std::move(parts.value());
      body.boundary = boundary;
      body.type = Body::Type::multipart;
    }
  }

  static Found fromBody(const Context& ctx, Body& body, std::string_view name,
                        std::string& decoded) {
    parseBody(ctx, body);
    if (body.type == Body::Type::form) return fromArgs(body.text, name, decoded);
    if (body.type == Body::Type::multipart) {
      Found found;
      for (const auto& part : body.parts) {
        if (part.name != name) continue;
        if (found.kind != Kind::none) return {Kind::table, {}};  // the field is repeated
        found = {Kind::string, part.value};
      }
      return found;
    }
    if (body.type != Body::Type::json) return {};
    auto it = body.object.find(name);
    if (it == body.object.end()) return {};
    const json::value& v = it->value();
    if (v.is_string()) return {Kind::string, std::string_view(v.as_string())};
    if (v.is_array() || v.is_object()) return {Kind::table, {}};
    return {Kind::other, {}};
  }

  // Kong's hide_credentials: the key's header and query argument are cleared whatever the key
  // came from, and with key_in_body the body field too.
  void hide(Context& ctx, Body& body, const std::string& name, const std::string& hyphen) const {
    ctx.removeRequestHeader(name);
    if (!hyphen.empty()) ctx.removeRequestHeader(hyphen);
    std::string_view query = queryOf(ctx);
    if (!query.empty()) {
      if (auto q = withoutArg(query, name)) ctx.setUpstreamQuery(*q);
    }
    if (!s_.inBody) return;
    parseBody(ctx, body);
    if (body.type == Body::Type::json) {
      if (body.object.erase(name) > 0) ctx.setUpstreamBody(json::serialize(body.object));
    } else if (body.type == Body::Type::form) {
      if (auto b = withoutArg(body.text, name)) ctx.setUpstreamBody(*b);
    } else if (body.type == Body::Type::multipart) {
      // Re-encoded with the client's boundary, so its Content-Type stays right.
      if (std::erase_if(body.parts, [&](const auto& p) { return p.name == name; }) > 0)
        ctx.setUpstreamBody(http::multipart::encode(body.parts, body.boundary));
    }
  }

  Settings s_;
  std::shared_ptr<const KeyIndex> index_;
  const core::Config& config_;
};

// ------------------------------------------------------------------------------ factory

std::string checkHeaderName(const json::value& v) {
  // Kong's typedefs.header_name (kong/tools/http.lua validate_header_name).
  std::string_view name = v.as_string();
  if (name.empty()) return "no header name provided";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) {
      return "bad header name '" + std::string(name) +
             "', allowed characters are A-Z, a-z, 0-9, '_', and '-'";
    }
  }
  return {};
}

schema::Schema makeSchema() {
  using namespace schema;
  Schema s;
  s.name = "key-auth";
  s.fields = {
      arrayOf("key_names", str("name").validate(checkHeaderName))
          .req()
          .def(json::array{"apikey"})
          .describe("Header, query argument or body field names the key is looked for under."),
      boolean("hide_credentials")
          .req()
          .def(false)
          .describe("Remove the key from the request before it is proxied."),
      str("anonymous")
          .describe("Consumer id or username to authenticate as when authentication fails; empty: "
                    "fail with 401."),
      boolean("key_in_header").req().def(true).describe("Look for the key in request headers."),
      boolean("key_in_query").req().def(true).describe("Look for the key in the query string."),
      boolean("key_in_body")
          .req()
          .def(false)
          .describe("Look for the key in a JSON, form-urlencoded or multipart request body."),
      boolean("run_on_preflight")
          .req()
          .def(true)
          .describe("Authenticate OPTIONS requests too; false lets them through."),
      str("realm").describe("The realm sent in WWW-Authenticate when authentication fails."),
  };
  return s;
}

class KeyAuthFactory final : public Factory {
 public:
  std::string_view name() const override { return "key-auth"; }
  int priority() const override { return 1250; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&,
                                                        const json::object& config,
                                                        CompileEnv& env) const override {
    Settings s;
    if (auto it = config.find("key_names"); it != config.end() && it->value().is_array()) {
      for (const auto& n : it->value().as_array()) {
        if (!n.is_string()) continue;
        std::string name(n.as_string());
        std::string hyphen;
        if (name.find('_') != std::string::npos) {
          hyphen = name;
          for (char& c : hyphen) c = c == '_' ? '-' : c;
        }
        s.keyNames.push_back(std::move(name));
        s.hyphenNames.push_back(std::move(hyphen));
      }
    }
    s.hideCredentials = boolOf(config, "hide_credentials", false);
    s.inHeader = boolOf(config, "key_in_header", true);
    s.inQuery = boolOf(config, "key_in_query", true);
    s.inBody = boolOf(config, "key_in_body", false);
    s.runOnPreflight = boolOf(config, "run_on_preflight", true);
    s.anonymous = Anonymous::from(config, env.config());
    auto realm = optionalString(config, "realm");
    s.wwwAuthenticate = realm ? "Key realm=\"" + *realm + "\"" : "Key";
    auto index = env.sharedAcross<KeyIndex>(
        "key-auth:credentials",
        {&core::ConfigDelta::consumers, &core::ConfigDelta::keyauthCredentials},
        [&env] { return buildIndex(env.config()); },
        [&env](const std::shared_ptr<const KeyIndex>& previous, const core::Config& before,
               const core::ConfigDelta& delta) {
          return updateIndex(previous, before, env.config(), delta);
        });
    return std::shared_ptr<const Instance>(
        std::make_shared<KeyAuth>(std::move(s), index, env.config()));
  }

 private:
  schema::Schema schema_ = makeSchema();
};

}  // namespace

std::unique_ptr<Factory> makeKeyAuthPlugin() {
  return std::make_unique<KeyAuthFactory>();
}

KeyIndexCounts keyIndexCounts() {
  return {gBuilds.load(), gUpdates.load()};
}

}  // namespace archway::plugins
