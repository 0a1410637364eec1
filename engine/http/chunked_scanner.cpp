#include "http/chunked_scanner.h"

#include <algorithm>
#include <limits>

#include "http/char_class.h"

namespace archway::http {

using detail::is;
using detail::kHex;
using detail::kToken;
using detail::kValue;

void ChunkedScanner::reset() {
  state_ = State::sizeStart;
  remaining_ = 0;
  dataBytes_ = 0;
  lineBytes_ = 0;
  trailerBytes_ = 0;
  message_ = {};
}

std::size_t ChunkedScanner::fail(std::size_t at, std::string_view message) {
  state_ = State::error;
  message_ = message;
  return at;
}

std::size_t ChunkedScanner::feed(const char* p, std::size_t n) {
  // Sizes above int64 max are refused: upstreams (and our own counters) cannot represent them,
  // and implementations that wrap around would frame the rest of the stream differently.
  constexpr std::uint64_t kMaxSize = std::numeric_limits<std::int64_t>::max();
  std::size_t i = 0;
  while (i < n) {
    if (state_ == State::data) {
      const std::uint64_t take = std::min<std::uint64_t>(remaining_, n - i);
      i += static_cast<std::size_t>(take);
      remaining_ -= take;
      dataBytes_ += take;
      if (remaining_ == 0) state_ = State::dataCr;
      continue;
    }
    if (state_ == State::done || state_ == State::error) return i;

    const char c = p[i];
    switch (state_) {
      case State::sizeStart:
      case State::size:
      case State::sizeBws:
      case State::extension:
        if (c != '\r' && ++lineBytes_ > limits_.maxChunkLine)
          return fail(i, "chunk size line too long");
        break;
      case State::trailerStart:
      case State::trailerName:
      case State::trailerValue:
      case State::trailerLf:
      case State::finalLf:
        if (++trailerBytes_ > limits_.maxTrailerBytes) return fail(i, "trailer section too large");
        break;
      default:
        break;
    }

    switch (state_) {
      case State::sizeStart:
        if (!is(c, kHex)) return fail(i, "invalid chunk size");
        remaining_ = static_cast<std::uint64_t>(detail::hexValue(c));
        state_ = State::size;
        break;
      case State::size:
        if (is(c, kHex)) {
          const auto digit = static_cast<std::uint64_t>(detail::hexValue(c));
          if (remaining_ > (kMaxSize - digit) / 16) return fail(i, "chunk size overflow");
          remaining_ = remaining_ * 16 + digit;
        } else if (c == ';') {
          state_ = State::extension;
        } else if (c == ' ' || c == '\t') {
          state_ = State::sizeBws;
        } else if (c == '\r') {
          state_ = State::sizeLf;
        } else {
          return fail(i, "invalid chunk size");
        }
        break;
      case State::sizeBws:
        // BWS is only allowed before a chunk extension (RFC 9112 7.1.1), never before CRLF.
        if (c == ';') {
          state_ = State::extension;
        } else if (c != ' ' && c != '\t') {
          return fail(i, "invalid chunk size");
        }
        break;
      case State::extension:
        if (c == '\r') {
          state_ = State::sizeLf;
        } else if (!is(c, kValue)) {
          return fail(i, "invalid chunk extension");
        }
        break;
      case State::sizeLf:
        if (c != '\n') return fail(i, "bare CR in chunk size line");
        if (remaining_ == 0) {
          state_ = State::trailerStart;
          trailerBytes_ = 0;
        } else {
          state_ = State::data;
        }
        break;
      case State::dataCr:
        if (c != '\r') return fail(i, "missing CRLF after chunk data");
        state_ = State::dataLf;
        break;
      case State::dataLf:
        if (c != '\n') return fail(i, "missing CRLF after chunk data");
        state_ = State::sizeStart;
        lineBytes_ = 0;
        break;
      case State::trailerStart:
        if (c == '\r') {
          state_ = State::finalLf;
        } else if (c == ' ' || c == '\t') {
          return fail(i, "obsolete line folding in trailer section");
        } else if (is(c, kToken)) {
          state_ = State::trailerName;
        } else {
          return fail(i, "invalid trailer field");
        }
        break;
      case State::trailerName:
        if (c == ':') {
          state_ = State::trailerValue;
        } else if (!is(c, kToken)) {
          return fail(i, "invalid trailer field");
        }
        break;
      case State::trailerValue:
        if (c == '\r') {
          state_ = State::trailerLf;
        } else if (!is(c, kValue)) {
          return fail(i, "invalid trailer field");
        }
        break;
      case State::trailerLf:
        if (c != '\n') return fail(i, "bare CR in trailer section");
        state_ = State::trailerStart;
        break;
      case State::finalLf:
        if (c != '\n') return fail(i, "bare CR after trailer section");
        state_ = State::done;
        return i + 1;
      case State::data:
      case State::done:
      case State::error:
        break;  // handled before the switch
    }
    ++i;
  }
  return i;
}

}  // namespace archway::http
