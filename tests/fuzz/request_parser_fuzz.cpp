// libFuzzer target for the engine/http hot path: request and response heads, resumed parsing,
// chunked body framing and head rewriting. Every invariant failure aborts (a crash for the
// fuzzer). Input: byte 0 picks the limits, byte 1 the read size, the rest is the stream.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "http/chunked_scanner.h"
#include "http/head_parser.h"
#include "http/head_writer.h"

using namespace archway::http;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

void checkSlice(Slice s, std::size_t end, const char* what) {
  check(std::uint64_t(s.off) + s.len <= end, what);
}

void checkError(const ParseError& err, bool request) {
  check(!err.message.empty(), "error has a message");
  if (request) {
    const int s = err.status;
    check(s == 400 || s == 414 || s == 431 || s == 501 || s == 505, "request error status");
  } else {
    check(err.status == 502, "response error status");
  }
}

void checkMessageHead(const MessageHead& h, std::size_t len, const Limits& limits) {
  check(h.headEnd > 0 && h.headEnd <= len, "0 < headEnd <= len");
  check(h.headEnd <= limits.maxHeaderBytes, "headEnd <= maxHeaderBytes");
  check(h.headers.size() <= limits.maxHeaders, "headers <= maxHeaders");
  check(!(h.chunked && h.contentLength >= 0), "not both chunked and Content-Length");
  check(h.versionMinor == 0 || h.versionMinor == 1, "HTTP/1.0 or 1.1");
  for (const Header& hd : h.headers) {
    check(hd.name.len > 0, "header name not empty");
    checkSlice(hd.name, h.headEnd, "header name in head");
    checkSlice(hd.value, h.headEnd, "header value in head");
  }
}

bool sameHead(const RequestHead& a, const RequestHead& b) {
  if (a.headEnd != b.headEnd || a.headers.size() != b.headers.size()) return false;
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    const Header &x = a.headers[i], &y = b.headers[i];
    if (!(x.name == y.name) || !(x.value == y.value) || x.id != y.id || x.hopByHop != y.hopByHop)
      return false;
  }
  return a.method == b.method && a.target == b.target && a.path == b.path && a.query == b.query &&
         a.authority == b.authority && a.methodId == b.methodId &&
         a.versionMinor == b.versionMinor && a.host == b.host &&
         a.contentLength == b.contentLength && a.chunked == b.chunked &&
         a.keepAlive == b.keepAlive && a.expectContinue == b.expectContinue &&
         a.upgrade == b.upgrade;
}

void scanChunked(const char* p, std::size_t n, std::size_t step) {
  ChunkedLimits limits;
  limits.maxChunkLine = 64;
  limits.maxTrailerBytes = 256;
  ChunkedScanner whole(limits);
  const std::size_t all = whole.feed(p, n);
  check(all <= n, "chunked consumed <= n");
  check(!(whole.done() && whole.error()), "not both done and error");
  check(whole.done() || whole.error() || all == n, "stops early only when done or failing");
  check(whole.error() == !whole.message().empty(), "message iff error");
  check(whole.dataBytes() <= all, "data bytes within consumed bytes");

  ChunkedScanner pieces(limits);
  std::size_t used = 0;
  while (used < n && !pieces.done() && !pieces.error()) {
    const std::size_t k = std::min(step, n - used);
    const std::size_t got = pieces.feed(p + used, k);
    check(got <= k, "piece consumed <= piece");
    used += got;
    if (got < k) break;
  }
  check(used == all && pieces.done() == whole.done() && pieces.error() == whole.error() &&
            pieces.dataBytes() == whole.dataBytes(),
        "chunked framing independent of read sizes");
  if (whole.done()) check(whole.feed(p, n) == 0, "nothing consumed after done");
}

void fuzzRequest(const char* d, std::size_t len, const Limits& limits, std::size_t step) {
  RequestHead oneShot;
  ParseError err;
  const ParseStatus s = parseRequestHead(d, len, limits, oneShot, err);

  // The same bytes arriving in reads of `step` bytes must give the same answer.
  RequestHead resumed;
  resumed.reserve(limits);
  ParseError err2;
  ParseStatus r = ParseStatus::incomplete;
  std::size_t have = 0;
  while (r == ParseStatus::incomplete && have < len) {
    have = std::min(len, have + step);
    r = parseRequestHead(d, have, limits, resumed, err2);
  }
  check(r == s, "resumed status equals one-shot status");

  if (s == ParseStatus::error) {
    checkError(err, true);
    check(err.status == err2.status, "same error status when resumed");
    // Two 431 reasons (head too large, too many fields) can both apply; which one is seen
    // first depends on where the reads end.
    if (err.status != 431) check(err.message == err2.message, "same error when resumed");
    return;
  }
  if (s == ParseStatus::incomplete) {
    check(len < limits.maxHeaderBytes, "incomplete only below the head limit");
    return;
  }
  check(sameHead(oneShot, resumed), "resumed head equals one-shot head");
  const RequestHead& h = oneShot;
  checkMessageHead(h, len, limits);
  checkSlice(h.method, h.headEnd, "method in head");
  checkSlice(h.target, h.headEnd, "target in head");
  checkSlice(h.path, h.headEnd, "path in head");
  checkSlice(h.query, h.headEnd, "query in head");
  checkSlice(h.authority, h.headEnd, "authority in head");
  check(h.method.len > 0 && h.target.len > 0, "method and target present");
  check(h.path.off >= h.target.off && h.path.off + h.path.len <= h.target.off + h.target.len,
        "path inside target");
  check(h.host < int(h.headers.size()), "host index valid");
  if (h.host >= 0) check(h.headers[std::size_t(h.host)].id == HeaderId::host, "host index is Host");
  if (h.versionMinor == 1) check(h.host >= 0, "HTTP/1.1 has Host");
  for (const Header& hd : h.headers) {
    if (hd.id == HeaderId::host || hd.id == HeaderId::contentLength)
      check(!hd.hopByHop, "Host and Content-Length are never hop-by-hop");
  }

  // What the proxy forwards must parse again to the same request.
  std::string fwd;
  appendRequestLine(fwd, h.method.in(d), h.target.in(d));
  appendEndToEndHeaders(fwd, d, h.headers);
  appendHeadEnd(fwd);
  Limits roomy;
  roomy.maxHeaderBytes = 1 << 20;
  roomy.maxRequestLine = 1 << 20;
  roomy.maxHeaders = 1000;
  RequestHead again;
  ParseError err3;
  const ParseStatus a = parseRequestHead(fwd.data(), fwd.size(), roomy, again, err3);
  if (h.versionMinor == 1) {
    check(a == ParseStatus::complete, "forwarded head parses");
    check(again.headEnd == fwd.size(), "forwarded head ends at its end");
    check(again.path.in(fwd.data()) == h.path.in(d), "forwarded path unchanged");
    check(again.query.in(fwd.data()) == h.query.in(d), "forwarded query unchanged");
    check(again.contentLength == h.contentLength, "forwarded Content-Length unchanged");
    check(!again.chunked, "Transfer-Encoding is not forwarded");
  }

  if (h.chunked) scanChunked(d + h.headEnd, len - h.headEnd, step);
}

void fuzzResponse(const char* d, std::size_t len, const Limits& limits) {
  ResponseHead h;
  ParseError err;
  const ParseStatus s = parseResponseHead(d, len, limits, h, err);
  if (s == ParseStatus::error) {
    checkError(err, false);
    return;
  }
  if (s == ParseStatus::incomplete) return;
  checkMessageHead(h, len, limits);
  checkSlice(h.reason, h.headEnd, "reason in head");
  check(h.status >= 100 && h.status <= 999, "status in range");
  check(!(h.untilClose && h.keepAlive), "until-close body is not keep-alive");
  check(!(h.untilClose && h.noBody), "until-close has a body");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t mode = data[0];
  const std::size_t step = std::size_t(data[1] % 32) + 1;
  const char* d = reinterpret_cast<const char*>(data + 2);
  const std::size_t len = size - 2;

  Limits limits;
  limits.acceptBareLf = mode & 1;
  if (mode & 2) {
    // Small limits make the limit paths reachable with short inputs.
    limits.maxRequestLine = 16 + (mode >> 4);
    limits.maxHeaderBytes = 48 + 8 * (mode >> 4);
    limits.maxHeaders = 1 + ((mode >> 2) & 3);
  }
  fuzzRequest(d, len, limits, step);
  fuzzResponse(d, len, limits);
  if (mode & 4) scanChunked(d, len, step);
  return 0;
}
