// Stats slots across reloads: a consumer keeps its slot, new ones get new numbers, and the slots
// taken from the previous snapshot through the delta are the ones a lookup by id gives.
#include <QtTest>

#include <random>
#include <set>

#include "core/config_delta.h"
#include "runtime/stats_slots.h"

using namespace archway;

namespace {

std::vector<core::Consumer> consumers(std::initializer_list<const char*> ids) {
  std::vector<core::Consumer> out;
  for (const char* id : ids) {
    core::Consumer c;
    c.id = id;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

class StatsSlotsTest : public QObject {
  Q_OBJECT
 private slots:
  void slotsAreStableAndNeverReused() {
    runtime::StatsSlots numbers;
    const auto r1 = numbers.route("r1");
    const auto c1 = numbers.consumer("c1");
    const auto p1 = numbers.plugin("r1:cors");
    const auto t1 = numbers.target("u1:a:80");
    QCOMPARE(std::set<std::uint32_t>({r1, c1, p1, t1}).size(), std::size_t{4});
    QCOMPARE(numbers.route("r1"), r1);
    QCOMPARE(numbers.consumer("c1"), c1);
    // The same id in another kind is another entity.
    QVERIFY(numbers.consumer("r1") != r1);
    QVERIFY(numbers.route("c2") > t1);
  }

  void slotsFromTheDeltaAreTheSlotsById() {
    runtime::StatsSlots numbers;
    auto before = consumers({"a", "b", "c", "d", "e"});
    auto earlier = numbers.consumers(before);
    std::mt19937 rng(7);
    int next = 0;
    for (int step = 0; step < 500; ++step) {
      auto after = before;
      const auto at = [&](std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n)(rng);
      };
      switch (at(3)) {
        case 0: {  // insert anywhere
          core::Consumer c;
          c.id = "n" + std::to_string(next++);
          after.insert(after.begin() + static_cast<std::ptrdiff_t>(at(after.size())), c);
          break;
        }
        case 1:  // remove one
          if (!after.empty())
            after.erase(after.begin() + static_cast<std::ptrdiff_t>(at(after.size() - 1)));
          break;
        case 2:  // edit one in place
          if (!after.empty()) after[at(after.size() - 1)].username = "u" + std::to_string(step);
          break;
        default:  // move one to the end
          if (!after.empty()) {
            const auto i = at(after.size() - 1);
            after.push_back(after[i]);
            after.erase(after.begin() + static_cast<std::ptrdiff_t>(i));
          }
      }
      const auto delta = core::kindDelta(before, after);
      const auto incremental = numbers.consumers(after, &earlier, &delta);
      QCOMPARE(incremental.size(), after.size());
      for (std::size_t i = 0; i < after.size(); ++i)
        QCOMPARE(incremental[i], numbers.consumer(after[i].id));
      earlier = incremental;
      before = std::move(after);
    }
  }

  void aDeltaForOtherSizesIsNotTrusted() {
    runtime::StatsSlots numbers;
    auto before = consumers({"a", "b"});
    auto earlier = numbers.consumers(before);
    auto after = consumers({"b", "a", "c"});
    core::KindDelta wrong;  // claims everything unchanged, for other sizes
    wrong.beforeSize = wrong.afterSize = wrong.prefix = 5;
    auto got = numbers.consumers(after, &earlier, &wrong);
    QCOMPARE(got, (std::vector<std::uint32_t>{earlier[1], earlier[0], numbers.consumer("c")}));
  }
};

QTEST_APPLESS_MAIN(StatsSlotsTest)
#include "stats_slots_test.moc"
