// archway: the desktop console with its embedded gateway. Flags are parsed before QApplication
// exists, so --help and flag errors work without a display (exit 0 / exit 2, one line).
#include <QApplication>
#include <QFile>
#include <QLibraryInfo>
#include <QLocale>
#include <QTimer>
#include <QTranslator>
#include <cstdio>
#include <optional>
#include <string>

#include "apps/admin_client.h"
#include "apps/cli.h"
#include "core/log.h"
#include "gui/config_diff_page.h"
#include "gui/main_window.h"
#include "models/demo_traffic.h"
#include "runtime/config_source.h"

namespace {

using archway::cli::FlagSpec;

std::vector<FlagSpec> flags() {
  std::vector<FlagSpec> f;
  f.push_back({.name = "config",
               .valueName = "FILE",
               .help = "declarative kong.yml / JSON to run (wins over --db)"});
  f.push_back({.name = "db",
               .valueName = "URL",
               .help = "config store, sqlite:PATH (default: the console's database)"});
  f.push_back({.name = "proxy-listen",
               .valueName = "ADDR:PORT",
               .help = "proxy listeners (default 127.0.0.1:8000)"});
  f.push_back({.name = "admin-listen",
               .valueName = "ADDR:PORT",
               .help = "Admin API listener or off (default 127.0.0.1:8001)"});
  f.push_back({.name = "workers", .valueName = "N", .help = "worker threads (default: cores)"});
  f.push_back({.name = "demo-listen",
               .valueName = "ADDR:PORT",
               .help = "built-in demo upstream or off (default 127.0.0.1:9080)"});
  f.push_back({.name = "log-level",
               .valueName = "LEVEL",
               .help = "debug, info, warn, error or off (default info)"});
  f.push_back({.name = "trace-sample-rate",
               .valueName = "RATE",
               .help = "share of requests traced, 0..1 (default 0.01; errors and slow "
                       "requests are always kept)"});
  f.push_back({.name = "demo-traffic",
               .takesValue = false,
               .help = "start sending demo traffic at launch"});
  f.push_back({.name = "page",
               .valueName = "NAME",
               .help = "page shown first: dashboard, plugins, traces, log, errors or config "
                       "(default dashboard)"});
  f.push_back({.name = "diff",
               .valueName = "FILE",
               .help = "open FILE on the Config page: its diff against the node, ready to apply"});
  f.push_back({.name = "connect",
               .valueName = "ADMIN_URL",
               .help = "manage a remote node through its Admin API (http:// or https://) "
                       "instead of running the gateway embedded"});
  f.push_back({.name = "token",
               .valueName = "T",
               .help = "Admin API token for --connect (sent as Kong-Admin-Token)"});
  f.push_back({.name = "ca-cert",
               .valueName = "FILE",
               .help = "PEM CA certificates to verify an https:// --connect node with "
                       "(default: the system's)"});
  f.push_back({.name = "tls-skip-verify",
               .takesValue = false,
               .help = "do not verify an https:// --connect node's certificate"});
  f.push_back({.name = "screenshot",
               .valueName = "FILE",
               .help = "save a PNG of the window, then quit (documentation, checks)"});
  f.push_back({.name = "screenshot-after",
               .valueName = "DURATION",
               .help = "when to take --screenshot (default 5s)"});
  return f;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "archway: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  archway::cli::Parser parser("archway", "[--config FILE | --db URL] [options]", flags());
  if (auto error = parser.parse(argc, argv)) return fail(*error);
  if (parser.helpRequested()) {
    std::fputs(parser.helpText().c_str(), stdout);
    return 0;
  }

  archway::models::BridgeOptions options;
  options.engine.proxyListen = parser.value("proxy-listen", "127.0.0.1:8000");
  options.engine.adminListen = parser.value("admin-listen", "127.0.0.1:8001");
  options.demoListen = parser.value("demo-listen", "127.0.0.1:9080");
  if (parser.has("workers")) {
    const std::string text = parser.value("workers");
    int workers = -1;
    try {
      std::size_t used = 0;
      workers = std::stoi(text, &used);
      if (used != text.size()) workers = -1;
    } catch (...) {
    }
    if (workers < 0 || workers > 1024)
      return fail("--workers: expected 0..1024, got '" + text + "'");
    options.engine.workers = workers;
  }
  if (parser.has("log-level")) {
    archway::core::log::Level level;
    if (!archway::core::log::parseLevel(parser.value("log-level"), level)) {
      return fail("--log-level: expected debug, info, warn, error or off, got '" +
                  parser.value("log-level") + "'");
    }
    archway::core::log::setLevel(level);
  }
  if (parser.has("trace-sample-rate")) {
    const std::string text = parser.value("trace-sample-rate");
    double rate = -1;
    try {
      std::size_t used = 0;
      rate = std::stod(text, &used);
      if (used != text.size()) rate = -1;
    } catch (...) {
    }
    if (!(rate >= 0 && rate <= 1)) {
      return fail("--trace-sample-rate: expected a number from 0 to 1, got '" + text + "'");
    }
    options.engine.tracingSampleRate = rate;
  }
  long long screenshotAfterMs = 5000;
  if (parser.has("screenshot-after")) {
    auto ms = archway::cli::parseDurationMs(parser.value("screenshot-after"));
    if (!ms)
      return fail("--screenshot-after: expected a duration like 5s, got '" +
                  parser.value("screenshot-after") + "'");
    screenshotAfterMs = *ms;
  }
  const std::string page = parser.value("page", "dashboard");
  if (page != "dashboard" && page != "plugins" && page != "traces" && page != "log" &&
      page != "errors" && page != "config") {
    return fail("--page: expected dashboard, plugins, traces, log, errors or config, got '" +
                page + "'");
  }
  const bool remote = parser.has("connect");
  archway::models::RemoteOptions remoteOptions;
  if (remote) {
    // The embedded gateway's flags mean nothing for a remote node: refuse rather than ignore.
    for (const char* flag : {"config", "db", "proxy-listen", "admin-listen", "workers",
                             "demo-listen", "demo-traffic", "trace-sample-rate"}) {
      if (parser.has(flag))
        return fail(std::string("--") + flag + ": not used with --connect (a remote node)");
    }
    if (parser.has("ca-cert") && parser.has("tls-skip-verify"))
      return fail("--ca-cert and --tls-skip-verify exclude each other");
    remoteOptions.url = parser.value("connect");
    remoteOptions.token = parser.value("token");
    remoteOptions.tls = {.caFile = parser.value("ca-cert"),
                         .skipVerify = parser.has("tls-skip-verify")};
    auto check = archway::apps::AdminClient::create(remoteOptions.url, remoteOptions.token,
                                                    remoteOptions.tls);
    if (!check) return fail("--connect: " + check.errors().front().message);
  } else {
    for (const char* flag : {"token", "ca-cert", "tls-skip-verify"}) {
      if (parser.has(flag)) return fail(std::string("--") + flag + ": only with --connect");
    }
  }
  options.source.configFile = parser.value("config");
  if (!remote && options.source.configFile.empty()) {
    // Only now: computing the default creates the data directory.
    options.source.db = parser.value("db");
    if (options.source.db.empty()) {
      options.source.db = "sqlite:" + archway::runtime::defaultDatabasePath();
    }
  }

  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("archway"));
  QApplication::setApplicationDisplayName(QStringLiteral("Archway"));
  QApplication::setOrganizationName(QStringLiteral("Archway"));
  QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

  QTranslator qtTranslator;
  if (qtTranslator.load(QLocale(), QStringLiteral("qtbase"), QStringLiteral("_"),
                        QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
    QApplication::installTranslator(&qtTranslator);
  }
  QTranslator translator;  // qt_add_translations embeds the .qm files under :/i18n
  if (translator.load(QLocale(), QStringLiteral("archway"), QStringLiteral("_"),
                      QStringLiteral(":/i18n"))) {
    QApplication::installTranslator(&translator);
  }

  QFile seed(QStringLiteral(":/demo/kong.yml"));
  if (seed.open(QIODevice::ReadOnly)) options.source.seedYaml = seed.readAll().toStdString();

  archway::gui::MainWindow window;
  window.showPage(QString::fromStdString(page));
  window.show();
  // A failed start is shown in the window (the app keeps running so the user can read it);
  // demo traffic then has nowhere to go.
  if (remote) {
    window.connectRemote(remoteOptions);
  } else if (window.startEngine(options).isEmpty() && parser.has("demo-traffic")) {
    window.demoTrafficAction()->setChecked(true);
  }

  if (parser.has("diff")) {
    window.showPage(QStringLiteral("config"));
    window.configPage()->openFile(QString::fromStdString(parser.value("diff")));
  }

  const QString screenshot = QString::fromStdString(parser.value("screenshot"));
  if (!screenshot.isEmpty()) {
    QTimer::singleShot(static_cast<int>(screenshotAfterMs), &window, [&window, screenshot] {
      if (!window.grab().save(screenshot)) {
        std::fprintf(stderr, "archway: --screenshot: cannot write %s\n", qPrintable(screenshot));
      }
      QApplication::quit();
    });
  }
  return app.exec();
}
