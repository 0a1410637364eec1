#include "router/path.h"

#include <vector>

namespace archway::router {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

}  // namespace

bool normalizePath(std::string_view in, std::string& out) {
  // 1. percent-escapes: decode unreserved, upper-case the rest; 2. merge slashes.
  std::string decoded;
  decoded.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hexValue(in[i + 1]);
      int lo = hexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      auto v = static_cast<unsigned char>(hi * 16 + lo);
      if (unreserved(v)) {
        decoded += static_cast<char>(v);
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        decoded += '%';
        decoded += kHex[v >> 4];
        decoded += kHex[v & 15];
      }
      i += 2;
    } else if (c == '/' && !decoded.empty() && decoded.back() == '/') {
      continue;
    } else {
      decoded += c;
    }
  }
  // 3. remove dot segments (RFC 3986 5.2.4) on the slash-separated segments.
  bool fastPath = decoded.find("/.") == std::string::npos;
  if (fastPath) {
    out = std::move(decoded);
    if (out.empty()) out = "/";
    return true;
  }
  std::vector<std::string_view> segments;
  std::string_view p = decoded;
  bool trailingSlash = false;
  std::size_t pos = 0;
  if (!p.empty() && p[0] == '/') pos = 1;
  while (pos <= p.size()) {
    auto next = p.find('/', pos);
    std::string_view seg =
        p.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    bool last = next == std::string_view::npos;
    if (seg == ".") {
      trailingSlash = last;
    } else if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      trailingSlash = last;
    } else {
      segments.push_back(seg);
      trailingSlash = false;
    }
    if (last) break;
    pos = next + 1;
  }
  out.clear();
  for (auto seg : segments) {
    out += '/';
    out += seg;
  }
  if (trailingSlash || out.empty()) out += '/';
  return true;
}

std::string joinPathV0(std::string_view servicePath, std::string_view rest) {
  if (servicePath.empty()) servicePath = "/";
  if (rest.empty()) return std::string(servicePath);
  std::string out(servicePath);
  if (out.back() == '/' && rest.front() == '/') {
    out.append(rest.substr(1));
  } else {
    out.append(rest);
  }
  return out;
}

std::string joinPathV1(std::string_view servicePath, std::string_view rest) {
  if (servicePath.empty()) servicePath = "/";
  if (rest.empty()) return std::string(servicePath);
  std::string out(servicePath);
  if (out.back() == '/' && rest.front() == '/') {
    out.append(rest.substr(1));
  } else if (out.back() != '/' && rest.front() != '/') {
    out += '/';
    out.append(rest);
  } else {
    out.append(rest);
  }
  return out;
}

}  // namespace archway::router
