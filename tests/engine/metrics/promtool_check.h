#pragma once
// `promtool check metrics` on an exposition, for the tests of /metrics. Exit 1 is a parse error.
// Exit 3 is lint only: accepted solely for the naming notes on Kong's own metric names
// (kong_bandwidth_bytes without _total, the gauge kong_nginx_connections_total, *_latency_ms
// units), which are the compatibility contract.
#include <QProcess>
#include <QStandardPaths>
#include <QString>

namespace promtoolcheck {

// What promtool objects to, one problem per line; empty when the text passes.
inline QString problems(const QByteArray& exposition) {
  if (QStandardPaths::findExecutable("promtool").isEmpty())
    return "promtool missing: run scripts/install-deps.sh";
  QProcess p;
  p.start("promtool", {"check", "metrics"});
  if (!p.waitForStarted()) return "promtool did not start";
  p.write(exposition);
  p.closeWriteChannel();
  if (!p.waitForFinished(30000)) return "promtool did not finish";
  const QString output = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
  if (p.exitCode() != 0 && p.exitCode() != 3) return output.isEmpty() ? "promtool failed" : output;
  QString out;
  for (const QString& line : output.split('\n', Qt::SkipEmptyParts)) {
    const bool kongNaming = line.startsWith("kong_") && (line.contains("\"_total\" suffix") ||
                                                         line.contains("abbreviated units"));
    if (!kongNaming) out += line + '\n';
  }
  return out;
}

}  // namespace promtoolcheck
