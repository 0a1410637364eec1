#pragma once
// A JSON document read through the part of yaml-cpp's YAML::Node interface that the declarative
// parser walks (declarative.cpp), so that JSON text — every stored row, most POST /config
// bodies, every Admin API entity — does not go through the YAML scanner, which allocates a
// shared node per value and takes tens of seconds and gigabytes for 10^5 entities.
//
// The tree says what YAML says of the same text: strings are quoted scalars (Tag() "!"),
// numbers, true and false are plain scalars holding their text as written ("1.50" stays
// "1.50"), null is Null; object keys keep their order and their duplicates, and a lookup by
// key finds the first. Internal to the config library.
#include <yaml-cpp/node/type.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace archway::config {

struct JsonValue {
  enum class Kind : std::uint8_t { null, plain, quoted, sequence, map };
  Kind kind = Kind::null;
  std::uint32_t size = 0;  // text length, or elements (map: key/value pairs)
  union {
    const char* text;   // scalars
    std::size_t first;  // containers: index of the first child (maps: key, value, key, ...)
  };
  JsonValue() : text(nullptr) {}
};

struct JsonItem;
class JsonIterator;

class JsonNode {
 public:
  JsonNode() = default;
  JsonNode(const JsonValue* base, const JsonValue* v) : base_(base), v_(v) {}

  bool IsDefined() const { return v_ != nullptr; }
  explicit operator bool() const { return IsDefined(); }
  YAML::NodeType::value Type() const;
  bool IsNull() const { return !v_ || v_->kind == JsonValue::Kind::null; }
  bool IsScalar() const {
    return v_ && (v_->kind == JsonValue::Kind::plain || v_->kind == JsonValue::Kind::quoted);
  }
  bool IsSequence() const { return v_ && v_->kind == JsonValue::Kind::sequence; }
  bool IsMap() const { return v_ && v_->kind == JsonValue::Kind::map; }
  // The scalar's text; empty for anything else.
  std::string Scalar() const {
    return IsScalar() ? std::string(v_->text, v_->size) : std::string();
  }
  std::string_view Tag() const { return v_ && v_->kind == JsonValue::Kind::quoted ? "!" : "?"; }
  std::size_t size() const { return IsSequence() || IsMap() ? v_->size : 0; }
  // An undefined node when out of range / not found.
  JsonNode operator[](std::size_t i) const;
  JsonNode operator[](std::string_view key) const;
  JsonNode operator[](const char* key) const { return (*this)[std::string_view(key)]; }

  JsonIterator begin() const;
  JsonIterator end() const;

 private:
  const JsonValue* base_ = nullptr;  // the document's values
  const JsonValue* v_ = nullptr;
};

// What iterating yields, as yaml-cpp's iterator_value: the element itself (sequences) or its
// key and value (maps).
struct JsonItem : JsonNode {
  JsonNode first, second;
};

class JsonIterator {
 public:
  JsonIterator(const JsonValue* base, const JsonValue* at, bool map)
      : base_(base), at_(at), map_(map) {}
  JsonItem operator*() const {
    if (!map_) return {JsonNode(base_, at_), {}, {}};
    return {JsonNode(), JsonNode(base_, at_), JsonNode(base_, at_ + 1)};
  }
  JsonIterator& operator++() {
    at_ += map_ ? 2 : 1;
    return *this;
  }
  bool operator==(const JsonIterator& o) const { return at_ == o.at_; }

 private:
  const JsonValue* base_;
  const JsonValue* at_;
  bool map_;
};

// A parsed document; nodes point into it and must not outlive it.
class JsonDoc {
 public:
  // Strict JSON (RFC 8259; nesting up to 1,000 levels) with an object or array at the top.
  // nullopt when the text is anything else: the caller reads it as YAML then, which reports
  // the errors.
  static std::optional<JsonDoc> parse(std::string_view text);
  JsonNode root() const { return {values_.data(), &values_.back()}; }

 private:
  friend struct JsonBuilder;
  std::vector<JsonValue> values_;
  std::vector<std::unique_ptr<char[]>> text_;  // scalar and key text
};

// The text of a map key, as YAML's `key.as<std::string>()`.
inline std::string keyText(const JsonNode& n) {
  return n.Scalar();
}

}  // namespace archway::config
