#include <QtTest>

#include <string>
#include <utility>
#include <vector>

#include "router/host_table.h"
#include "router/prefix_trie.h"

using namespace archway;

namespace {

using Hits = std::vector<std::pair<std::size_t, std::uint32_t>>;  // (key length, value)

Hits walkAll(const router::PrefixTrie& t, std::uint32_t root, std::string_view path,
             std::uint32_t bound = 0xffffffffu) {
  Hits hits;
  t.walk(root, path, bound, [&](const std::uint32_t* values, std::uint32_t n, std::size_t len) {
    for (std::uint32_t i = 0; i < n; ++i) hits.emplace_back(len, values[i]);
  });
  return hits;
}

}  // namespace

class PrefixTrieTest : public QObject {
  Q_OBJECT
 private slots:
  void findsEveryBytePrefixShortestFirst() {
    router::PrefixTrie t;
    auto root = t.addTree({{"/api", 5}, {"/api/v1", 2}, {"/", 9}, {"/apix", 1}, {"/b", 3}});
    QCOMPARE(walkAll(t, root, "/api/v1/users"), (Hits{{1, 9}, {4, 5}, {7, 2}}));
    QCOMPARE(walkAll(t, root, "/apixy"), (Hits{{1, 9}, {4, 5}, {5, 1}}));
    QCOMPARE(walkAll(t, root, "/ap"), (Hits{{1, 9}}));
    QCOMPARE(walkAll(t, root, "x"), Hits{});
  }

  void keepsValuesOfOneKeyAscending() {
    router::PrefixTrie t;
    auto root = t.addTree({{"/a", 7}, {"/a", 3}, {"/a", 7}, {"", 4}});
    QCOMPARE(walkAll(t, root, "/a"), (Hits{{0, 4}, {2, 3}, {2, 7}}));
  }

  void stopsBelowTheBound() {
    router::PrefixTrie t;
    auto root = t.addTree({{"/a", 10}, {"/a/b", 20}, {"/", 30}});
    // Nothing under the root beats 5. With 15 the walk still passes "/" (30) on its way to "/a"
    // (10) but skips the subtree of "/a/b" (20); the visitor filters single values.
    QCOMPARE(walkAll(t, root, "/a/b", 5), Hits{});
    QCOMPARE(walkAll(t, root, "/a/b", 15), (Hits{{1, 30}, {2, 10}}));
  }

  void keepsTreesApart() {
    router::PrefixTrie t;
    auto first = t.addTree({{"/x", 1}});
    auto second = t.addTree({{"/y", 2}});
    QCOMPARE(t.addTree({}), router::PrefixTrie::kNoTree);
    QCOMPARE(walkAll(t, first, "/y"), Hits{});
    QCOMPARE(walkAll(t, second, "/y"), (Hits{{2, 2}}));
    QCOMPARE(walkAll(t, router::PrefixTrie::kNoTree, "/y"), Hits{});
  }

  void branchesOnManyChildren() {
    router::PrefixTrie t;
    std::vector<std::pair<std::string, std::uint32_t>> entries;
    for (int c = 0; c < 256; ++c)
      entries.push_back(
          {std::string("/") + static_cast<char>(c), 1u + static_cast<std::uint32_t>(c)});
    auto root = t.addTree(entries);
    for (int c = 0; c < 256; ++c) {
      std::string path = std::string("/") + static_cast<char>(c) + "rest";
      QCOMPARE(walkAll(t, root, path), (Hits{{2, 1u + static_cast<std::uint32_t>(c)}}));
    }
  }

  void hostTableIgnoresAsciiCase() {
    router::HostTable table({{"api.example.com", 1}, {".example.com", 2}, {"", 3}});
    QCOMPARE(table.find("API.Example.COM"), 1u);
    QCOMPARE(table.find(""), 3u);
    QCOMPARE(table.find("api.example.co"), router::HostTable::kNotFound);
    // The backward hash of a host, stopped at a dot, is the hash of that suffix.
    std::string_view host = "A.EXAMPLE.com";
    std::uint64_t h = router::HostTable::kHashSeed;
    for (std::size_t i = host.size(); i-- > 1;)
      h = router::HostTable::hashPrepend(h, static_cast<unsigned char>(host[i]));
    QCOMPARE(table.find(host.substr(1), h), 2u);
    QVERIFY(router::HostTable().empty());
  }
};

QTEST_GUILESS_MAIN(PrefixTrieTest)
#include "prefix_trie_test.moc"
