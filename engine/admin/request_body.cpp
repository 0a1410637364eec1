#include "admin/request_body.h"

#include <boost/json/parse.hpp>
#include <string>
#include <utility>
#include <vector>

namespace archway::admin {
namespace json = boost::json;

namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    bool match = true;
    for (std::size_t j = 0; j < needle.size() && match; ++j)
      match = lower(haystack[i + j]) == lower(needle[j]);
    if (match) return true;
  }
  return false;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded: '+' is a space, %XX a byte (invalid escapes kept).
std::string formDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Pairs urlEncodedPairs(std::string_view body) {
  Pairs out;
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos)
      out.emplace_back(formDecode(pair), "");
    else
      out.emplace_back(formDecode(pair.substr(0, eq)), formDecode(pair.substr(eq + 1)));
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Simple multipart/form-data: each part's `name` and its text value (files are read as text).
Pairs multipartPairs(std::string_view body, std::string_view contentType) {
  Pairs out;
  auto b = contentType.find("boundary=");
  if (b == std::string_view::npos) return out;
  std::string_view boundary = contentType.substr(b + 9);
  if (auto semi = boundary.find(';'); semi != std::string_view::npos)
    boundary = boundary.substr(0, semi);
  boundary = trim(boundary);
  if (boundary.size() >= 2 && boundary.front() == '"')
    boundary = boundary.substr(1, boundary.size() - 2);
  const std::string delimiter = "--" + std::string(boundary);
  std::size_t pos = body.find(delimiter);
  while (pos != std::string_view::npos) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") break;
    auto headersEnd = body.find("\r\n\r\n", pos);
    if (headersEnd == std::string_view::npos) break;
    std::string_view headers = body.substr(pos, headersEnd - pos);
    std::size_t valueStart = headersEnd + 4;
    auto next = body.find("\r\n" + delimiter, valueStart);
    if (next == std::string_view::npos) break;
    std::string_view value = body.substr(valueStart, next - valueStart);
    auto n = headers.find("name=\"");
    if (n != std::string_view::npos) {
      auto end = headers.find('"', n + 6);
      if (end != std::string_view::npos)
        out.emplace_back(std::string(headers.substr(n + 6, end - n - 6)), std::string(value));
    }
    pos = next + 2;
  }
  return out;
}

// Kong's key_to_path: "a.b[]" -> {"a", "b", "[]"}; "[2]" indexes an array.
std::vector<std::string> keyPath(const std::string& key) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c == '.') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else if (c == '[') {
      auto close = key.find(']', i);
      if (close == std::string::npos) {
        cur += key.substr(i);
        break;
      }
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
      out.push_back(key.substr(i, close - i + 1));
      i = close;
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

void insert(json::value& node, const std::vector<std::string>& path, std::size_t i,
            const std::string& value) {
  const std::string& seg = path[i];
  const bool last = i + 1 == path.size();
  if (seg.front() == '[') {
    if (!node.is_array()) {
      json::array a;
      if (node.is_string()) a.push_back(node);
      node = std::move(a);
    }
    auto& a = node.as_array();
    std::size_t index = a.size();
    if (seg != "[]") {
      try {
        // Kong's indexes are 1-based.
        long long n = std::stoll(seg.substr(1, seg.size() - 2));
        if (n >= 1) index = static_cast<std::size_t>(n - 1);
      } catch (...) {
      }
    }
    if (index > 1000) index = a.size();  // untrusted input: no huge arrays
    while (a.size() <= index) a.push_back(nullptr);
    if (last)
      a[index] = json::string(value);
    else
      insert(a[index], path, i + 1, value);
    return;
  }
  if (!node.is_object()) node = json::object{};
  auto& o = node.as_object();
  if (last) {
    auto it = o.find(seg);
    if (it == o.end()) {
      o[seg] = json::string(value);
    } else if (it->value().is_array()) {
      it->value().as_array().push_back(json::string(value));
    } else {
      json::array a{it->value(), json::string(value)};
      it->value() = std::move(a);
    }
    return;
  }
  insert(o[seg], path, i + 1, value);
}

json::object normalize(const Pairs& pairs) {
  json::value root = json::object{};
  for (const auto& [k, v] : pairs) {
    auto path = keyPath(k);
    if (path.empty() || path.front().front() == '[') continue;
    insert(root, path, 0, v);
  }
  return root.as_object();
}

Pairs formPairs(std::string_view body, std::string_view contentType) {
  if (contains(contentType, "multipart/form-data")) return multipartPairs(body, contentType);
  return urlEncodedPairs(body);
}

}  // namespace

core::Result<ParsedBody> parseRequestBody(std::string_view body, std::string_view contentType) {
  ParsedBody out;
  bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (contains(contentType, "application/json") ||
      (contentType.empty() && !blank && trim(body).front() == '{')) {
    if (blank) return out;
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return core::Error{"", "Cannot parse JSON body"};
    out.kind = BodyKind::json;
    out.fields = std::move(v.as_object());
    return out;
  }
  if (blank) return out;
  out.kind = BodyKind::form;
  out.fields = normalize(formPairs(body, contentType));
  return out;
}

std::string_view formField(std::string_view body, std::string_view contentType,
                           std::string_view name, std::string& storage) {
  for (auto& [k, v] : formPairs(body, contentType)) {
    if (k == name) {
      storage = std::move(v);
      return storage;
    }
  }
  return {};
}

}  // namespace archway::admin
