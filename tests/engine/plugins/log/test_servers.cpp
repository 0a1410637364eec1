#include "test_servers.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <istream>

namespace logtest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

namespace {

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::shared_ptr<asio::ssl::context> serverContext() {
  static SelfSigned cert = makeSelfSigned();
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->use_certificate_chain(asio::buffer(cert.certPem));
  ctx->use_private_key(asio::buffer(cert.keyPem), asio::ssl::context::pem);
  return ctx;
}

// What both TCP servers share: an acceptor thread, one thread per connection, and a list of
// open sockets to shut down when stopping.
class Acceptor {
 public:
  Acceptor() : acceptor_(ctx_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  template <class Serve>
  void start(Serve serve) {
    thread_ = std::thread([this, serve] {
      for (;;) {
        tcp::socket s(ctx_);
        boost::system::error_code ec;
        acceptor_.accept(s, ec);
        if (ec || stopping_) return;
        std::lock_guard lock(mu_);
        fds_.push_back(s.native_handle());
        threads_.emplace_back([serve, sock = std::make_shared<tcp::socket>(
                                          std::move(s))]() mutable { serve(*sock); });
      }
    });
  }

  void stop() {
    stopping_ = true;
    boost::system::error_code ec;
    // Shutting the socket down wakes the blocked accept; closing it waits for that thread.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    acceptor_.close(ec);
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  asio::io_context ctx_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
};

}  // namespace

SelfSigned makeSelfSigned() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_sign(x, key, EVP_sha256());
  BIO* certBio = BIO_new(BIO_s_mem());
  BIO* keyBio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(certBio, x);
  PEM_write_bio_PrivateKey(keyBio, key, nullptr, nullptr, 0, nullptr, nullptr);
  SelfSigned out{bioText(certBio), bioText(keyBio)};
  BIO_free(certBio);
  BIO_free(keyBio);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

// ----------------------------------------------------------------------------- HttpSink

struct HttpSink::Impl {
  Acceptor acceptor;
  std::shared_ptr<asio::ssl::context> tls;
  bool closeAfterResponse = false;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<int> statuses;
  std::vector<Request> requests;

  template <class Stream>
  void serve(Stream& stream, int connection) {
    beast::flat_buffer buf;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      boost::system::error_code ec;
      bhttp::read(stream, buf, req, ec);
      if (ec) return;
      Request r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.body = req.body();
      r.connection = connection;
      for (const auto& f : req)
        r.headers[lower(std::string(f.name_string()))] = std::string(f.value());
      int status = 200;
      {
        std::lock_guard lock(mu);
        if (!statuses.empty()) {
          status = statuses.front();
          statuses.pop_front();
        }
        requests.push_back(std::move(r));
        cv.notify_all();
      }
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
      res.body() = status >= 300 ? "try again later" : "ok";
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      bhttp::write(stream, res, ec);
      if (ec || !req.keep_alive() || closeAfterResponse) return;
    }
  }
};

HttpSink::HttpSink(bool tls, bool closeAfterResponse) : impl_(std::make_unique<Impl>()) {
  impl_->closeAfterResponse = closeAfterResponse;
  if (tls) impl_->tls = serverContext();
  port_ = impl_->acceptor.port();
  impl_->acceptor.start([this](tcp::socket& s) {
    int n = ++connections_;
    if (impl_->tls) {
      asio::ssl::stream<tcp::socket&> stream(s, *impl_->tls);
      boost::system::error_code ec;
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (!ec) impl_->serve(stream, n);
    } else {
      impl_->serve(s, n);
    }
  });
}

HttpSink::~HttpSink() {
  impl_->acceptor.stop();
}

void HttpSink::script(std::vector<int> statuses) {
  std::lock_guard lock(impl_->mu);
  impl_->statuses.assign(statuses.begin(), statuses.end());
}

bool HttpSink::waitRequests(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->requests.size() >= n; });
}

std::vector<HttpSink::Request> HttpSink::requests() {
  std::lock_guard lock(impl_->mu);
  return impl_->requests;
}

// ----------------------------------------------------------------------------- LineSink

struct LineSink::Impl {
  Acceptor acceptor;
  std::shared_ptr<asio::ssl::context> tls;
  bool closeAfterFirstLine = false;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> lines;
  std::string sni;

  template <class Stream>
  void serve(Stream& stream) {
    asio::streambuf buf;
    for (;;) {
      boost::system::error_code ec;
      asio::read_until(stream, buf, '\n', ec);
      if (ec) return;
      std::istream in(&buf);
      std::string line;
      std::getline(in, line);
      {
        std::lock_guard lock(mu);
        lines.push_back(line);
        cv.notify_all();
      }
      if (closeAfterFirstLine) return;
    }
  }
};

LineSink::LineSink(bool tls, bool closeAfterFirstLine) : impl_(std::make_unique<Impl>()) {
  impl_->closeAfterFirstLine = closeAfterFirstLine;
  if (tls) impl_->tls = serverContext();
  port_ = impl_->acceptor.port();
  impl_->acceptor.start([this](tcp::socket& s) {
    ++connections_;
    if (impl_->tls) {
      asio::ssl::stream<tcp::socket&> stream(s, *impl_->tls);
      boost::system::error_code ec;
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (ec) return;
      if (const char* name =
              SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name)) {
        std::lock_guard lock(impl_->mu);
        impl_->sni = name;
      }
      impl_->serve(stream);
    } else {
      impl_->serve(s);
    }
  });
}

LineSink::~LineSink() {
  impl_->acceptor.stop();
}

bool LineSink::waitLines(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->lines.size() >= n; });
}

std::vector<std::string> LineSink::lines() {
  std::lock_guard lock(impl_->mu);
  return impl_->lines;
}

std::string LineSink::lastSni() {
  std::lock_guard lock(impl_->mu);
  return impl_->sni;
}

// ------------------------------------------------------------------------------ UdpSink

UdpSink::UdpSink()
    : socket_(ctx_, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
  port_ = socket_.local_endpoint().port();
  thread_ = std::thread([this] {
    std::vector<char> buf(70000);
    for (;;) {
      boost::system::error_code ec;
      std::size_t n = socket_.receive(asio::buffer(buf), 0, ec);
      if (stopping_) return;
      if (ec) continue;
      std::lock_guard lock(mu_);
      got_.emplace_back(buf.data(), n);
      cv_.notify_all();
    }
  });
}

UdpSink::~UdpSink() {
  stopping_ = true;
  // Wake the blocked receive with one datagram of our own.
  asio::ip::udp::socket s(ctx_, asio::ip::udp::v4());
  boost::system::error_code ec;
  s.send_to(asio::buffer("x", 1), socket_.local_endpoint(), 0, ec);
  thread_.join();
}

bool UdpSink::waitDatagrams(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
}

std::vector<std::string> UdpSink::datagrams() {
  std::lock_guard lock(mu_);
  return got_;
}

}  // namespace logtest
