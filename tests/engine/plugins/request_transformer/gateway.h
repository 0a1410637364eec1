#pragma once
// Test support: a real Engine on loopback (proxy on port 0, no Admin API) running a kong.yml
// whose "UPSTREAM" placeholders name an EchoUpstream's base URL. Stops the engine when it goes
// out of scope.
#include <QtTest>
#include <string>

#include "config/declarative.h"
#include "echo_upstream.h"
#include "runtime/engine.h"

namespace plugintest {

class Gateway {
 public:
  explicit Gateway(std::string yaml, int workers = 1) {
    const std::string base = "http://127.0.0.1:" + std::to_string(upstream_.port());
    for (auto at = yaml.find("UPSTREAM"); at != std::string::npos;
         at = yaml.find("UPSTREAM", at + base.size()))
      yaml.replace(at, 8, base);
    auto config = archway::config::parseDeclarative(yaml);
    if (!config) qFatal("kong.yml did not parse: %s", config.errorText().c_str());
    archway::runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "off";
    o.workers = workers;
    auto started = engine_.start(o, std::move(*config));
    if (!started) qFatal("engine did not start: %s", started.errorText().c_str());
  }
  ~Gateway() { engine_.stop(); }
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  EchoUpstream& upstream() { return upstream_; }
  archway::runtime::Engine& engine() { return engine_; }

  Response send(const std::string& method, const std::string& target,
                const std::vector<std::pair<std::string, std::string>>& headers = {},
                const std::string& body = {}) {
    return request(engine_.proxyPort(), method, target, headers, body);
  }

 private:
  EchoUpstream upstream_;
  archway::runtime::Engine engine_;
};

}  // namespace plugintest
