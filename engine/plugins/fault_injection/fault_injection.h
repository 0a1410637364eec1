#pragma once
// fault-injection: Archway's own plugin (Kong has none; the shape follows Envoy's fault filter)
// for chaos testing. A share of requests is delayed and/or answered with an error instead of
// being proxied:
//   abort{percentage 0..100, status=503 (100..599), message | body [+ content_type]}
//   delay{percentage 0..100, duration_ms > 0}
// The delay runs first (as in Envoy), then the abort. A delay never blocks the worker: the
// access phase is asynchronous and waits on a timer of the worker's io_context.
//
// PRIORITY 1000: after the authentication plugins (key-auth 1250, basic-auth 1100, hmac-auth
// 1030), so only requests that would have been accepted see faults, and before ip-restriction
// (990), request-size-limiting (951), acl (950) and rate-limiting (910), so an injected abort
// costs no rate-limit quota and a delay happens before any counter is taken.
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeFaultInjectionPlugin();

}  // namespace archway::plugins
