#pragma once
// Shared by the auth plugins' proxy tests: a real upstream and a real Engine on loopback (port 0;
// an Admin API only when asked for) running a kong.yml whose services point at that upstream.
// Stops everything it started when it goes out of scope.
#include <QtTest>
#include <boost/json.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "../../proxy/test_upstream.h"
#include "config/declarative.h"
#include "runtime/engine.h"

namespace authtest {

class Gateway {
 public:
  // `yaml` is a kong.yml in which "UPSTREAM" stands for the upstream's base URL.
  explicit Gateway(std::string yaml, int workers = 1, bool adminApi = false) {
    const std::string base = "http://127.0.0.1:" + std::to_string(upstream_.port());
    for (std::size_t at = yaml.find("UPSTREAM"); at != std::string::npos;
         at = yaml.find("UPSTREAM", at + base.size())) {
      yaml.replace(at, 8, base);
    }
    auto config = archway::config::parseDeclarative(yaml);
    if (!config) qFatal("kong.yml did not parse: %s", config.errorText().c_str());
    archway::runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = adminApi ? "127.0.0.1:0" : "off";
    o.workers = workers;
    auto started = engine_.start(o, std::move(*config));
    if (!started) qFatal("engine did not start: %s", started.errorText().c_str());
  }
  ~Gateway() { engine_.stop(); }
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  unsigned short port() const { return engine_.proxyPort(); }
  unsigned short adminPort() const { return engine_.adminPort(); }
  TestUpstream& upstream() { return upstream_; }
  std::shared_ptr<const archway::core::Config> config() const { return engine_.config(); }

  // One request on a fresh connection.
  TestClient::Response request(const std::string& target,
                               const std::map<std::string, std::string>& headers = {},
                               const std::string& method = "GET") {
    TestClient client(port());
    return client.get(target, headers, method);
  }

 private:
  TestUpstream upstream_;
  archway::runtime::Engine engine_;
};

// A string field of a JSON object body; nullopt when the body has no such string.
inline std::optional<std::string> stringField(const std::string& body, const char* name) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object() && v.as_object().contains(name) && v.as_object().at(name).is_string())
    return std::string(v.as_object().at(name).as_string());
  return std::nullopt;
}

// The "message" of a JSON error body, or the whole body.
inline std::string messageOf(const std::string& body) {
  return stringField(body, "message").value_or(body);
}

}  // namespace authtest
