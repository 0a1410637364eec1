#include "http/head_parser.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>

#include "http/byte_scan.h"
#include "http/char_class.h"

namespace archway::http {
namespace {

using detail::equalsLower;
using detail::equalsNoCase;
using detail::is;
using detail::kHost;
using detail::kTarget;
using detail::kToken;
using detail::kValue;

enum Stage : std::uint8_t { kIdle = 0, kLeading, kStartLine, kFields };

// A client listing more options than this in Connection is not a browser or an HTTP library;
// the cap keeps hop-by-hop marking (tokens x headers) from becoming a CPU amplifier.
constexpr std::size_t kMaxConnectionTokens = 32;

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isOws(char c) {
  return c == ' ' || c == '\t';
}

// `n` must be a valid field name (all tchars): equalsLowerToken relies on it. Length and first
// byte pick the one candidate to compare.
HeaderId classify(std::string_view n) {
  const char* p = n.data();
  const char first = static_cast<char>(p[0] | 0x20);
  auto eq = [p](const char* lit, std::size_t len) { return detail::equalsLowerToken(p, lit, len); };
  switch (n.size()) {
    case 2:
      if (eq("te", 2)) return HeaderId::te;
      break;
    case 4:
      if (eq("host", 4)) return HeaderId::host;
      break;
    case 6:
      if (eq("expect", 6)) return HeaderId::expect;
      break;
    case 7:
      if (first == 't' && eq("trailer", 7)) return HeaderId::trailer;
      if (first == 'u' && eq("upgrade", 7)) return HeaderId::upgrade;
      break;
    case 10:
      if (first == 'c' && eq("connection", 10)) return HeaderId::connection;
      if (first == 'k' && eq("keep-alive", 10)) return HeaderId::keepAlive;
      break;
    case 14:
      if (first == 'c' && eq("content-length", 14)) return HeaderId::contentLength;
      break;
    case 16:
      if (first == 'p' && eq("proxy-connection", 16)) return HeaderId::proxyConnection;
      break;
    case 17:
      if (first == 't' && eq("transfer-encoding", 17)) return HeaderId::transferEncoding;
      break;
    default:
      break;
  }
  return HeaderId::other;
}

bool isHopByHopId(HeaderId id) {
  switch (id) {
    case HeaderId::connection:
    case HeaderId::keepAlive:
    case HeaderId::proxyConnection:
    case HeaderId::te:
    case HeaderId::trailer:
    case HeaderId::transferEncoding:
    case HeaderId::upgrade:
      return true;
    default:
      return false;
  }
}

// Content-Length = 1*DIGIT. A comma list of identical values ("5, 5", sent by some
// intermediaries) is accepted as that value (RFC 9110 8.6); anything else is an error.
enum class LengthResult { ok, malformed, conflicting };
LengthResult parseContentLength(std::string_view v, std::int64_t& out) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  // The usual case: a few digits only, which cannot overflow below 19 of them.
  if (!v.empty() && v.size() <= 18) {
    std::int64_t n = 0;
    std::size_t i = 0;
    for (; i < v.size() && isDigit(v[i]); ++i) n = n * 10 + (v[i] - '0');
    if (i == v.size()) {
      out = n;
      return LengthResult::ok;
    }
  }
  std::int64_t result = -1;
  std::size_t i = 0;
  for (;;) {
    while (i < v.size() && isOws(v[i])) ++i;
    const std::size_t start = i;
    std::int64_t n = 0;
    while (i < v.size() && isDigit(v[i])) {
      const int digit = v[i] - '0';
      if (n > (kMax - digit) / 10) return LengthResult::malformed;
      n = n * 10 + digit;
      ++i;
    }
    if (i == start) return LengthResult::malformed;
    if (result >= 0 && n != result) return LengthResult::conflicting;
    result = n;
    while (i < v.size() && isOws(v[i])) ++i;
    if (i == v.size()) break;
    if (v[i] != ',') return LengthResult::malformed;
    ++i;
  }
  out = result;
  return LengthResult::ok;
}

template <class Head>
class HeadParser {
  static constexpr bool kRequest = std::is_same_v<Head, RequestHead>;

 public:
  HeadParser(const char* d, std::size_t len, const Limits& lim, Head& out, ParseError& err)
      : d_(d),
        len_(len),
        lim_(lim),
        out_(out),
        err_(err),
        c_(out.cursor),
        // Slices are 32-bit offsets; no sane limit comes near that.
        maxHead_(std::min<std::size_t>(lim.maxHeaderBytes,
                                       std::numeric_limits<std::uint32_t>::max() - 1)),
        maxLine_(std::min(lim.maxRequestLine, maxHead_)) {}

  ParseStatus run() {
    if (c_.stage == kIdle || c_.next > len_ || c_.scan > len_) begin();
    if (c_.stage == kLeading) {
      if (auto s = skipLeadingEmptyLines(); s) return *s;
    }
    if (c_.stage == kStartLine) {
      if (auto s = startLine(); s) return *s;
    }
    return fields();
  }

 private:
  // A status to return now, or nullopt to go on with the next stage.
  using Step = std::optional<ParseStatus>;
  static Step goOn() { return std::nullopt; }
  static Step stopWith(ParseStatus s) { return s; }

  int code(int requestStatus) const { return kRequest ? requestStatus : 502; }

  ParseStatus fail(int requestStatus, std::string_view message) {
    err_.status = code(requestStatus);
    err_.message = message;
    c_ = HeadCursor{};
    return ParseStatus::error;
  }

  // Out of bytes before the head ended: fine unless the head can no longer fit.
  ParseStatus needMore() { return len_ >= maxHead_ ? tooLarge() : ParseStatus::incomplete; }

  ParseStatus tooLarge() {
    return fail(431,
                kRequest ? "request header fields too large" : "response header fields too large");
  }

  void begin() {
    out_.versionMinor = 1;
    out_.headEnd = 0;
    out_.headers.clear();
    out_.contentLength = -1;
    out_.chunked = false;
    out_.keepAlive = false;
    if constexpr (kRequest) {
      out_.method = out_.target = out_.path = out_.query = out_.authority = Slice{};
      out_.methodId = Method::other;
      out_.host = -1;
      out_.expectContinue = false;
      out_.upgrade = false;
    } else {
      out_.status = 0;
      out_.reason = Slice{};
      out_.noBody = false;
      out_.untilClose = false;
    }
    c_ = HeadCursor{};
    // RFC 9112 2.2 lets a server skip empty lines before a request line (left over from a
    // previous body's CRLF); a response has no such excuse.
    c_.stage = kRequest ? kLeading : kStartLine;
  }

  static Slice slice(std::size_t b, std::size_t e) {
    return Slice{static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e - b)};
  }

  Step skipLeadingEmptyLines() {
    for (;;) {
      if (c_.next >= len_) return stopWith(needMore());
      const char ch = d_[c_.next];
      if (ch == '\r') {
        if (c_.next + 2 > maxHead_) return stopWith(tooLarge());
        if (c_.next + 1 >= len_) return stopWith(needMore());
        if (d_[c_.next + 1] != '\n') return stopWith(fail(400, "bare CR in request head"));
        c_.next += 2;
      } else if (ch == '\n') {
        if (!lim_.acceptBareLf) return stopWith(fail(400, "bare LF line ending"));
        c_.next += 1;
      } else {
        break;
      }
      if (c_.next >= maxHead_) return stopWith(tooLarge());
    }
    c_.scan = c_.next;
    c_.stage = kStartLine;
    return goOn();
  }

  // Finds the LF ending the line that starts at c_.next, searching only bytes not searched
  // before and never past `cap`. Returns the index of the LF or npos.
  std::size_t findLf(std::size_t cap) {
    const std::size_t window = std::min(len_, cap);
    if (c_.scan < window) {
      const void* lf = std::memchr(d_ + c_.scan, '\n', window - c_.scan);
      if (lf) return static_cast<std::size_t>(static_cast<const char*>(lf) - d_);
      c_.scan = static_cast<std::uint32_t>(window);
    }
    return std::string_view::npos;
  }

  // The end of the line content before the LF at `lf`, or npos after failing.
  std::size_t contentEnd(std::size_t lineStart, std::size_t lf) {
    if (lf > lineStart && d_[lf - 1] == '\r') return lf - 1;
    if (!lim_.acceptBareLf) {
      fail(400, "bare LF line ending");
      return std::string_view::npos;
    }
    return lf;
  }

  Step startLine() {
    const std::size_t b = c_.next;
    const std::size_t lineCap = b + maxLine_ + 2;  // CR at most maxLine_ bytes in, then LF
    const std::size_t lf = findLf(std::min(lineCap, maxHead_));
    if (lf == std::string_view::npos) {
      // Report the limit whose byte was crossed first, so the answer does not depend on how
      // the head was split into reads.
      if (len_ >= lineCap && lineCap <= maxHead_)
        return stopWith(fail(414, kRequest ? "request line too long" : "status line too long"));
      return stopWith(needMore());
    }
    const std::size_t e = contentEnd(b, lf);
    if (e == std::string_view::npos) return stopWith(ParseStatus::error);
    if (e - b > maxLine_)
      return stopWith(fail(414, kRequest ? "request line too long" : "status line too long"));
    bool ok;
    if constexpr (kRequest) {
      ok = requestLine(b, e);
    } else {
      ok = statusLine(b, e);
    }
    if (!ok) return stopWith(ParseStatus::error);
    c_.next = static_cast<std::uint32_t>(lf + 1);
    c_.scan = c_.next;
    c_.stage = kFields;
    return goOn();
  }

  bool requestLine(std::size_t b, std::size_t e) {
    std::size_t i = detail::skipToken(d_, b, e);
    if (i == b) return fail(400, "invalid character in method"), false;
    if (i == e) return fail(400, "malformed request line"), false;
    if (d_[i] != ' ') return fail(400, "invalid character in method"), false;
    out_.method = slice(b, i);
    out_.methodId = methodFromName(out_.method.in(d_));

    const std::size_t tb = ++i;
    i = detail::skipTarget(d_, i, e);
    if (i == tb) {
      if (i == e || d_[i] == ' ') return fail(400, "empty request target"), false;
      return fail(400, "invalid character in request target"), false;
    }
    if (i == e) return fail(505, "HTTP/0.9 is not supported"), false;
    if (d_[i] != ' ') return fail(400, "invalid character in request target"), false;
    out_.target = slice(tb, i);

    if (!version(i + 1, e)) return false;
    return requestTarget();
  }

  // "HTTP/1.0" or "HTTP/1.1" exactly, filling versionMinor; [b, e) must hold nothing else.
  bool version(std::size_t b, std::size_t e) {
    const char* v = d_ + b;
    if (e - b != 8 || std::memcmp(v, "HTTP/", 5) != 0 || !isDigit(v[5]) || v[6] != '.' ||
        !isDigit(v[7])) {
      return fail(400, "invalid HTTP version"), false;
    }
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
      return fail(505, "HTTP version not supported"), false;
    out_.versionMinor = v[7] - '0';
    return true;
  }

  bool requestTarget() {
    RequestHead& r = out_;
    const std::string_view t = r.target.in(d_);
    const std::size_t tb = r.target.off, te = tb + t.size();
    auto pathAndQuery = [&](std::size_t from) {
      const std::size_t q = t.find('?', from - tb);
      if (q == std::string_view::npos) {
        r.path = slice(from, te);
        r.query = slice(te, te);
      } else {
        r.path = slice(from, tb + q);
        r.query = slice(tb + q + 1, te);
      }
    };
    auto validAuthority = [&](std::size_t b, std::size_t e) {
      if (b == e) return false;
      for (std::size_t i = b; i < e; ++i)
        if (!is(d_[i], kHost)) return false;  // '@' (userinfo) is not in kHost on purpose
      return true;
    };

    if (r.methodId == Method::connect) {
      if (!validAuthority(tb, te) || t.find(':') == std::string_view::npos)
        return fail(400, "CONNECT needs an authority-form target"), false;
      r.authority = r.target;
      r.path = r.query = slice(te, te);
      return true;
    }
    if (t[0] == '/') {
      pathAndQuery(tb);
      return true;
    }
    if (t == "*") {
      if (r.methodId != Method::options)
        return fail(400, "asterisk-form target is only allowed for OPTIONS"), false;
      r.path = r.target;
      r.query = slice(te, te);
      return true;
    }
    std::size_t schemeLen = 0;
    if (t.size() >= 7 && equalsLower(t.substr(0, 7), "http://")) schemeLen = 7;
    if (t.size() >= 8 && equalsLower(t.substr(0, 8), "https://")) schemeLen = 8;
    if (schemeLen == 0) return fail(400, "invalid request target"), false;
    const std::size_t ab = tb + schemeLen;
    std::size_t ae = ab;
    while (ae < te && d_[ae] != '/' && d_[ae] != '?') ++ae;
    if (!validAuthority(ab, ae)) return fail(400, "invalid authority in request target"), false;
    r.authority = slice(ab, ae);
    pathAndQuery(ae);
    return true;
  }

  bool statusLine(std::size_t b, std::size_t e) {
    if (e - b < 12 || d_[b + 8] != ' ') return fail(502, "invalid status line"), false;
    if (!version(b, b + 8)) return false;
    const char* s = d_ + b + 9;
    if (!isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) || s[0] == '0')
      return fail(502, "invalid status code"), false;
    out_.status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    std::size_t i = b + 12;
    if (i == e) {
      // "HTTP/1.1 200" without SP and reason: tolerated, the reason carries no meaning.
      out_.reason = slice(e, e);
      return true;
    }
    if (d_[i] != ' ') return fail(502, "invalid status code"), false;
    if (!valueBytes(i + 1, e)) return fail(502, "invalid character in reason phrase"), false;
    out_.reason = slice(i + 1, e);
    return true;
  }

  ParseStatus fields() {
    for (;;) {
      // A head limit crossed is reported before any error found past it, so the answer does not
      // depend on how the bytes were split into reads.
      if (c_.next >= maxHead_) return tooLarge();
      if (c_.next >= len_) return needMore();
      const char ch = d_[c_.next];
      if (ch == '\r' || ch == '\n') {
        std::size_t end;
        if (ch == '\r') {
          if (c_.next + 2 > maxHead_) return tooLarge();
          if (c_.next + 1 >= len_) return needMore();
          if (d_[c_.next + 1] != '\n') return fail(400, "bare CR in header section");
          end = c_.next + 2;
        } else {
          if (!lim_.acceptBareLf) return fail(400, "bare LF line ending");
          end = c_.next + 1;
        }
        if (end > maxHead_) return needMore();
        out_.headEnd = static_cast<std::uint32_t>(end);
        return finish();
      }
      if (isOws(ch)) {
        if (out_.headers.empty())
          return fail(400, "whitespace between start line and first header field");
        return fail(400, "obsolete line folding is not allowed");
      }
      if (out_.headers.size() >= lim_.maxHeaders) return fail(431, "too many header fields");
      const std::size_t b = c_.next;
      if (c_.scan == b) {
        const Fast f = fastFieldLine(b);
        if (f == Fast::parsed) continue;
        if (f == Fast::failed) return ParseStatus::error;
      }
      const std::size_t lf = findLf(maxHead_);
      if (lf == std::string_view::npos) return needMore();
      const std::size_t e = contentEnd(b, lf);
      if (e == std::string_view::npos) return ParseStatus::error;
      if (!fieldLine(b, e)) return ParseStatus::error;
      c_.next = static_cast<std::uint32_t>(lf + 1);
      c_.scan = c_.next;
    }
  }

  // [b, e) holds no CTL other than HTAB.
  bool valueBytes(std::size_t b, std::size_t e) const {
    for (std::size_t i = detail::findCtl(d_, b, e); i != e; i = detail::findCtl(d_, i + 1, e))
      if (d_[i] != '\t') return false;
    return true;
  }

  // The common field line in one pass, without memchr for the LF: a token name, ':', and a value
  // whose first CTL other than HTAB is CR LF inside the window. `parsed`: c_.next moved past it.
  // `failed`: the field's value is wrong for its name (knownField), as fieldLine would report.
  // `slow` leaves everything else (incomplete lines, bare CR or LF, malformed lines) to findLf +
  // fieldLine, which decide exactly as if this did not exist; before that it moves c_.scan over
  // the bytes it saw that cannot be an LF, so a line arriving in pieces is still scanned once
  // (this runs only on a line's first visit, c_.scan == c_.next).
  enum class Fast { parsed, failed, slow };
  Fast fastFieldLine(std::size_t b) {
    const std::size_t window = std::min(len_, maxHead_);
    const std::size_t n = detail::skipToken(d_, b, window);
    std::size_t p = n;
    if (n != b && n < window && d_[n] == ':') {
      std::size_t vb = n + 1;
      while (vb < window && isOws(d_[vb])) ++vb;
      p = detail::findCtl(d_, vb, window);
      while (p < window && d_[p] == '\t') p = detail::findCtl(d_, p + 1, window);
      if (p + 1 < window && d_[p] == '\r' && d_[p + 1] == '\n') {
        addField(b, n, vb, p);
        const Header& h = out_.headers.back();
        if (h.id != HeaderId::other && !knownField(h)) return Fast::failed;
        c_.next = static_cast<std::uint32_t>(p + 2);
        c_.scan = c_.next;
        return Fast::parsed;
      }
    }
    // [b, p) holds no LF: tchars, then ':', OWS and bytes that are no CTL.
    c_.scan = static_cast<std::uint32_t>(p);
    return Fast::slow;
  }

  bool fieldLine(std::size_t b, std::size_t e) {
    std::size_t i = detail::skipToken(d_, b, e);
    if (i == e) return fail(400, "header field without colon"), false;
    if (d_[i] != ':') {
      if (isOws(d_[i]) && i > b)
        return fail(400, "whitespace between header field name and colon"), false;
      return fail(400, "invalid character in header field name"), false;
    }
    if (i == b) return fail(400, "empty header field name"), false;
    const Slice name = slice(b, i);
    ++i;
    while (i < e && isOws(d_[i])) ++i;
    if (!valueBytes(i, e)) return fail(400, "invalid character in header field value"), false;
    addField(b, name.off + name.len, i, e);
    const Header& h = out_.headers.back();
    return h.id == HeaderId::other || knownField(h);
  }

  // Appends the field with name [b, nameEnd) and value [vb, e) less trailing OWS; both checked.
  void addField(std::size_t b, std::size_t nameEnd, std::size_t vb, std::size_t e) {
    std::size_t ve = e;
    while (ve > vb && isOws(d_[ve - 1])) --ve;
    const HeaderId id = classify(std::string_view(d_ + b, nameEnd - b));
    out_.headers.push_back(Header{slice(b, nameEnd), slice(vb, ve), id, isHopByHopId(id)});
  }

  bool knownField(const Header& h) {
    const std::string_view v = h.value.in(d_);
    switch (h.id) {
      case HeaderId::contentLength: {
        std::int64_t n = -1;
        switch (parseContentLength(v, n)) {
          case LengthResult::malformed:
            return fail(400, "invalid Content-Length"), false;
          case LengthResult::conflicting:
            return fail(400, "conflicting Content-Length values"), false;
          case LengthResult::ok:
            break;
        }
        if (out_.contentLength >= 0 && out_.contentLength != n)
          return fail(400, "conflicting Content-Length values"), false;
        out_.contentLength = n;
        return true;
      }
      case HeaderId::transferEncoding:
        return transferEncoding(v);
      case HeaderId::upgrade:
        c_.sawUpgrade = true;
        return true;
      case HeaderId::host:
        if constexpr (kRequest) {
          if (out_.host >= 0) return fail(400, "more than one Host header"), false;
          for (char ch : v)
            if (!is(ch, kHost)) return fail(400, "invalid Host header"), false;
          out_.host = static_cast<int>(out_.headers.size() - 1);
        }
        return true;
      case HeaderId::expect:
        if constexpr (kRequest) {
          if (equalsLower(v, "100-continue")) out_.expectContinue = true;
        }
        return true;
      default:
        return true;
    }
  }

  // Transfer-Encoding lists codings in the order they were applied, over all its header lines.
  // The proxy relays bodies and only frames chunked: any other coding in a request is 501
  // (RFC 9112 6.1), also when it follows chunked (RFC 9112 6.3 would allow 400 there; either
  // way the request is refused and the connection closed). In a response another coding is
  // relayed as is, and the body is "read until close" unless chunked comes last.
  bool transferEncoding(std::string_view v) {
    c_.sawTransferEncoding = true;
    int problem = 0;  // 1: malformed, 2: chunked twice, 3: unsupported coding (request)
    std::size_t count = 0;
    detail::forEachListElement(v, [&](std::string_view coding) {
      std::size_t n = 0;
      while (n < coding.size() && is(coding[n], kToken)) ++n;
      std::size_t r = n;
      while (r < coding.size() && isOws(coding[r])) ++r;
      // "gzip chunked" (no comma) must not read as one coding: only ";params" may follow.
      if (n == 0 || (r < coding.size() && coding[r] != ';')) {
        problem = 1;
        return false;
      }
      ++count;
      if (equalsLower(coding.substr(0, n), "chunked")) {
        if (n != coding.size()) {
          problem = 1;  // chunked takes no parameters
          return false;
        }
        if (c_.chunkedSeen) {
          problem = 2;
          return false;
        }
        c_.chunkedSeen = true;
        c_.chunkedLast = true;
        return true;
      }
      c_.chunkedLast = false;
      if (kRequest) {
        problem = 3;
        return false;
      }
      return true;
    });
    if (problem == 2) return fail(400, "chunked applied more than once"), false;
    if (problem == 3)
      return fail(501, "Not Implemented: transfer coding other than chunked"), false;
    if (problem == 1 || count == 0) return fail(400, "invalid Transfer-Encoding"), false;
    return true;
  }

  // Connection options: close / keep-alive / upgrade, and the names of more hop-by-hop headers.
  bool connectionOptions(bool& close, bool& keepAlive, bool& upgrade) {
    std::size_t tokens = 0;
    for (const Header& h : out_.headers) {
      if (h.id != HeaderId::connection) continue;
      int problem = 0;
      detail::forEachListElement(h.value.in(d_), [&](std::string_view tok) {
        if (++tokens > kMaxConnectionTokens) {
          problem = 1;
          return false;
        }
        // Offsets into d_, so the scan's last 16-byte load may reach back before the token.
        const std::size_t tb = static_cast<std::size_t>(tok.data() - d_);
        if (detail::skipToken(d_, tb, tb + tok.size()) != tb + tok.size()) {
          problem = 2;
          return false;
        }
        if (equalsLower(tok, "close")) close = true;
        if (equalsLower(tok, "keep-alive")) {
          // Only Keep-Alive headers carry that name, and they are hop-by-hop already.
          keepAlive = true;
          return true;
        }
        if (equalsLower(tok, "upgrade")) upgrade = true;
        for (Header& other : out_.headers) {
          if (other.id == HeaderId::host || other.id == HeaderId::contentLength) continue;
          if (!other.hopByHop && equalsNoCase(other.name.in(d_), tok)) other.hopByHop = true;
        }
        return true;
      });
      if (problem == 1) return fail(400, "too many Connection options"), false;
      if (problem == 2) return fail(400, "invalid Connection header"), false;
    }
    return true;
  }

  ParseStatus finish() {
    const bool http11 = out_.versionMinor == 1;
    bool close = false, keepAliveToken = false, upgradeToken = false;
    if (c_.sawTransferEncoding) {
      if (out_.contentLength >= 0) return fail(400, "both Content-Length and Transfer-Encoding");
      // RFC 9112 6.1: framing of an HTTP/1.0 message with Transfer-Encoding is faulty.
      if (!http11) return fail(400, "Transfer-Encoding in an HTTP/1.0 message");
    }
    if (!connectionOptions(close, keepAliveToken, upgradeToken)) return ParseStatus::error;
    out_.chunked = c_.sawTransferEncoding && c_.chunkedLast;
    bool keepAlive = http11 ? !close : (keepAliveToken && !close);
    if constexpr (kRequest) {
      if (http11 && out_.host < 0) return fail(400, "missing Host header");
      // HTTP/1.0 knows neither 100-continue nor protocol upgrades (RFC 9110 10.1.1, 7.8).
      out_.expectContinue = out_.expectContinue && http11;
      out_.upgrade = http11 && c_.sawUpgrade && upgradeToken;
    } else {
      const int s = out_.status;
      out_.noBody = s < 200 || s == 204 || s == 304;
      out_.untilClose = !out_.noBody && !out_.chunked && out_.contentLength < 0;
      if (out_.untilClose) keepAlive = false;
    }
    out_.keepAlive = keepAlive;
    c_ = HeadCursor{};
    return ParseStatus::complete;
  }

  const char* d_;
  std::size_t len_;
  const Limits& lim_;
  Head& out_;
  ParseError& err_;
  HeadCursor& c_;
  std::size_t maxHead_;
  std::size_t maxLine_;
};

}  // namespace

int MessageHead::find(const char* base, std::string_view name) const {
  for (std::size_t i = 0; i < headers.size(); ++i)
    if (equalsNoCase(headers[i].name.in(base), name)) return static_cast<int>(i);
  return -1;
}

Method methodFromName(std::string_view m) {
  switch (m.size()) {
    case 3:
      if (m == "GET") return Method::get;
      if (m == "PUT") return Method::put;
      break;
    case 4:
      if (m == "HEAD") return Method::head;
      if (m == "POST") return Method::post;
      break;
    case 5:
      if (m == "PATCH") return Method::patch;
      if (m == "TRACE") return Method::trace;
      break;
    case 6:
      if (m == "DELETE") return Method::delete_;
      break;
    case 7:
      if (m == "OPTIONS") return Method::options;
      if (m == "CONNECT") return Method::connect;
      break;
    default:
      break;
  }
  return Method::other;
}

ParseStatus parseRequestHead(const char* data, std::size_t len, const Limits& limits,
                             RequestHead& out, ParseError& err) {
  return HeadParser<RequestHead>(data, len, limits, out, err).run();
}

ParseStatus parseResponseHead(const char* data, std::size_t len, const Limits& limits,
                              ResponseHead& out, ParseError& err) {
  return HeadParser<ResponseHead>(data, len, limits, out, err).run();
}

}  // namespace archway::http
