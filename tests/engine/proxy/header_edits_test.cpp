// Plugin header edits as the proxy writes them (proxy/header_edits.h): later sets and removes
// supersede earlier lines of the same name (ignoring case), adds accumulate, injected lines are
// refused unless trusted, and the original head keeps only the headers the edits leave.
#include <QtTest>

#include <string>

#include "http/head_parser.h"
#include "proxy/header_edits.h"

using namespace archway;
using Op = plugins::HeaderEdit::Op;

class HeaderEditsTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void laterSetOrRemoveSupersedesEarlierLines() {
    plugins::EditList e;
    e.push(Op::set, "X-A", "1");
    e.push(Op::add, "X-B", "1");
    e.push(Op::add, "x-b", "2");
    e.push(Op::set, "x-a", "2");
    e.push(Op::set, "X-C", "1");
    e.push(Op::remove, "x-c", "");
    e.push(Op::add, "X-C", "3");
    std::string out;
    proxy::appendEdited(out, e);
    QCOMPARE(out, std::string("X-B: 1\r\nx-b: 2\r\nx-a: 2\r\nX-C: 3\r\n"));
    QVERIFY(proxy::editedAway(e, "X-A"));
    QVERIFY(proxy::editedAway(e, "x-C"));
    QVERIFY(!proxy::editedAway(e, "X-B"));  // only added to
    QVERIFY(!proxy::editedAway(e, "X-D"));
    QCOMPARE(proxy::editedValue(e, "X-A"), std::string_view("2"));
    QCOMPARE(proxy::editedValue(e, "x-c"), std::string_view("3"));
    QCOMPARE(proxy::editedValue(e, "X-D"), std::string_view());
  }

  void supersedingIsPerRequest() {
    plugins::EditList e;
    e.push(Op::set, "X-A", "1");
    e.push(Op::remove, "X-A", "");
    e.clear();
    QVERIFY(!proxy::editedAway(e, "X-A"));
    e.push(Op::set, "X-A", "2");  // reuses the slot the superseded line had
    std::string out;
    proxy::appendEdited(out, e);
    QCOMPARE(out, std::string("X-A: 2\r\n"));
  }

  void namesWithTheSameFingerprintStillCompare() {
    // Same length, first, middle and last byte: the key matches, the names do not.
    plugins::EditList e;
    QCOMPARE(plugins::headerNameKey("X-Ab-Z"), plugins::headerNameKey("x-Cb-z"));
    e.push(Op::set, "X-Ab-Z", "1");
    e.push(Op::remove, "X-Cb-Z", "");
    std::string out;
    proxy::appendEdited(out, e);
    QCOMPARE(out, std::string("X-Ab-Z: 1\r\n"));
    QVERIFY(proxy::editedAway(e, "x-ab-z"));
    QVERIFY(!proxy::editedAway(e, "X-Db-Z"));
  }

  void untrustedInjectionIsRefused() {
    plugins::EditList e;
    e.push(Op::set, "X-Bad", "a\r\nX-Evil: 1");
    e.push(Op::set, "Bad Name", "1");
    e.push(Op::set, "X-Tab", "a\tb");
    e.push(Op::set, "X-Trusted", "42", true);
    std::string out;
    proxy::appendEdited(out, e);
    QCOMPARE(out, std::string("X-Tab: a\tb\r\nX-Trusted: 42\r\n"));
  }

  void uneditedHeadersOfAParsedHead() {
    const std::string raw =
        "HTTP/1.1 200 OK\r\nServer: up\r\nContent-Length: 5\r\nx-ratelimit-limit-second: 9\r\n"
        "Connection: keep-alive\r\nX-Keep: 1\r\nX-Keep: 2\r\n\r\n";
    http::ResponseHead head;
    http::ParseError err{};
    QVERIFY(http::parseResponseHead(raw.data(), raw.size(), http::Limits{}, head, err) ==
            http::ParseStatus::complete);
    plugins::EditList e;
    e.push(Op::set, "X-RateLimit-Limit-Second", "10", true);
    e.push(Op::remove, "server", "");
    e.push(Op::add, "X-Keep", "3");
    std::string out;
    proxy::appendUnedited(out, raw.data(), head.headers, e, false);
    QCOMPARE(out, std::string("Content-Length: 5\r\nX-Keep: 1\r\nX-Keep: 2\r\n"));
    out.clear();
    proxy::appendUnedited(out, raw.data(), head.headers, e, true);
    QCOMPARE(out, std::string("X-Keep: 1\r\nX-Keep: 2\r\n"));
  }

  void moreHeadersThanTheBatchKeepTheirOrder() {
    std::string raw = "HTTP/1.1 200 OK\r\n", expected;
    for (int i = 0; i < 70; ++i) {
      const std::string line = "X-H" + std::to_string(i) + ": " + std::to_string(i) + "\r\n";
      raw += line;
      if (i != 3 && i != 65) expected += line;
    }
    raw += "\r\n";
    http::ResponseHead head;
    http::ParseError err{};
    QVERIFY(http::parseResponseHead(raw.data(), raw.size(), http::Limits{}, head, err) ==
            http::ParseStatus::complete);
    plugins::EditList e;
    e.push(Op::remove, "x-h3", "");
    e.push(Op::set, "X-H65", "new");
    std::string out = "HTTP/1.1 200 OK\r\n";
    proxy::appendUnedited(out, raw.data(), head.headers, e, false);
    QCOMPARE(out, "HTTP/1.1 200 OK\r\n" + expected);
  }
};

QTEST_APPLESS_MAIN(HeaderEditsTest)
#include "header_edits_test.moc"
