#include "apps/archwayd/config_command.h"

#include <string>

#include "apps/admin_client.h"
#include "apps/cli.h"
#include "apps/config_sync.h"
#include "config/diff.h"

namespace archway::apps {

const char* const kConfigCommandsHelp =
    "\nSubcommands (decK-style, against a running node's Admin API):\n"
    "  archwayd config diff FILE [--admin URL] [--admin-token TOKEN]\n"
    "      print the creates, updates and deletes that would make the node serve FILE\n"
    "  archwayd config sync FILE [--admin URL] [--admin-token TOKEN]\n"
    "      apply them through the Admin API (stops at the first refused call)\n"
    "  URL defaults to http://127.0.0.1:8001; an https:// URL is verified against the system's\n"
    "  CAs, or --ca-cert FILE's, or not at all with --tls-skip-verify. Exit codes: 0 done,\n"
    "  1 node unreachable or a call refused, 2 bad arguments or invalid FILE.\n";

namespace {

std::string oneLine(const core::Errors& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "; ";
    out += e.text();
  }
  return out;
}

}  // namespace

int runConfigCommand(int argc, char** argv, std::ostream& out, std::ostream& err) {
  const std::string sub = argc >= 2 ? argv[1] : "";
  auto fail = [&](int code, const std::string& message) {
    err << "archwayd config" << (sub.empty() ? "" : " " + sub) << ": " << message << "\n";
    return code;
  };
  if (sub == "--help" || sub == "-h") {
    out << kConfigCommandsHelp;
    return 0;
  }
  if (sub != "diff" && sub != "sync") {
    return fail(2, sub.empty() ? "expected 'diff' or 'sync' (see archwayd --help)"
                               : "unknown subcommand '" + sub + "': expected diff or sync");
  }
  cli::Parser parser("archwayd config " + sub, "FILE [--admin URL] [--admin-token TOKEN]",
                     {
                         {.name = "admin",
                          .valueName = "URL",
                          .help = "Admin API of the node (default http://127.0.0.1:8001)",
                          .env = "ARCHWAY_ADMIN_URL"},
                         {.name = "admin-token",
                          .valueName = "TOKEN",
                          .help = "sent as Kong-Admin-Token"},
                         {.name = "ca-cert",
                          .valueName = "FILE",
                          .help = "PEM CA certificates to verify an https:// Admin API with "
                                  "(default: the system's)"},
                         {.name = "tls-skip-verify",
                          .takesValue = false,
                          .help = "do not verify an https:// Admin API's certificate"},
                     },
                     1, "FILE");
  if (auto e = parser.parse(argc - 1, argv + 1)) return fail(2, *e);
  if (parser.helpRequested()) {
    out << parser.helpText();
    return 0;
  }
  if (parser.positional().empty()) return fail(2, "a kong.yml FILE is required");
  const std::string file = parser.positional().front();
  auto desired = config::loadDesiredFile(file);
  if (!desired) return fail(2, "invalid config " + file + ": " + oneLine(desired.errors()));
  if (parser.has("ca-cert") && parser.has("tls-skip-verify"))
    return fail(2, "--ca-cert and --tls-skip-verify exclude each other");
  auto client = AdminClient::create(
      parser.value("admin", "http://127.0.0.1:8001"), parser.value("admin-token"),
      TlsOptions{.caFile = parser.value("ca-cert"), .skipVerify = parser.has("tls-skip-verify")});
  if (!client) return fail(2, "--admin: " + client.errors().front().message);
  AdminClient& admin = **client;

  auto live = fetchLiveConfig(admin);
  if (!live) return fail(1, live.errors().front().message);

  const config::ConfigDiff diff = config::diffConfigs(*live, *desired);
  std::size_t done[3] = {0, 0, 0};
  for (const auto& change : diff.changes) {
    out << config::describe(change) << "\n";
    if (sub == "sync") {
      out.flush();
      for (const auto& call : change.calls) {
        auto sent = sendCall(admin, call);
        if (sent) continue;
        out << config::summary(done[0], done[1], done[2]) << "\n";
        return fail(1, sent.errors().front().message);
      }
    }
    ++done[static_cast<int>(change.kind)];
  }
  out << config::summary(done[0], done[1], done[2]) << "\n";
  return 0;
}

}  // namespace archway::apps
