#pragma once
// TLS fixtures for tests of upstream TLS (the proxy's https services, https health probes).
//
// TestCertificates: a small PKI made with the openssl command in a temporary directory: a CA,
// a server certificate it signed (api.test, localhost, 127.0.0.1), a client certificate it
// signed, and an unrelated CA.
//
// TlsTestUpstream: a real HTTP/1.1-over-TLS upstream (Boost.Asio SSL, thread per connection,
// keep-alive). It counts TCP connections, completed handshakes and resumed sessions, and
// remembers the SNI and client certificate of the last handshake and the last request. Answers
// `status` with the body "secure" (`/big/<n>`: n bytes of 'x') and `X-Body-Bytes: <request body
// size>`.
#include <QString>
#include <QTemporaryDir>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <map>
#include <mutex>
#include <string>

#include "test_upstream.h"

class TestCertificates {
 public:
  // Makes every file; empty on success, else what failed.
  QString make();
  // "ca.pem", "server.pem", "server.key", "client.pem", "client.key", "other-ca.pem".
  std::string path(const char* file) const;
  std::string pem(const char* file) const;  // the file's text

 private:
  QString openssl(const QStringList& args);
  QTemporaryDir dir_;
};

class TlsTestUpstream {
 public:
  // clientCaFile non-empty: a client certificate signed by that CA is required.
  // closeAfterEachResponse: every answer says Connection: close and the connection ends.
  TlsTestUpstream(const std::string& certFile, const std::string& keyFile,
                  const std::string& clientCaFile = {}, bool closeAfterEachResponse = false);
  ~TlsTestUpstream() { threads_.stop(); }
  unsigned short port() const { return threads_.port(); }
  int connections() const { return threads_.accepted(); }
  int handshakes() const { return handshakes_.load(); }
  int failedHandshakes() const { return failedHandshakes_.load(); }
  int resumed() const { return resumed_.load(); }
  int requests() const { return requests_.load(); }
  std::atomic<int> status{200};

  struct Seen {
    std::string sni;            // of the connection that carried the last request
    std::string clientSubject;  // its client certificate's subject, empty without one
    std::string method, target;
    std::map<std::string, std::string> headers;  // lower-case names
    std::size_t bodySize = 0;
  };
  Seen last();

 private:
  void serve(boost::asio::ip::tcp::socket socket);
  boost::asio::ssl::context ssl_;
  std::atomic<int> handshakes_{0}, failedHandshakes_{0}, resumed_{0}, requests_{0};
  bool closeAfterEachResponse_ = false;
  std::mutex mutex_;
  Seen last_;
  ConnectionThreads threads_;  // last: its threads use the members above
};
