#include "http/head_writer.h"

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
  if (name.empty()) return false;
  for (char c : name)
    if (!detail::is(c, detail::kToken)) return false;
  for (char c : value)
    if (!detail::is(c, detail::kValue)) return false;
  out.append(name);
  out.append(": ", 2);
  out.append(value);
  out.append("\r\n", 2);
  return true;
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
