// Kong's pagination on large collections, driven directly: following `next` (or `offset`)
// walks every entity exactly once, in the config's order, for consumers and credentials.
#include <QtTest>

#include <boost/json/parse.hpp>

#include "admin/admin_api.h"
#include "config/declarative.h"

using namespace archway;
namespace json = boost::json;

namespace {

constexpr int kConsumers = 3000;

std::shared_ptr<const core::Config> bigConfig() {
  std::string yaml = "_format_version: '3.0'\nconsumers:\n";
  for (int i = 0; i < kConsumers; ++i) {
    yaml += "- {username: user-" + std::to_string(i) + ", keyauth_credentials: [{key: key-" +
            std::to_string(i) + "}]}\n";
  }
  // One consumer with many credentials, for the nested collection.
  yaml += "- username: many\n  keyauth_credentials:\n";
  for (int i = 0; i < 250; ++i) yaml += "  - {key: many-" + std::to_string(i) + "}\n";
  auto c = config::parseDeclarative(yaml);
  if (!c) qFatal("bad test config: %s", c.errorText().c_str());
  return std::make_shared<const core::Config>(std::move(c.value()));
}

struct Walk {
  std::vector<std::string> ids;
  int pages = 0;
  bool ok = true;
};

// Follows `next` from `first` until it is null; collects the ids of every page.
Walk walk(const admin::AdminApi& api, const std::string& first) {
  Walk w;
  std::string target = first;
  while (true) {
    auto r = api.handle({"GET", target, "", "", ""});
    if (r.status != 200) {
      qWarning("GET %s: %d %s", target.c_str(), r.status, r.body.c_str());
      w.ok = false;
      return w;
    }
    auto page = json::parse(r.body).as_object();
    ++w.pages;
    for (const auto& e : page.at("data").as_array())
      w.ids.emplace_back(e.as_object().at("id").as_string());
    const auto& next = page.at("next");
    if (next.is_null()) {
      if (page.contains("offset")) w.ok = false;  // no offset without a next page
      return w;
    }
    // `next` repeats the size and carries the offset Kong's clients also send by hand.
    target = std::string(next.as_string());
    if (target.find("offset=" + std::string(page.at("offset").as_string())) == std::string::npos)
      w.ok = false;
  }
}

template <class T>
std::vector<std::string> idsOf(const std::vector<T>& all, const std::string& consumerId = {}) {
  std::vector<std::string> ids;
  for (const auto& e : all) {
    if constexpr (requires { e.consumerId; }) {
      if (!consumerId.empty() && e.consumerId != consumerId) continue;
    }
    ids.push_back(e.id);
  }
  return ids;
}

}  // namespace

class AdminPagingTest : public QObject {
  Q_OBJECT
 private:
  std::shared_ptr<const core::Config> config_ = bigConfig();
  std::unique_ptr<admin::AdminApi> api_;

 private Q_SLOTS:
  void initTestCase() {
    admin::AdminContext ctx;
    ctx.config = [this] { return config_; };
    api_ = std::make_unique<admin::AdminApi>(std::move(ctx));
  }

  void walksEveryConsumerOnceInOrder_data() {
    QTest::addColumn<int>("size");
    QTest::newRow("default size") << 0;
    QTest::newRow("size 1000") << 1000;
    QTest::newRow("size 7") << 7;
  }
  void walksEveryConsumerOnceInOrder() {
    QFETCH(int, size);
    auto w = walk(*api_, size ? "/consumers?size=" + std::to_string(size) : "/consumers");
    QVERIFY(w.ok);
    const auto expected = idsOf(config_->consumers);
    const std::size_t per = size ? static_cast<std::size_t>(size) : 100;
    QCOMPARE(w.pages, static_cast<int>((expected.size() + per - 1) / per));
    QCOMPARE(w.ids, expected);
  }

  void walksEveryCredentialOnceInOrder() {
    auto w = walk(*api_, "/key-auths?size=333");
    QVERIFY(w.ok);
    QCOMPARE(w.ids, idsOf(config_->keyauthCredentials));
  }

  // A credential by id or by its key, and its consumer, anywhere in the list (the lookups
  // compare in place: the last credential must be found as the first is).
  void findsACredentialByIdOrKey() {
    for (const auto* cred : {&config_->keyauthCredentials.front(), &config_->keyauthCredentials.back()}) {
      for (const std::string& key : {cred->id, cred->key}) {
        auto r = api_->handle({"GET", "/key-auths/" + key, "", "", ""});
        QCOMPARE(r.status, 200);
        QCOMPARE(std::string(json::parse(r.body).as_object().at("id").as_string()), cred->id);
        r = api_->handle({"GET", "/key-auths/" + key + "/consumer", "", "", ""});
        QCOMPARE(r.status, 200);
        QCOMPARE(std::string(json::parse(r.body).as_object().at("id").as_string()),
                 cred->consumerId);
      }
    }
    QCOMPARE(api_->handle({"GET", "/key-auths/no-such-key", "", "", ""}).status, 404);
    QCOMPARE(api_->handle({"GET", "/key-auths/no-such-key/consumer", "", "", ""}).status, 404);
  }

  void walksOneConsumersCredentials() {
    const auto& many = config_->consumers.back();
    auto w = walk(*api_, "/consumers/many/key-auth?size=40");
    QVERIFY(w.ok);
    QCOMPARE(w.pages, 7);
    QCOMPARE(w.ids, idsOf(config_->keyauthCredentials, many.id));
  }

  void aDeepOffsetStartsThere() {
    auto r = api_->handle({"GET", "/consumers?size=5&offset=2990", "", "", ""});
    QCOMPARE(r.status, 200);
    auto page = json::parse(r.body).as_object();
    QCOMPARE(page.at("data").as_array().size(), std::size_t{5});
    QCOMPARE(std::string(page.at("data").as_array()[0].as_object().at("id").as_string()),
             config_->consumers[2990].id);
  }

  void sizeIsLimitedTo1000() {
    QCOMPARE(api_->handle({"GET", "/consumers?size=1001", "", "", ""}).status, 400);
    QCOMPARE(api_->handle({"GET", "/consumers?size=0", "", "", ""}).status, 400);
    QCOMPARE(api_->handle({"GET", "/key-auths?size=1001", "", "", ""}).status, 400);
  }
};

QTEST_GUILESS_MAIN(AdminPagingTest)
#include "admin_paging_test.moc"
