#pragma once
// A small command-line parser shared by archwayd, archway and archway-load: `--flag VALUE`,
// `--flag=VALUE`, short flags (`-c 10`), repeatable flags, positional arguments, and an
// environment variable per flag (ARCHWAY_PROXY_LISTEN for --proxy-listen). Errors are one line
// naming the flag; callers print them and exit with code 2.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace archway::cli {

struct FlagSpec {
  std::string name;        // long name without dashes: "proxy-listen"
  char shortName = 0;      // 'c' for -c, 0 for none
  bool takesValue = true;  // false: a switch
  bool repeatable = false;
  std::string valueName;  // for help: "ADDR:PORT"
  std::string help;
  std::string env;           // environment variable; empty: ARCHWAY_<NAME>
  bool notYetBuilt = false;  // accepted by the parser, refused with a clear message
};

class Parser {
 public:
  Parser(std::string program, std::string synopsis, std::vector<FlagSpec> flags,
         int maxPositional = 0, std::string positionalName = {});

  // Returns an error message (one line) or nullopt on success. "--help" / "-h" sets helpRequested.
  std::optional<std::string> parse(int argc, char** argv);

  bool helpRequested() const { return help_; }
  std::string helpText() const;

  bool has(const std::string& name) const;
  std::string value(const std::string& name, const std::string& fallback = {}) const;
  std::vector<std::string> values(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  const FlagSpec* find(const std::string& name) const;
  const FlagSpec* findShort(char c) const;
  std::optional<std::string> set(const FlagSpec& spec, std::string value);

  std::string program_, synopsis_;
  std::vector<FlagSpec> flags_;
  int maxPositional_;
  std::string positionalName_;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// "10s", "1m", "500ms", "2h", or plain seconds; nullopt when malformed.
std::optional<long long> parseDurationMs(const std::string& text);

}  // namespace archway::cli
