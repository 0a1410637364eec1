#pragma once
// The complete lines of a log file another thread may still be appending to. A writer's
// write() can be seen half done by a reader, so a last line without its '\n' is not a line
// yet: the caller polls again instead of parsing half an entry.
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace archway::testing {

inline std::vector<std::string> completeLogLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> lines;
  for (std::size_t start = 0, nl; (nl = text.find('\n', start)) != std::string::npos;
       start = nl + 1)
    lines.emplace_back(text, start, nl - start);
  return lines;
}

}  // namespace archway::testing
