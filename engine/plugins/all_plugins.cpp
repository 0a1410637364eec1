// The one explicit list of the plugins this build has. To add a plugin: its folder under
// engine/plugins/ (listed in ARCHWAY_PLUGIN_DIRS), its header here and one line in kMakers.
#include <memory>

#include "plugins/registry.h"
// ---- plugin headers (one line each, keep sorted) ----
#include "plugins/acl/acl.h"
#include "plugins/basic_auth/basic_auth.h"
#include "plugins/correlation_id/correlation_id.h"
#include "plugins/cors/cors.h"
#include "plugins/fault_injection/fault_injection.h"
#include "plugins/file_log/file_log.h"
#include "plugins/http_log/http_log.h"
#include "plugins/ip_restriction/ip_restriction.h"
#include "plugins/jwt/jwt.h"
#include "plugins/key_auth/key_auth.h"
#include "plugins/opentelemetry/opentelemetry.h"
#include "plugins/prometheus/prometheus.h"
#include "plugins/proxy_cache/proxy_cache.h"
#include "plugins/rate_limiting/rate_limiting.h"
#include "plugins/request_size_limiting/request_size_limiting.h"
#include "plugins/request_termination/request_termination.h"
#include "plugins/request_transformer/request_transformer.h"
#include "plugins/response_transformer/response_transformer.h"
#include "plugins/syslog/syslog.h"
#include "plugins/tcp_log/tcp_log.h"
#include "plugins/udp_log/udp_log.h"
// ---- end of plugin headers ----

namespace archway::plugins {
namespace {

using Maker = std::unique_ptr<Factory> (*)();

// ---- plugin makers (one line each) ----
constexpr Maker kMakers[] = {
    nullptr,  // keeps the list valid while it is empty; skipped below
    &makePrometheusPlugin,
    &makeJwtPlugin,
    &makeKeyAuthPlugin,
    &makeBasicAuthPlugin,
    &makeAclPlugin,
    &makeOpentelemetryPlugin,
    &makeCorsPlugin,
    &makeRequestTransformerPlugin,
    &makeResponseTransformerPlugin,
    &makeProxyCachePlugin,
    &makeCorrelationIdPlugin,
    &makeFaultInjectionPlugin,
    &makeIpRestrictionPlugin,
    &makeRequestSizeLimitingPlugin,
    &makeRateLimitingPlugin,
    &makeRequestTerminationPlugin,
    &makeHttpLogPlugin,
    &makeFileLogPlugin,
    &makeUdpLogPlugin,
    &makeTcpLogPlugin,
    &makeSyslogPlugin,
};
// ---- end of plugin makers ----

std::vector<std::unique_ptr<Factory>>& owned() {
  static std::vector<std::unique_ptr<Factory>> factories = [] {
    std::vector<std::unique_ptr<Factory>> v;
    for (Maker m : kMakers) {
      if (m) v.push_back(m());
    }
    return v;
  }();
  return factories;
}

}  // namespace

const std::vector<const Factory*>& all() {
  static const std::vector<const Factory*> list = [] {
    std::vector<const Factory*> v;
    for (const auto& f : owned()) v.push_back(f.get());
    return v;
  }();
  return list;
}

const Factory* find(std::string_view name) {
  for (const Factory* f : all()) {
    if (f->name() == name) return f;
  }
  return nullptr;
}

}  // namespace archway::plugins
