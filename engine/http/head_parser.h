#pragma once
// The hot-path HTTP/1.1 head parser for the proxy data plane.
//
// Contracts shared by parseRequestHead and parseResponseHead:
// - In place: the parser never copies or allocates. Every Slice is an offset into the caller's
//   buffer, so a head stays valid when the buffer moves (realloc) as long as its bytes do not
//   change. Call reserve() once per connection; after that the header vector never reallocates.
// - Incremental: `incomplete` means "call again with the same bytes plus more". The head object
//   remembers how far it got (cursor), so feeding a head in N small reads costs O(head size),
//   not O(N * head size): a slow client cannot make us rescan. After `complete` or `error` the
//   next call starts a fresh message (pipelining: pass data + headEnd). If the caller abandons
//   a message after `incomplete` (new connection, different buffer), it must call reset().
// - Bounded: limits are enforced as soon as they are exceeded, also on incomplete heads, so
//   memory held for a client is bounded by maxHeaderBytes.
// - Strict: anything that two HTTP implementations could frame differently (request smuggling)
//   is an error, never "repaired". Errors carry the status to answer with and a static message.
//   No exceptions are thrown on the parse path.
// - Line endings are CRLF. A bare CR anywhere is an error. A bare LF is an error unless
//   Limits::acceptBareLf (RFC 9112 2.2 allows it; nginx does it); since the proxy rebuilds the
//   head it forwards, accepting it never leaks an ambiguous head upstream. Chunked framing (body
//   bytes relayed verbatim) always requires CRLF, see ChunkedScanner.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace archway::http {

// Bytes [off, off + len) of the buffer the head was parsed from.
struct Slice {
  std::uint32_t off = 0, len = 0;

  std::string_view in(const char* base) const { return {base + off, len}; }
  bool empty() const { return len == 0; }
  bool operator==(const Slice&) const = default;
};

// The header names the parser itself interprets; everything else is `other`. Exposed so the
// proxy does not compare the same names again.
enum class HeaderId : std::uint8_t {
  other,
  host,
  contentLength,
  transferEncoding,
  connection,
  keepAlive,
  proxyConnection,
  te,
  trailer,
  upgrade,
  expect,
};

struct Header {
  Slice name;
  Slice value;  // without leading and trailing OWS (SP / HTAB)
  HeaderId id = HeaderId::other;
  // Must not be forwarded: Connection, Keep-Alive, Proxy-Connection, TE, Trailer,
  // Transfer-Encoding, Upgrade, and every header named in Connection except Host and
  // Content-Length (naming those must not let a client strip routing or framing upstream).
  bool hopByHop = false;
};

struct Limits {
  // Request line (status line for responses) without its CRLF.
  std::size_t maxRequestLine = 8192;
  // The whole head including leading empty lines and the final CRLF CRLF.
  std::size_t maxHeaderBytes = 64 * 1024;
  std::size_t maxHeaders = 100;
  bool acceptBareLf = false;
};

enum class ParseStatus { complete, incomplete, error };

struct ParseError {
  // For requests: the status to answer the client with (400, 414, 431, 501, 505). For
  // responses always 502: the upstream is at fault and the client gets Bad Gateway.
  int status = 400;
  std::string_view message;  // static storage
};

enum class Method : std::uint8_t {
  get,
  head,
  post,
  put,
  delete_,
  patch,
  options,
  trace,
  connect,
  other,
};

// Where parsing resumes after `incomplete`. Owned by the parser; callers only reset it.
struct HeadCursor {
  std::uint32_t next = 0;  // first byte of the first line not parsed yet
  std::uint32_t scan = 0;  // the current line has no LF in [next, scan)
  std::uint8_t stage = 0;  // 0: idle (next call starts a new message)
  bool sawTransferEncoding = false;
  bool chunkedSeen = false;
  bool chunkedLast = false;
  bool sawUpgrade = false;
};

// What requests and responses share.
struct MessageHead {
  int versionMinor = 1;       // HTTP/1.0 or HTTP/1.1 only
  std::uint32_t headEnd = 0;  // bytes of the head including leading empty lines and CRLF CRLF
  std::vector<Header> headers;
  // -1: no Content-Length. A request with neither Content-Length nor chunked has no body
  // (RFC 9112 6.3); never both (an error).
  std::int64_t contentLength = -1;
  bool chunked = false;    // Transfer-Encoding present with chunked as final coding
  bool keepAlive = false;  // the connection may carry another message afterwards
  HeadCursor cursor;

  // Room for the headers of a typical message (a connection keeps it); a message with more
  // grows the vector once, up to limits.maxHeaders.
  void reserve(const Limits& limits) {
    headers.reserve(std::min<std::size_t>(limits.maxHeaders, 32));
  }
  // Abandons a message that is half parsed; not needed after `complete` or `error`.
  void reset() { cursor = HeadCursor{}; }
  bool isHopByHop(std::size_t i) const { return headers[i].hopByHop; }
  // The first header named `name` (ASCII case-insensitive), or -1.
  int find(const char* base, std::string_view name) const;
};

struct RequestHead : MessageHead {
  Slice method;
  Slice target;  // as sent
  // origin-form "/p?q": path "/p", query "q". absolute-form "http://h:1/p?q": authority "h:1",
  // path "/p", query "q"; an empty path there means "/". OPTIONS "*": path "*". CONNECT
  // "h:443": authority "h:443", path empty. A proxy must route absolute-form requests by
  // `authority`, not by Host (RFC 9112 3.2.2).
  Slice path;
  Slice query;      // after the first '?', without it; empty when there is none
  Slice authority;  // absolute-form and CONNECT only
  Method methodId = Method::other;
  int host = -1;                // index of the Host header, -1 if absent (only allowed on HTTP/1.0)
  bool expectContinue = false;  // "Expect: 100-continue" on HTTP/1.1
  bool upgrade = false;         // Upgrade header and "upgrade" in Connection, on HTTP/1.1
};

struct ResponseHead : MessageHead {
  int status = 0;
  Slice reason;
  // 1xx, 204, 304: no body whatever the framing headers say. The parser does not know the
  // request: responses to HEAD and 2xx responses to CONNECT have no body either.
  bool noBody = false;
  // Neither Content-Length nor chunked (and a body is allowed): the body ends when the
  // upstream closes; keepAlive is false then.
  bool untilClose = false;
};

// Request errors: 400 malformed or ambiguous framing, 414 request line, 431 head size or header
// count, 501 a transfer coding other than chunked, 505 HTTP version other than 1.0 / 1.1.
// Every error means: answer with err.status and close the connection.
ParseStatus parseRequestHead(const char* data, std::size_t len, const Limits& limits,
                             RequestHead& out, ParseError& err);
ParseStatus parseResponseHead(const char* data, std::size_t len, const Limits& limits,
                              ResponseHead& out, ParseError& err);

// Case-sensitive method name to id (methods are case-sensitive, RFC 9110 9.1).
Method methodFromName(std::string_view name);

}  // namespace archway::http
