// Chains per route: Kong's scoping precedence (consumer+route+service ... global), priority
// order, disabled plugins and non-HTTP protocols left out, errors naming the entity.
#include <QtTest>
#include <boost/json.hpp>

#include "plugins/chain.h"

using namespace archway;
namespace sc = plugins::schema;

namespace {

// An instance that only carries the tag of the entity it was compiled from.
class TagInstance : public plugins::Instance {
 public:
  explicit TagInstance(std::string t) : tag(std::move(t)) {}
  std::uint8_t phases() const override { return kAccess; }
  void access(plugins::Context& ctx) const override { ctx.addResponseHeader("X-Tag", tag); }
  std::string tag;
};

class TagFactory : public plugins::Factory {
 public:
  TagFactory(std::string name, int priority) : name_(std::move(name)), priority_(priority) {
    schema_.name = name_;
    schema_.fields = {sc::str("tag").req()};
  }
  std::string_view name() const override { return name_; }
  int priority() const override { return priority_; }
  const sc::Schema& schema() const override { return schema_; }
  core::Result<std::shared_ptr<const plugins::Instance>> compile(
      const core::Plugin&, const boost::json::object& config,
      plugins::CompileEnv&) const override {
    std::string tag(config.at("tag").as_string());
    if (tag == "bad") return core::Error{"config.tag", "refused"};
    return std::shared_ptr<const plugins::Instance>(std::make_shared<TagInstance>(tag));
  }

 private:
  std::string name_;
  int priority_;
  sc::Schema schema_;
};

const TagFactory kLow("low", 10);
const TagFactory kHigh("high", 20);

const plugins::Factory* lookup(std::string_view name) {
  if (name == "low") return &kLow;
  if (name == "high") return &kHigh;
  return nullptr;
}

core::Plugin plugin(const std::string& name, const std::string& tag,
                    std::optional<std::string> route = {}, std::optional<std::string> service = {},
                    std::optional<std::string> consumer = {}) {
  core::Plugin p;
  p.id = name + "-" + tag;
  p.name = name;
  p.config = "{\"tag\":\"" + tag + "\"}";
  p.routeId = std::move(route);
  p.serviceId = std::move(service);
  p.consumerId = std::move(consumer);
  return p;
}

std::string tagOf(const plugins::Instance* i) {
  return i ? static_cast<const TagInstance*>(i)->tag : std::string("-");
}

core::Config baseConfig() {
  core::Config c;
  core::Service s;
  s.id = "S";
  s.host = "up";
  c.services.push_back(s);
  for (const char* id : {"R1", "R2"}) {
    core::Route r;
    r.id = id;
    r.paths = {std::string("/") + id};
    r.serviceId = "S";
    c.routes.push_back(r);
  }
  core::Route r3;
  r3.id = "R3";
  r3.paths = {"/r3"};
  c.routes.push_back(r3);
  core::Consumer alice;
  alice.id = "C";
  alice.username = "alice";
  c.consumers.push_back(alice);
  return c;
}

}  // namespace

class ChainTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void precedenceFollowsKong() {
    auto c = baseConfig();
    c.plugins.push_back(plugin("low", "global"));
    c.plugins.push_back(plugin("low", "service", {}, "S"));
    c.plugins.push_back(plugin("low", "route1", "R1"));
    c.plugins.push_back(plugin("low", "consumer", {}, {}, "C"));
    c.plugins.push_back(plugin("high", "route1+service", "R1", "S"));
    c.plugins.push_back(plugin("high", "consumer", {}, {}, "C"));
    c.plugins.push_back(plugin("high", "consumer+route2", "R2", {}, "C"));
    plugins::Persistent persistent;
    auto built = plugins::CompiledPlugins::build(c, persistent, 1, &lookup);
    QVERIFY2(built.ok(), built.errorText().c_str());
    const auto& cp = **built;
    const core::Consumer* alice = &c.consumers[0];

    const auto& r1 = cp.forRoute(0);
    QCOMPARE(r1.entries.size(), std::size_t(2));
    // Priority order: high (20) before low (10).
    QCOMPARE(r1.entries[0].factory->name(), std::string_view("high"));
    QCOMPARE(tagOf(r1.entries[0].select(nullptr)), std::string("route1+service"));
    // route+service outranks a consumer-only plugin.
    QCOMPARE(tagOf(r1.entries[0].select(alice)), std::string("route1+service"));
    QCOMPARE(tagOf(r1.entries[1].select(nullptr)), std::string("route1"));
    // consumer outranks route.
    QCOMPARE(tagOf(r1.entries[1].select(alice)), std::string("consumer"));

    const auto& r2 = cp.forRoute(1);
    QCOMPARE(tagOf(r2.entries[0].select(nullptr)), std::string("-"));
    QCOMPARE(tagOf(r2.entries[0].select(alice)), std::string("consumer+route2"));
    QCOMPARE(tagOf(r2.entries[1].select(nullptr)), std::string("service"));
    QCOMPARE(tagOf(r2.entries[1].select(alice)), std::string("consumer"));

    // A route without a service: global and consumer plugins only.
    const auto& r3 = cp.forRoute(2);
    QCOMPARE(tagOf(r3.entries[1].select(nullptr)), std::string("global"));
    QCOMPARE(tagOf(r3.entries[0].select(alice)), std::string("consumer"));
    QCOMPARE(cp.global().entries.size(), std::size_t(1));
    QVERIFY(r1.phases & plugins::Instance::kAccess);
    // One timing slot per (route, plugin).
    QCOMPARE(cp.timingSlots().size(), std::size_t(2 + 2 + 2 + 1));
    QCOMPARE(cp.timingSlots()[r1.entries[0].timingSlot].plugin, std::string("high"));
    QCOMPARE(cp.timingSlots()[r1.entries[0].timingSlot].routeId, std::string("R1"));
  }

  void disabledAndNonHttpPluginsAreLeftOut() {
    auto c = baseConfig();
    auto off = plugin("low", "off");
    off.enabled = false;
    auto grpcOnly = plugin("high", "grpc");
    grpcOnly.protocols = {"grpc"};
    c.plugins = {off, grpcOnly};
    plugins::Persistent persistent;
    auto built = plugins::CompiledPlugins::build(c, persistent, 1, &lookup);
    QVERIFY(built.ok());
    QVERIFY(!(*built)->any());
    QVERIFY((*built)->forRoute(0).empty());
  }

  void errorsNameThePluginEntity() {
    auto c = baseConfig();
    c.plugins.push_back(plugin("low", "fine"));
    c.plugins.push_back(plugin("nope", "x"));
    c.plugins.push_back(plugin("high", "bad"));
    auto missing = plugin("low", "x");
    missing.config = "{}";
    c.plugins.push_back(missing);
    plugins::Persistent persistent;
    auto built = plugins::CompiledPlugins::build(c, persistent, 1, &lookup);
    QVERIFY(!built.ok());
    std::map<std::string, std::string> byPath;
    for (const auto& e : built.errors()) byPath[e.path] = e.message;
    QVERIFY(byPath.count("plugins[1].name"));
    QCOMPARE(byPath["plugins[2].config.tag"], std::string("refused"));
    QCOMPARE(byPath["plugins[3].config.tag"], std::string("required field missing"));
  }
};

QTEST_GUILESS_MAIN(ChainTest)
#include "chain_test.moc"
