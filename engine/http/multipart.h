#pragma once
// multipart/form-data bodies (RFC 7578 on RFC 2046's framing), for the plugins that read and
// edit request body fields (key-auth key_in_body, request-transformer body edits), as Kong's
// lua-multipart does for them.
//
// Bounded and allocation-light: parse() returns views into the body (one vector of parts, no
// copies; file parts stay in the body, nothing is written anywhere), rejects malformed input
// with a message instead of guessing, and limits the number of parts and the size of each
// part's header block. Lines end in CRLF, as the RFC and every browser and client write them.
// Names are taken as written between the quotes of Content-Disposition's name parameter
// (browsers percent-encode a '"' in a name; backslash escapes are not interpreted).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace archway::http::multipart {

// The boundary parameter of a multipart/form-data Content-Type (quoted or not), or empty when
// the type is not multipart/form-data or has no valid boundary (1-70 characters).
std::string_view boundaryOf(std::string_view contentType);

struct Part {
  std::string_view headers;  // the part's header lines, without the blank line after them
  std::string_view name;     // Content-Disposition's name (empty when it has none)
  std::string_view filename;
  bool hasFilename = false;
  std::string_view value;  // the content, as sent
};

struct Limits {
  std::size_t maxParts = 1024;
  std::size_t maxHeaderBytes = 8 * 1024;  // per part
};

// Splits `body` at `boundary`. Errors: no opening delimiter, a part without the end of its
// header block, headers over the limit, too many parts, a body that ends before the closing
// delimiter. The preamble and epilogue are ignored.
core::Result<std::vector<Part>> parse(std::string_view body, std::string_view boundary,
                                      const Limits& limits = {});

// The first part named `name`, or null.
const Part* find(const std::vector<Part>& parts, std::string_view name);

// Writing a body back: appendPart for each part (`headers` as in Part::headers, without a
// trailing CRLF), then appendEnd.
void appendPart(std::string& out, std::string_view boundary, std::string_view headers,
                std::string_view value);
void appendEnd(std::string& out, std::string_view boundary);
// The header block of a plain field: Content-Disposition: form-data; name="<name>".
std::string fieldHeaders(std::string_view name);
// A whole body of `parts` (their own headers) with `boundary`.
std::string encode(const std::vector<Part>& parts, std::string_view boundary);

}  // namespace archway::http::multipart
