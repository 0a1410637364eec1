#include "plugins/basic_auth/basic_auth.h"

#include "plugins/anonymous.h"
#include "plugins/config_read.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <unordered_map>

namespace archway::plugins {
namespace {
namespace json = boost::json;

constexpr std::string_view kUnauthorized = "Unauthorized";
constexpr char kHex[] = "0123456789abcdef";
constexpr std::size_t kSha1HexSize = 40;

// SHA-1 of password .. consumerId as lower-case hex into `out`; false if OpenSSL failed.
bool sha1Hex(std::string_view password, std::string_view consumerId,
             std::array<char, kSha1HexSize>& out) {
  // Fetched once (an implicit fetch per call would look the algorithm up each time) and never
  // freed; the digest context is reused by each thread and freed when it ends.
  static EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(),
                                                                            EVP_MD_CTX_free);
  EVP_MD_CTX* md = ctx.get();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  bool ok = sha1 && md && EVP_DigestInit_ex2(md, sha1, nullptr) == 1 &&
            EVP_DigestUpdate(md, password.data(), password.size()) == 1 &&
            EVP_DigestUpdate(md, consumerId.data(), consumerId.size()) == 1 &&
            EVP_DigestFinal_ex(md, digest, &len) == 1 && len * 2 == kSha1HexSize;
  if (!ok) return false;
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return true;
}

// ---------------------------------------------------------------- Authorization parsing

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 as nginx's ngx_decode_base64 reads it: up to the first '=', padding
// optional, any other character an error.
bool decodeBase64(std::string_view in, std::string& out) {
  std::size_t len = 0;
  while (len < in.size() && in[len] != '=') {
    if (base64Value(in[len]) < 0) return false;
    ++len;
  }
  if (len % 4 == 1) return false;
  out.clear();
  unsigned int acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < len; ++i) {
    acc = (acc << 6) | static_cast<unsigned int>(base64Value(in[i]));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return true;
}

// The base64 part of a header value as Kong's `\s*[Bb]asic\s*(.+)` finds it (anywhere in
// the value, not only at its start).
std::optional<std::string_view> basicPayload(std::string_view value) {
  for (std::size_t i = 0; i + 5 <= value.size(); ++i) {
    if ((value[i] != 'B' && value[i] != 'b') || value.substr(i + 1, 4) != "asic") continue;
    std::size_t j = i + 5;
    while (j < value.size() && isSpace(value[j])) ++j;
    if (j < value.size()) return value.substr(j);
    // `\s*` gives back one blank so that `.+` matches it.
    if (j > i + 5) return value.substr(j - 1);
  }
  return std::nullopt;
}

struct UserPass {
  std::string_view username, password;
};

// Kong's `([^:]+):(.*)` on the decoded text: the first run of non-colons followed by a colon is
// the username; the password runs to the end of the line.
std::optional<UserPass> splitUserPass(std::string_view decoded) {
  std::size_t start = decoded.find_first_not_of(':');
  if (start == std::string_view::npos) return std::nullopt;
  std::size_t colon = decoded.find(':', start);
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view password = decoded.substr(colon + 1);
  password = password.substr(0, password.find('\n'));
  return UserPass{decoded.substr(start, colon - start), password};
}

// ------------------------------------------------------------------- credential index

// basicauth_credentials by username. Handed on to the next snapshots until a change touches
// consumers or these credentials (CompileEnv::sharedAcross), so it holds no pointer into a
// config: entries are positions the instance resolves in its snapshot's config, and the
// usernames are the index's own copy.
struct UserIndex {
  struct Entry {
    std::size_t credential = 0;  // in config.basicauthCredentials
    std::size_t consumer = 0;    // in config.consumers
  };
  std::vector<std::string> usernames;  // reserved up front: the views in byUsername stay valid
  std::unordered_map<std::string_view, Entry> byUsername;
};

std::shared_ptr<const UserIndex> buildIndex(const core::Config& config) {
  std::unordered_map<std::string_view, std::size_t> consumers;
  consumers.reserve(config.consumers.size());
  for (std::size_t i = 0; i < config.consumers.size(); ++i)
    consumers.emplace(config.consumers[i].id, i);
  auto index = std::make_shared<UserIndex>();
  index->usernames.reserve(config.basicauthCredentials.size());
  index->byUsername.reserve(config.basicauthCredentials.size());
  for (std::size_t i = 0; i < config.basicauthCredentials.size(); ++i) {
    const auto& b = config.basicauthCredentials[i];
    auto it = consumers.find(b.consumerId);
    if (it == consumers.end()) continue;
    index->byUsername.emplace(index->usernames.emplace_back(b.username),
                              UserIndex::Entry{i, it->second});
  }
  return index;
}

// ------------------------------------------------------------------------- the instance

struct Settings {
  bool hideCredentials = false;
  Anonymous anonymous;
  std::string wwwAuthenticate;
};

class BasicAuth final : public Instance {
 public:
  // `config`: the snapshot's, which outlives the instance; the index's positions are into it.
  BasicAuth(Settings s, std::shared_ptr<const UserIndex> index, const core::Config& config)
      : s_(std::move(s)), index_(std::move(index)), config_(config) {}

  std::uint8_t phases() const override { return kAccess; }

  void access(Context& ctx) const override {
    if (s_.anonymous.access(ctx, [&] { return authenticate(ctx); })) return;
    if (authenticate(ctx)) return;
    ctx.setResponseHeader("WWW-Authenticate", s_.wwwAuthenticate);
    ctx.exitMessage(401, kUnauthorized);
  }

 private:
  // Kong's retrieve_credentials: username and password from one header (views into `decoded`).
  std::optional<UserPass> retrieve(Context& ctx, std::string_view headerName, bool present,
                                   std::string_view value, std::string& decoded) const {
    std::optional<UserPass> out;
    if (present) {
      if (auto payload = basicPayload(value); payload && decodeBase64(*payload, decoded)) {
        out = splitUserPass(decoded);
      }
    }
    if (s_.hideCredentials) ctx.removeRequestHeader(headerName);
    return out;
  }

  const UserIndex::Entry* lookup(std::string_view username) const {
    auto it = index_->byUsername.find(username);
    return it == index_->byUsername.end() ? nullptr : &it->second;
  }

  bool authenticate(Context& ctx) const {
    const bool hasAuth = ctx.hasHeader("authorization");
    const bool hasProxyAuth = ctx.hasHeader("proxy-authorization");
    if (!hasAuth && !hasProxyAuth) return false;

    std::string& decoded = ctx.scratch();
    // Proxy-Authorization first, then Authorization (Kong's order).
    const UserIndex::Entry* entry = nullptr;
    auto given = retrieve(ctx, "Proxy-Authorization", hasProxyAuth,
                          ctx.header("proxy-authorization"), decoded);
    if (given) entry = lookup(given->username);
    if (!entry) {
      given = retrieve(ctx, "Authorization", hasAuth, ctx.header("authorization"), decoded);
      if (!given) return false;
      entry = lookup(given->username);
    }
    if (!entry) return false;
    const core::BasicAuthCredential& credential = config_.basicauthCredentials[entry->credential];
    if (!passwordMatches(credential, given->password)) return false;
    ctx.authenticate(&config_.consumers[entry->consumer], credential.username, false);
    return true;
  }

  static bool passwordMatches(const core::BasicAuthCredential& c, std::string_view password) {
    std::array<char, kSha1HexSize> hex{};
    if (!sha1Hex(password, c.consumerId, hex)) return false;
    const std::string& stored = c.password;
    return stored.size() == hex.size() && CRYPTO_memcmp(stored.data(), hex.data(), hex.size()) == 0;
  }

  Settings s_;
  std::shared_ptr<const UserIndex> index_;
  const core::Config& config_;
};

// ------------------------------------------------------------------------------ factory

schema::Schema makeSchema() {
  using namespace schema;
  Schema s;
  s.name = "basic-auth";
  s.fields = {
      str("anonymous")
          .describe("Consumer id or username to authenticate as when authentication fails; empty: "
                    "fail with 401."),
      boolean("hide_credentials")
          .req()
          .def(false)
          .describe("Remove the Authorization header before the request is proxied."),
      str("realm").req().def("service").describe(
          "The realm sent in WWW-Authenticate when authentication fails."),
  };
  return s;
}

class BasicAuthFactory final : public Factory {
 public:
  std::string_view name() const override { return "basic-auth"; }
  int priority() const override { return 1100; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&,
                                                        const json::object& config,
                                                        CompileEnv& env) const override {
    Settings s;
    auto hide = config.find("hide_credentials");
    s.hideCredentials = hide != config.end() && hide->value().is_bool() && hide->value().as_bool();
    s.anonymous = Anonymous::from(config, env.config());
    s.wwwAuthenticate =
        "Basic realm=\"" + optionalString(config, "realm").value_or("service") + "\"";
    auto index = env.sharedAcross<UserIndex>(
        "basic-auth:credentials",
        {&core::ConfigDelta::consumers, &core::ConfigDelta::basicauthCredentials},
        [&env] { return buildIndex(env.config()); },
        [](const std::shared_ptr<const UserIndex>& previous, const core::Config&,
           const core::ConfigDelta& d) {
          // Consumers appended and nothing else: every position is as it was.
          const bool same = onlyAppended(d.consumers) && unchanged(d.basicauthCredentials);
          return same ? previous : nullptr;
        });
    return std::shared_ptr<const Instance>(
        std::make_shared<BasicAuth>(std::move(s), index, env.config()));
  }

 private:
  schema::Schema schema_ = makeSchema();
};

}  // namespace

std::string hashBasicAuthPassword(std::string_view password, std::string_view consumerId) {
  std::array<char, kSha1HexSize> hex{};
  if (!sha1Hex(password, consumerId, hex)) return {};
  return std::string(hex.data(), hex.size());
}

std::unique_ptr<Factory> makeBasicAuthPlugin() {
  return std::make_unique<BasicAuthFactory>();
}

}  // namespace archway::plugins
