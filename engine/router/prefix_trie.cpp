#include "router/prefix_trie.h"

#include <algorithm>

namespace archway::router {

std::uint32_t PrefixTrie::addTree(std::vector<std::pair<std::string, std::uint32_t>> entries) {
  if (entries.empty()) return kNoTree;
  // Sorted keys put a key before every key it prefixes and make each child's keys one range.
  std::sort(entries.begin(), entries.end());
  entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
  auto root = static_cast<std::uint32_t>(nodes_.size());
  nodes_.emplace_back();
  fill(root, entries, 0, entries.size(), 0);
  return root;
}

// `node` stands for the key entries[lo].first.substr(0, depth), shared by all of [lo, hi).
void PrefixTrie::fill(std::uint32_t node, const Entries& entries, std::size_t lo, std::size_t hi,
                      std::size_t depth) {
  std::size_t i = lo;
  auto valueBegin = static_cast<std::uint32_t>(values_.size());
  std::uint32_t minValue = 0xffffffffu;
  for (; i < hi && entries[i].first.size() == depth; ++i) {
    values_.push_back(entries[i].second);
    minValue = std::min(minValue, entries[i].second);
  }
  auto valueCount = static_cast<std::uint32_t>(values_.size() - valueBegin);
  // Ranges of the remaining keys by their byte at `depth`.
  std::vector<std::pair<std::size_t, std::size_t>> groups;
  for (std::size_t j = i; j < hi;) {
    std::size_t k = j + 1;
    while (k < hi && entries[k].first[depth] == entries[j].first[depth]) ++k;
    groups.emplace_back(j, k);
    j = k;
  }
  auto firstChild = static_cast<std::uint32_t>(nodes_.size());
  nodes_.resize(nodes_.size() + groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    auto [a, b] = groups[g];
    // In sorted order the common prefix of a range is that of its first and last key.
    const std::string& first = entries[a].first;
    const std::string& last = entries[b - 1].first;
    std::size_t end = depth + 1;
    while (end < first.size() && end < last.size() && first[end] == last[end]) ++end;
    auto child = static_cast<std::uint32_t>(firstChild + g);
    nodes_[child].labelBegin = static_cast<std::uint32_t>(labels_.size());
    nodes_[child].labelLength = static_cast<std::uint32_t>(end - depth);
    nodes_[child].firstByte = static_cast<unsigned char>(first[depth]);
    labels_.append(first, depth, end - depth);
    fill(child, entries, a, b, end);
    minValue = std::min(minValue, nodes_[child].minValue);
  }
  Node& n = nodes_[node];
  n.valueBegin = valueBegin;
  n.valueCount = valueCount;
  n.firstChild = firstChild;
  n.childCount = static_cast<std::uint32_t>(groups.size());
  n.minValue = minValue;
}

}  // namespace archway::router
