#include "plugins/response_transformer/response_transformer.h"

#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <vector>

#include "plugins/response_transformer/mime_type.h"

namespace archway::plugins {

namespace response_transformer {

std::string jsonEscapedValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  return out;
}

}  // namespace response_transformer

namespace {

namespace json = boost::json;
namespace sc = schema;

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

// "name:value" as Kong splits it (^([^:]+):*(.-)$); an empty value is Lua nil.
std::pair<std::string, std::optional<std::string>> splitPair(std::string_view entry) {
  auto colon = entry.find(':');
  if (colon == std::string_view::npos) return {std::string(entry), std::nullopt};
  std::string_view rest = entry.substr(colon);
  while (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
  if (rest.empty()) return {std::string(entry.substr(0, colon)), std::nullopt};
  return {std::string(entry.substr(0, colon)), std::string(rest)};
}

// Lua's tonumber(): surrounding whitespace allowed, decimal or 0x hex; not inf or nan.
std::optional<json::value> luaToNumber(std::string_view s) {
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  std::string text(s);
  std::size_t digits = (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (text.size() > digits + 1 && text[digits] == '0' &&
      (text[digits + 1] == 'x' || text[digits + 1] == 'X')) {
    char* end = nullptr;
    long long v = std::strtoll(text.c_str(), &end, 16);
    if (end != text.c_str() + text.size() || text.size() == digits + 2) return std::nullopt;
    return json::value(static_cast<std::int64_t>(v));
  }
  if (digits >= text.size() ||
      !((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.'))
    return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(d)) return std::nullopt;
  if (std::floor(d) == d && std::fabs(d) < 9.2e18) return json::value(static_cast<std::int64_t>(d));
  return json::value(d);
}

struct HeaderEntry {
  std::string name;
  std::optional<std::string> value;
};

struct JsonEntry {
  std::string name;
  std::optional<std::string> newName;  // rename
  std::optional<json::value> value;    // replace/add/append; none: Kong's v == nil, skipped
};

// The response headers as this plugin first sees them: the upstream's (or the exit's) with the
// edits of the plugins that ran before it.
class ResponseView {
 public:
  ResponseView(const Context& ctx, std::size_t editsEnd) : ctx_(ctx), editsEnd_(editsEnd) {}

  void values(std::string_view name, std::vector<std::string>& out) const {
    out.clear();
    struct Collect {
      std::string_view name;
      std::vector<std::string>* out;
    } c{name, &out};
    ctx_.forEachResponseHeader([p = &c](std::string_view n, std::string_view v) {
      if (iequals(n, p->name)) p->out->emplace_back(v);
    });
    for (std::size_t i = 0; i < editsEnd_; ++i) {
      const auto& e = ctx_.responseEdits[i];
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

 private:
  const Context& ctx_;
  std::size_t editsEnd_;
};

class ResponseTransformer final : public Instance {
 public:
  std::uint8_t phases() const override { return kHeaderFilter | (jsonEdits() ? kBodyFilter : 0); }
  bool needsResponseBody() const override { return jsonEdits(); }

  void headerFilter(Context& ctx) const override {
    ResponseView view(ctx, ctx.responseEdits.size());
    thread_local std::vector<std::string> values;
    for (const auto& h : removeHeaders_) ctx.removeResponseHeader(h.name);
    for (const auto& h : renameHeaders_) {
      if (!h.value) continue;
      view.values(h.name, values);
      if (values.empty()) continue;
      ctx.setResponseHeader(*h.value, values.front());
      for (std::size_t i = 1; i < values.size(); ++i) ctx.addResponseHeader(*h.value, values[i]);
      ctx.removeResponseHeader(h.name);
    }
    for (const auto& h : replaceHeaders_) {
      if (!h.value) continue;
      view.values(h.name, values);
      if (!values.empty()) ctx.setResponseHeader(h.name, *h.value);
    }
    for (const auto& h : addHeaders_) {
      if (!h.value) continue;
      view.values(h.name, values);
      if (values.empty()) ctx.setResponseHeader(h.name, *h.value);
    }
    for (const auto& h : appendHeaders_) {
      if (h.value) ctx.addResponseHeader(h.name, *h.value);
    }
  }

  void bodyFilter(Context& ctx) const override {
    if (!jsonEdits() || !ctx.responseBodyAvailable) return;
    // The Content-Type the client gets, after every header_filter edit.
    ResponseView view(ctx, ctx.responseEdits.size());
    thread_local std::vector<std::string> values;
    view.values("Content-Type", values);
    if (values.empty() || !mime::isJson(values.front())) return;
    boost::system::error_code ec;
    json::value body = json::parse(ctx.responseBody(), ec);
    // A body that does not parse is sent as it came (Kong logs "body transform failed"); only
    // an object has named fields to edit.
    if (ec || !body.is_object()) return;
    transform(body.as_object());
    ctx.setResponseBody(json::serialize(body));
  }

  void transform(json::object& obj) const {
    // Lua truthiness of a decoded field: absent and false are "not there"; null (cjson.null)
    // is a value.
    auto truthy = [&](std::string_view k) {
      auto it = obj.find(k);
      return it != obj.end() && !(it->value().is_bool() && !it->value().as_bool());
    };
    for (const auto& e : removeJson_) obj.erase(e.name);
    for (const auto& e : renameJson_) {
      if (!e.newName || !obj.contains(e.name)) continue;
      json::value v = obj.at(e.name);
      obj[*e.newName] = std::move(v);
      // Kong sets the new name, then clears the old one: renaming a field to itself drops it.
      obj.erase(e.name);
    }
    for (const auto& e : replaceJson_) {
      if (e.value && truthy(e.name)) obj[e.name] = *e.value;
    }
    for (const auto& e : addJson_) {
      if (e.value && !truthy(e.name)) obj[e.name] = *e.value;
    }
    for (const auto& e : appendJson_) {
      if (!e.value) continue;
      auto it = obj.find(e.name);
      if (it == obj.end()) {
        obj[e.name] = json::array{*e.value};
      } else if (it->value().is_string()) {
        json::array a{it->value(), *e.value};
        it->value() = std::move(a);
      } else if (it->value().is_array()) {
        it->value().as_array().push_back(*e.value);
      } else if (it->value().is_object()) {
        // table.insert into a decoded object stores the value under key 1, which cjson
        // encodes as "1".
        it->value().as_object()["1"] = *e.value;
      } else {
        it->value() = json::array{*e.value};
      }
    }
  }

  bool jsonEdits() const {
    return !removeJson_.empty() || !renameJson_.empty() || !replaceJson_.empty() ||
           !addJson_.empty() || !appendJson_.empty();
  }

  std::vector<HeaderEntry> removeHeaders_, renameHeaders_, replaceHeaders_, addHeaders_,
      appendHeaders_;
  std::vector<JsonEntry> removeJson_, renameJson_, replaceJson_, addJson_, appendJson_;
};

std::string checkHeaderName(std::string_view s) {
  bool ok = !s.empty();
  for (char c : s) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_');
  }
  return ok ? std::string() : "'" + std::string(s) + "' is not a valid header";
}

// match = "^[^:]+:.*$"
std::string checkColon(const json::value& v) {
  std::string_view s = v.as_string();
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return "invalid value: " + std::string(s);
  return {};
}

// match, then validate_colon_headers: both sides must be header names.
std::string checkColonHeaders(const json::value& v) {
  if (auto m = checkColon(v); !m.empty()) return m;
  std::string_view s = v.as_string();
  auto colon = s.find(':');
  std::string_view value = s.substr(colon);
  while (!value.empty() && value.front() == ':') value.remove_prefix(1);
  if (auto m = checkHeaderName(s.substr(0, colon)); !m.empty()) return m;
  return checkHeaderName(value);
}

sc::Field strings(std::string name, std::function<std::string(const json::value&)> check) {
  sc::Field element = sc::str("");
  if (check) element.validate(std::move(check));
  return sc::arrayOf(std::move(name), std::move(element)).req().def(json::array());
}

sc::Field colonRecord(std::string name) {
  return sc::record(std::move(name),
                    {strings("json", checkColon),
                     sc::arrayOf("json_types", sc::str("").one({"boolean", "number", "string"}))
                         .req()
                         .def(json::array()),
                     strings("headers", checkColon)});
}

std::vector<HeaderEntry> headerEntries(const json::object& config, const char* op) {
  std::vector<HeaderEntry> out;
  for (const auto& v : config.at(op).as_object().at("headers").as_array()) {
    auto [name, value] = splitPair(v.as_string());
    out.push_back({std::move(name), std::move(value)});
  }
  return out;
}

std::vector<JsonEntry> jsonEntries(const json::object& config, const char* op, bool rename) {
  std::vector<JsonEntry> out;
  const auto& rec = config.at(op).as_object();
  const json::array* types = nullptr;
  if (auto it = rec.find("json_types"); it != rec.end() && it->value().is_array())
    types = &it->value().as_array();
  const auto& arr = rec.at("json").as_array();
  for (std::size_t i = 0; i < arr.size(); ++i) {
    auto [name, value] = splitPair(arr[i].as_string());
    JsonEntry e;
    e.name = std::move(name);
    if (rename) {
      e.newName = std::move(value);
    } else {
      // cjson.encode(nil) is "null": an empty value becomes the text "null".
      std::string text = value ? response_transformer::jsonEscapedValue(*value) : "null";
      std::string_view type = types && i < types->size()
                                  ? std::string_view(types->at(i).as_string())
                                  : std::string_view("string");
      if (type == "number") {
        if (auto n = luaToNumber(text)) e.value = std::move(*n);
      } else if (type == "boolean") {
        e.value = json::value(text == "true");
      } else {
        e.value = json::string(text);
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

class ResponseTransformerFactory final : public Factory {
 public:
  ResponseTransformerFactory() {
    schema_.name = "response-transformer";
    schema_.protocols = {"http", "https"};
    schema_.fields = {
        sc::record("remove", {strings("json", nullptr), strings("headers", nullptr)}),
        sc::record("rename", {strings("json", checkColon), strings("headers", checkColonHeaders)}),
        colonRecord("replace"),
        colonRecord("add"),
        colonRecord("append"),
    };
  }

  std::string_view name() const override { return "response-transformer"; }
  int priority() const override { return 800; }
  const sc::Schema& schema() const override { return schema_; }

  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&,
                                                        const json::object& config,
                                                        CompileEnv&) const override {
    auto inst = std::make_shared<ResponseTransformer>();
    inst->removeHeaders_ = headerEntries(config, "remove");
    inst->renameHeaders_ = headerEntries(config, "rename");
    inst->replaceHeaders_ = headerEntries(config, "replace");
    inst->addHeaders_ = headerEntries(config, "add");
    inst->appendHeaders_ = headerEntries(config, "append");
    inst->removeJson_ = jsonEntries(config, "remove", false);
    inst->renameJson_ = jsonEntries(config, "rename", true);
    inst->replaceJson_ = jsonEntries(config, "replace", false);
    inst->addJson_ = jsonEntries(config, "add", false);
    inst->appendJson_ = jsonEntries(config, "append", false);
    return std::shared_ptr<const Instance>(std::move(inst));
  }

 private:
  sc::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makeResponseTransformerPlugin() {
  return std::make_unique<ResponseTransformerFactory>();
}

}  // namespace archway::plugins
