// archwayd: the headless gateway. Thin: flags -> Engine -> wait for SIGINT/SIGTERM -> drain.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string_view>
#include <optional>
#include <unistd.h>

#include "apps/archwayd/config_command.h"
#include "apps/cli.h"
#include "core/log.h"
#include "core/session.h"
#include "runtime/config_source.h"
#include "runtime/engine.h"

using namespace archway;

namespace {

int fail(const std::string& message) {
  core::log::flush();  // what was logged before comes first
  std::fprintf(stderr, "archwayd: %s\n", message.c_str());
  return 2;
}

// All errors on one line: "a: x; b: y".
std::string oneLine(const core::Errors& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "; ";
    out += e.text();
  }
  return out;
}

// Kong's dns_* settings as --dns-* flags (ARCHWAY_DNS_* variables). An error names the flag.
std::optional<std::string> applyDnsFlags(const cli::Parser& p, net::DnsOptions& dns) {
  if (p.has("dns-resolver")) {
    dns.nameservers.clear();
    std::string list = p.value("dns-resolver");
    for (std::size_t start = 0; start <= list.size();) {
      auto comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      if (comma > start) dns.nameservers.push_back(list.substr(start, comma - start));
      start = comma + 1;
    }
    if (auto ok = net::checkNameservers(dns.nameservers); !ok)
      return "--dns-resolver: " + ok.errors().front().message;
  }
  if (p.has("dns-order")) {
    auto order = net::parseDnsOrder(p.value("dns-order"));
    if (!order) return "--dns-order: " + order.errors().front().message;
    dns.order = std::move(*order);
  }
  if (p.has("dns-hostsfile")) dns.hostsFile = p.value("dns-hostsfile");
  const std::pair<const char*, std::chrono::seconds*> ttls[] = {
      {"dns-stale-ttl", &dns.staleTtl},
      {"dns-not-found-ttl", &dns.notFoundTtl},
      {"dns-error-ttl", &dns.errorTtl}};
  auto seconds = [&](const char* name) -> std::optional<long long> {
    try {
      std::size_t used = 0;
      long long v = std::stoll(p.value(name), &used);
      if (used != p.value(name).size() || v < 0 || v > 365LL * 24 * 3600) throw 0;
      return v;
    } catch (...) {
      return std::nullopt;
    }
  };
  for (auto [name, field] : ttls) {
    if (!p.has(name)) continue;
    auto v = seconds(name);
    if (!v) return std::string("--") + name + ": expected seconds (0 or more)";
    *field = std::chrono::seconds(*v);
  }
  if (p.has("dns-valid-ttl")) {
    auto v = seconds("dns-valid-ttl");
    if (!v) return "--dns-valid-ttl: expected seconds (0 or more)";
    dns.validTtl = std::chrono::seconds(*v);
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  // `archwayd config diff|sync FILE`: a client of a running node, not a gateway.
  if (argc >= 2 && std::string_view(argv[1]) == "config")
    return apps::runConfigCommand(argc - 1, argv + 1, std::cout, std::cerr);
  cli::Parser parser("archwayd", "--config FILE | --db URL [options]",
                     {
                         {.name = "config",
                          .valueName = "FILE",
                          .help = "declarative kong.yml / JSON (_format_version 3.0)"},
                         {.name = "db",
                          .valueName = "URL",
                          .help = "config store: sqlite:PATH or postgres://USER:PASS@HOST:PORT/DB"},
                         {.name = "proxy-listen",
                          .valueName = "ADDR:PORT[,...]",
                          .help = "proxy listeners (default 0.0.0.0:8000)"},
                         {.name = "admin-listen",
                          .valueName = "ADDR:PORT[ ssl][,...]|off",
                          .help = "Admin API listeners (default 127.0.0.1:8001; 'ssl': TLS)"},
                         {.name = "admin-token",
                          .valueName = "TOKEN",
                          .help = "required as Kong-Admin-Token (needed off loopback)"},
                         {.name = "admin-ssl-cert",
                          .valueName = "FILE",
                          .help = "PEM certificate (chain) of the ssl Admin API listeners"},
                         {.name = "admin-ssl-cert-key",
                          .valueName = "FILE",
                          .help = "PEM private key of --admin-ssl-cert"},
                         {.name = "workers",
                          .valueName = "N",
                          .help = "worker threads (default: hardware threads)"},
                         {.name = "log-level",
                          .valueName = "LEVEL",
                          .help = "debug, info, warn, error, off (default info)"},
                         {.name = "error-log",
                          .valueName = "FILE|-",
                          .help = "JSON error log, appended to ('-': stderr, the default)"},
                         {.name = "access-log",
                          .valueName = "FILE|-|off",
                          .help = "JSON access log, one line per request ('-': stdout; default off)"},
                         {.name = "trace-sample-rate",
                          .valueName = "RATE",
                          .help = "share of requests traced, 0..1 (default 0.01; errors and slow "
                                  "requests are always kept)"},
                         {.name = "observability",
                          .valueName = "on|off",
                          .help = "per-request stats and tracing (default on; off only to measure "
                                  "their cost)"},
                         {.name = "background-cpu",
                          .valueName = "idle|nice",
                          .help = "Admin API work, reloads and stats merges: idle (SCHED_IDLE "
                                  "until starved 50 ms, and work past 10 ms in an idle cpu cgroup "
                                  "where one can be made; the default where permitted) or nice "
                                  "(nice 5)"},
                         {.name = "session",
                          .valueName = "auto|own|inherit",
                          .help = "run in a session of its own, as daemons do: auto (the "
                                  "default) when standard input is not a terminal, own "
                                  "always, inherit never"},
                         {.name = "dns-resolver",
                          .valueName = "IP[:PORT][,...]",
                          .help = "nameservers (IPv4; default: /etc/resolv.conf)"},
                         {.name = "dns-order",
                          .valueName = "TYPES",
                          .help = "record types tried in order (default LAST,SRV,A,CNAME)"},
                         {.name = "dns-hostsfile",
                          .valueName = "FILE",
                          .help = "hosts file read first (default /etc/hosts)"},
                         {.name = "dns-stale-ttl",
                          .valueName = "S",
                          .help = "seconds an expired answer is still used while refreshing or "
                                  "when the refresh fails (default 4)"},
                         {.name = "dns-not-found-ttl",
                          .valueName = "S",
                          .help = "seconds a name that does not exist is remembered (default 30)"},
                         {.name = "dns-error-ttl",
                          .valueName = "S",
                          .help = "seconds a DNS server failure is remembered (default 1)"},
                         {.name = "dns-valid-ttl",
                          .valueName = "S",
                          .help = "replaces the TTL of every record (default: the records')"},
                     });
  if (auto err = parser.parse(argc, argv)) return fail(*err);
  if (parser.helpRequested()) {
    std::cout << parser.helpText();
    std::cout << apps::kConfigCommandsHelp;
    return 0;
  }
  if (!parser.positional().empty()) {
    return fail("unexpected argument '" + parser.positional().front() + "'");
  }
  if (parser.has("log-level")) {
    core::log::Level level;
    if (!core::log::parseLevel(parser.value("log-level"), level)) {
      return fail("--log-level: expected one of debug, info, warn, error, off");
    }
    core::log::setLevel(level);
  }
  if (parser.has("error-log")) {
    if (auto error = core::log::setFile(parser.value("error-log")); !error.empty())
      return fail("--error-log: " + error);
  }
  if (!parser.has("config") && !parser.has("db"))
    return fail("one of --config FILE or --db URL is required");
  if (parser.has("config") && parser.has("db"))
    return fail("--config and --db are mutually exclusive");

  runtime::EngineOptions options;
  options.proxyListen = parser.value("proxy-listen", options.proxyListen);
  options.adminListen = parser.value("admin-listen", options.adminListen);
  options.adminToken = parser.value("admin-token");
  options.adminSslCert = parser.value("admin-ssl-cert");
  options.adminSslCertKey = parser.value("admin-ssl-cert-key");
  options.store = parser.value("db");
  options.initialFromStore = parser.has("db");  // loadInitialConfig reads it from there
  if (parser.has("access-log") && parser.value("access-log") != "off")
    options.accessLog = parser.value("access-log");
  if (parser.has("observability")) {
    const std::string v = parser.value("observability");
    if (v != "on" && v != "off") return fail("--observability: expected on or off");
    options.stats = options.tracing = v == "on";
  }
  if (parser.has("background-cpu")) {
    const std::string v = parser.value("background-cpu");
    if (v != "idle" && v != "nice") return fail("--background-cpu: expected idle or nice");
    options.idleBackground = v == "idle";
  }
  auto session = core::SessionMode::automatic;
  if (parser.has("session")) {
    auto mode = core::parseSessionMode(parser.value("session"));
    if (!mode) return fail("--session: expected auto, own or inherit");
    session = *mode;
  }
  if (parser.has("trace-sample-rate")) {
    try {
      std::size_t used = 0;
      options.tracingSampleRate = std::stod(parser.value("trace-sample-rate"), &used);
      if (used != parser.value("trace-sample-rate").size() || options.tracingSampleRate < 0 ||
          options.tracingSampleRate > 1)
        throw 0;
    } catch (...) {
      return fail("--trace-sample-rate: expected a number from 0 to 1");
    }
  }
  if (parser.has("workers")) {
    try {
      std::size_t used = 0;
      options.workers = std::stoi(parser.value("workers"), &used);
      if (used != parser.value("workers").size() || options.workers < 1 || options.workers > 256)
        throw 0;
    } catch (...) {
      return fail("--workers: expected a number from 1 to 256");
    }
  }

  if (auto err = applyDnsFlags(parser, options.dns)) return fail(*err);

  auto config = runtime::loadInitialConfig({parser.value("config"), parser.value("db"), {}});
  if (!config) {
    std::string what =
        parser.has("config") ? "invalid config " + parser.value("config") : "invalid --db";
    return fail(what + ": " + oneLine(config.errors()));
  }

  // Before the engine starts: a session of its own keeps the kernel's autogroup scheduling
  // from weighing the gateway together with whatever else started it (core/session.h).
  if (auto out = core::applySessionMode(session); out.newSession)
    core::log::debug("started a session of its own", {{"sid", std::to_string(getsid(0))}});
  else
    core::log::debug("kept the session it was started in", {{"reason", out.reason}});

  // Block the stop signals before any engine thread exists so only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  runtime::Engine engine;
  if (auto s = engine.start(options, std::move(*config)); !s) {
    const auto& e = s.errors().front();
    return fail((e.path == "proxy-listen" || e.path == "admin-listen" || e.path == "access-log" ||
                         e.path == "admin-ssl-cert" || e.path == "admin-ssl-cert-key"
                     ? "--" + e.path + ": " + e.message
                     : oneLine(s.errors())));
  }
  int sig = 0;
  sigwait(&signals, &sig);
  core::log::info("stopping", {{"signal", std::to_string(sig)}});
  engine.stop();
  return 0;
}
