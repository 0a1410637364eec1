#pragma once
// A plugin's config schema, in the shape of Kong's schema DSL (kong/db/schema): typed fields
// with defaults, `one_of`, `between`, `gt`, required fields, nested records, arrays, sets and
// maps, plus entity checks a plugin adds in code. One schema drives three things:
// - validation of a plugin's `config` (kong.yml, Admin API JSON or form input), reporting every
//   error with its field path and Kong's messages, and filling in defaults;
// - `GET /schemas/plugins/{name}` (Kong's JSON shape);
// - the console's plugin forms.
#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace archway::plugins::schema {

enum class Type { string, integer, number, boolean, array, set, map, record };

struct Field {
  std::string name;
  Type type = Type::string;
  bool required = false;
  std::optional<boost::json::value> dflt;  // filled in when the field is absent (or null)
  std::vector<std::string> oneOf;          // strings only
  std::optional<double> min, max;          // Kong's `between` (inclusive)
  std::optional<double> gt;                // Kong's `gt`
  std::optional<std::size_t> lenMin;       // strings: len_min; arrays: len_min
  std::shared_ptr<Field> elements;         // array / set elements, map values
  std::vector<Field> fields;               // record fields
  std::string description;
  // Extra check of a present value: an error message, or empty when fine.
  std::function<std::string(const boost::json::value&)> check;

  // Builders, so schemas read like Kong's: str("header_name").def("X-Id").
  Field& def(boost::json::value v) {
    dflt = std::move(v);
    return *this;
  }
  Field& req() {
    required = true;
    return *this;
  }
  Field& one(std::vector<std::string> values) {
    oneOf = std::move(values);
    return *this;
  }
  Field& between(double lo, double hi) {
    min = lo;
    max = hi;
    return *this;
  }
  Field& greater(double v) {
    gt = v;
    return *this;
  }
  Field& minLen(std::size_t n) {
    lenMin = n;
    return *this;
  }
  Field& describe(std::string text) {
    description = std::move(text);
    return *this;
  }
  Field& validate(std::function<std::string(const boost::json::value&)> f) {
    check = std::move(f);
    return *this;
  }
};

Field str(std::string name);
Field integer(std::string name);
Field number(std::string name);
Field boolean(std::string name);
Field arrayOf(std::string name, Field element);  // element name is ignored
Field setOf(std::string name, Field element);    // like an array; duplicates are removed
Field mapOf(std::string name, Field value);      // string keys
Field record(std::string name, std::vector<Field> fields);

// The whole schema of one plugin: the fields of its `config` record and checks across fields.
struct Schema {
  std::string name;  // the plugin's name, "key-auth"
  std::vector<Field> fields;
  // Cross-field checks (Kong's entity_checks: at_least_one_of, mutually_exclusive, ...), run
  // after the fields validated. Add errors with paths relative to `config` ("minute").
  std::function<void(const boost::json::object& config, core::Errors& errors)> entityCheck;
  // Protocols the plugin may run on (Kong's `protocols` field set).
  std::vector<std::string> protocols{"grpc", "grpcs", "http", "https"};
};

struct ValidateOptions {
  // Form-encoded Admin API input: scalars arrive as strings ("5", "true") and arrays as a
  // single string; coerce them to the field's type as Kong does.
  bool coerceStrings = false;
  // Prefix of every error path ("config").
  std::string pathPrefix = "config";
};

// Validates `input` (an object, or null for "all defaults") and returns the config with every
// default filled in. Errors carry paths like "config.minute" and Kong's messages
// ("expected an integer", "unknown field", "required field missing",
// "expected one of: local, cluster, redis", "value should be between 0 and 100").
core::Result<boost::json::object> validate(const Schema& schema, const boost::json::value& input,
                                           const ValidateOptions& options = {});

// Kong's `GET /schemas/plugins/{name}` body: {"fields":[{"protocols":{...}},{"config":{...}}]}.
boost::json::object toJson(const Schema& schema);

}  // namespace archway::plugins::schema
