// key-auth's key_in_body through the real proxy with a multipart/form-data body: the key is
// read from a form field, hide_credentials removes that part and the upstream gets the rest of
// the body re-encoded with the client's boundary and a matching Content-Length.
#include <QtTest>
#include <boost/json.hpp>

#include "../request_transformer/gateway.h"

using plugintest::Gateway;
namespace json = boost::json;

namespace {

const char* const kYaml =
    "_format_version: '3.0'\n"
    "services:\n"
    "- name: svc\n"
    "  url: UPSTREAM\n"
    "  routes:\n"
    "  - name: body\n"
    "    paths: [/body]\n"
    "    plugins:\n"
    "    - name: key-auth\n"
    "      config: {key_in_body: true}\n"
    "  - name: hidden\n"
    "    paths: [/hidden]\n"
    "    plugins:\n"
    "    - name: key-auth\n"
    "      config: {key_in_body: true, hide_credentials: true}\n"
    "consumers:\n"
    "- username: alice\n"
    "  keyauth_credentials:\n"
    "  - key: alice-key\n";

const std::pair<std::string, std::string> kMultipart{"Content-Type",
                                                     "multipart/form-data; boundary=----b0und"};

std::string form(const std::string& key) {
  return "------b0und\r\n"
         "Content-Disposition: form-data; name=\"note\"\r\n\r\n"
         "hello\r\n"
         "------b0und\r\n"
         "Content-Disposition: form-data; name=\"apikey\"\r\n\r\n" +
         key +
         "\r\n"
         "------b0und\r\n"
         "Content-Disposition: form-data; name=\"doc\"; filename=\"d.txt\"\r\n"
         "Content-Type: text/plain\r\n\r\n"
         "line 1\r\nline 2\r\n"
         "------b0und--\r\n";
}

json::object echoOf(const plugintest::Response& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) qFatal("not an echo: %s", r.body.c_str());
  return v.as_object();
}

std::string messageOf(const plugintest::Response& r) {
  return std::string(json::parse(r.body).at("message").as_string());
}

}  // namespace

class KeyAuthBodyProxyTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { gw_ = std::make_unique<Gateway>(kYaml, 2); }
  void cleanupTestCase() { gw_.reset(); }

  void keyFromAMultipartFieldAuthenticates() {
    auto r = gw_->send("POST", "/body", {kMultipart}, form("alice-key"));
    QCOMPARE(r.status, 200);
    auto echo = echoOf(r);
    QCOMPARE(echo.at("headers").at("x-consumer-username").as_string(), "alice");
    // Not hidden: the body reaches the upstream as sent.
    QCOMPARE(std::string(echo.at("body").as_string()), form("alice-key"));
  }

  void wrongOrMissingMultipartKeyIs401() {
    auto wrong = gw_->send("POST", "/body", {kMultipart}, form("nope"));
    QCOMPARE(wrong.status, 401);
    QCOMPARE(messageOf(wrong), std::string("Unauthorized"));
    std::string noKey = form("x");
    noKey.replace(noKey.find("name=\"apikey\""), 13, "name=\"other\"");
    auto missing = gw_->send("POST", "/body", {kMultipart}, noKey);
    QCOMPARE(missing.status, 401);
    QCOMPARE(messageOf(missing), std::string("No API key found in request"));
  }

  void malformedMultipartBodyHasNoKey() {
    std::string truncated = form("alice-key");
    truncated.resize(truncated.size() - 20);  // no closing boundary
    auto r = gw_->send("POST", "/body", {kMultipart}, truncated);
    QCOMPARE(r.status, 401);
    QCOMPARE(messageOf(r), std::string("No API key found in request"));
  }

  void hiddenKeyPartIsRemovedFromTheBody() {
    auto r = gw_->send("POST", "/hidden", {kMultipart}, form("alice-key"));
    QCOMPARE(r.status, 200);
    auto echo = echoOf(r);
    const std::string body(echo.at("body").as_string());
    QVERIFY2(body.find("alice-key") == std::string::npos, body.c_str());
    QVERIFY(body.find("apikey") == std::string::npos);
    std::string expected = form("alice-key");
    const std::size_t from =
        expected.find("------b0und\r\nContent-Disposition: form-data; name=\"apikey\"");
    expected.erase(from, expected.find("------b0und", from + 1) - from);
    QCOMPARE(body, expected);
    QCOMPARE(std::string(echo.at("headers").at("content-length").as_string()),
             std::to_string(expected.size()));
    QCOMPARE(std::string(echo.at("headers").at("content-type").as_string()), kMultipart.second);
  }

 private:
  std::unique_ptr<Gateway> gw_;
};

QTEST_GUILESS_MAIN(KeyAuthBodyProxyTest)
#include "key_auth_body_proxy_test.moc"
