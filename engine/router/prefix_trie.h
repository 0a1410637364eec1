#pragma once
// A forest of compressed byte tries (radix trees) for prefix paths, flattened into arrays so
// that a walk touches a few contiguous nodes and allocates nothing. Keys are byte strings: Kong
// prefixes are byte prefixes ("/api" matches "/apix"), so the trie splits anywhere, not only at
// '/'. Each key carries 32-bit values (the router's matcher ranks, lower is better); every node
// knows the lowest value below it so a walk can stop as soon as nothing left can beat the best
// candidate found so far. Built once, then read-only and safe for concurrent walks.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace archway::router {

class PrefixTrie {
 public:
  static constexpr std::uint32_t kNoTree = 0xffffffffu;

  // Adds one tree holding `entries` (key, value) and returns its root id, or kNoTree when
  // `entries` is empty. Values of one key come back in ascending order.
  std::uint32_t addTree(std::vector<std::pair<std::string, std::uint32_t>> entries);

  // Calls visit(values, count, keyLength) for every key of tree `root` that is a prefix of
  // `path`, shortest first, skipping subtrees whose lowest value is not below `bound` (which the
  // visitor may lower as it goes).
  template <class Visit>
  void walk(std::uint32_t root, std::string_view path, const std::uint32_t& bound,
            Visit&& visit) const {
    if (root == kNoTree) return;
    std::uint32_t n = root;
    std::size_t depth = 0;
    for (;;) {
      const Node& node = nodes_[n];
      if (node.minValue >= bound) return;
      if (node.valueCount != 0) visit(values_.data() + node.valueBegin, node.valueCount, depth);
      if (depth == path.size() || node.childCount == 0) return;
      std::uint32_t child = findChild(node, static_cast<unsigned char>(path[depth]));
      if (child == kNoTree) return;
      const Node& c = nodes_[child];
      if (path.size() - depth < c.labelLength ||
          path.compare(depth, c.labelLength, labels_.data() + c.labelBegin, c.labelLength) != 0) {
        return;
      }
      depth += c.labelLength;
      n = child;
    }
  }

  std::size_t nodeCount() const { return nodes_.size(); }
  // Approximate heap bytes, for the benchmark's memory report.
  std::size_t bytes() const {
    return nodes_.capacity() * sizeof(Node) + labels_.capacity() +
           values_.capacity() * sizeof(std::uint32_t);
  }

 private:
  struct Node {
    std::uint32_t labelBegin = 0;   // the edge from the parent, in labels_
    std::uint32_t labelLength = 0;  // 0 only for roots
    std::uint32_t firstChild = 0;   // children are contiguous, sorted by first byte
    std::uint32_t childCount = 0;
    std::uint32_t valueBegin = 0;  // values of the key ending here, in values_
    std::uint32_t valueCount = 0;
    std::uint32_t minValue = 0xffffffffu;  // lowest value in this subtree
    unsigned char firstByte = 0;
  };

  std::uint32_t findChild(const Node& node, unsigned char byte) const {
    const Node* begin = nodes_.data() + node.firstChild;
    const Node* end = begin + node.childCount;
    if (node.childCount <= 8) {
      for (const Node* c = begin; c != end; ++c) {
        if (c->firstByte == byte) return static_cast<std::uint32_t>(c - nodes_.data());
      }
      return kNoTree;
    }
    while (begin < end) {
      const Node* mid = begin + (end - begin) / 2;
      if (mid->firstByte < byte)
        begin = mid + 1;
      else
        end = mid;
    }
    if (begin != nodes_.data() + node.firstChild + node.childCount && begin->firstByte == byte)
      return static_cast<std::uint32_t>(begin - nodes_.data());
    return kNoTree;
  }

  using Entries = std::vector<std::pair<std::string, std::uint32_t>>;
  void fill(std::uint32_t node, const Entries& entries, std::size_t lo, std::size_t hi,
            std::size_t depth);

  std::vector<Node> nodes_;
  std::string labels_;
  std::vector<std::uint32_t> values_;
};

}  // namespace archway::router
