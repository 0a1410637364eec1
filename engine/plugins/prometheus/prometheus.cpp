#include "plugins/prometheus/prometheus.h"

#include <boost/json.hpp>

namespace archway::plugins {
namespace {

namespace sc = schema;

class PrometheusInstance final : public Instance {
 public:
  // No phase: the request path never calls it (chains leave it out).
  std::uint8_t phases() const override { return 0; }
};

class PrometheusFactory final : public Factory {
 public:
  PrometheusFactory() {
    schema_.name = "prometheus";
    for (const char* f : {"per_consumer", "status_code_metrics", "latency_metrics",
                          "bandwidth_metrics", "upstream_health_metrics", "ai_metrics",
                          "wasm_metrics"}) {
      schema_.fields.push_back(sc::boolean(f).def(false));
    }
  }
  std::string_view name() const override { return "prometheus"; }
  int priority() const override { return 13; }
  const sc::Schema& schema() const override { return schema_; }
  core::Result<std::shared_ptr<const Instance>> compile(const core::Plugin&,
                                                        const boost::json::object&,
                                                        CompileEnv&) const override {
    return std::shared_ptr<const Instance>(std::make_shared<PrometheusInstance>());
  }

 private:
  sc::Schema schema_;
};

}  // namespace

std::unique_ptr<Factory> makePrometheusPlugin() { return std::make_unique<PrometheusFactory>(); }

std::optional<PrometheusGroups> prometheusGroups(const core::Config& config) {
  std::optional<PrometheusGroups> out;
  for (const auto& p : config.plugins) {
    if (p.name != "prometheus" || !p.enabled) continue;
    if (!out) out.emplace();
    boost::system::error_code ec;
    auto v = boost::json::parse(p.config, ec);
    if (ec || !v.is_object()) continue;
    const auto& o = v.as_object();
    auto flag = [&](const char* k) {
      auto it = o.find(k);
      return it != o.end() && it->value().is_bool() && it->value().as_bool();
    };
    out->statusCode |= flag("status_code_metrics");
    out->latency |= flag("latency_metrics");
    out->bandwidth |= flag("bandwidth_metrics");
    out->upstreamHealth |= flag("upstream_health_metrics");
    out->perConsumer |= flag("per_consumer");
  }
  return out;
}

}  // namespace archway::plugins
