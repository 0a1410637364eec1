#include "plugins/response_transformer/mime_type.h"

namespace archway::plugins::mime {
namespace {

bool isCtl(unsigned char c) {
  return c < 32 || c == 127;
}

bool isSeparator(char c) {
  switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '=':
    case '{':
    case '}':
    case ' ':
    case '\t':
      return true;
    default:
      return false;
  }
}

bool isTokenChar(char ch) {
  auto c = static_cast<unsigned char>(ch);
  return c < 128 && !isCtl(c) && !isSeparator(ch);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  std::optional<MediaType> run() {
    MediaType m;
    // `token "/" token`, else a bare "*" (ordered choice, as Kong's LPeg grammar).
    std::string_view t = token();
    std::string_view st;
    if (!t.empty() && peek() == '/') {
      ++pos_;
      st = token();
    }
    if (!st.empty()) {
      m.type = lower(t);
      m.subtype = lower(st);
    } else if (s_.substr(0, 1) == "*") {
      pos_ = 1;
      m.type = m.subtype = "*";
    } else {
      return std::nullopt;
    }
    for (;;) {
      std::size_t save = pos_;
      spacing();
      if (peek() != ';') {
        pos_ = save;
        break;
      }
      ++pos_;
      spacing();
      std::string_view name = token();
      if (name.empty() || peek() != '=') return std::nullopt;
      ++pos_;
      std::string value;
      if (peek() == '"') {
        ++pos_;
        std::size_t start = pos_;
        // Kong's grammar tries qdtext before quoted-pair, so a backslash is plain text and
        // the next '"' always closes the string.
        while (pos_ < s_.size() && s_[pos_] != '"') {
          if (isCtl(static_cast<unsigned char>(s_[pos_]))) return std::nullopt;
          ++pos_;
        }
        if (peek() != '"') return std::nullopt;
        value.assign(s_.substr(start, pos_ - start));
        ++pos_;
      } else {
        std::string_view v = token();
        if (v.empty()) return std::nullopt;
        value.assign(v);
      }
      m.params.emplace_back(lower(name), std::move(value));
    }
    if (pos_ != s_.size()) return std::nullopt;
    return m;
  }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void spacing() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  std::string_view token() {
    std::size_t start = pos_;
    while (pos_ < s_.size() && isTokenChar(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

std::string_view strip(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

const std::string* MediaType::param(std::string_view name) const {
  // Lua tables keep the last value of a repeated parameter.
  const std::string* found = nullptr;
  for (const auto& [k, v] : params) {
    if (k == name) found = &v;
  }
  return found;
}

std::optional<MediaType> parse(std::string_view text) {
  return Parser(text).run();
}

bool includes(const MediaType& self, const MediaType& other) {
  if (self.type == "*") return true;
  if (self.type != other.type) return false;
  if (self.subtype == other.subtype || self.subtype == "*") return true;
  if (self.subtype.find('+') == std::string::npos) {
    const std::string suffix = "+" + self.subtype;
    return other.subtype.size() >= suffix.size() &&
           other.subtype.compare(other.subtype.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return false;
}

bool isJson(std::string_view contentType) {
  static const MediaType kJson{"application", "json", {}};
  while (true) {
    auto comma = contentType.find(',');
    if (auto m = parse(strip(contentType.substr(0, comma))); m && includes(kJson, *m)) return true;
    if (comma == std::string_view::npos) return false;
    contentType.remove_prefix(comma + 1);
  }
}

}  // namespace archway::plugins::mime
