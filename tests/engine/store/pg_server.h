#pragma once
// Test support: a throwaway PostgreSQL server of the test's own (Debian's postgresql package,
// scripts/install-deps.sh) on a free loopback port in a temporary directory, stopped and
// deleted when the object goes away, also when a test fails.
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QtTest>
#include <chrono>
#include <memory>

namespace pgtest {

using Clock = std::chrono::steady_clock;

inline unsigned short freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A throwaway PostgreSQL cluster. PostgreSQL refuses to run as root, so as root initdb and
// postgres run as `nobody` (runuser) in a directory handed over to it.
class PgServer {
 public:
  ~PgServer() { stop(); }

  // Empty when no PostgreSQL binaries are installed.
  static QString binDir() {
    QDir root("/usr/lib/postgresql");
    auto versions = root.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    std::sort(versions.begin(), versions.end(),
              [](const QString& a, const QString& b) { return a.toDouble() > b.toDouble(); });
    for (const auto& v : versions) {
      QString bin = root.filePath(v + "/bin");
      if (QFileInfo(bin + "/initdb").isExecutable() && QFileInfo(bin + "/postgres").isExecutable())
        return bin;
    }
    return {};
  }

  QString start() {
    bin_ = binDir();
    if (bin_.isEmpty()) return "no PostgreSQL binaries under /usr/lib/postgresql/*/bin";
    if (!dir_.isValid()) return "cannot create a temporary directory";
    if (::getuid() == 0) {
      passwd* pw = ::getpwnam("nobody");
      if (!pw) return "running as root and there is no user 'nobody' to run PostgreSQL as";
      if (::chown(dir_.path().toLocal8Bit().constData(), pw->pw_uid, pw->pw_gid) != 0)
        return "cannot hand the temporary directory to nobody";
    }
    QProcess initdb;
    run(initdb, bin_ + "/initdb",
        {"-D", dataDir(), "-A", "trust", "-U", "archway", "-E", "UTF8", "--locale=C", "--no-sync"});
    if (!initdb.waitForFinished(60000) || initdb.exitCode() != 0)
      return "initdb failed: " + QString::fromLocal8Bit(initdb.readAll());
    port_ = freePort();
    return launch();
  }

  // Fast shutdown (SIGINT to the postmaster: clients are disconnected, as in a real restart).
  void stop() {
    if (!server_) return;
    QFile pidFile(dataDir() + "/postmaster.pid");
    if (pidFile.open(QIODevice::ReadOnly)) {
      bool ok = false;
      pid_t pid = QString::fromLatin1(pidFile.readLine()).trimmed().toInt(&ok);
      if (ok && pid > 0) ::kill(pid, SIGINT);
    }
    if (!server_->waitForFinished(15000)) {
      server_->kill();
      server_->waitForFinished(5000);
    }
    server_.reset();
  }

  QString restart() {
    stop();
    return launch();
  }

  unsigned short port() const { return port_; }
  QString url(const QString& db) const {
    return QString("postgres://archway@127.0.0.1:%1/%2").arg(port_).arg(db);
  }

  // A fresh database per test keeps tests independent.
  QString createDatabase(const QString& name) {
    PGconn* c = PQconnectdb(url("postgres").toUtf8().constData());
    PGresult* r = PQexec(c, ("CREATE DATABASE " + name).toUtf8().constData());
    QString err = PQresultStatus(r) == PGRES_COMMAND_OK ? "" : PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
    return err;
  }

  QString log() const {
    QFile f(dir_.filePath("server.log"));
    return f.open(QIODevice::ReadOnly) ? QString::fromLocal8Bit(f.readAll()) : QString();
  }

 private:
  QString dataDir() const { return dir_.filePath("data"); }

  void run(QProcess& p, const QString& program, const QStringList& args) {
    p.setWorkingDirectory(dir_.path());
    // If this test crashes, the kernel stops the server (runuser passes the signal on): no
    // orphaned postgres. SIGTERM is a smart shutdown, immediate once our connections are gone.
    p.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
    p.setProcessChannelMode(QProcess::MergedChannels);
    if (::getuid() == 0) {
      p.start("runuser", QStringList{"-u", "nobody", "--", program} + args);
    } else {
      p.start(program, args);
    }
  }

  QString launch() {
    server_ = std::make_unique<QProcess>();
    server_->setStandardOutputFile(dir_.filePath("server.log"), QIODevice::Append);
    // Durability is irrelevant for a throwaway cluster; speed is not.
    run(*server_, bin_ + "/postgres",
        {"-D", dataDir(), "-k", dir_.path(), "-p", QString::number(port_), "-c",
         "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
         "full_page_writes=off"});
    if (!server_->waitForStarted(10000)) return "cannot start postgres";
    QByteArray ping =
        QString("host=127.0.0.1 port=%1 user=archway dbname=postgres connect_timeout=2")
            .arg(port_)
            .toUtf8();
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      if (PQping(ping.constData()) == PQPING_OK) return {};
      if (server_->state() == QProcess::NotRunning) return "postgres exited: " + log();
      QThread::msleep(50);
    }
    return "postgres did not accept connections within 30 s: " + log();
  }

  QTemporaryDir dir_{QDir::tempPath() + "/archway-pg-XXXXXX"};
  QString bin_;
  unsigned short port_ = 0;
  std::unique_ptr<QProcess> server_;
};

}  // namespace pgtest
