#pragma once
// opentelemetry (Kong PRIORITY 14): exports each sampled request's trace to an OTLP/HTTP
// collector (`traces_endpoint`, protobuf, batched by a sender thread per endpoint; see
// exporter.h), with Kong's config: headers, resource_attributes, queue{...}, connect/send/
// read_timeout, sampling_rate, propagation{...}, http_response_header_for_traceid.
//
// Differences from Kong, on purpose or for now:
// - Propagation is W3C only. Archway's proxy continues a client's `traceparent` and passes one
//   upstream for every traced request, whether or not this plugin is configured; the
//   `propagation.extract/inject/default_format` and `header_type` values of Kong are accepted
//   (so Kong configs load) but only W3C is read and written. `propagation.clear` is honoured.
// - Spans are Archway's phases ("read headers", "route", "plugin key-auth access", "balancer",
//   "upstream connect", "upstream first byte", "response body") under a root span "kong".
// - Without `sampling_rate`, the node's sampler decides (its rate, plus errors and slow
//   requests always); with it, Kong's rule: the client's sampled flag, else the rate.
// - `logs_endpoint` is accepted but logs are not exported; https endpoints are refused at
//   compile time (no TLS client yet); queue.max_entries counts traces, not spans, and
//   queue.max_bytes / concurrency_limit are accepted and ignored (one sender per endpoint).
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeOpentelemetryPlugin();

}  // namespace archway::plugins
