#pragma once
// Value types of the configuration, with Kong 3.x field names and defaults
// (kong-reference §1). Plain data: no behaviour beyond defaults.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace archway::core {

struct Service {
  std::string id;
  std::optional<std::string> name;
  std::string protocol = "http";
  std::string host;
  std::uint16_t port = 80;
  std::optional<std::string> path;
  int retries = 5;
  int connectTimeout = 60000;  // ms
  int writeTimeout = 60000;    // ms
  int readTimeout = 60000;     // ms
  bool enabled = true;
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;  // seconds
  std::int64_t updatedAt = 0;

  bool operator==(const Service&) const = default;
};

struct Route {
  std::string id;
  std::optional<std::string> name;
  std::vector<std::string> protocols{"http", "https"};
  std::vector<std::string> methods;
  std::vector<std::string> hosts;
  std::vector<std::string> paths;
  std::map<std::string, std::vector<std::string>> headers;
  bool stripPath = true;
  bool preserveHost = false;
  int regexPriority = 0;
  std::string pathHandling = "v0";
  int httpsRedirectStatusCode = 426;
  bool requestBuffering = true;
  bool responseBuffering = true;
  std::optional<std::string> serviceId;
  std::vector<std::string> tags;
  std::int64_t createdAt = 0;
  std::int64_t updatedAt = 0;

  bool operator==(const Route&) const = default;
};

// One whole configuration: what a kong.yml or a store holds.
struct Config {
  std::vector<Service> services;
  std::vector<Route> routes;

  const Service* findService(const std::string& idOrName) const;
  bool operator==(const Config&) const = default;
};

}  // namespace archway::core
