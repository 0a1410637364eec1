#include "plugins/jwt/jwt.h"

#include "plugins/args.h"
#include "plugins/anonymous.h"
#include "plugins/config_read.h"

#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "plugins/jwt/jwt_crypto.h"

namespace archway::plugins {
namespace {
namespace json = boost::json;
using jwt::Algorithm;

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

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// The token of a header value as Kong's `\s*[Bb]earer\s+(.+)` finds it (anywhere in the value).
std::string_view bearerToken(std::string_view value) {
  for (std::size_t i = 0; i + 6 <= value.size(); ++i) {
    if ((value[i] != 'B' && value[i] != 'b') || value.substr(i + 1, 5) != "earer") continue;
    std::size_t j = i + 6;
    while (j < value.size() && isSpace(value[j])) ++j;
    if (j == i + 6) continue;  // `\s+` needs one blank
    if (j < value.size()) return value.substr(j);
    if (j > i + 7) return value.substr(j - 1);  // `\s+` gives one back to `.+`
  }
  return {};
}

// ------------------------------------------------------------------------ secret index

// jwt_secrets by key: public keys parsed and base64 secrets decoded here rather than per
// request. Handed on to the next snapshots until a change touches consumers or secrets
// (CompileEnv::sharedAcross), so it holds no pointer into a config: entries name the secret
// and its consumer by position, which the instance resolves in its snapshot's config, and the
// keys are the index's own copy.
struct SecretIndex {
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  struct Entry {
    std::size_t secret = 0;      // in config.jwtSecrets
    std::size_t consumer = kNone;  // in config.consumers; kNone: the consumer is gone
    Algorithm algorithm = Algorithm::unknown;
    jwt::PublicKey key;                       // non-HS algorithms; null when absent or unparsable
    std::optional<std::string> base64Secret;  // the secret base64-decoded, when it decodes
  };
  std::vector<std::string> keys;  // reserved up front: the views in byKey stay valid
  std::unordered_map<std::string_view, Entry> byKey;
};

std::shared_ptr<const SecretIndex> buildIndex(const core::Config& config) {
  std::unordered_map<std::string_view, std::size_t> consumers;
  consumers.reserve(config.consumers.size());
  for (std::size_t i = 0; i < config.consumers.size(); ++i)
    consumers.emplace(config.consumers[i].id, i);
  auto index = std::make_shared<SecretIndex>();
  index->keys.reserve(config.jwtSecrets.size());
  index->byKey.reserve(config.jwtSecrets.size());
  for (std::size_t i = 0; i < config.jwtSecrets.size(); ++i) {
    const auto& s = config.jwtSecrets[i];
    SecretIndex::Entry e;
    e.secret = i;
    auto c = consumers.find(s.consumerId);
    e.consumer = c == consumers.end() ? SecretIndex::kNone : c->second;
    e.algorithm = jwt::algorithmFromName(s.algorithm);
    if (jwt::isSymmetric(e.algorithm)) {
      std::string decoded;
      if (jwt::base64DecodeAny(s.secret, decoded)) e.base64Secret = std::move(decoded);
    } else if (s.rsaPublicKey) {
      e.key = jwt::parsePublicKey(*s.rsaPublicKey);
    }
    index->byKey.emplace(index->keys.emplace_back(s.key), std::move(e));
  }
  return index;
}

// ------------------------------------------------------------------------- the instance

struct Settings {
  std::vector<std::string> uriParamNames;
  std::vector<std::string> cookieNames;
  std::vector<std::string> headerNames;
  std::string keyClaimName = "iss";
  bool secretIsBase64 = false;
  std::vector<std::string> claimsToVerify;  // config order: the error body keeps it
  double maximumExpiration = 0;
  bool runOnPreflight = true;
  Anonymous anonymous;
  std::string wwwAuthenticate;           // Bearer[ realm="..."]
  std::string wwwAuthenticateWithError;  // ... error="invalid_token"
};

struct Failure {
  enum class Challenge : std::uint8_t { none, plain, invalidToken };
  int status = 0;  // 0: authenticated
  std::string message;
  std::string body;  // claim errors: Kong sends the error table itself as the body
  Challenge challenge = Challenge::invalidToken;
};

// Where the one token of the request is: a view into the request, or the first `size` bytes of
// the scratch buffer (a decoded query argument).
struct TokenRef {
  int distinct = 0;      // distinct non-empty string tokens seen (counting stops at 2)
  bool sawFlag = false;  // `?jwt` without a value: Lua's `true`, Kong's "Unrecognizable token"
  bool inScratch = false;
  std::string_view view;
  std::size_t size = 0;

  std::string_view get(const std::string& scratch) const {
    return inScratch ? std::string_view(scratch).substr(0, size) : view;
  }
};

class Jwt final : public Instance {
 public:
  // `config`: the snapshot's, which outlives the instance; the index's positions are into it.
  Jwt(Settings s, std::shared_ptr<const SecretIndex> index, const core::Config& config)
      : s_(std::move(s)), index_(std::move(index)), config_(config) {}

  std::uint8_t phases() const override { return kAccess; }
  bool runOnPreflight() const override { return s_.runOnPreflight; }

  void access(Context& ctx) const override {
    if (!s_.runOnPreflight && ctx.method == "OPTIONS") return;
    if (s_.anonymous.access(ctx, [&] { return authenticate(ctx).status == 0; })) return;
    Failure f = authenticate(ctx);
    if (f.status == 0) return;
    if (f.challenge == Failure::Challenge::plain) {
      ctx.setResponseHeader("WWW-Authenticate", s_.wwwAuthenticate);
    } else if (f.challenge == Failure::Challenge::invalidToken) {
      ctx.setResponseHeader("WWW-Authenticate", s_.wwwAuthenticateWithError);
    }
    if (!f.body.empty()) {
      ctx.exit(f.status, f.body);
    } else {
      ctx.exitMessage(f.status, f.message);
    }
  }

 private:
  static Failure fail(std::string message,
                      Failure::Challenge challenge = Failure::Challenge::invalidToken) {
    return Failure{401, std::move(message), {}, challenge};
  }

  static std::string_view queryOf(const Context& ctx) {
    return ctx.upstreamQuerySet ? std::string_view(ctx.upstreamQuery) : ctx.query;
  }

  // Kong's retrieve_tokens: query arguments, then cookies, then headers; a set of tokens.
  TokenRef retrieve(const Context& ctx, std::string& scratch) const {
    TokenRef t;
    auto addView = [&](std::string_view candidate) {
      if (candidate.empty()) return;
      if (t.distinct == 0) {
        t.view = candidate;
        t.distinct = 1;
      } else if (t.distinct == 1 && candidate != t.get(scratch)) {
        t.distinct = 2;
      }
    };
    for (const auto& name : s_.uriParamNames) {
      std::string_view args = queryOf(ctx);
      while (!args.empty()) {
        std::size_t amp = args.find('&');
        std::string_view pair = args.substr(0, amp);
        std::size_t eq = pair.find('=');
        if (!pair.empty() && decodedEquals(pair.substr(0, eq), name)) {
          std::string_view raw =
              eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
          if (eq == std::string_view::npos) {
            t.sawFlag = true;
          } else if (!raw.empty()) {
            if (t.distinct == 0) {
              scratch.clear();
              decodeArg(raw, [&](char c) {
                scratch += c;
                return true;
              });
              t.inScratch = true;
              t.size = scratch.size();
              t.distinct = 1;
            } else if (t.distinct == 1 && !decodedEquals(raw, t.get(scratch))) {
              t.distinct = 2;
            }
          }
        }
        if (amp == std::string_view::npos) break;
        args.remove_prefix(amp + 1);
      }
    }
    for (const auto& name : s_.cookieNames) addView(cookie(ctx, name));
    for (const auto& name : s_.headerNames) {
      if (ctx.hasHeader(name)) addView(bearerToken(ctx.header(name)));
    }
    return t;
  }

  // nginx's $cookie_<name>: the first cookie of that name (case-insensitive) in the Cookie
  // headers, its raw value.
  static std::string_view cookie(const Context& ctx, std::string_view name) {
    struct State {
      std::string_view name, value;
      bool found = false;
    } st{name, {}, false};
    State* p = &st;
    ctx.forEachHeader([p](std::string_view h, std::string_view v) {
      if (p->found || !iequals(h, "cookie")) return;
      while (!v.empty()) {
        std::size_t semi = v.find(';');
        std::string_view item = v.substr(0, semi);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
          item.remove_prefix(1);
        std::size_t eq = item.find('=');
        if (eq != std::string_view::npos && iequals(item.substr(0, eq), p->name)) {
          std::string_view value = item.substr(eq + 1);
          while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
            value.remove_suffix(1);
          p->value = value;
          p->found = true;
          return;
        }
        if (semi == std::string_view::npos) break;
        v.remove_prefix(semi + 1);
      }
    });
    return st.value;
  }

  Failure authenticate(Context& ctx) const {
    std::string& scratch = ctx.scratch();
    scratch.clear();
    TokenRef ref = retrieve(ctx, scratch);
    const int count = ref.distinct + (ref.sawFlag ? 1 : 0);
    if (count == 0) return fail("Unauthorized", Failure::Challenge::plain);
    if (count > 1) return fail("Multiple tokens provided");
    if (ref.distinct == 0) return fail("Unrecognizable token");

    // The decoded parts are appended to the scratch after the token (when the token is there
    // too): reserving first keeps every view into it valid while appending.
    const std::size_t tokenSize = ref.get(scratch).size();
    scratch.reserve(scratch.size() + tokenSize + 16);
    const std::string_view token = ref.get(scratch);

    const std::size_t dot1 = token.find('.');
    const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos) return fail("Bad token; invalid JSON");
    const std::size_t headerAt = scratch.size();
    if (!jwt::base64UrlDecode(token.substr(0, dot1), scratch)) {
      return fail("Bad token; invalid JSON");
    }
    const std::size_t claimsAt = scratch.size();
    if (!jwt::base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1), scratch)) {
      return fail("Bad token; invalid JSON");
    }
    const std::size_t signatureAt = scratch.size();
    const bool signatureOk = jwt::base64UrlDecode(token.substr(dot2 + 1), scratch);
    const std::string_view all = scratch;
    const std::string_view headerText = all.substr(headerAt, claimsAt - headerAt);
    const std::string_view claimsText = all.substr(claimsAt, signatureAt - claimsAt);
    const std::string_view signature = all.substr(signatureAt);

    // Header and claims are small: parsed into a stack arena, no heap in the common case.
    unsigned char arena[4096];
    json::monotonic_resource mr(arena, sizeof arena);
    json::storage_ptr sp(&mr);
    boost::system::error_code ec;
    json::value header = json::parse(headerText, ec, sp);
    if (ec) return fail("Bad token; invalid JSON");
    json::value claims = json::parse(claimsText, ec, sp);
    if (ec) return fail("Bad token; invalid JSON");

    const json::object* h = header.if_object();
    const json::value* alg = h ? h->if_contains("alg") : nullptr;
    if (!alg || !alg->is_string() ||
        jwt::algorithmFromName(alg->as_string()) == Algorithm::unknown) {
      return fail("Bad token; invalid alg");
    }
    const json::object* c = claims.if_object();
    if (!c) return fail("Bad token; invalid claims");
    if (!signatureOk) return fail("Bad token; invalid signature");

    // The key claim, from the claims or else the header.
    const json::value* key = c->if_contains(s_.keyClaimName);
    if (!key || key->is_null() || (key->is_bool() && !key->as_bool())) {
      key = h->if_contains(s_.keyClaimName);
    }
    if (!key || key->is_null() || (key->is_bool() && !key->as_bool())) {
      return fail("No mandatory '" + s_.keyClaimName + "' in claims");
    }
    if (key->is_string() && key->as_string().empty()) {
      return fail("Invalid '" + s_.keyClaimName + "' in claims");
    }
    const SecretIndex::Entry* entry = nullptr;
    if (key->is_string()) {
      auto it = index_->byKey.find(std::string_view(key->as_string()));
      if (it != index_->byKey.end()) entry = &it->second;
    }
    if (!entry) return fail("No credentials found for given '" + s_.keyClaimName + "'");
    const core::JwtSecret& stored = config_.jwtSecrets[entry->secret];

    if (std::string_view(alg->as_string()) != stored.algorithm) {
      return fail("Invalid algorithm");
    }
    std::string_view secret;
    if (jwt::isSymmetric(entry->algorithm)) {
      if (s_.secretIsBase64) {
        if (!entry->base64Secret) return fail("Invalid key/secret");
        secret = *entry->base64Secret;
      } else {
        secret = stored.secret;
      }
    } else if (!entry->key) {
      return fail("Invalid key/secret");
    }
    if (!jwt::verify(entry->algorithm, token.substr(0, dot2), signature, secret,
                     entry->key.get())) {
      return fail("Invalid signature");
    }

    if (Failure f = checkClaims(*c); f.status != 0) return f;

    if (entry->consumer == SecretIndex::kNone) {
      return fail("Could not find consumer for '" + s_.keyClaimName + "=" +
                      std::string(key->as_string()) + "'",
                  Failure::Challenge::none);
    }
    ctx.authenticate(&config_.consumers[entry->consumer], stored.key, false);
    return {};
  }

  // Kong's verify_registered_claims and check_maximum_expiration: the errors, as a JSON body.
  Failure checkClaims(const json::object& claims) const {
    if (s_.claimsToVerify.empty() && s_.maximumExpiration <= 0) return {};
    const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
    std::string body;
    auto add = [&body](std::string_view claim, std::string_view message) {
      body += body.empty() ? "{\"" : ",\"";
      body += claim;
      body += "\":\"";
      body += message;
      body += '"';
    };
    for (const auto& name : s_.claimsToVerify) {
      const json::value* v = claims.if_contains(name);
      if (!v || !v->is_number()) {
        add(name, "must be a number");
        continue;
      }
      const double t = v->to_number<double>();
      if (name == "nbf" && t > now) add(name, "token not valid yet");
      if (name == "exp" && t <= now) add(name, "token expired");
    }
    if (body.empty() && s_.maximumExpiration > 0) {
      const json::value* exp = claims.if_contains("exp");
      if (!exp || !exp->is_number() || exp->to_number<double>() - now > s_.maximumExpiration) {
        add("exp", "exceeds maximum allowed expiration");
      }
    }
    if (body.empty()) return {};
    body += '}';
    Failure f;
    f.status = 401;
    f.body = std::move(body);
    return f;
  }

  Settings s_;
  std::shared_ptr<const SecretIndex> index_;
  const core::Config& config_;
};

// ------------------------------------------------------------------------------ factory

bool containsString(const json::object& config, std::string_view field, std::string_view want) {
  auto it = config.find(field);
  if (it == config.end() || !it->value().is_array()) return false;
  for (const auto& v : it->value().as_array()) {
    if (v.is_string() && v.as_string() == want) return true;
  }
  return false;
}

double numberOf(const json::object& config, std::string_view field) {
  auto it = config.find(field);
  return it != config.end() && it->value().is_number() ? it->value().to_number<double>() : 0;
}

schema::Schema makeSchema() {
  using namespace schema;
  Schema s;
  s.name = "jwt";
  s.fields = {
      setOf("uri_param_names", str("name"))
          .def(json::array{"jwt"})
          .describe("Query arguments the token is looked for in."),
      setOf("cookie_names", str("name"))
          .def(json::array{})
          .describe("Cookies the token is looked for in."),
      str("key_claim_name")
          .def("iss")
          .describe("The claim (or header field) naming the key of the jwt secret to verify with."),
      boolean("secret_is_base64")
          .req()
          .def(false)
          .describe("The credentials' HS secrets are base64-encoded."),
      setOf("claims_to_verify", str("claim").one({"exp", "nbf"}))
          .describe("Registered claims to check: exp, nbf."),
      str("anonymous")
          .describe("Consumer id or username to authenticate as when authentication fails; empty: "
                    "fail with 401."),
      boolean("run_on_preflight")
          .req()
          .def(true)
          .describe("Authenticate OPTIONS requests too; false lets them through."),
      number("maximum_expiration")
          .def(0)
          .between(0, 31536000)
          .describe(
              "Refuse tokens whose exp is further than this many seconds ahead; 0: no limit."),
      setOf("header_names", str("name"))
          .def(json::array{"authorization"})
          .describe("Headers the token is looked for in (as `Bearer <token>`)."),
      str("realm").describe("The realm sent in WWW-Authenticate when authentication fails."),
  };
  // Kong's conditional entity check: maximum_expiration > 0 needs exp in claims_to_verify.
  s.entityCheck = [](const json::object& config, core::Errors& errors) {
    if (numberOf(config, "maximum_expiration") > 0 &&
        !containsString(config, "claims_to_verify", "exp")) {
      errors.push_back({"claims_to_verify", "expected to contain: exp"});
      errors.push_back(
          {"", "failed conditional validation given value of field 'config.maximum_expiration'"});
    }
  };
  return s;
}

class JwtFactory final : public Factory {
 public:
  std::string_view name() const override { return "jwt"; }
  int priority() const override { return 1450; }
  const schema::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&,
                                                        const json::object& config,
                                                        CompileEnv& env) const override {
    Settings s;
    s.uriParamNames = strings(config, "uri_param_names");
    s.cookieNames = strings(config, "cookie_names");
    s.headerNames = strings(config, "header_names");
    s.keyClaimName = optionalString(config, "key_claim_name").value_or("iss");
    s.secretIsBase64 = boolOf(config, "secret_is_base64", false);
    s.claimsToVerify = strings(config, "claims_to_verify");
    s.maximumExpiration = numberOf(config, "maximum_expiration");
    s.runOnPreflight = boolOf(config, "run_on_preflight", true);
    s.anonymous = Anonymous::from(config, env.config());
    if (auto realm = optionalString(config, "realm")) {
      s.wwwAuthenticate = "Bearer realm=\"" + *realm + "\"";
      s.wwwAuthenticateWithError = s.wwwAuthenticate + ", error=\"invalid_token\"";
    } else {
      s.wwwAuthenticate = "Bearer";
      s.wwwAuthenticateWithError = "Bearer error=\"invalid_token\"";
    }
    auto index = env.sharedAcross<SecretIndex>(
        "jwt:secrets", {&core::ConfigDelta::consumers, &core::ConfigDelta::jwtSecrets},
        [&env] { return buildIndex(env.config()); },
        [](const std::shared_ptr<const SecretIndex>& previous, const core::Config&,
           const core::ConfigDelta& d) {
          // Consumers appended and nothing else: every position is as it was.
          return onlyAppended(d.consumers) && unchanged(d.jwtSecrets) ? previous : nullptr;
        });
    return std::shared_ptr<const Instance>(
        std::make_shared<Jwt>(std::move(s), index, env.config()));
  }

 private:
  schema::Schema schema_ = makeSchema();
};

}  // namespace

std::unique_ptr<Factory> makeJwtPlugin() {
  return std::make_unique<JwtFactory>();
}

}  // namespace archway::plugins
