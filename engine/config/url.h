#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace archway::config {

// A service `url` shorthand split into its Kong fields. Port 443 implies https; the default
// port follows the scheme.
struct ServiceUrl {
  std::string protocol;
  std::string host;
  std::uint16_t port = 80;
  std::optional<std::string> path;
};

core::Result<ServiceUrl> parseServiceUrl(std::string_view url);

}  // namespace archway::config
