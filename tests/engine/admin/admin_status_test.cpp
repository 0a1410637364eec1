// GET /status, /status/ready and kong_datastore_reachable follow the store's health
// (kong-reference §2.4), straight on AdminApi.
#include <QtTest>
#include <atomic>

#include <boost/json/parse.hpp>

#include "admin/admin_api.h"

using namespace archway;
namespace json = boost::json;

class AdminStatusTest : public QObject {
  Q_OBJECT
 private:
  std::shared_ptr<std::atomic<bool>> up_ = std::make_shared<std::atomic<bool>>(true);

  admin::AdminApi api(bool withHealth = true) {
    admin::AdminContext ctx;
    ctx.config = [] { return std::make_shared<const core::Config>(); };
    ctx.stats = [] { return std::make_shared<const metrics::StatsFrame>(); };
    ctx.database = "postgres";
    if (withHealth) ctx.databaseReachable = [up = up_] { return up->load(); };
    return admin::AdminApi(std::move(ctx));
  }

  static bool reachable(const admin::AdminApi& a) {
    auto r = a.handle({"GET", "/status", ""});
    if (r.status != 200) qFatal("/status: %d %s", r.status, r.body.c_str());
    return json::parse(r.body).at("database").at("reachable").as_bool();
  }

 private slots:
  void statusReportsWhetherTheDatabaseIsReachable() {
    auto a = api();
    up_->store(true);
    QVERIFY(reachable(a));
    up_->store(false);
    QVERIFY(!reachable(a));
    up_->store(true);
    QVERIFY(reachable(a));
  }

  void readyIs503WhileTheDatabaseIsUnreachable() {
    auto a = api();
    up_->store(true);
    auto ok = a.handle({"GET", "/status/ready", ""});
    QCOMPARE(ok.status, 200);
    QCOMPARE(ok.body, std::string("{\"message\":\"ready\"}"));
    up_->store(false);
    auto down = a.handle({"GET", "/status/ready", ""});
    QCOMPARE(down.status, 503);
    QCOMPARE(down.body, std::string("{\"message\":\"failed to connect to database\"}"));
    QCOMPARE(a.handle({"POST", "/status/ready", ""}).status, 400);  // no status= given
    QCOMPARE(a.handle({"GET", "/status/other", ""}).status, 404);
    up_->store(true);
  }

  void prometheusExportsTheDatastoreGauge() {
    auto a = api();
    up_->store(false);
    auto r = a.handle({"GET", "/metrics", ""});
    QVERIFY2(r.body.find("\nkong_datastore_reachable 0\n") != std::string::npos, r.body.c_str());
    up_->store(true);
    r = a.handle({"GET", "/metrics", ""});
    QVERIFY(r.body.find("\nkong_datastore_reachable 1\n") != std::string::npos);
  }

  void withoutAStoreHealthTheDatabaseCountsAsReachable() {
    auto a = api(false);
    QVERIFY(reachable(a));
    QCOMPARE(a.handle({"GET", "/status/ready", ""}).status, 200);
  }
};

QTEST_GUILESS_MAIN(AdminStatusTest)
#include "admin_status_test.moc"
