#pragma once
#include <string>
#include <string_view>

namespace archway::router {

// Kong's path normalisation before matching: upper-case percent-escapes, decode escapes of
// unreserved characters, remove dot segments, merge duplicate slashes. The query string must
// already be cut off. Returns false for a path that cannot be normalised (bad escape, or dot
// segments climbing above the root are clamped, as RFC 3986 says).
bool normalizePath(std::string_view in, std::string& out);

// Kong path_handling v0 join of the service path and what is left of the request path.
std::string joinPathV0(std::string_view servicePath, std::string_view rest);
// path_handling v1: service path + rest, with one slash between when both have one.
std::string joinPathV1(std::string_view servicePath, std::string_view rest);

}  // namespace archway::router
