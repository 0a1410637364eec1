#pragma once
// Runs `archwayd config ...` in-process (apps::runConfigCommand) and keeps what it printed;
// shared by the tests of the subcommands.
#include <sstream>
#include <string>
#include <vector>

#include "apps/archwayd/config_command.h"

namespace archway::test {

struct Run {
  int code = -1;
  std::string out, err;
};

// `args` without the program name: {"config", "diff", FILE, ...}.
inline Run runCommand(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  std::ostringstream out, err;
  Run r;
  r.code = apps::runConfigCommand(static_cast<int>(argv.size()), argv.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

inline bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace archway::test
