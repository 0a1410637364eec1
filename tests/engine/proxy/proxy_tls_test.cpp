// https services end to end against a real TLS upstream: requests and bodies both ways over
// TLS, keep-alive and session resumption, SNI, certificate verification (tls_verify with the
// service's ca_certificates, the system store, the host name), client certificates, pools kept
// apart by TLS setting, and handshake failures retried on the next target. Certificates are
// made by the openssl command; names resolve through a real DNS server on loopback.
#include <QtTest>

#include "../net/dns_test_server.h"
#include "config/declarative.h"
#include "runtime/engine.h"
#include "test_upstream.h"
#include "tls_test_upstream.h"

using namespace archway;
namespace {

constexpr const char* kBadGateway =
    "{\"message\":\"An invalid response was received from the upstream server\"}";
constexpr const char* kCaId = "5f3b0a4e-8d8c-4b5e-9a55-0c2f1f6b1a01";
constexpr const char* kOtherCaId = "5f3b0a4e-8d8c-4b5e-9a55-0c2f1f6b1a02";
constexpr const char* kClientCertId = "5f3b0a4e-8d8c-4b5e-9a55-0c2f1f6b1a03";

// A PEM text as a YAML double-quoted scalar.
std::string quoted(const std::string& pem) {
  std::string out = "\"";
  for (char c : pem) {
    if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out + "\"";
}

// One service entry of kong.yml: `url`, route path `path`, and extra fields (each line
// indented by two spaces, ending in a newline).
std::string service(const std::string& name, const std::string& url, const std::string& path,
                    const std::string& extra = {}, const std::string& routeExtra = {}) {
  return "- name: " + name + "\n  url: " + url +
         "\n  retries: 0\n  connect_timeout: 2000\n  read_timeout: 10000\n" + extra +
         "  routes: [{name: r-" + name + ", paths: [" + path + "]" + routeExtra + "}]\n";
}

}  // namespace

class ProxyTlsTest : public QObject {
  Q_OBJECT

  TestCertificates certs_;
  std::unique_ptr<DnsTestServer> dns_;

  // kong.yml with the two CAs and the client certificate, and `services`.
  std::string yaml(const std::string& services, const std::string& rest = {}) {
    return "_format_version: '3.0'\nca_certificates:\n- id: " + std::string(kCaId) +
           "\n  cert: " + quoted(certs_.pem("ca.pem")) + "\n- id: " + kOtherCaId +
           "\n  cert: " + quoted(certs_.pem("other-ca.pem")) +
           "\ncertificates:\n- id: " + kClientCertId +
           "\n  cert: " + quoted(certs_.pem("client.pem")) +
           "\n  key: " + quoted(certs_.pem("client.key")) + "\nservices:\n" + services + rest;
  }

  std::unique_ptr<runtime::Engine> start(const std::string& text) {
    auto c = config::parseDeclarative(text);
    if (!c) qFatal("%s", c.errorText().c_str());
    runtime::EngineOptions o;
    o.proxyListen = "127.0.0.1:0";
    o.adminListen = "off";
    o.workers = 1;
    o.dns.nameservers = {dns_->address()};
    o.dns.hostsFile = "";
    auto e = std::make_unique<runtime::Engine>();
    auto s = e->start(o, std::move(*c));
    if (!s) qFatal("%s", s.errorText().c_str());
    return e;
  }

  std::string server(const char* file) const { return certs_.path(file); }

 private Q_SLOTS:
  void initTestCase() {
    if (QStandardPaths::findExecutable("openssl").isEmpty())
      QSKIP("the openssl command is not installed (Debian package openssl)");
    const QString err = certs_.make();
    QVERIFY2(err.isEmpty(), qPrintable(err));
    dns_ = std::make_unique<DnsTestServer>();
    dns_->setA("api.test", {"127.0.0.1"}, 300);
    dns_->setA("wrong.test", {"127.0.0.1"}, 300);
  }

  void cleanupTestCase() { dns_.reset(); }

  void proxiesRequestsAndBodiesOverTls() {
    TlsTestUpstream up(server("server.pem"), server("server.key"));
    const std::string port = std::to_string(up.port());
    auto e = start(yaml(service("svc", "https://api.test:" + port, "/")));
    TestClient client(e->proxyPort());
    auto r = client.get("/hello?x=1");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.body, std::string("secure"));
    QCOMPARE(up.last().target, std::string("/hello?x=1"));
    // Host keeps the port (not 443); SNI is that host without it.
    QCOMPARE(up.last().headers["host"], "api.test:" + port);
    QCOMPARE(up.last().sni, std::string("api.test"));

    // A buffered body, a streamed one (over request_buffering's 1 MiB), a streamed response.
    auto small = TestClient(e->proxyPort()).send("POST", "/upload", std::string(100000, 'b'));
    QCOMPARE(small.status, 200);
    QCOMPARE(small.headers["x-body-bytes"], std::string("100000"));
    auto large = TestClient(e->proxyPort()).send("POST", "/upload", std::string(3 << 20, 'b'));
    QCOMPARE(large.status, 200);
    QCOMPARE(large.headers["x-body-bytes"], std::to_string(3 << 20));
    QCOMPARE(up.last().method, std::string("POST"));
    auto big = client.get("/big/3000000");
    QCOMPARE(big.status, 200);
    QCOMPARE(big.body.size(), std::size_t(3000000));
  }

  void reusesConnectionsAndResumesSessions() {
    {
      TlsTestUpstream up(server("server.pem"), server("server.key"));
      auto e = start(yaml(service("svc", "https://api.test:" + std::to_string(up.port()), "/")));
      TestClient client(e->proxyPort());
      for (int i = 0; i < 5; ++i) QCOMPARE(client.get("/k").status, 200);
      QCOMPARE(up.requests(), 5);
      QCOMPARE(up.connections(), 1);
      QCOMPARE(up.handshakes(), 1);
    }
    // An upstream that closes every connection: each request connects again, and resumes the
    // session of the first.
    TlsTestUpstream up(server("server.pem"), server("server.key"), {}, true);
    auto e = start(yaml(service("svc", "https://api.test:" + std::to_string(up.port()), "/")));
    TestClient client(e->proxyPort());
    for (int i = 0; i < 3; ++i) QCOMPARE(client.get("/c").status, 200);
    QCOMPARE(up.handshakes(), 3);
    QCOMPARE(up.resumed(), 2);
  }

  void sendsThePreservedHostAsSni() {
    TlsTestUpstream up(server("server.pem"), server("server.key"));
    auto e = start(yaml(service("svc", "https://api.test:" + std::to_string(up.port()), "/", {},
                                ", preserve_host: true")));
    TestClient client(e->proxyPort());  // sends Host: localhost
    QCOMPARE(client.get("/p").status, 200);
    QCOMPARE(up.last().headers["host"], std::string("localhost"));
    QCOMPARE(up.last().sni, std::string("localhost"));
  }

  void verifiesTheCertificateWhenAsked() {
    TlsTestUpstream up(server("server.pem"), server("server.key"));
    const std::string port = std::to_string(up.port());
    const std::string ca = "  tls_verify: true\n  ca_certificates: [" + std::string(kCaId) + "]\n";
    auto e = start(yaml(
        service("right-ca", "https://api.test:" + port, "/right", ca) +
        service("ip", "https://127.0.0.1:" + port, "/ip", ca + "  tls_verify_depth: 2\n") +
        service("wrong-ca", "https://api.test:" + port, "/wrong",
                "  tls_verify: true\n  ca_certificates: [" + std::string(kOtherCaId) + "]\n") +
        service("system-store", "https://api.test:" + port, "/system", "  tls_verify: true\n") +
        service("wrong-name", "https://wrong.test:" + port, "/name", ca) +
        service("no-verify", "https://wrong.test:" + port, "/off", "  tls_verify: false\n")));
    TestClient client(e->proxyPort());
    QCOMPARE(client.get("/right").status, 200);
    QCOMPARE(client.get("/ip").status, 200);  // the certificate names 127.0.0.1
    QCOMPARE(client.get("/off").status, 200);
    const int served = up.requests();
    for (const char* path : {"/wrong", "/system", "/name"}) {
      auto r = client.get(path);
      QVERIFY2(r.status == 502, path);
      QCOMPARE(r.body, std::string(kBadGateway));
    }
    QCOMPARE(up.requests(), served);
    QVERIFY(client.open());
  }

  void presentsTheClientCertificate() {
    TlsTestUpstream up(server("server.pem"), server("server.key"), server("ca.pem"));
    const std::string url = "https://api.test:" + std::to_string(up.port());
    const std::string cert = "client_certificate: {id: " + std::string(kClientCertId) + "}\n";
    // Kong: a service without a certificate of its own presents its upstream's.
    auto e = start(
        yaml(service("with-cert", url, "/with", "  " + cert) + service("without", url, "/without") +
                 "- name: balanced\n  protocol: https\n  host: mtls-backend\n"
                 "  routes: [{name: r-balanced, paths: [/balanced]}]\n",
             "upstreams:\n- name: mtls-backend\n  " + cert +
                 "  targets: [{target: '127.0.0.1:" + std::to_string(up.port()) + "'}]\n"));
    TestClient client(e->proxyPort());
    QCOMPARE(client.get("/with").status, 200);
    QCOMPARE(up.last().clientSubject, std::string("/CN=archway-client"));
    QCOMPARE(client.get("/balanced").status, 200);
    QCOMPARE(up.last().clientSubject, std::string("/CN=archway-client"));
    const int served = up.requests();
    QCOMPARE(client.get("/without").status, 502);
    QCOMPARE(up.requests(), served);
  }

  void keepsEachTlsSettingInItsOwnPool() {
    TlsTestUpstream up(server("server.pem"), server("server.key"));
    const std::string url = "https://api.test:" + std::to_string(up.port());
    auto e = start(
        yaml(service("plain-tls", url, "/a") +
             service("verified", url, "/b",
                     "  tls_verify: true\n  ca_certificates: [" + std::string(kCaId) + "]\n")));
    TestClient client(e->proxyPort());
    for (const char* path : {"/a", "/b", "/a", "/b", "/a"}) QCOMPARE(client.get(path).status, 200);
    QCOMPARE(up.requests(), 5);
    QCOMPARE(up.connections(), 2);
  }

  void retriesAFailedHandshakeOnTheNextTarget() {
    TestUpstream plain;  // speaks no TLS: every handshake with it fails
    TlsTestUpstream up(server("server.pem"), server("server.key"));
    auto target = [](unsigned short p) {
      return "  - {target: '127.0.0.1:" + std::to_string(p) + "'}\n";
    };
    auto e = start(yaml(
        "- name: svc\n  protocol: https\n  host: backend\n  port: 443\n"
        "  retries: 1\n  connect_timeout: 2000\n  routes: [{name: r, paths: [/]}]\n",
        "upstreams:\n- name: backend\n  targets:\n" + target(plain.port()) + target(up.port())));
    TestClient client(e->proxyPort());
    for (int i = 0; i < 6; ++i) QCOMPARE(client.get("/r").status, 200);
    QCOMPARE(up.requests(), 6);
    QCOMPARE(plain.requests(), 0);
    // The picked target names the Host; an IP address gets no SNI.
    QCOMPARE(up.last().headers["host"], "127.0.0.1:" + std::to_string(up.port()));
    QCOMPARE(up.last().sni, std::string());
  }
};

QTEST_GUILESS_MAIN(ProxyTlsTest)
#include "proxy_tls_test.moc"
