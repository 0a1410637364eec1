// The flat hash tables (core/flat_hash.h) against std::unordered_map on the same operations,
// through growth, colliding probes and pairs of views.
#include <QtTest>

#include <algorithm>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/flat_hash.h"

using namespace archway;

class FlatHashTest : public QObject {
  Q_OBJECT
 private slots:
  void behavesAsAnUnorderedMap() {
    std::vector<std::string> keys;
    for (int i = 0; i < 5000; ++i) keys.push_back("key-" + std::to_string(i % 3000));  // repeats
    std::mt19937 rng(3);
    std::shuffle(keys.begin(), keys.end(), rng);
    core::FlatMap<std::string_view, int> flat;  // grows from empty
    std::unordered_map<std::string_view, int> reference;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      auto [value, inserted] = flat.emplace(keys[i], static_cast<int>(i));
      auto [it, refInserted] = reference.emplace(keys[i], static_cast<int>(i));
      QCOMPARE(inserted, refInserted);
      QCOMPARE(*value, it->second);  // an existing key keeps its first value
    }
    QCOMPARE(flat.size(), reference.size());
    for (const auto& [k, v] : reference) {
      const int* found = flat.find(k);
      QVERIFY(found);
      QCOMPARE(*found, v);
    }
    QVERIFY(!flat.find("key-3000"));
    QVERIFY(!flat.contains(""));
    QVERIFY(flat.emplace("", 1).second);  // the empty string is a key like any other
    QVERIFY(flat.contains(""));
    const core::FlatMap<std::string_view, int> empty;
    QVERIFY(!empty.find("x"));
  }

  void setsOfViewsAndPairs() {
    core::ViewSet set(4);
    QVERIFY(set.insert("a"));
    QVERIFY(!set.insert("a"));
    QVERIFY(set.insert("b"));
    QVERIFY(set.contains("a") && set.contains("b") && !set.contains("c"));
    core::ViewPairSet pairs;
    QVERIFY(pairs.insert({"u", "t:80"}));
    QVERIFY(!pairs.insert({"u", "t:80"}));
    QVERIFY(pairs.insert({"t:80", "u"}));  // order matters
    QVERIFY(pairs.insert({"ut", ":80"}));  // no concatenation ambiguity
    QCOMPARE(pairs.size(), std::size_t{3});
  }
};

QTEST_APPLESS_MAIN(FlatHashTest)
#include "flat_hash_test.moc"
