#include "http/multipart.h"

namespace archway::http::multipart {
namespace {

char lowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(key, value) for each `; key=value` parameter after the first item of a header value
// (`form-data; name="a"; filename="b"`); quoted values come without their quotes. Stops
// early when f returns false.
template <class F>
void forEachParam(std::string_view v, F&& f) {
  std::size_t i = v.find(';');
  while (i != std::string_view::npos && i < v.size()) {
    ++i;
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    const std::size_t eq = v.find('=', i);
    const std::size_t semi = v.find(';', i);
    if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
      i = semi;
      continue;
    }
    std::string_view key = trim(v.substr(i, eq - i));
    std::size_t j = eq + 1;
    while (j < v.size() && (v[j] == ' ' || v[j] == '\t')) ++j;
    std::string_view value;
    if (j < v.size() && v[j] == '"') {
      const std::size_t close = v.find('"', j + 1);
      if (close == std::string_view::npos) return;  // unterminated quote: nothing more to trust
      value = v.substr(j + 1, close - j - 1);
      i = v.find(';', close + 1);
    } else {
      const std::size_t end = semi == std::string_view::npos ? v.size() : semi;
      value = trim(v.substr(j, end - j));
      i = semi;
    }
    if (!f(key, value)) return;
  }
}

void readDisposition(Part& part) {
  std::string_view h = part.headers;
  while (!h.empty()) {
    const std::size_t eol = h.find("\r\n");
    std::string_view line = h.substr(0, eol);
    h = eol == std::string_view::npos ? std::string_view() : h.substr(eol + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (!iequals(trim(line.substr(0, colon)), "content-disposition")) continue;
    forEachParam(line.substr(colon + 1), [&](std::string_view k, std::string_view v) {
      if (iequals(k, "name")) {
        part.name = v;
      } else if (iequals(k, "filename")) {
        part.filename = v;
        part.hasFilename = true;
      }
      return true;
    });
    return;
  }
}

bool boundaryChar(char c) {
  // RFC 2046 bcharsnospace plus space (not last).
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

// The next delimiter line at or after `from`: CRLF "--" boundary followed by "--", or by
// optional padding and CRLF. Content may hold the boundary followed by anything else.
std::size_t nextDelimiter(std::string_view body, std::string_view delimiter, std::size_t from) {
  for (std::size_t at = body.find(delimiter, from); at != std::string_view::npos;
       at = body.find(delimiter, at + 1)) {
    std::size_t after = at + delimiter.size();
    if (body.substr(after, 2) == "--") return at;
    while (after < body.size() && (body[after] == ' ' || body[after] == '\t')) ++after;
    if (body.substr(after, 2) == "\r\n") return at;
  }
  return std::string_view::npos;
}

}  // namespace

std::string_view boundaryOf(std::string_view contentType) {
  const std::size_t semi = contentType.find(';');
  if (!iequals(trim(contentType.substr(0, semi)), "multipart/form-data")) return {};
  std::string_view boundary;
  forEachParam(contentType, [&](std::string_view k, std::string_view v) {
    if (!iequals(k, "boundary")) return true;
    boundary = v;
    return false;
  });
  if (boundary.empty() || boundary.size() > 70 || boundary.back() == ' ') return {};
  for (char c : boundary) {
    if (!boundaryChar(c)) return {};
  }
  return boundary;
}

core::Result<std::vector<Part>> parse(std::string_view body, std::string_view boundary,
                                      const Limits& limits) {
  if (boundary.empty()) return core::Error{"body", "multipart body without a boundary"};
  // Delimiters are CRLF "--" boundary; the first may open the body without the CRLF.
  std::string delimiter = "\r\n--";
  delimiter.append(boundary);
  std::size_t pos;
  if (body.substr(0, delimiter.size() - 2) == std::string_view(delimiter).substr(2)) {
    pos = delimiter.size() - 2;
  } else {
    const std::size_t at = body.find(delimiter);
    if (at == std::string_view::npos)
      return core::Error{"body", "multipart body without its boundary"};
    pos = at + delimiter.size();
  }
  std::vector<Part> parts;
  for (;;) {
    // After a delimiter: "--" closes the body; else optional padding and CRLF open a part.
    if (body.substr(pos, 2) == "--") return parts;
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") {
      return core::Error{"body", pos >= body.size()
                                     ? "multipart body ends before its closing boundary"
                                     : "multipart boundary not followed by a line end"};
    }
    pos += 2;
    if (parts.size() >= limits.maxParts)
      return core::Error{
          "body", "multipart body has more than " + std::to_string(limits.maxParts) + " parts"};
    Part part;
    // The header block ends at an empty line; a part may have no headers at all.
    if (body.substr(pos, 2) == "\r\n") {
      pos += 2;
    } else {
      const std::size_t window = std::min(body.size() - pos, limits.maxHeaderBytes + 4);
      const std::size_t end = body.substr(pos, window).find("\r\n\r\n");
      if (end == std::string_view::npos) {
        return core::Error{"body", window > limits.maxHeaderBytes
                                       ? "multipart part headers too large"
                                       : "multipart part ends inside its headers"};
      }
      part.headers = body.substr(pos, end);
      pos += end + 4;
      readDisposition(part);
    }
    const std::size_t next = nextDelimiter(body, delimiter, pos);
    if (next == std::string_view::npos)
      return core::Error{"body", "multipart body ends before its closing boundary"};
    part.value = body.substr(pos, next - pos);
    parts.push_back(part);
    pos = next + delimiter.size();
  }
}

const Part* find(const std::vector<Part>& parts, std::string_view name) {
  for (const auto& p : parts) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

void appendPart(std::string& out, std::string_view boundary, std::string_view headers,
                std::string_view value) {
  out.append("--").append(boundary).append("\r\n");
  if (!headers.empty()) out.append(headers).append("\r\n");
  out.append("\r\n").append(value).append("\r\n");
}

void appendEnd(std::string& out, std::string_view boundary) {
  out.append("--").append(boundary).append("--\r\n");
}

std::string fieldHeaders(std::string_view name) {
  std::string h = "Content-Disposition: form-data; name=\"";
  h.append(name).append("\"");
  return h;
}

std::string encode(const std::vector<Part>& parts, std::string_view boundary) {
  std::size_t size = boundary.size() + 8;
  for (const auto& p : parts) size += boundary.size() + p.headers.size() + p.value.size() + 10;
  std::string out;
  out.reserve(size);
  for (const auto& p : parts) appendPart(out, boundary, p.headers, p.value);
  appendEnd(out, boundary);
  return out;
}

}  // namespace archway::http::multipart
