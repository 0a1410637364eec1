#include "plugins/schema.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <set>

namespace archway::plugins::schema {
namespace json = boost::json;

namespace {

Field make(std::string name, Type type) {
  Field f;
  f.name = std::move(name);
  f.type = type;
  return f;
}

std::string numberText(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::string s = std::to_string(v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

const char* expected(Type t) {
  switch (t) {
    case Type::string:
      return "expected a string";
    case Type::integer:
      return "expected an integer";
    case Type::number:
      return "expected a number";
    case Type::boolean:
      return "expected a boolean";
    case Type::array:
      return "expected an array";
    case Type::set:
      return "expected a set";
    case Type::map:
      return "expected a map";
    case Type::record:
      return "expected a record";
  }
  return "invalid value";
}

const char* typeName(Type t) {
  switch (t) {
    case Type::string:
      return "string";
    case Type::integer:
      return "integer";
    case Type::number:
      return "number";
    case Type::boolean:
      return "boolean";
    case Type::array:
      return "array";
    case Type::set:
      return "set";
    case Type::map:
      return "map";
    case Type::record:
      return "record";
  }
  return "string";
}

class Validator {
 public:
  Validator(const ValidateOptions& o, core::Errors& e) : opts_(o), errors_(e) {}

  void fail(const std::string& path, std::string message) {
    errors_.push_back({path, std::move(message)});
  }

  // Coerces a form string to the field's scalar type. Returns false when it cannot.
  bool coerce(const Field& f, json::value& v) {
    if (!opts_.coerceStrings || !v.is_string()) return true;
    std::string s(v.as_string());
    switch (f.type) {
      case Type::integer: {
        long long n = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), n);
        if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return false;
        v = n;
        return true;
      }
      case Type::number: {
        char* end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (s.empty() || end != s.c_str() + s.size()) return false;
        v = d;
        return true;
      }
      case Type::boolean:
        if (s == "true") {
          v = true;
          return true;
        }
        if (s == "false") {
          v = false;
          return true;
        }
        return false;
      case Type::array:
      case Type::set: {
        json::array a;
        a.push_back(json::string(s));
        v = std::move(a);
        return true;
      }
      default:
        return true;
    }
  }

  // Validates `v` against `f` in place. `v` is present and not null.
  void check(const Field& f, json::value& v, const std::string& path) {
    if (!coerce(f, v)) {
      fail(path, expected(f.type));
      return;
    }
    switch (f.type) {
      case Type::string: {
        if (!v.is_string()) return fail(path, expected(f.type));
        std::string_view s = v.as_string();
        if (f.lenMin && s.size() < *f.lenMin)
          return fail(path, "length must be at least " + std::to_string(*f.lenMin));
        if (!f.oneOf.empty()) {
          bool found = false;
          for (const auto& o : f.oneOf) found = found || o == s;
          if (!found) {
            std::string m = "expected one of: ";
            for (std::size_t i = 0; i < f.oneOf.size(); ++i) {
              if (i) m += ", ";
              m += f.oneOf[i];
            }
            return fail(path, m);
          }
        }
        break;
      }
      case Type::integer:
      case Type::number: {
        double d = 0;
        if (v.is_int64()) {
          d = static_cast<double>(v.as_int64());
        } else if (v.is_uint64()) {
          d = static_cast<double>(v.as_uint64());
        } else if (v.is_double()) {
          d = v.as_double();
          if (f.type == Type::integer) {
            if (std::floor(d) != d) return fail(path, expected(f.type));
            v = static_cast<std::int64_t>(d);
          }
        } else {
          return fail(path, expected(f.type));
        }
        if (f.min && f.max && (d < *f.min || d > *f.max))
          return fail(path, "value should be between " + numberText(*f.min) + " and " +
                                numberText(*f.max));
        if (f.min && !f.max && d < *f.min)
          return fail(path, "value must be greater than or equal to " + numberText(*f.min));
        if (f.gt && !(d > *f.gt)) return fail(path, "value must be greater than " + numberText(*f.gt));
        break;
      }
      case Type::boolean:
        if (!v.is_bool()) return fail(path, expected(f.type));
        break;
      case Type::array:
      case Type::set: {
        if (!v.is_array()) {
          // Kong accepts an empty object for an empty array (cjson cannot tell them apart).
          if (v.is_object() && v.as_object().empty()) {
            v = json::array();
          } else {
            return fail(path, expected(f.type));
          }
        }
        auto& a = v.as_array();
        if (f.lenMin && a.size() < *f.lenMin)
          return fail(path, "length must be at least " + std::to_string(*f.lenMin));
        if (f.elements) {
          for (std::size_t i = 0; i < a.size(); ++i) {
            std::string p = path + "[" + std::to_string(i) + "]";
            if (a[i].is_null()) {
              fail(p, "required field missing");
              continue;
            }
            check(*f.elements, a[i], p);
          }
        }
        if (f.type == Type::set) {
          json::array unique;
          for (auto& e : a) {
            bool dup = false;
            for (auto& u : unique) dup = dup || u == e;
            if (!dup) unique.push_back(e);
          }
          a = std::move(unique);
        }
        break;
      }
      case Type::map: {
        if (!v.is_object()) return fail(path, expected(f.type));
        if (f.elements) {
          for (auto& kv : v.as_object()) {
            std::string p = path + "." + std::string(kv.key());
            if (kv.value().is_null()) continue;
            check(*f.elements, kv.value(), p);
          }
        }
        break;
      }
      case Type::record: {
        if (!v.is_object()) return fail(path, expected(f.type));
        v = recordFields(f.fields, v.as_object(), path);
        break;
      }
    }
    if (f.check) {
      std::string m = f.check(v);
      if (!m.empty()) fail(path, std::move(m));
    }
  }

  json::object recordFields(const std::vector<Field>& fields, const json::object& in,
                            const std::string& path) {
    json::object out;
    for (const auto& kv : in) {
      bool known = false;
      for (const auto& f : fields) known = known || f.name == kv.key();
      if (!known) fail(join(path, kv.key()), "unknown field");
    }
    for (const auto& f : fields) {
      std::string p = join(path, f.name);
      auto it = in.find(f.name);
      if (it == in.end() || it->value().is_null()) {
        if (f.dflt) {
          out[f.name] = *f.dflt;
        } else if (f.type == Type::record) {
          // A record without a value takes its fields' defaults (Kong fills nested records).
          json::value sub = recordFields(f.fields, json::object(), p);
          if (f.required || hasDefaults(f.fields)) out[f.name] = std::move(sub);
          else out[f.name] = nullptr;
        } else if (f.required) {
          fail(p, "required field missing");
        } else {
          out[f.name] = nullptr;
        }
        continue;
      }
      json::value v = it->value();
      check(f, v, p);
      out[f.name] = std::move(v);
    }
    return out;
  }

  static bool hasDefaults(const std::vector<Field>& fields) {
    for (const auto& f : fields) {
      if (f.dflt || (f.type == Type::record && hasDefaults(f.fields))) return true;
    }
    return false;
  }

  static std::string join(const std::string& path, std::string_view name) {
    return path.empty() ? std::string(name) : path + "." + std::string(name);
  }

 private:
  const ValidateOptions& opts_;
  core::Errors& errors_;
};

json::object fieldJson(const Field& f) {
  json::object o;
  o["type"] = typeName(f.type);
  if (f.required) o["required"] = true;
  if (f.dflt) o["default"] = *f.dflt;
  if (!f.oneOf.empty()) {
    json::array a;
    for (const auto& s : f.oneOf) a.push_back(json::string(s));
    o["one_of"] = std::move(a);
  }
  if (f.min && f.max) o["between"] = json::array{*f.min, *f.max};
  if (f.gt) o["gt"] = *f.gt;
  if (f.lenMin) o["len_min"] = *f.lenMin;
  if (!f.description.empty()) o["description"] = f.description;
  if (f.elements) {
    if (f.type == Type::map) {
      o["keys"] = json::object{{"type", "string"}};
      o["values"] = fieldJson(*f.elements);
    } else {
      o["elements"] = fieldJson(*f.elements);
    }
  }
  if (f.type == Type::record) {
    json::array fields;
    for (const auto& sub : f.fields) fields.push_back(json::object{{sub.name, fieldJson(sub)}});
    o["fields"] = std::move(fields);
  }
  return o;
}

}  // namespace

Field str(std::string name) { return make(std::move(name), Type::string); }
Field integer(std::string name) { return make(std::move(name), Type::integer); }
Field number(std::string name) { return make(std::move(name), Type::number); }
Field boolean(std::string name) { return make(std::move(name), Type::boolean); }
Field arrayOf(std::string name, Field element) {
  Field f = make(std::move(name), Type::array);
  f.elements = std::make_shared<Field>(std::move(element));
  return f;
}
Field setOf(std::string name, Field element) {
  Field f = make(std::move(name), Type::set);
  f.elements = std::make_shared<Field>(std::move(element));
  return f;
}
Field mapOf(std::string name, Field value) {
  Field f = make(std::move(name), Type::map);
  f.elements = std::make_shared<Field>(std::move(value));
  return f;
}
Field record(std::string name, std::vector<Field> fields) {
  Field f = make(std::move(name), Type::record);
  f.fields = std::move(fields);
  return f;
}

core::Result<json::object> validate(const Schema& schema, const json::value& input,
                                    const ValidateOptions& options) {
  core::Errors errors;
  Validator v(options, errors);
  json::object in;
  if (input.is_object()) {
    in = input.as_object();
  } else if (!input.is_null()) {
    return core::Error{options.pathPrefix, "expected a record"};
  }
  json::object out = v.recordFields(schema.fields, in, options.pathPrefix);
  if (errors.empty() && schema.entityCheck) {
    core::Errors checks;
    schema.entityCheck(out, checks);
    for (auto& e : checks) {
      e.path = e.path.empty() ? options.pathPrefix
               : options.pathPrefix.empty() ? e.path
                                            : options.pathPrefix + "." + e.path;
      errors.push_back(std::move(e));
    }
  }
  if (!errors.empty()) return errors;
  return out;
}

json::object toJson(const Schema& schema) {
  json::array fields;
  json::array protocols;
  for (const auto& p : schema.protocols) protocols.push_back(json::string(p));
  fields.push_back(json::object{
      {"protocols",
       json::object{{"type", "set"},
                    {"required", true},
                    {"default", protocols},
                    {"elements", json::object{{"type", "string"}, {"one_of", protocols}}}}}});
  fields.push_back(json::object{{"consumer", json::object{{"type", "foreign"}, {"reference", "consumers"}}}});
  fields.push_back(json::object{{"route", json::object{{"type", "foreign"}, {"reference", "routes"}}}});
  fields.push_back(json::object{{"service", json::object{{"type", "foreign"}, {"reference", "services"}}}});
  Field config = record("config", schema.fields);
  config.required = true;
  fields.push_back(json::object{{"config", fieldJson(config)}});
  return json::object{{"fields", std::move(fields)}};
}

}  // namespace archway::plugins::schema
