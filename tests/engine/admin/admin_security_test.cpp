// The Admin API's protections on a running Engine, over real sockets: the Kong-Admin-Token,
// TLS listeners (a self-signed certificate made by the openssl command in a temporary
// directory, checked by a real TLS client), and the refusal to listen off loopback without a
// token.
#include <openssl/ssl.h>

#include <QtTest>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>

#include "runtime/engine.h"

using namespace archway;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::ip::tcp;

namespace {

struct Reply {
  int status = 0;  // 0: no HTTP answer (connection refused, reset, handshake failed)
  std::string body;
  std::string error;
};

http::request<http::string_body> makeRequest(const std::string& method, const std::string& target,
                                             const std::string& token, const std::string& body) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::connection, "close");
  if (!token.empty()) req.set("Kong-Admin-Token", token);
  if (!body.empty()) req.set(http::field::content_type, "application/x-www-form-urlencoded");
  req.body() = body;
  req.prepare_payload();
  return req;
}

template <class Stream>
Reply roundTrip(Stream& stream, const http::request<http::string_body>& req) {
  Reply r;
  boost::system::error_code ec;
  http::write(stream, req, ec);
  if (ec) {
    r.error = "write: " + ec.message();
    return r;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  if (ec) {
    r.error = "read: " + ec.message();
    return r;
  }
  r.status = static_cast<int>(res.result_int());
  r.body = res.body();
  return r;
}

// Plain HTTP/1.1.
Reply plain(std::uint16_t port, const std::string& method, const std::string& target,
            const std::string& token = {}, const std::string& body = {}) {
  asio::io_context io;
  tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return {0, {}, "connect: " + ec.message()};
  return roundTrip(socket, makeRequest(method, target, token, body));
}

// HTTPS that trusts only `caFile` and checks the name "localhost"; `maxVersion` caps the
// client's protocol (0: no cap). `protocol` receives the negotiated version.
Reply tls(std::uint16_t port, const std::string& caFile, const std::string& method,
          const std::string& target, const std::string& token = {}, int maxVersion = 0,
          int* protocol = nullptr) {
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  ctx.load_verify_file(caFile, ec);
  if (ec) return {0, {}, "load_verify_file: " + ec.message()};
  ctx.set_verify_mode(asio::ssl::verify_peer);
  if (maxVersion) {
    // Whatever the system's openssl.cnf allows, this client offers old protocols: only the
    // server can refuse them.
    SSL_CTX_set_security_level(ctx.native_handle(), 0);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), maxVersion);
  }
  asio::ssl::stream<tcp::socket> stream(io, ctx);
  stream.set_verify_callback(asio::ssl::host_name_verification("localhost"));
  stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return {0, {}, "connect: " + ec.message()};
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return {0, {}, "handshake: " + ec.message()};
  if (protocol) *protocol = SSL_version(stream.native_handle());
  return roundTrip(stream, makeRequest(method, target, token, {}));
}

std::string messageOf(const Reply& r) {
  try {
    return std::string(json::parse(r.body).at("message").as_string());
  } catch (...) {
    return "(no message in: " + r.body + ")";
  }
}

}  // namespace

class AdminSecurityTest : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  std::string cert_, key_, otherKey_;

  QString openssl(const QStringList& args) {
    QProcess p;
    p.setWorkingDirectory(dir_.path());
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start("openssl", args);
    if (!p.waitForFinished(30000)) {
      p.kill();
      p.waitForFinished();
      return "openssl timed out";
    }
    return p.exitCode() == 0 ? QString() : QString::fromLocal8Bit(p.readAll());
  }

  runtime::EngineOptions options(const std::string& adminListen, const std::string& token) {
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = adminListen;
    o.adminToken = token;
    o.adminSslCert = cert_;
    o.adminSslCertKey = key_;
    o.workers = 1;
    return o;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    if (QStandardPaths::findExecutable("openssl").isEmpty())
      QSKIP("the openssl command is not installed (Debian package openssl)");
    // A self-signed certificate for "localhost" (P-256: quick to make), and an unrelated key.
    auto err = openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "2", "-subj",
                        "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"});
    QVERIFY2(err.isEmpty(), qPrintable(err));
    err = openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                   "other.pem"});
    QVERIFY2(err.isEmpty(), qPrintable(err));
    cert_ = dir_.filePath("cert.pem").toStdString();
    key_ = dir_.filePath("key.pem").toStdString();
    otherKey_ = dir_.filePath("other.pem").toStdString();
  }

  void requestsWithoutTheRightTokenAreUnauthorized() {
    runtime::Engine engine;
    auto started = engine.start(options("127.0.0.1:0", "s3cret-token"), {});
    QVERIFY2(started.ok(), started.errorText().c_str());
    const auto port = engine.adminPort();

    auto missing = plain(port, "GET", "/status");
    QCOMPARE(missing.status, 401);
    QCOMPARE(missing.body, std::string("{\"message\":\"Unauthorized\"}"));
    for (std::string wrong : {"s3cret-tokem", "s3cret", "s3cret-token-and-more", "S3CRET-TOKEN"}) {
      auto r = plain(port, "GET", "/services", wrong);
      QVERIFY2(r.status == 401, wrong.c_str());
      QCOMPARE(messageOf(r), std::string("Unauthorized"));
    }
    // A write without the token changes nothing.
    QCOMPARE(plain(port, "POST", "/services", {}, "name=evil&url=http://127.0.0.1:9").status, 401);
    QCOMPARE(engine.config()->services.size(), std::size_t(0));
    // Every path is protected, the unknown ones and the stats stream included.
    QCOMPARE(plain(port, "GET", "/nowhere").status, 401);
    QCOMPARE(plain(port, "GET", "/archway/stats/stream").status, 401);

    auto ok = plain(port, "GET", "/status", "s3cret-token");
    QVERIFY2(ok.status == 200, ok.body.c_str());
    QVERIFY(json::parse(ok.body).as_object().contains("database"));
    auto created =
        plain(port, "POST", "/services", "s3cret-token", "name=good&url=http://127.0.0.1:9");
    QVERIFY2(created.status == 201, created.body.c_str());
    QCOMPARE(engine.config()->services.size(), std::size_t(1));
    engine.stop(std::chrono::milliseconds(200));
  }

  void servesTheAdminApiOverTlsNextToAPlainListener() {
    runtime::Engine engine;
    auto started = engine.start(options("127.0.0.1:0, 127.0.0.1:0 ssl", "tok"), {});
    QVERIFY2(started.ok(), started.errorText().c_str());
    const auto ports = engine.adminPorts();
    QCOMPARE(ports.size(), std::size_t(2));
    QCOMPARE(engine.adminPort(), ports[0]);

    int protocol = 0;
    auto r = tls(ports[1], cert_, "GET", "/status", "tok", 0, &protocol);
    QVERIFY2(r.status == 200, (r.error + r.body).c_str());
    QVERIFY(json::parse(r.body).as_object().contains("server"));
    QVERIFY2(protocol >= TLS1_2_VERSION, std::to_string(protocol).c_str());
    // The same Admin API on both listeners.
    QCOMPARE(tls(ports[1], cert_, "GET", "/services/none", "tok").status, 404);
    QCOMPARE(tls(ports[1], cert_, "GET", "/status").status, 401);  // the token still applies
    QCOMPARE(plain(ports[0], "GET", "/status", "tok").status, 200);

    // Plain HTTP on the TLS port gets no Admin API answer, only nginx's explanation.
    auto wrongScheme = plain(ports[1], "GET", "/status", "tok");
    QCOMPARE(wrongScheme.status, 400);
    QCOMPARE(messageOf(wrongScheme), std::string("The plain HTTP request was sent to HTTPS port"));
    // TLS on the plain port fails.
    QCOMPARE(tls(ports[0], cert_, "GET", "/status", "tok").status, 0);
    // TLS 1.1 and older are refused.
    auto old = tls(ports[1], cert_, "GET", "/status", "tok", TLS1_1_VERSION);
    QVERIFY2(old.status == 0 && old.error.rfind("handshake", 0) == 0, old.error.c_str());
    // And after all of that the TLS listener still serves.
    QCOMPARE(tls(ports[1], cert_, "GET", "/", "tok").status, 200);
    engine.stop(std::chrono::milliseconds(200));
  }

  void sslListenersNeedAUsableCertificateAndKey() {
    auto refused = [&](runtime::EngineOptions o) {
      runtime::Engine engine;
      auto s = engine.start(o, {});
      return s.ok() ? std::string("started") : s.errors().front().path;
    };
    auto o = options("127.0.0.1:0 ssl", "");
    o.adminSslCert.clear();
    QCOMPARE(refused(o), std::string("admin-listen"));
    o = options("127.0.0.1:0 ssl", "");
    o.adminSslCert = dir_.filePath("missing.pem").toStdString();
    QCOMPARE(refused(o), std::string("admin-ssl-cert"));
    o = options("127.0.0.1:0 ssl", "");
    o.adminSslCertKey = cert_;  // a certificate is not a key
    QCOMPARE(refused(o), std::string("admin-ssl-cert-key"));
    o = options("127.0.0.1:0 ssl", "");
    o.adminSslCertKey = otherKey_;
    QCOMPARE(refused(o), std::string("admin-ssl-cert-key"));
  }

  void pemTextWorksInPlaceOfFiles() {
    auto read = [](const std::string& path) {
      QFile f(QString::fromStdString(path));
      return f.open(QIODevice::ReadOnly) ? f.readAll().toStdString() : std::string();
    };
    auto o = options("127.0.0.1:0 ssl", "");
    o.adminSslCert = read(cert_);
    o.adminSslCertKey = read(key_);
    runtime::Engine engine;
    auto started = engine.start(o, {});
    QVERIFY2(started.ok(), started.errorText().c_str());
    auto r = tls(engine.adminPort(), cert_, "GET", "/status");
    QVERIFY2(r.status == 200, (r.error + r.body).c_str());
    engine.stop(std::chrono::milliseconds(200));
  }

  void aNonLoopbackAddressNeedsAToken() {
    {
      runtime::Engine engine;
      auto s = engine.start(options("0.0.0.0:0", ""), {});
      QVERIFY(!s.ok());
      QCOMPARE(s.errors().front().path, std::string("admin-listen"));
      QVERIFY2(s.errorText().find("--admin-token") != std::string::npos, s.errorText().c_str());
      // One non-loopback listener among loopback ones is enough to refuse.
      QVERIFY(!engine.start(options("127.0.0.1:0, [::]:0 ssl", ""), {}).ok());
      QVERIFY(!engine.running());
    }
    // With a token it starts (and warns when the listener is not TLS), and still wants it.
    runtime::Engine engine;
    auto s = engine.start(options("0.0.0.0:0", "tok"), {});
    QVERIFY2(s.ok(), s.errorText().c_str());
    QCOMPARE(plain(engine.adminPort(), "GET", "/status").status, 401);
    QCOMPARE(plain(engine.adminPort(), "GET", "/status", "tok").status, 200);
    engine.stop(std::chrono::milliseconds(200));
  }
};

QTEST_GUILESS_MAIN(AdminSecurityTest)
#include "admin_security_test.moc"
