#pragma once
// Finds where a chunked body ends without touching its bytes, so the proxy can relay the body
// verbatim (framing, extensions and trailers included) and still know where the next message
// starts. Strict: everything two parsers could disagree on is an error (bare CR / LF, "5 \r\n",
// signs, oversized sizes, obs-fold in trailers), because a relayed body that frames differently
// upstream is request smuggling.
//
// Not thread-safe; one scanner per message direction of a connection. No allocation.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace archway::http {

struct ChunkedLimits {
  // chunk-size plus extensions, without the CRLF.
  std::size_t maxChunkLine = 4096;
  // The trailer section, including its final CRLF.
  std::size_t maxTrailerBytes = 16 * 1024;
};

class ChunkedScanner {
 public:
  explicit ChunkedScanner(ChunkedLimits limits = {}) : limits_(limits) {}

  // Scans the next n bytes of the body stream. Returns how many of them belong to the chunked
  // body: n while the body goes on; fewer once it ended (done(): the rest is the next message)
  // or on error (error(): the offending byte is the first one not counted). After done() or
  // error() it consumes nothing until reset().
  std::size_t feed(const char* p, std::size_t n);

  bool done() const { return state_ == State::done; }
  bool error() const { return state_ == State::error; }
  std::string_view message() const { return message_; }  // static storage; empty unless error()
  // Payload bytes (chunk data without framing) seen so far, for body-size limits and stats.
  std::uint64_t dataBytes() const { return dataBytes_; }

  void reset();

 private:
  enum class State : std::uint8_t {
    sizeStart,     // first hex digit of a chunk size
    size,          // further hex digits
    sizeBws,       // SP / HTAB after the size: only ';' may follow
    extension,     // after ';' up to CR
    sizeLf,        // LF after the chunk-size line
    data,          // remaining_ bytes of chunk data
    dataCr,        // CR after data
    dataLf,        // LF after data
    trailerStart,  // a trailer line or the final CRLF
    trailerName,
    trailerValue,
    trailerLf,
    finalLf,
    done,
    error,
  };

  std::size_t fail(std::size_t at, std::string_view message);

  ChunkedLimits limits_;
  State state_ = State::sizeStart;
  std::uint64_t remaining_ = 0;  // chunk size while parsing it, then bytes of data left
  std::uint64_t dataBytes_ = 0;
  std::size_t lineBytes_ = 0;     // of the current chunk-size line
  std::size_t trailerBytes_ = 0;  // of the trailer section
  std::string_view message_;
};

}  // namespace archway::http
