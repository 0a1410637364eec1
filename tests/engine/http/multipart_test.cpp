#include <QtTest>
#include <string>

#include "http/multipart.h"

using namespace archway::http;

namespace {

const std::string kBody =
    "preamble is ignored\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"apikey\"\r\n"
    "\r\n"
    "secret\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "bytes\r\nwith\r\n--XyZnot a boundary\r\n"
    "--XyZ\r\n"
    "content-disposition: form-data; name=empty\r\n"
    "\r\n"
    "\r\n"
    "--XyZ--\r\n"
    "epilogue";

std::string error(const std::string& body, std::string_view boundary = "XyZ",
                  multipart::Limits limits = {}) {
  auto r = multipart::parse(body, boundary, limits);
  return r ? std::string() : r.errors().front().message;
}

}  // namespace

class MultipartTest : public QObject {
  Q_OBJECT
 private slots:
  void boundaryFromContentType_data() {
    QTest::addColumn<QString>("contentType");
    QTest::addColumn<QString>("boundary");
    QTest::newRow("plain") << "multipart/form-data; boundary=abc"
                           << "abc";
    QTest::newRow("quoted") << "Multipart/Form-Data; charset=utf-8; boundary=\"a b:c\""
                            << "a b:c";
    QTest::newRow("no boundary") << "multipart/form-data"
                                 << "";
    QTest::newRow("empty boundary") << "multipart/form-data; boundary="
                                    << "";
    QTest::newRow("not form-data") << "multipart/mixed; boundary=abc"
                                   << "";
    QTest::newRow("json") << "application/json"
                          << "";
    QTest::newRow("bad character") << "multipart/form-data; boundary=a{b"
                                   << "";
    QTest::newRow("too long") << "multipart/form-data; boundary=" + QString(71, 'x') << "";
  }
  void boundaryFromContentType() {
    QFETCH(QString, contentType);
    QFETCH(QString, boundary);
    const std::string ct = contentType.toStdString();
    QCOMPARE(QString::fromStdString(std::string(multipart::boundaryOf(ct))), boundary);
  }

  void splitsPartsWithNamesFilesAndValues() {
    auto parts = multipart::parse(kBody, "XyZ");
    QVERIFY2(parts.ok(), parts.errorText().c_str());
    QCOMPARE(parts->size(), std::size_t(3));
    QCOMPARE((*parts)[0].name, std::string_view("apikey"));
    QCOMPARE((*parts)[0].value, std::string_view("secret"));
    QVERIFY(!(*parts)[0].hasFilename);
    QCOMPARE((*parts)[1].name, std::string_view("file"));
    QVERIFY((*parts)[1].hasFilename);
    QCOMPARE((*parts)[1].filename, std::string_view("a.bin"));
    // A boundary-like line that is not the delimiter stays in the content.
    QCOMPARE((*parts)[1].value, std::string_view("bytes\r\nwith\r\n--XyZnot a boundary"));
    QCOMPARE((*parts)[2].name, std::string_view("empty"));  // unquoted, lower-case header
    QCOMPARE((*parts)[2].value, std::string_view(""));
    QCOMPARE(multipart::find(*parts, "file"), &(*parts)[1]);
    QVERIFY(multipart::find(*parts, "nope") == nullptr);
  }

  void encodesBackByteForByte() {
    auto parts = multipart::parse(kBody, "XyZ");
    QVERIFY(parts.ok());
    const std::string out = multipart::encode(*parts, "XyZ");
    // Without preamble and epilogue, the same bytes.
    const std::size_t from = kBody.find("--XyZ\r\n");
    const std::size_t to = kBody.find("--XyZ--\r\n") + 9;
    QCOMPARE(out, kBody.substr(from, to - from));
    auto again = multipart::parse(out, "XyZ");
    QVERIFY(again.ok());
    QCOMPARE(again->size(), std::size_t(3));
  }

  void partWithoutHeaders() {
    auto parts = multipart::parse("--b\r\n\r\nv\r\n--b--\r\n", "b");
    QVERIFY(parts.ok());
    QCOMPARE(parts->size(), std::size_t(1));
    QCOMPARE((*parts)[0].name, std::string_view());
    QCOMPARE((*parts)[0].value, std::string_view("v"));
  }

  void emptyMultipartBody() {
    auto parts = multipart::parse("--b--\r\n", "b");
    QVERIFY(parts.ok());
    QVERIFY(parts->empty());
    QCOMPARE(multipart::encode({}, "b"), std::string("--b--\r\n"));
  }

  void rejectsMalformedBodies_data() {
    QTest::addColumn<QString>("body");
    QTest::addColumn<QString>("message");
    QTest::newRow("no boundary in body") << "name=value"
                                         << "multipart body without its boundary";
    QTest::newRow("truncated part")
        << "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhalf a val"
        << "multipart body ends before its closing boundary";
    QTest::newRow("truncated headers") << "--XyZ\r\nContent-Disposition: form-da"
                                       << "multipart part ends inside its headers";
    QTest::newRow("no closing delimiter")
        << "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--XyZ"
        << "multipart body ends before its closing boundary";
    QTest::newRow("garbage after delimiter") << "--XyZjunk\r\n\r\nv\r\n--XyZ--"
                                             << "multipart boundary not followed by a line end";
  }
  void rejectsMalformedBodies() {
    QFETCH(QString, body);
    QFETCH(QString, message);
    QCOMPARE(QString::fromStdString(error(body.toStdString())), message);
  }

  void rejectsAMissingBoundary() {
    QCOMPARE(QString::fromStdString(error(kBody, "")),
             QString("multipart body without a boundary"));
  }

  void rejectsHugePartHeaders() {
    std::string body =
        "--XyZ\r\nX-Filler: " + std::string(100000, 'a') + "\r\n\r\nv\r\n--XyZ--\r\n";
    multipart::Limits limits;
    limits.maxHeaderBytes = 1024;
    QCOMPARE(QString::fromStdString(error(body, "XyZ", limits)),
             QString("multipart part headers too large"));
    limits.maxHeaderBytes = 200000;
    QVERIFY(multipart::parse(body, "XyZ", limits).ok());
  }

  void rejectsTooManyParts() {
    std::string body;
    for (int i = 0; i < 5; ++i) body += "--b\r\n\r\nx\r\n";
    body += "--b--\r\n";
    multipart::Limits limits;
    limits.maxParts = 4;
    QCOMPARE(QString::fromStdString(error(body, "b", limits)),
             QString("multipart body has more than 4 parts"));
    limits.maxParts = 5;
    QVERIFY(multipart::parse(body, "b", limits).ok());
  }
};

QTEST_GUILESS_MAIN(MultipartTest)
#include "multipart_test.moc"
