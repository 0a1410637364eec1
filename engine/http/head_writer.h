#pragma once
// Writing the head the proxy forwards: the parsed head is never patched in place; the proxy
// appends a new one into a per-connection std::string (clear() keeps its capacity, so steady
// state does not allocate).
#include <span>
#include <string>
#include <string_view>

#include "http/head_parser.h"

namespace archway::http {

// "METHOD target HTTP/1.1\r\n". Both come from a parsed head or from validated config.
void appendRequestLine(std::string& out, std::string_view method, std::string_view target);

// "HTTP/1.1 status reason\r\n"; status is 100..999.
void appendStatusLine(std::string& out, int status, std::string_view reason);

// "name: value\r\n". Returns false and appends nothing when the name is not a token or the
// value holds CR, LF, NUL or another control character other than HTAB: a value from a plugin
// or a config must never be able to inject a header line.
bool appendHeader(std::string& out, std::string_view name, std::string_view value);
// Writes "name: value\r\n" at p, which has room for name.size() + value.size() + 4 bytes,
// without checking either (appendHeader checks first); returns the end.
char* writeHeaderLine(char* p, std::string_view name, std::string_view value);

// Every header of a parsed head that is not hop-by-hop, as received (already validated).
void appendEndToEndHeaders(std::string& out, const char* base, std::span<const Header> headers);

// The empty line that ends a head.
inline void appendHeadEnd(std::string& out) {
  out.append("\r\n", 2);
}

}  // namespace archway::http
