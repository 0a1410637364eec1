#include "plugins/request_transformer/request_transformer.h"

#include <algorithm>
#include <boost/json.hpp>
#include <deque>
#include <optional>

#include "http/multipart.h"
#include "router/captures.h"

namespace archway::plugins {
namespace request_transformer {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void formDecodeInto(std::string_view s, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 &&
               hexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
}

// ngx.escape_uri for a URI component: everything but RFC 3986 unreserved characters.
void escapeInto(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

void encodeOne(const Arg& a, std::string& out) {
  if (a.flag) {
    escapeInto(a.name, out);
    return;
  }
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    if (i) out += '&';
    escapeInto(a.name, out);
    out += '=';
    escapeInto(a.values[i], out);
  }
}

}  // namespace

Args decodeArgs(std::string_view q) {
  Args out;
  std::string key, value;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      formDecodeInto(pair.substr(0, eq), key);
      if (!key.empty()) {
        auto it = std::find_if(out.begin(), out.end(), [&](const Arg& a) { return a.name == key; });
        if (it == out.end()) {
          out.push_back(Arg{key, {}, false});
          it = out.end() - 1;
        }
        if (eq == std::string_view::npos) {
          // A repeated flag next to values: Lua keeps `true` in the array; as a value it is
          // the string Kong would render for it.
          if (it->values.empty())
            it->flag = true;
          else
            it->values.push_back("true");
        } else {
          formDecodeInto(pair.substr(eq + 1), value);
          if (it->flag) {
            it->flag = false;
            it->values.push_back("true");
          }
          it->values.push_back(value);
        }
      }
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

std::string encodeArgs(const Args& args) {
  std::string out;
  for (const auto& a : args) {
    if (!a.flag && a.values.empty()) continue;
    if (!out.empty()) out += '&';
    encodeOne(a, out);
  }
  return out;
}

std::string encodeArgsSorted(const Args& args) {
  std::vector<std::string> pieces;
  pieces.reserve(args.size());
  for (const auto& a : args) {
    if (!a.flag && a.values.empty()) continue;
    pieces.emplace_back();
    encodeOne(a, pieces.back());
  }
  std::sort(pieces.begin(), pieces.end());
  std::string out;
  for (const auto& p : pieces) {
    if (!out.empty()) out += '&';
    out += p;
  }
  return out;
}

}  // namespace request_transformer

namespace {

namespace json = boost::json;
namespace sc = schema;
using request_transformer::Arg;
using request_transformer::Args;

char lowerChar(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lowerChar(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lowerChar(a[i]) != lowerChar(b[i])) return false;
  }
  return true;
}

// ------------------------------------------------------------------------------ templates

// One $(...) expression: a lookup in headers, query_params or uri_captures, with an optional
// `or "literal"` fallback when the value is absent.
struct Expr {
  enum class Source : std::uint8_t { headers, query, captures };
  Source source = Source::headers;
  std::string key;
  int index = -1;  // uri_captures[n]
  std::optional<std::string> fallback;
};

struct Piece {
  std::string literal;  // text before the expression
  std::optional<Expr> expr;
};

struct Template {
  std::vector<Piece> pieces;
  bool usesCaptures = false;
  bool constant() const { return pieces.size() == 1 && !pieces[0].expr; }
};

class ExprParser {
 public:
  explicit ExprParser(std::string_view s) : s_(s) {}

  // The parsed expression, or an error message.
  std::optional<Expr> parse(std::string& error) {
    Expr e;
    skipSpace();
    std::string_view ident = identifier();
    if (ident == "headers") {
      e.source = Expr::Source::headers;
    } else if (ident == "query_params") {
      e.source = Expr::Source::query;
    } else if (ident == "uri_captures") {
      e.source = Expr::Source::captures;
    } else {
      error = "only headers, query_params and uri_captures lookups are supported";
      return std::nullopt;
    }
    skipSpace();
    if (eat('.')) {
      skipSpace();
      std::string_view name = identifier();
      if (name.empty()) return fail(error);
      e.key = name;
    } else if (eat('[')) {
      skipSpace();
      if (auto str = stringLiteral()) {
        e.key = *str;
      } else if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9' &&
                 e.source == Expr::Source::captures) {
        int n = 0;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9' && n < 1000)
          n = n * 10 + (s_[pos_++] - '0');
        e.index = n;
      } else {
        return fail(error);
      }
      skipSpace();
      if (!eat(']')) return fail(error);
    } else {
      return fail(error);
    }
    skipSpace();
    if (s_.substr(pos_, 2) == "or" && (pos_ + 2 == s_.size() || !identChar(s_[pos_ + 2]))) {
      pos_ += 2;
      skipSpace();
      auto str = stringLiteral();
      if (!str) return fail(error);
      e.fallback = std::move(*str);
      skipSpace();
    }
    if (pos_ != s_.size()) return fail(error);
    return e;
  }

 private:
  std::optional<Expr> fail(std::string& error) {
    error = "unsupported template expression";
    return std::nullopt;
  }
  static bool identChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }
  void skipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string_view identifier() {
    std::size_t start = pos_;
    if (pos_ < s_.size() && identChar(s_[pos_]) && !(s_[pos_] >= '0' && s_[pos_] <= '9')) {
      while (pos_ < s_.size() && identChar(s_[pos_])) ++pos_;
    }
    return s_.substr(start, pos_ - start);
  }
  std::optional<std::string> stringLiteral() {
    if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) return std::nullopt;
    char quote = s_[pos_++];
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      char c = s_[pos_++];
      if (c == '\\' && pos_ < s_.size()) {
        char n = s_[pos_++];
        switch (n) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          default:
            out += n;
        }
      } else {
        out += c;
      }
    }
    if (!eat(quote)) return std::nullopt;
    return out;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// Penlight's template syntax as Kong compiles it (escape '#' disabled): $(expr) where the
// parentheses balance; a "$(" that never closes is plain text.
core::Result<Template> parseTemplate(std::string_view text) {
  Template t;
  Piece cur;
  std::size_t i = 0;
  while (i < text.size()) {
    auto start = text.find("$(", i);
    if (start == std::string_view::npos) break;
    int depth = 0;
    std::size_t end = std::string_view::npos;
    for (std::size_t j = start + 1; j < text.size(); ++j) {
      if (text[j] == '(') ++depth;
      if (text[j] == ')' && --depth == 0) {
        end = j;
        break;
      }
    }
    if (end == std::string_view::npos) {
      // Unbalanced here; Lua's gmatch keeps looking from the next character.
      cur.literal.append(text.substr(i, start + 2 - i));
      i = start + 2;
      continue;
    }
    cur.literal.append(text.substr(i, start - i));
    std::string error;
    ExprParser parser(text.substr(start + 2, end - start - 2));
    auto expr = parser.parse(error);
    if (!expr) return core::Error{"", error};
    if (expr->source == Expr::Source::captures) t.usesCaptures = true;
    cur.expr = std::move(*expr);
    t.pieces.push_back(std::move(cur));
    cur = Piece{};
    i = end + 1;
  }
  cur.literal.append(text.substr(std::min(i, text.size())));
  t.pieces.push_back(std::move(cur));
  return t;
}

// --------------------------------------------------------------------- config entries

// "name:value" as Kong splits it (^([^:]+):*(.-)$): the value starts after every ':' that
// follows the name.
std::pair<std::string_view, std::string_view> splitPair(std::string_view entry) {
  auto colon = entry.find(':');
  if (colon == std::string_view::npos) return {entry, {}};
  std::string_view name = entry.substr(0, colon);
  std::string_view rest = entry.substr(colon);
  while (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
  return {name, rest};
}

struct Entry {
  std::string name;
  std::string lname;
  std::optional<Template> value;  // none: "name" or "name:" (Kong's nil value)
};

struct Part {
  std::vector<Entry> remove, rename, replace, add, append;
  bool any() const {
    return !remove.empty() || !rename.empty() || !replace.empty() || !add.empty() ||
           !append.empty();
  }
};

// Kong's typedefs.header_name check (kong.tools.http validate_header_name).
bool validHeaderName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// validate_headers: the name part (and for rename the value part) must be a header name.
std::string checkHeaderPair(const json::value& v, bool checkValue) {
  auto [name, value] = splitPair(v.as_string());
  if (!validHeaderName(name)) return "'" + std::string(name) + "' is not a valid header";
  if (checkValue && !validHeaderName(value))
    return "'" + std::string(value) + "' is not a valid header";
  return {};
}

// match = "^[^:]+:.*$" then validate_headers.
std::string checkColonHeader(const json::value& v, bool checkValue) {
  std::string_view s = v.as_string();
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return "invalid value: " + std::string(s);
  return checkHeaderPair(v, checkValue);
}

// check_for_value: a value must be there and be a template we can render.
std::string checkForValue(const json::value& v) {
  std::string_view s = v.as_string();
  auto [name, value] = splitPair(s);
  if (name.empty()) return "invalid value: " + std::string(s);
  if (value.empty()) return "key '" + std::string(name) + "' has no value";
  auto t = parseTemplate(value);
  if (!t)
    return "value '" + std::string(value) +
           "' is not in supported format, error:" + t.errors().front().message;
  return {};
}

core::Result<std::vector<Entry>> entries(const json::value& arr, const std::string& path) {
  std::vector<Entry> out;
  if (!arr.is_array()) return out;
  const auto& a = arr.as_array();
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto [name, value] = splitPair(a[i].as_string());
    Entry e;
    e.name = name;
    e.lname = lower(name);
    if (!value.empty()) {
      auto t = parseTemplate(value);
      if (!t)
        return core::Error{path + "[" + std::to_string(i) + "]",
                           "value '" + std::string(value) +
                               "' is not in supported format, error:" + t.errors().front().message};
      e.value = std::move(*t);
    }
    out.push_back(std::move(e));
  }
  return out;
}

// ------------------------------------------------------------------------ the instance

enum class BodyType { none, json, multipart, form };

BodyType bodyType(std::string_view contentType) {
  std::string ct = lower(contentType);
  if (ct.find("application/json") != std::string::npos) return BodyType::json;
  if (ct.find("multipart/form-data") != std::string::npos) return BodyType::multipart;
  if (ct.find("application/x-www-form-urlencoded") != std::string::npos) return BodyType::form;
  return BodyType::none;
}

// The request's headers as the plugin sees them when it starts: the client's, with the edits
// of the plugins that ran before (an auth plugin's X-Consumer-ID), as Kong's get_headers()
// would return them.
void effectiveHeader(const Context& ctx, std::size_t editsEnd, std::string_view name,
                     std::vector<std::string>& out) {
  out.clear();
  for (auto v : ctx.headers(name)) out.emplace_back(v);
  for (std::size_t i = 0; i < editsEnd; ++i) {
    const auto& e = ctx.requestEdits[i];
    if (!iequals(e.name, name)) continue;
    switch (e.op) {
      case HeaderEdit::Op::set:
        out.assign(1, e.value);
        break;
      case HeaderEdit::Op::add:
        out.push_back(e.value);
        break;
      case HeaderEdit::Op::remove:
        out.clear();
        break;
    }
  }
}

class RequestTransformer final : public Instance {
 public:
  std::uint8_t phases() const override { return kAccess; }
  bool needsRequestBody() const override { return body_.any() || methodMovesBody_; }
  bool usesUriCaptures() const override { return usesCaptures_; }

  void access(Context& ctx) const override {
    Run run{*this, ctx, ctx.requestEdits.size()};
    run.execute();
  }

  std::optional<Template> uri_;
  std::optional<std::string> method_;
  bool methodMovesBody_ = false;  // GET/HEAD/TRACE: a form body moves into the query
  Part headers_, query_, body_;
  bool usesCaptures_ = false;

 private:
  // One request's pass; holds what the parts share (the query as it is being edited, the
  // header overlay).
  struct Run {
    const RequestTransformer& self;
    Context& ctx;
    std::size_t editsEnd;  // request edits made before this plugin ran

    // Lazily decoded lookups for templates.
    std::optional<Args> queryForTemplates;
    std::vector<std::string> tmp;

    // The query being edited (method and querystring steps).
    std::optional<Args> query;
    bool queryDirty = false;

    // Headers changed by this plugin: configured name, values (empty: removed).
    struct Touched {
      std::string name, lname;
      std::vector<std::string> values;
    };
    std::vector<Touched> touched;

    std::string_view currentQuery() const {
      return ctx.upstreamQuerySet ? std::string_view(ctx.upstreamQuery) : ctx.query;
    }

    void execute() {
      if (self.uri_ && !transformUri()) return;
      transformMethod();
      transformHeaders();
      transformBody();
      transformQuery();
      if (queryDirty) ctx.setUpstreamQuery(request_transformer::encodeArgsSorted(*query));
    }

    // ---------------------------------------------------------------------- templates
    void lookup(const Expr& e, std::string& out, bool& found) {
      found = false;
      switch (e.source) {
        case Expr::Source::headers: {
          effectiveHeader(ctx, editsEnd, e.key, tmp);
          if (tmp.empty() && e.key.find('_') != std::string::npos) {
            // ngx.req.get_headers() also finds "x_foo" as X-Foo.
            std::string alt = e.key;
            std::replace(alt.begin(), alt.end(), '_', '-');
            effectiveHeader(ctx, editsEnd, alt, tmp);
          }
          if (!tmp.empty()) {
            out += tmp.front();
            found = true;
          }
          break;
        }
        case Expr::Source::query: {
          if (!queryForTemplates)
            queryForTemplates = request_transformer::decodeArgs(currentQuery());
          for (const auto& a : *queryForTemplates) {
            if (a.name != e.key) continue;
            // tostring(true) for a flag argument.
            out += a.flag ? std::string_view("true") : std::string_view(a.values.front());
            found = true;
            break;
          }
          break;
        }
        case Expr::Source::captures: {
          // The groups of the regex path the route matched with (the proxy fills them because
          // usesUriCaptures() says so); none for a prefix route.
          const router::Captures* caps = ctx.uriCaptures;
          if (!caps) break;
          std::string_view v;
          if (e.index >= 0) {
            found = caps->has(static_cast<std::size_t>(e.index));
            v = caps->group(static_cast<std::size_t>(e.index));
          } else {
            found = caps->find(e.key, v);
          }
          if (found) out += v;
          break;
        }
      }
    }

    std::string render(const Template& t) {
      std::string out;
      for (const auto& p : t.pieces) {
        out += p.literal;
        if (!p.expr) continue;
        bool found = false;
        lookup(*p.expr, out, found);
        // Penlight renders nil as "" (`expr or ''`).
        if (!found && p.expr->fallback) out += *p.expr->fallback;
      }
      return out;
    }

    // ------------------------------------------------------------------------- uri
    bool transformUri() {
      std::string path = render(*self.uri_);
      if (path.empty()) return true;  // Kong: a nil render leaves the path alone
      if (path.front() != '/') {
        // kong.service.request.set_path raises "path must start with /": a 500.
        ctx.exitMessage(500, "An unexpected error occurred");
        return false;
      }
      ctx.setUpstreamPath(path);
      return true;
    }

    // ---------------------------------------------------------------------- method
    void transformMethod() {
      if (!self.method_) return;
      ctx.setUpstreamMethod(*self.method_);
      if (!self.methodMovesBody_) return;
      if (bodyType(contentType()) != BodyType::form) return;
      std::string_view body;
      if (!currentBody(body)) return;
      Args params = request_transformer::decodeArgs(body);
      if (params.empty()) return;
      ensureQuery();
      for (auto& p : params) {
        auto it = findArg(*query, p.name);
        if (it == query->end()) {
          query->push_back(std::move(p));
          continue;
        }
        if (it->flag) {
          it->flag = false;
          it->values.push_back("true");
        }
        if (p.flag) it->values.push_back("true");
        for (auto& v : p.values) it->values.push_back(std::move(v));
      }
      queryDirty = true;
    }

    void ensureQuery() {
      if (!query) query = request_transformer::decodeArgs(currentQuery());
    }

    static Args::iterator findArg(Args& args, std::string_view name) {
      return std::find_if(args.begin(), args.end(), [&](const Arg& a) { return a.name == name; });
    }

    // Kong's rename(): the value moves to the new name, replacing what was there. The argument
    // keeps its place (Lua tables have no order; this keeps the request's).
    static bool renameArg(Args& args, std::string_view from, std::string_view to) {
      auto it = findArg(args, from);
      if (it == args.end()) return false;
      auto dst = findArg(args, to);
      if (dst == args.end()) {
        it->name = to;
        return true;
      }
      dst->values = std::move(it->values);
      dst->flag = it->flag;
      args.erase(it);
      return true;
    }

    bool currentBody(std::string_view& body) const {
      if (ctx.upstreamBodySet) {
        body = ctx.upstreamBody;
        return true;
      }
      if (ctx.bodyAvailable) {
        body = ctx.body();
        return true;
      }
      // No body at all reads as an empty one; a body the proxy could not buffer is left
      // alone rather than replaced.
      if (ctx.contentLength <= 0 && !ctx.chunked) {
        body = {};
        return true;
      }
      return false;
    }

    // --------------------------------------------------------------------- headers
    Touched* findTouched(std::string_view lname) {
      for (auto& t : touched) {
        if (t.lname == lname) return &t;
      }
      return nullptr;
    }

    // Kong clears `host` from its header table first: the Host header never counts as present.
    bool present(const Entry& e) {
      if (e.lname == "host") return false;
      if (auto* t = findTouched(e.lname)) return !t->values.empty();
      effectiveHeader(ctx, editsEnd, e.lname, tmp);
      return !tmp.empty();
    }

    std::vector<std::string> valuesOf(const Entry& e) {
      if (e.lname == "host") return {};
      if (auto* t = findTouched(e.lname)) return t->values;
      effectiveHeader(ctx, editsEnd, e.lname, tmp);
      return tmp;
    }

    void put(std::string_view name, std::vector<std::string> values) {
      std::string lname = lower(name);
      if (auto* t = findTouched(lname)) {
        t->name = name;
        t->values = std::move(values);
        return;
      }
      touched.push_back(Touched{std::string(name), std::move(lname), std::move(values)});
    }

    void transformHeaders() {
      const Part& h = self.headers_;
      if (!h.any()) return;
      for (const auto& e : h.remove) {
        if (present(e)) put(e.name, {});
      }
      for (const auto& e : h.rename) {
        if (!e.value) continue;
        std::string to = render(*e.value);
        // A change of case only: headers are case-insensitive, nothing moves.
        if (iequals(to, e.name) || !present(e)) continue;
        auto values = valuesOf(e);
        put(e.name, {});
        put(to, std::move(values));
      }
      for (const auto& e : h.replace) {
        if (!e.value) continue;
        if (present(e) || e.lname == "host") put(e.name, {render(*e.value)});
      }
      for (const auto& e : h.add) {
        if (!e.value || e.lname == "host") continue;
        if (!present(e)) put(e.name, {render(*e.value)});
      }
      for (const auto& e : h.append) {
        if (!e.value) continue;
        auto values = valuesOf(e);
        values.push_back(render(*e.value));
        put(e.name, std::move(values));
      }
      for (const auto& t : touched) {
        if (t.values.empty()) {
          ctx.removeRequestHeader(t.name);
          continue;
        }
        ctx.setRequestHeader(t.name, t.values.front());
        for (std::size_t i = 1; i < t.values.size(); ++i) ctx.addRequestHeader(t.name, t.values[i]);
      }
    }

    // The Content-Type the body step sees: after this plugin's own header edits.
    std::string contentType() {
      if (auto* t = findTouched("content-type")) return t->values.empty() ? "" : t->values.front();
      effectiveHeader(ctx, editsEnd, "content-type", tmp);
      return tmp.empty() ? std::string() : tmp.front();
    }

    // ------------------------------------------------------------------------ body
    void transformBody() {
      const Part& b = self.body_;
      if (!b.any()) return;
      const std::string ct = contentType();
      BodyType type = bodyType(ct);
      if (type == BodyType::none) return;
      std::string_view body;
      if (!currentBody(body)) return;
      std::optional<std::string> out;
      if (type == BodyType::json) {
        out = transformJson(body);
      } else if (type == BodyType::form) {
        out = transformForm(body);
      } else {
        // Re-encoded with the Content-Type's own boundary, which therefore stays right.
        const std::string_view boundary = http::multipart::boundaryOf(ct);
        if (boundary.empty()) return;
        out = transformMultipart(body, boundary);
      }
      if (out) ctx.setUpstreamBody(*out);
    }

    // Kong's transform_multipart_body (rename, remove, replace, add; every edited or added
    // field becomes a plain `Content-Disposition: form-data; name="..."` part), plus append,
    // which adds one more part of that name. Untouched parts, file parts included, go out
    // byte for byte. A malformed body is passed on unchanged.
    std::optional<std::string> transformMultipart(std::string_view body,
                                                  std::string_view boundary) {
      namespace mp = http::multipart;
      const Part& b = self.body_;
      const bool hasBody = !body.empty();
      std::vector<mp::Part> parts;
      if (hasBody) {
        auto parsed = mp::parse(body, boundary);
        if (!parsed) return std::nullopt;
        parts = std::move(parsed.value());
      }
      std::deque<std::string> owned;  // headers and values made here (stable addresses)
      auto keep = [&](std::string s) -> std::string_view {
        owned.push_back(std::move(s));
        return owned.back();
      };
      auto setField = [&](mp::Part& part, std::string_view name, std::string_view value) {
        part = mp::Part{};
        part.name = keep(std::string(name));
        part.headers = keep(mp::fieldHeaders(name));
        part.value = value;
      };
      auto findPart = [&](std::string_view name) {
        return std::find_if(parts.begin(), parts.end(),
                            [&](const mp::Part& p) { return p.name == name; });
      };
      bool changed = false;
      if (hasBody) {
        for (const auto& e : b.rename) {
          if (!e.value) continue;
          std::string to = render(*e.value);
          auto from = findPart(e.name);
          if (to == e.name || from == parts.end()) continue;
          const std::string_view value = from->value;
          if (auto existing = findPart(to); existing != parts.end()) {
            setField(*existing, to, value);
            parts.erase(findPart(e.name));
          } else {
            setField(*from, to, value);
          }
          changed = true;
        }
        for (const auto& e : b.remove) {
          if (std::erase_if(parts, [&](const mp::Part& p) { return p.name == e.name; }) > 0)
            changed = true;
        }
        for (const auto& e : b.replace) {
          if (!e.value) continue;
          auto it = findPart(e.name);
          if (it == parts.end()) continue;
          setField(*it, e.name, keep(render(*e.value)));
          changed = true;
        }
      }
      for (const auto& e : b.add) {
        if (!e.value || findPart(e.name) != parts.end()) continue;
        setField(parts.emplace_back(), e.name, keep(render(*e.value)));
        changed = true;
      }
      for (const auto& e : b.append) {
        if (!e.value) continue;
        setField(parts.emplace_back(), e.name, keep(render(*e.value)));
        changed = true;
      }
      if (!changed) return std::nullopt;
      return mp::encode(parts, boundary);
    }

    std::optional<std::string> transformJson(std::string_view body) {
      const Part& b = self.body_;
      const bool hasBody = !body.empty();
      json::object params;
      boost::system::error_code ec;
      json::value parsed = hasBody ? json::parse(body, ec) : json::value();
      if (hasBody) {
        if (ec) return std::nullopt;
        // Only objects have named fields to edit; other JSON is left as it came.
        if (!parsed.is_object()) return std::nullopt;
        params = std::move(parsed.as_object());
      }
      // Lua truthiness of a decoded field: absent and false are "not there" (null is a
      // userdata, so it counts as there).
      auto truthy = [&](std::string_view k) {
        auto it = params.find(k);
        return it != params.end() && !(it->value().is_bool() && !it->value().as_bool());
      };
      bool changed = false;
      if (hasBody) {
        for (const auto& e : b.remove) {
          params.erase(e.name);
          changed = true;
        }
        for (const auto& e : b.rename) {
          if (!e.value) continue;
          std::string to = render(*e.value);
          if (to == e.name || !truthy(e.name)) continue;
          json::value v = params.at(e.name);
          params.erase(e.name);
          params[to] = std::move(v);
          changed = true;
        }
        for (const auto& e : b.replace) {
          if (!e.value || !truthy(e.name)) continue;
          params[e.name] = json::string(render(*e.value));
          changed = true;
        }
      }
      for (const auto& e : b.add) {
        if (!e.value || truthy(e.name)) continue;
        params[e.name] = json::string(render(*e.value));
        changed = true;
      }
      for (const auto& e : b.append) {
        if (!e.value) continue;
        json::string v(render(*e.value));
        auto it = params.find(e.name);
        if (it == params.end()) {
          params[e.name] = json::array{std::move(v)};
        } else if (it->value().is_string()) {
          json::array a{it->value(), std::move(v)};
          it->value() = std::move(a);
        } else if (it->value().is_array()) {
          it->value().as_array().push_back(std::move(v));
        } else {
          it->value() = json::array{std::move(v)};
        }
        changed = true;
      }
      if (!changed) return std::nullopt;
      return json::serialize(params);
    }

    std::optional<std::string> transformForm(std::string_view body) {
      const Part& b = self.body_;
      const bool hasBody = !body.empty();
      Args params = request_transformer::decodeArgs(body);
      bool changed = false;
      if (hasBody) {
        for (const auto& e : b.remove) {
          auto it = findArg(params, e.name);
          if (it != params.end()) params.erase(it);
          changed = true;
        }
        for (const auto& e : b.rename) {
          if (!e.value) continue;
          std::string to = render(*e.value);
          if (to == e.name) continue;
          changed = renameArg(params, e.name, to) || changed;
        }
        for (const auto& e : b.replace) {
          if (!e.value) continue;
          auto it = findArg(params, e.name);
          if (it == params.end()) continue;
          it->flag = false;
          it->values.assign(1, render(*e.value));
          changed = true;
        }
      }
      for (const auto& e : b.add) {
        if (!e.value || findArg(params, e.name) != params.end()) continue;
        params.push_back(Arg{e.name, {render(*e.value)}, false});
        changed = true;
      }
      for (const auto& e : b.append) {
        if (!e.value) continue;
        auto it = findArg(params, e.name);
        if (it == params.end()) {
          params.push_back(Arg{e.name, {render(*e.value)}, false});
        } else {
          // append_value: a flag (Lua `true`) is not a string or table, so it is replaced.
          if (it->flag) {
            it->flag = false;
            it->values.clear();
          }
          it->values.push_back(render(*e.value));
        }
        changed = true;
      }
      if (!changed) return std::nullopt;
      return request_transformer::encodeArgs(params);
    }

    // ------------------------------------------------------------------- querystring
    void transformQuery() {
      const Part& q = self.query_;
      if (!q.any()) return;
      ensureQuery();
      Args& args = *query;
      for (const auto& e : q.remove) {
        auto it = findArg(args, e.name);
        if (it != args.end()) args.erase(it);
      }
      for (const auto& e : q.rename) {
        if (!e.value) continue;
        std::string to = render(*e.value);
        if (to != e.name) renameArg(args, e.name, to);
      }
      for (const auto& e : q.replace) {
        if (!e.value) continue;
        auto it = findArg(args, e.name);
        if (it == args.end()) continue;
        it->flag = false;
        it->values.assign(1, render(*e.value));
      }
      for (const auto& e : q.add) {
        if (!e.value || findArg(args, e.name) != args.end()) continue;
        args.push_back(Arg{e.name, {render(*e.value)}, false});
      }
      for (const auto& e : q.append) {
        if (!e.value) continue;
        auto it = findArg(args, e.name);
        if (it == args.end()) {
          args.push_back(Arg{e.name, {render(*e.value)}, false});
        } else {
          if (it->flag) {
            it->flag = false;
            it->values.clear();
          }
          it->values.push_back(render(*e.value));
        }
      }
      queryDirty = true;
    }
  };
};

// ------------------------------------------------------------------------------ factory

sc::Field stringArray(std::string name, std::function<std::string(const json::value&)> check) {
  sc::Field element = sc::str("");
  if (check) element.validate(std::move(check));
  return sc::arrayOf(std::move(name), std::move(element)).req().def(json::array());
}

class RequestTransformerFactory final : public Factory {
 public:
  RequestTransformerFactory() {
    schema_.name = "request-transformer";
    auto headerName = [](const json::value& v) { return checkHeaderPair(v, false); };
    auto colonHeader = [](const json::value& v) { return checkColonHeader(v, false); };
    auto colonHeaders = [](const json::value& v) { return checkColonHeader(v, true); };
    auto colonRecord = [&](std::string name, bool withUri) {
      std::vector<sc::Field> fields = {stringArray("body", checkForValue),
                                       stringArray("headers", colonHeader),
                                       stringArray("querystring", checkForValue)};
      if (withUri) fields.push_back(sc::str("uri"));
      return sc::record(std::move(name), std::move(fields));
    };
    schema_.fields = {
        sc::str("http_method").validate([](const json::value& v) -> std::string {
          std::string_view s = v.as_string();
          bool ok = !s.empty() &&
                    std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
          return ok ? std::string() : "invalid value: " + std::string(s);
        }),
        sc::record("remove", {stringArray("body", nullptr), stringArray("headers", headerName),
                              stringArray("querystring", nullptr)}),
        sc::record("rename",
                   {stringArray("body", checkForValue), stringArray("headers", colonHeaders),
                    stringArray("querystring", checkForValue)}),
        colonRecord("replace", true),
        colonRecord("add", false),
        colonRecord("append", false),
    };
  }

  std::string_view name() const override { return "request-transformer"; }
  int priority() const override { return 801; }
  const sc::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&,
                                                        const json::object& config,
                                                        CompileEnv&) const override {
    auto inst = std::make_shared<RequestTransformer>();
    core::Errors errors;
    bool usesCaptures = false;
    auto fill = [&](const char* op, const char* part, std::vector<Entry>& into) {
      const auto& rec = config.at(op);
      if (!rec.is_object()) return;
      std::string path = std::string("config.") + op + "." + part;
      auto r = entries(rec.as_object().at(part), path);
      if (!r) {
        for (const auto& e : r.errors()) errors.push_back(e);
        return;
      }
      into = std::move(*r);
      for (const auto& e : into) usesCaptures = usesCaptures || (e.value && e.value->usesCaptures);
    };
    for (auto [part, target] : {std::pair<const char*, Part*>{"headers", &inst->headers_},
                                {"querystring", &inst->query_},
                                {"body", &inst->body_}}) {
      fill("remove", part, target->remove);
      fill("rename", part, target->rename);
      fill("replace", part, target->replace);
      fill("add", part, target->add);
      fill("append", part, target->append);
    }
    if (const auto& rep = config.at("replace"); rep.is_object()) {
      if (const auto& uri = rep.as_object().at("uri");
          uri.is_string() && !uri.as_string().empty()) {
        auto t = parseTemplate(uri.as_string());
        if (!t) {
          errors.push_back({"config.replace.uri", "value '" + std::string(uri.as_string()) +
                                                      "' is not in supported format, error:" +
                                                      t.errors().front().message});
        } else {
          usesCaptures = usesCaptures || t->usesCaptures;
          inst->uri_ = std::move(*t);
        }
      }
    }
    if (const auto& m = config.at("http_method"); m.is_string()) {
      inst->method_ = std::string(m.as_string());
      inst->methodMovesBody_ =
          *inst->method_ == "GET" || *inst->method_ == "HEAD" || *inst->method_ == "TRACE";
    }
    if (!errors.empty()) return errors;
    inst->usesCaptures_ = usesCaptures;
    return std::shared_ptr<const Instance>(std::move(inst));
  }

 private:
  sc::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeRequestTransformerPlugin() {
  return std::make_unique<RequestTransformerFactory>();
}

}  // namespace archway::plugins
