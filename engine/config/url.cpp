#include "config/url.h"

#include <boost/url/parse.hpp>

namespace archway::config {

core::Result<ServiceUrl> parseServiceUrl(std::string_view text) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return core::Error{"", "invalid url: " + std::string(text)};
  const auto& u = *parsed;
  ServiceUrl out;
  out.protocol = std::string(u.scheme());
  for (auto& c : out.protocol) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.protocol != "http" && out.protocol != "https" && out.protocol != "grpc" &&
      out.protocol != "grpcs" && out.protocol != "tcp" && out.protocol != "tls" &&
      out.protocol != "udp") {
    return core::Error{"", "unsupported protocol in url: " + out.protocol};
  }
  if (!u.has_authority() || u.encoded_host().empty()) {
    return core::Error{"", "url has no host: " + std::string(text)};
  }
  out.host = std::string(u.encoded_host());
  if (u.host_type() == boost::urls::host_type::ipv6)
    out.host = std::string(u.host_ipv6_address().to_string());
  if (u.has_port()) {
    auto n = u.port_number();
    if (n == 0 && u.port() != "0")
      return core::Error{"", "invalid port in url: " + std::string(u.port())};
    out.port = n;
    if (n == 443 && out.protocol == "http") out.protocol = "https";
  } else {
    out.port = (out.protocol == "https" || out.protocol == "grpcs") ? 443 : 80;
  }
  if (!u.encoded_path().empty()) out.path = std::string(u.encoded_path());
  return out;
}

}  // namespace archway::config
