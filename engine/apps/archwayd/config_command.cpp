#include "apps/archwayd/config_command.h"

#include <boost/json/parse.hpp>

#include <string>
#include <string_view>

#include "apps/admin_client.h"
#include "apps/cli.h"
#include "config/declarative.h"
#include "config/diff.h"

namespace archway::apps {

const char* const kConfigCommandsHelp =
    "\nSubcommands (decK-style, against a running node's Admin API):\n"
    "  archwayd config diff FILE [--admin URL] [--admin-token TOKEN]\n"
    "      print the creates, updates and deletes that would make the node serve FILE\n"
    "  archwayd config sync FILE [--admin URL] [--admin-token TOKEN]\n"
    "      apply them through the Admin API (stops at the first refused call)\n"
    "  URL defaults to http://127.0.0.1:8001. Exit codes: 0 done, 1 node unreachable or a\n"
    "  call refused, 2 bad arguments or invalid FILE.\n";

namespace {

std::string oneLine(const core::Errors& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "; ";
    out += e.text();
  }
  return out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
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
  auto client = AdminClient::create(parser.value("admin", "http://127.0.0.1:8001"),
                                    parser.value("admin-token"));
  if (!client) return fail(2, "--admin: " + client.errors().front().message);
  AdminClient& admin = **client;

  auto reply = admin.request("GET", "/config");
  if (!reply) return fail(1, reply.errors().front().message);
  if (reply->status != 200) {
    return fail(1, "GET " + admin.url() + "/config: HTTP " + std::to_string(reply->status) + " " +
                       trimmed(reply->body));
  }
  boost::json::error_code ec;
  boost::json::value doc = boost::json::parse(reply->body, ec);
  const boost::json::value* text =
      !ec && doc.is_object() ? doc.as_object().if_contains("config") : nullptr;
  if (!text || !text->is_string())
    return fail(1, "GET " + admin.url() + "/config: expected {\"config\": \"...\"}");
  auto live = config::parseDeclarative(std::string_view(text->as_string()));
  if (!live) {
    return fail(1, "GET " + admin.url() + "/config: the node's configuration does not parse: " +
                       oneLine(live.errors()));
  }

  const config::ConfigDiff diff = config::diffConfigs(*live, *desired);
  std::size_t done[3] = {0, 0, 0};
  for (const auto& change : diff.changes) {
    out << config::describe(change) << "\n";
    if (sub == "sync") {
      out.flush();
      for (const auto& call : change.calls) {
        auto r = admin.request(call.method, call.path, call.body);
        const bool gone = r && call.method == "DELETE" && r->status == 404;
        if (r && (r->status < 300 || gone)) continue;
        out << config::summary(done[0], done[1], done[2]) << "\n";
        if (!r) return fail(1, r.errors().front().message);
        return fail(1, call.method + " " + call.path + ": HTTP " + std::to_string(r->status) +
                           " " + trimmed(r->body));
      }
    }
    ++done[static_cast<int>(change.kind)];
  }
  out << config::summary(done[0], done[1], done[2]) << "\n";
  return 0;
}

}  // namespace archway::apps
