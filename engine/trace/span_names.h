#pragma once
// Span names. A recorded span holds a std::string_view, not a string, so recording costs no
// allocation; the name must therefore outlive every trace that may still be read (the trace
// store keeps traces for the life of the process). Names are either these literals or
// interned with intern(), whose storage is never freed.
#include <string_view>

namespace archway::trace {

namespace names {
// The phases of one proxied request, in order (issue 6).
inline constexpr std::string_view kReadHeaders = "read headers";
inline constexpr std::string_view kRoute = "route";
inline constexpr std::string_view kBalancer = "balancer";
inline constexpr std::string_view kUpstreamConnect = "upstream connect";
inline constexpr std::string_view kUpstreamFirstByte = "upstream first byte";
inline constexpr std::string_view kResponseBody = "response body";
inline constexpr std::string_view kLog = "log";
// The whole request (the OTLP root span; Kong's root span is named "kong").
inline constexpr std::string_view kRoot = "kong";
}  // namespace names

// A view of a copy of `name` that stays valid until the process exits; the same text gives the
// same view. Takes a mutex: call it while compiling a config, never on the request path.
std::string_view intern(std::string_view name);

// The span name of one plugin phase: "plugin key-auth access". `phase` is Kong's phase name
// (rewrite, access, header_filter, body_filter, log). Interned (see intern()).
std::string_view pluginSpanName(std::string_view plugin, std::string_view phase);

}  // namespace archway::trace
