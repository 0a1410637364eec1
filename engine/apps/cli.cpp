#include "apps/cli.h"

#include <cstdlib>

namespace archway::cli {

Parser::Parser(std::string program, std::string synopsis, std::vector<FlagSpec> flags,
               int maxPositional, std::string positionalName)
    : program_(std::move(program)),
      synopsis_(std::move(synopsis)),
      flags_(std::move(flags)),
      maxPositional_(maxPositional),
      positionalName_(std::move(positionalName)) {
  for (auto& f : flags_) {
    if (f.env.empty()) {
      f.env = "ARCHWAY_";
      for (char c : f.name) f.env += c == '-' ? '_' : static_cast<char>(std::toupper(c));
    }
  }
}

const FlagSpec* Parser::find(const std::string& name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const FlagSpec* Parser::findShort(char c) const {
  for (const auto& f : flags_) {
    if (f.shortName == c) return &f;
  }
  return nullptr;
}

std::optional<std::string> Parser::set(const FlagSpec& spec, std::string value) {
  if (spec.notYetBuilt) {
    return "--" + spec.name + ": not built yet in this version of " + program_;
  }
  auto& v = values_[spec.name];
  if (!spec.repeatable) v.clear();
  v.push_back(std::move(value));
  return std::nullopt;
}

std::optional<std::string> Parser::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      return std::nullopt;
    }
    const FlagSpec* spec = nullptr;
    std::optional<std::string> inlineValue;
    std::string shown = arg;
    if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      std::string name = arg.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        inlineValue = name.substr(eq + 1);
        name = name.substr(0, eq);
        shown = "--" + name;
      }
      spec = find(name);
    } else if (arg.size() >= 2 && arg[0] == '-' && arg[1] != '-' && !std::isdigit(arg[1])) {
      spec = findShort(arg[1]);
      shown = arg.substr(0, 2);
      if (arg.size() > 2) inlineValue = arg.substr(2);
    } else {
      if (static_cast<int>(positional_.size()) >= maxPositional_) {
        return "unexpected argument '" + arg + "' (see --help)";
      }
      positional_.push_back(arg);
      continue;
    }
    if (!spec) return "unknown flag " + shown + " (see --help)";
    if (!spec->takesValue) {
      if (inlineValue) return shown + " takes no value";
      if (auto e = set(*spec, "true")) return e;
      continue;
    }
    std::string value;
    if (inlineValue) {
      value = *inlineValue;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return shown + " needs a value (" + (spec->valueName.empty() ? "VALUE" : spec->valueName) +
             ")";
    }
    if (auto e = set(*spec, value)) return e;
  }
  // Environment variables fill flags not given on the command line.
  for (const auto& f : flags_) {
    if (values_.count(f.name)) continue;
    if (const char* env = std::getenv(f.env.c_str()); env && *env) {
      if (auto e = set(f, env)) return f.env + ": " + *e;
    }
  }
  return std::nullopt;
}

std::string Parser::helpText() const {
  std::string out = "Usage: " + program_ + " " + synopsis_ + "\n\nOptions:\n";
  for (const auto& f : flags_) {
    std::string left = "  ";
    left += f.shortName ? std::string("-") + f.shortName + ", " : "    ";
    left += "--" + f.name;
    if (f.takesValue) left += " " + (f.valueName.empty() ? std::string("VALUE") : f.valueName);
    if (left.size() < 34)
      left.resize(34, ' ');
    else
      left += "  ";
    out += left + f.help;
    if (f.notYetBuilt) out += " [not built yet]";
    out += "  (env " + f.env + ")\n";
  }
  out += "  -h, --help                      this help\n";
  return out;
}

bool Parser::has(const std::string& name) const {
  return values_.count(name) != 0;
}

std::string Parser::value(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> Parser::values(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::optional<long long> parseDurationMs(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t used = 0;
  double n = 0;
  try {
    n = std::stod(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  if (n < 0) return std::nullopt;
  std::string unit = text.substr(used);
  double ms = 0;
  if (unit.empty() || unit == "s")
    ms = n * 1000;
  else if (unit == "ms")
    ms = n;
  else if (unit == "m")
    ms = n * 60000;
  else if (unit == "h")
    ms = n * 3600000;
  else
    return std::nullopt;
  return static_cast<long long>(ms);
}

}  // namespace archway::cli
