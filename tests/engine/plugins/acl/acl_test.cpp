// acl: Kong's allow/deny entity checks, 401 without a consumer, 403 when not allowed,
// X-Consumer-Groups upstream, consumers without groups, authenticated groups.
#include <QtTest>

#include "../key_auth/auth_test_support.h"
#include "plugins/acl/acl.h"
#include "plugins/registry.h"

using namespace archway;
using authtest::Request;

namespace {

core::Config baseConfig() {
  core::Config c;
  c.consumers.push_back(authtest::consumer("c-alice", "alice"));
  c.consumers.push_back(authtest::consumer("c-bob", "bob"));
  c.consumers.push_back(authtest::consumer("c-lone", "lone"));
  auto group = [&c](std::string consumerId, std::string name) {
    core::AclGroup g;
    g.id = consumerId + ":" + name;
    g.consumerId = std::move(consumerId);
    g.group = std::move(name);
    c.acls.push_back(g);
  };
  group("c-alice", "admins");
  group("c-alice", "users");
  group("c-bob", "users");
  group("c-bob", "blocked");
  return c;
}

const std::string kGet = "GET / HTTP/1.1\r\nHost: gw\r\n\r\n";

}  // namespace

class AclTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    factory_ = plugins::makeAclPlugin();
    config_ = baseConfig();
  }

  void isRegisteredWithKongsNameAndPriority() {
    QCOMPARE(factory_->name(), std::string_view("acl"));
    QCOMPARE(factory_->priority(), 950);
    QVERIFY(plugins::find("acl"));
  }

  void schemaNeedsExactlyOneOfAllowAndDeny() {
    auto none = authtest::validate(*factory_, "{}");
    QVERIFY(!none.ok());
    QCOMPARE(none.errors().size(), std::size_t{1});
    QCOMPARE(none.errors()[0].path, std::string("config"));
    QCOMPARE(none.errors()[0].message,
             std::string("at least one of these fields must be non-empty: 'config.allow', "
                         "'config.deny'"));

    auto both = authtest::validate(*factory_, "{\"allow\":[\"a\"],\"deny\":[\"b\"]}");
    QVERIFY(!both.ok());
    QCOMPARE(both.errors().size(), std::size_t{1});
    QCOMPARE(both.errors()[0].message,
             std::string("exactly one of these fields must be non-empty: 'config.allow', "
                         "'config.deny'"));

    auto empties = authtest::validate(*factory_, "{\"allow\":[],\"deny\":[]}");
    QVERIFY(!empties.ok());
    QCOMPARE(empties.errors().size(), std::size_t{2});

    auto ok = authtest::validate(*factory_, "{\"deny\":[\"b\"]}");
    QVERIFY2(ok.ok(), ok.errorText().c_str());
    QCOMPARE(ok->at("hide_groups_header").as_bool(), false);
    QCOMPARE(ok->at("always_use_authenticated_groups").as_bool(), false);
    QVERIFY(ok->at("allow").is_null());

    auto badType = authtest::validate(*factory_, "{\"allow\":\"admins\"}");
    QVERIFY(!badType.ok());
    QCOMPARE(badType.errors()[0].path, std::string("config.allow"));
  }

  void noConsumerIs401() {
    auto inst = authtest::compile(*factory_, config_, "{\"allow\":[\"users\"]}");
    Request r(kGet);
    inst->access(r.ctx);
    QCOMPARE(r.ctx.exitStatus(), 401);
    QCOMPARE(authtest::exitMessage(r.ctx), std::string("Unauthorized"));
  }

  void credentialWithoutConsumerIs403() {
    auto inst = authtest::compile(*factory_, config_, "{\"allow\":[\"users\"]}");
    Request r(kGet);
    r.ctx.credentialId = "some-credential";
    inst->access(r.ctx);
    QCOMPARE(r.ctx.exitStatus(), 403);
    QCOMPARE(authtest::exitMessage(r.ctx), std::string("You cannot consume this service"));
  }

  void allowedConsumerGetsGroupsHeader() {
    auto inst = authtest::compile(*factory_, config_, "{\"allow\":[\"admins\"]}");
    Request r(kGet);
    r.ctx.authenticate(config_.findConsumer("alice"), "cred", false);
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Consumer-Groups"), std::string("admins, users"));
  }

  void consumerOutsideTheAllowListIs403() {
    auto inst = authtest::compile(*factory_, config_, "{\"allow\":[\"admins\"]}");
    Request r(kGet);
    r.ctx.authenticate(config_.findConsumer("bob"), "cred", false);
    inst->access(r.ctx);
    QCOMPARE(r.ctx.exitStatus(), 403);
    QCOMPARE(authtest::exitMessage(r.ctx), std::string("You cannot consume this service"));
  }

  void denyListBlocksItsGroups() {
    auto inst = authtest::compile(*factory_, config_, "{\"deny\":[\"blocked\"]}");
    Request bob(kGet);
    bob.ctx.authenticate(config_.findConsumer("bob"), "cred", false);
    inst->access(bob.ctx);
    QCOMPARE(bob.ctx.exitStatus(), 403);

    Request alice(kGet);
    alice.ctx.authenticate(config_.findConsumer("alice"), "cred", false);
    inst->access(alice.ctx);
    QVERIFY(!alice.ctx.exited());
    QCOMPARE(authtest::upstreamHeader(alice.ctx, "X-Consumer-Groups"),
             std::string("admins, users"));
  }

  void consumerWithoutGroups() {
    auto allow = authtest::compile(*factory_, config_, "{\"allow\":[\"users\"]}");
    Request withCredential(kGet);
    withCredential.ctx.authenticate(config_.findConsumer("lone"), "cred", false);
    allow->access(withCredential.ctx);
    QCOMPARE(withCredential.ctx.exitStatus(), 403);

    // Anonymous (no credential) and in no group: Kong answers 401.
    Request anonymous(kGet);
    anonymous.ctx.authenticate(config_.findConsumer("lone"), {}, true);
    allow->access(anonymous.ctx);
    QCOMPARE(anonymous.ctx.exitStatus(), 401);

    // Never on a deny list; a client-sent X-Consumer-Groups does not go upstream.
    auto deny = authtest::compile(*factory_, config_, "{\"deny\":[\"blocked\"]}");
    Request passes(kGet);
    passes.ctx.authenticate(config_.findConsumer("lone"), "cred", false);
    deny->access(passes.ctx);
    QVERIFY(!passes.ctx.exited());
    QCOMPARE(authtest::upstreamHeader(passes.ctx, "X-Consumer-Groups"), std::string("<removed>"));
  }

  void hideGroupsHeaderSendsNothing() {
    auto inst = authtest::compile(*factory_, config_,
                                  "{\"allow\":[\"users\"],\"hide_groups_header\":true}");
    Request r(kGet);
    r.ctx.authenticate(config_.findConsumer("bob"), "cred", false);
    inst->access(r.ctx);
    QVERIFY(!r.ctx.exited());
    QCOMPARE(authtest::upstreamHeader(r.ctx, "X-Consumer-Groups"), std::string("<none>"));
  }

  void authenticatedGroupsDecideForAnonymousOrMissingConsumers() {
    auto inst = authtest::compile(*factory_, config_, "{\"allow\":[\"ldap-admins\"]}");
    Request none(kGet);
    none.ctx.groups = {"ldap-admins", "ldap-users"};
    inst->access(none.ctx);
    QVERIFY(!none.ctx.exited());
    QCOMPARE(authtest::upstreamHeader(none.ctx, "X-Authenticated-Groups"),
             std::string("ldap-admins, ldap-users"));

    Request anonymous(kGet);
    anonymous.ctx.authenticate(config_.findConsumer("lone"), {}, true);
    anonymous.ctx.groups = {"ldap-users"};
    inst->access(anonymous.ctx);
    QCOMPARE(anonymous.ctx.exitStatus(), 403);

    // A real consumer's own groups win unless always_use_authenticated_groups.
    Request alice(kGet);
    alice.ctx.authenticate(config_.findConsumer("alice"), "cred", false);
    alice.ctx.groups = {"ldap-admins"};
    inst->access(alice.ctx);
    QCOMPARE(alice.ctx.exitStatus(), 403);

    auto always =
        authtest::compile(*factory_, config_,
                          "{\"allow\":[\"ldap-admins\"],\"always_use_authenticated_groups\":true}");
    Request alice2(kGet);
    alice2.ctx.authenticate(config_.findConsumer("alice"), "cred", false);
    alice2.ctx.groups = {"ldap-admins"};
    always->access(alice2.ctx);
    QVERIFY(!alice2.ctx.exited());
  }

 private:
  std::unique_ptr<plugins::Factory> factory_;
  core::Config config_;
};

QTEST_GUILESS_MAIN(AclTest)
#include "acl_test.moc"
