#include "http/head_writer.h"

#include <cstring>

#include "http/byte_scan.h"
#include "http/char_class.h"

namespace archway::http {

void appendRequestLine(std::string& out, std::string_view method, std::string_view target) {
  out.append(method);
  out.push_back(' ');
  out.append(target);
  out.append(" HTTP/1.1\r\n", 11);
}

void appendStatusLine(std::string& out, int status, std::string_view reason) {
  const char code[3] = {char('0' + status / 100 % 10), char('0' + status / 10 % 10),
                        char('0' + status % 10)};
  out.append("HTTP/1.1 ", 9);
  out.append(code, 3);
  out.push_back(' ');
  out.append(reason);
  out.append("\r\n", 2);
}

bool appendHeader(std::string& out, std::string_view name, std::string_view value) {
  // Checked with the parser's word-at-a-time scans: a token name, and a value whose only
  // control byte is HTAB.
  if (name.empty() || detail::skipToken(name.data(), 0, name.size()) != name.size()) return false;
  for (std::size_t i = detail::findCtl(value.data(), 0, value.size()); i < value.size();
       i = detail::findCtl(value.data(), i + 1, value.size())) {
    if (value[i] != '\t') return false;
  }
  // One size check and one copy per piece instead of four appends.
  const std::size_t at = out.size();
  out.resize(at + name.size() + value.size() + 4);
  writeHeaderLine(out.data() + at, name, value);
  return true;
}

char* writeHeaderLine(char* p, std::string_view name, std::string_view value) {
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = ':';
  *p++ = ' ';
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  p += value.size();
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

void appendEndToEndHeaders(std::string& out, const char* base, std::span<const Header> headers) {
  for (const Header& h : headers) {
    if (h.hopByHop) continue;
    out.append(h.name.in(base));
    out.append(": ", 2);
    out.append(h.value.in(base));
    out.append("\r\n", 2);
  }
}

}  // namespace archway::http
