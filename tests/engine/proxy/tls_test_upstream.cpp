#include "tls_test_upstream.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <QFile>
#include <QProcess>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

// ------------------------------------------------------------------------- TestCertificates

namespace {

// Extensions of each kind of certificate (`-extensions <section>`).
constexpr const char* kOpensslConfig =
    "[req]\n"
    "distinguished_name = dn\n"
    "[dn]\n"
    "[ca]\n"
    "basicConstraints = critical, CA:TRUE\n"
    "keyUsage = critical, keyCertSign, cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "[server]\n"
    "basicConstraints = CA:FALSE\n"
    "subjectAltName = DNS:api.test, DNS:localhost, IP:127.0.0.1\n"
    "[client]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = clientAuth\n";

// The server context: its certificate, and the CA of required client certificates if any.
asio::ssl::context make(const std::string& certFile, const std::string& keyFile,
                        const std::string& clientCaFile) {
  asio::ssl::context ssl(asio::ssl::context::tls_server);
  ssl.use_certificate_chain_file(certFile);
  ssl.use_private_key_file(keyFile, asio::ssl::context::pem);
  static const unsigned char kSessionContext[] = "archway-test";
  SSL_CTX_set_session_id_context(ssl.native_handle(), kSessionContext, sizeof kSessionContext - 1);
  if (!clientCaFile.empty()) {
    ssl.load_verify_file(clientCaFile);
    ssl.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  return ssl;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

QString TestCertificates::openssl(const QStringList& args) {
  QProcess p;
  p.setWorkingDirectory(dir_.path());
  p.setProcessChannelMode(QProcess::MergedChannels);
  p.start("openssl", args);
  if (!p.waitForFinished(30000)) {
    p.kill();
    p.waitForFinished();
    return "openssl timed out";
  }
  if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
    return "openssl " + args.join(' ') + ": " + QString::fromLocal8Bit(p.readAll());
  return {};
}

QString TestCertificates::make() {
  if (!dir_.isValid()) return "no temporary directory";
  QFile cnf(dir_.filePath("openssl.cnf"));
  if (!cnf.open(QIODevice::WriteOnly)) return "cannot write openssl.cnf";
  cnf.write(kOpensslConfig);
  cnf.close();
  const QStringList ec{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"};
  auto ca = [&](const QString& name, const QString& cn) {
    return openssl(QStringList{"req", "-x509", "-config", "openssl.cnf", "-extensions", "ca"} + ec +
                   QStringList{"-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
                               "-subj", "/CN=" + cn});
  };
  auto leaf = [&](const QString& name, const QString& cn, const QString& section) {
    QString err =
        openssl(QStringList{"req", "-new", "-config", "openssl.cnf"} + ec +
                QStringList{"-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn});
    if (!err.isEmpty()) return err;
    return openssl({"x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                    "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile",
                    "openssl.cnf", "-extensions", section});
  };
  for (const QString& err :
       {ca("ca", "Archway Test CA"), ca("other-ca", "Unrelated Test CA"),
        leaf("server", "api.test", "server"), leaf("client", "archway-client", "client")}) {
    if (!err.isEmpty()) return err;
  }
  return {};
}

std::string TestCertificates::path(const char* file) const {
  return dir_.filePath(file).toStdString();
}

std::string TestCertificates::pem(const char* file) const {
  QFile f(dir_.filePath(file));
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll().toStdString();
}

// -------------------------------------------------------------------------- TlsTestUpstream

TlsTestUpstream::TlsTestUpstream(const std::string& certFile, const std::string& keyFile,
                                 const std::string& clientCaFile, bool closeAfterEachResponse)
    : ssl_(make(certFile, keyFile, clientCaFile)),
      closeAfterEachResponse_(closeAfterEachResponse),
      threads_([this](tcp::socket s) { serve(std::move(s)); }) {}

TlsTestUpstream::Seen TlsTestUpstream::last() {
  std::lock_guard lock(mutex_);
  return last_;
}

void TlsTestUpstream::serve(tcp::socket socket) {
  asio::ssl::stream<tcp::socket> stream(std::move(socket), ssl_);
  threads_.track(&stream.next_layer());
  auto unregister = [&] { threads_.untrack(&stream.next_layer()); };
  boost::system::error_code ec;
  stream.handshake(asio::ssl::stream_base::server, ec);
  if (ec) {
    ++failedHandshakes_;
    unregister();
    return;
  }
  ++handshakes_;
  SSL* ssl = stream.native_handle();
  if (SSL_session_reused(ssl)) ++resumed_;
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const std::string sni = name ? name : "";
  std::string subject;
  if (X509* peer = SSL_get1_peer_certificate(ssl)) {
    char buf[256];
    X509_NAME_oneline(X509_get_subject_name(peer), buf, sizeof buf);
    subject = buf;
    X509_free(peer);
  }
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    http::read(stream, buffer, parser, ec);
    if (ec) break;
    auto req = parser.release();
    ++requests_;
    {
      std::lock_guard lock(mutex_);
      last_.sni = sni;
      last_.clientSubject = subject;
      last_.method = std::string(req.method_string());
      last_.target = std::string(req.target());
      last_.bodySize = req.body().size();
      last_.headers.clear();
      for (const auto& f : req) last_.headers[lower(f.name_string())] = std::string(f.value());
    }
    http::response<http::string_body> res{static_cast<http::status>(status.load()), 11};
    res.set(http::field::content_type, "text/plain");
    res.set("X-Body-Bytes", std::to_string(req.body().size()));
    const std::string target(req.target());
    res.body() = target.rfind("/big/", 0) == 0 ? std::string(std::stoul(target.substr(5)), 'x')
                                               : std::string("secure");
    const bool keepAlive = req.keep_alive() && !closeAfterEachResponse_;
    res.keep_alive(keepAlive);
    res.prepare_payload();
    http::write(stream, res, ec);
    if (ec || !keepAlive || threads_.stopping()) break;
  }
  unregister();
}
