#include <QtTest>

#include "router/path.h"

using namespace archway;

class PathTest : public QObject {
  Q_OBJECT
 private slots:
  void normalizes_data() {
    QTest::addColumn<QString>("in");
    QTest::addColumn<QString>("out");
    QTest::newRow("plain") << "/a/b"
                           << "/a/b";
    QTest::newRow("duplicate slashes") << "//a///b"
                                       << "/a/b";
    QTest::newRow("dot segments") << "/a/./b/../c"
                                  << "/a/c";
    QTest::newRow("above root") << "/../a"
                                << "/a";
    QTest::newRow("trailing dot dot") << "/a/b/.."
                                      << "/a/";
    QTest::newRow("unreserved escape decoded") << "/%61bc%7E"
                                               << "/abc~";
    QTest::newRow("reserved escape upper-cased") << "/a%2fb"
                                                 << "/a%2Fb";
    QTest::newRow("empty") << ""
                           << "/";
  }
  void normalizes() {
    QFETCH(QString, in);
    QFETCH(QString, out);
    std::string result;
    QVERIFY(router::normalizePath(in.toStdString(), result));
    QCOMPARE(QString::fromStdString(result), out);
  }

  void rejectsBrokenEscapes() {
    std::string out;
    QVERIFY(!router::normalizePath("/a%2", out));
    QVERIFY(!router::normalizePath("/a%zz", out));
  }

  // Kong's documented path_handling v0 table (developer.konghq.com, route entity).
  void joinsV0_data() {
    QTest::addColumn<QString>("service");
    QTest::addColumn<QString>("rest");
    QTest::addColumn<QString>("out");
    QTest::newRow("no service path") << ""
                                     << "/req"
                                     << "/req";
    QTest::newRow("service, rest glued") << "/s"
                                         << "req"
                                         << "/sreq";
    QTest::newRow("service, rest with slash") << "/s"
                                              << "/req"
                                              << "/s/req";
    QTest::newRow("service with slash, rest with slash") << "/s/"
                                                         << "/req"
                                                         << "/s/req";
    QTest::newRow("nothing left") << "/s"
                                  << ""
                                  << "/s";
    QTest::newRow("nothing at all") << ""
                                    << ""
                                    << "/";
  }
  void joinsV0() {
    QFETCH(QString, service);
    QFETCH(QString, rest);
    QFETCH(QString, out);
    QCOMPARE(QString::fromStdString(router::joinPathV0(service.toStdString(), rest.toStdString())),
             out);
  }

  void joinsV1WithOneSlash() {
    QCOMPARE(router::joinPathV1("/s", "req"), std::string("/s/req"));
    QCOMPARE(router::joinPathV1("/s/", "/req"), std::string("/s/req"));
  }
};

QTEST_GUILESS_MAIN(PathTest)
#include "path_test.moc"
