// The Admin API's CRUD, error and pagination matrix for every entity kind, on a running Engine
// over real HTTP, against both stores: SQLite in a temporary directory and a private PostgreSQL
// (tests/engine/store/pg_server.h). After the matrix, a second Engine started on the same store
// must load exactly what the Admin API answered: the writes were persisted, not only swapped.
#include <QTemporaryDir>
#include <QtTest>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "../store/pg_server.h"
#include "admin_exchange.h"
#include "runtime/config_source.h"
#include "runtime/engine.h"

using namespace archway;
using pgtest::PgServer;
using archway::testing::exchange;
using archway::testing::Reply;
namespace json = boost::json;

namespace {

// One entity kind of the matrix.
struct Kind {
  const char* name;        // data tag
  const char* collection;  // where POST creates and GET lists
  const char* key;         // the endpoint key besides id ("name", "username", "key"...), or ""
  const char* prefix;      // entities are `prefix + i`
  // The JSON body creating entity `i` (its key value is `prefix + i`).
  std::string (*create)(const std::string& keyValue, int i);
  const char* patchBody;    // a PATCH changing one field...
  const char* patchField;   // ...this one...
  const char* patchValue;   // ...to this JSON value
  const char* invalidBody;  // a POST the schema refuses...
  const char* invalidField; // ...naming this field in `fields` ("@entity" for entity checks)
  bool uniqueKey;           // a second POST with the same key is a 409
};

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

const Kind kKinds[] = {
    {"services", "/services", "name", "svc-",
     [](const std::string& k, int i) {
       return "{\"name\":" + quoted(k) + ",\"url\":\"http://10.0.0." + std::to_string(i + 1) +
              ":8080/p\"}";
     },
     "{\"retries\":3}", "retries", "3", "{\"name\":\"bad\",\"host\":\"h\",\"port\":70000}",
     "port", true},
    {"routes", "/services/base-svc/routes", "name", "route-",
     [](const std::string& k, int i) {
       return "{\"name\":" + quoted(k) + ",\"paths\":[\"/p" + std::to_string(i) + "\"]}";
     },
     "{\"regex_priority\":5}", "regex_priority", "5",
     "{\"name\":\"bad\",\"paths\":[\"no-slash\"]}", "paths", true},
    {"upstreams", "/upstreams", "name", "up-",
     [](const std::string& k, int) { return "{\"name\":" + quoted(k) + "}"; },
     "{\"slots\":20}", "slots", "20", "{\"name\":\"bad\",\"slots\":5}", "slots", true},
    {"targets", "/upstreams/base-up/targets", "target", "10.1.0.",
     [](const std::string& k, int) { return "{\"target\":" + quoted(k + ":80") + "}"; },
     "{\"weight\":7}", "weight", "7", "{\"target\":\"10.9.9.9:80\",\"weight\":70000}", "weight",
     false},
    {"consumers", "/consumers", "username", "user-",
     [](const std::string& k, int) { return "{\"username\":" + quoted(k) + "}"; },
     "{\"custom_id\":\"cid\"}", "custom_id", "\"cid\"", "{\"tags\":[\"x\"]}", "@entity", true},
    {"key-auth", "/consumers/base-user/key-auth", "key", "key-",
     [](const std::string& k, int) { return "{\"key\":" + quoted(k) + "}"; },
     "{\"tags\":[\"t\"]}", "tags", "[\"t\"]", "{\"key\":5}", "key", true},
    {"basic-auth", "/consumers/base-user/basic-auth", "username", "basic-",
     [](const std::string& k, int) {
       return "{\"username\":" + quoted(k) + ",\"password\":\"pw\"}";
     },
     "{\"tags\":[\"t\"]}", "tags", "[\"t\"]", "{\"username\":\"nopw\"}", "password", true},
    {"jwt", "/consumers/base-user/jwt", "key", "iss-",
     [](const std::string& k, int) { return "{\"key\":" + quoted(k) + ",\"secret\":\"s\"}"; },
     "{\"algorithm\":\"HS512\"}", "algorithm", "\"HS512\"", "{\"algorithm\":\"NOPE\"}",
     "algorithm", true},
    {"acls", "/consumers/base-user/acls", "", "group-",
     [](const std::string& k, int) { return "{\"group\":" + quoted(k) + "}"; },
     "{\"tags\":[\"t\"]}", "tags", "[\"t\"]", "{\"tags\":[\"t\"]}", "group", false},
    {"plugins", "/plugins", "instance_name", "plugin-",
     [](const std::string& k, int i) {
       return "{\"name\":\"correlation-id\",\"instance_name\":" + quoted(k) +
              ",\"route\":{\"name\":\"plugin-route-" + std::to_string(i) + "\"}}";
     },
     "{\"config\":{\"header_name\":\"X-Req\"}}", "config", "", "{\"name\":\"no-such-plugin\"}",
     "name", true},
};

constexpr int kCount = 5;
const std::string kJson = "application/json";

json::object object(const Reply& r) {
  json::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

// Every entity of a collection, following `next` with pages of two.
std::vector<json::object> listAll(std::uint16_t port, const std::string& collection) {
  std::vector<json::object> out;
  std::string target = collection + "?size=2";
  for (int pages = 0; pages < 100; ++pages) {
    auto r = exchange(port, "GET", target);
    if (r.status != 200) qFatal("GET %s: %d %s", target.c_str(), r.status, r.body.c_str());
    auto o = object(r);
    for (const auto& e : o["data"].as_array()) out.push_back(e.as_object());
    if (o["data"].as_array().size() > 2) qFatal("GET %s: page larger than size", target.c_str());
    if (o["next"].is_null()) return out;
    target = std::string(o["next"].as_string());
  }
  qFatal("GET %s: pagination does not end", collection.c_str());
}

std::string idsAndPatchedFields(const std::vector<json::object>& list, const Kind& k) {
  std::set<std::string> rows;
  for (const auto& e : list) {
    std::string row(e.at("id").as_string());
    if (auto* v = e.if_contains(k.patchField)) row += " " + json::serialize(*v);
    rows.insert(row);
  }
  std::string out;
  for (const auto& r : rows) out += r + "\n";
  return out;
}

}  // namespace

class AdminStoreMatrixTest : public QObject {
  Q_OBJECT
  PgServer pg_;
  QTemporaryDir dir_;
  int databases_ = 0;

  std::string storeUrl(const QString& store) {
    const QString db = QString("m%1").arg(++databases_);
    if (store == "sqlite") return "sqlite:" + dir_.filePath(db + ".db").toStdString();
    if (auto e = pg_.createDatabase(db); !e.isEmpty()) qFatal("%s", qPrintable(e));
    return pg_.url(db).toStdString();
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    auto e = pg_.start();
    QVERIFY2(e.isEmpty(), qPrintable(e));
  }
  void cleanupTestCase() { pg_.stop(); }

  void crudMatrix_data() {
    QTest::addColumn<QString>("store");
    QTest::addColumn<int>("kind");
    for (const char* store : {"sqlite", "postgres"}) {
      for (int i = 0; i < static_cast<int>(std::size(kKinds)); ++i)
        QTest::newRow((std::string(store) + "/" + kKinds[i].name).c_str())
            << QString(store) << i;
    }
  }

  void crudMatrix() {
    QFETCH(QString, store);
    QFETCH(int, kind);
    const Kind& k = kKinds[kind];
    runtime::EngineOptions options;
    options.proxyListen = "127.0.0.1:0";
    options.adminListen = "127.0.0.1:0";
    options.workers = 1;
    options.store = storeUrl(store);

    std::string collection = k.collection;
    std::string beforeRestart;
    {
      runtime::Engine engine;
      auto started = engine.start(options, core::Config{});
      QVERIFY2(started.ok(), started.errorText().c_str());
      const auto port = engine.adminPort();
      // Parents the nested collections live under.
      QCOMPARE(exchange(port, "POST", "/services", "{\"name\":\"base-svc\",\"host\":\"h\"}", kJson)
                   .status,
               201);
      QCOMPARE(exchange(port, "POST", "/upstreams", "{\"name\":\"base-up\"}", kJson).status, 201);
      QCOMPARE(exchange(port, "POST", "/consumers", "{\"username\":\"base-user\"}", kJson).status,
               201);
      for (int i = 0; i < kCount + 1; ++i) {
        auto r = exchange(port, "POST", "/services/base-svc/routes",
                          "{\"name\":\"plugin-route-" + std::to_string(i) + "\",\"paths\":[\"/pr" +
                              std::to_string(i) + "\"]}",
                          kJson);
        QVERIFY2(r.status == 201, r.body.c_str());
      }
      const std::size_t existing = listAll(port, collection).size();

      // Create.
      std::vector<std::string> ids;
      for (int i = 0; i < kCount; ++i) {
        auto r = exchange(port, "POST", collection, k.create(k.prefix + std::to_string(i), i), kJson);
        QVERIFY2(r.status == 201, (std::to_string(r.status) + " " + r.body).c_str());
        ids.emplace_back(object(r)["id"].as_string());
      }
      // List, page by page.
      auto all = listAll(port, collection);
      QCOMPARE(all.size(), existing + kCount);
      // Read by id and by endpoint key.
      for (int i = 0; i < kCount; ++i) {
        auto byId = exchange(port, "GET", collection + "/" + ids[i]);
        QVERIFY2(byId.status == 200, byId.body.c_str());
        QCOMPARE(std::string(object(byId)["id"].as_string()), ids[i]);
        if (*k.key && std::string(k.key) != "target") {
          auto byKey = exchange(port, "GET", collection + "/" + k.prefix + std::to_string(i));
          QVERIFY2(byKey.status == 200, byKey.body.c_str());
          QCOMPARE(std::string(object(byKey)["id"].as_string()), ids[i]);
        }
      }
      // Update one field.
      auto patched = exchange(port, "PATCH", collection + "/" + ids[0], k.patchBody, kJson);
      QVERIFY2(patched.status == 200, patched.body.c_str());
      auto po = object(patched);
      if (*k.patchValue) QCOMPARE(json::serialize(po[k.patchField]), std::string(k.patchValue));
      QCOMPARE(std::string(po["id"].as_string()), ids[0]);
      // Errors: schema violation with the field, unique violation, not found.
      auto bad = exchange(port, "POST", collection, k.invalidBody, kJson);
      QCOMPARE(bad.status, 400);
      auto bo = object(bad);
      QCOMPARE(bo["code"].as_int64(), std::int64_t{2});
      QVERIFY2(bo["fields"].as_object().contains(k.invalidField), bad.body.c_str());
      if (k.uniqueKey) {
        auto dup = exchange(port, "POST", collection, k.create(k.prefix + std::string("0"), 0), kJson);
        QVERIFY2(dup.status == 409, dup.body.c_str());
        QCOMPARE(object(dup)["code"].as_int64(), std::int64_t{5});
      }
      QCOMPARE(exchange(port, "GET", collection + "/00000000-0000-4000-8000-000000000000").status,
               404);
      QCOMPARE(exchange(port, "PATCH", collection + "/00000000-0000-4000-8000-000000000000",
                        k.patchBody, kJson)
                   .status,
               404);
      // Delete: 204, then gone. Deleting again: 204 on a top-level collection, 404 under a
      // parent (Kong's endpoints.lua); targets keep Kong's own handler's 204.
      QCOMPARE(exchange(port, "DELETE", collection + "/" + ids[4]).status, 204);
      QCOMPARE(exchange(port, "GET", collection + "/" + ids[4]).status, 404);
      const bool nested = collection.find('/', 1) != std::string::npos;
      QCOMPARE(exchange(port, "DELETE", collection + "/" + ids[4]).status,
               nested && std::string(k.name) != "targets" ? 404 : 204);
      // PUT: an upsert that creates under a new id and then replaces (targets: replaces only).
      const bool putCreates = std::string(k.name) != "targets";
      const std::string putId = putCreates ? "6f1c2b7e-1d3a-4c55-9e2f-0a1b2c3d4e5f" : ids[3];
      for (int round = 0; round < 2; ++round) {
        auto put = exchange(port, "PUT", collection + "/" + putId,
                            k.create(k.prefix + std::string("9"), kCount + 0), kJson);
        QVERIFY2(put.status == 200, put.body.c_str());
        QCOMPARE(std::string(object(put)["id"].as_string()), putId);
      }
      if (!putCreates) {
        auto missing = exchange(port, "PUT", collection + "/6f1c2b7e-1d3a-4c55-9e2f-0a1b2c3d4e5f",
                                k.create(k.prefix + std::string("8"), 8), kJson);
        QCOMPARE(missing.status, 404);
      }

      all = listAll(port, collection);
      // 5 created, 1 deleted, 1 upserted (or replaced).
      QCOMPARE(all.size(), existing + kCount - (putCreates ? 0 : 1));
      beforeRestart = idsAndPatchedFields(all, k);
      engine.stop(std::chrono::milliseconds(300));
    }

    // A new node on the same store loads exactly that.
    runtime::ConfigSource source;
    source.db = options.store;
    auto loaded = runtime::loadInitialConfig(source);
    QVERIFY2(loaded.ok(), loaded.errorText().c_str());
    runtime::Engine again;
    auto started = again.start(options, std::move(loaded.value()));
    QVERIFY2(started.ok(), started.errorText().c_str());
    QCOMPARE(idsAndPatchedFields(listAll(again.adminPort(), collection), k), beforeRestart);
    again.stop(std::chrono::milliseconds(300));
  }
};

QTEST_GUILESS_MAIN(AdminStoreMatrixTest)
#include "admin_store_matrix_test.moc"
