#include "config/json_node.h"

#include <boost/json/basic_parser_impl.hpp>
#include <cstring>

namespace archway::config {

YAML::NodeType::value JsonNode::Type() const {
  if (!v_) return YAML::NodeType::Undefined;
  switch (v_->kind) {
    case JsonValue::Kind::null:
      return YAML::NodeType::Null;
    case JsonValue::Kind::plain:
    case JsonValue::Kind::quoted:
      return YAML::NodeType::Scalar;
    case JsonValue::Kind::sequence:
      return YAML::NodeType::Sequence;
    case JsonValue::Kind::map:
      return YAML::NodeType::Map;
  }
  return YAML::NodeType::Undefined;
}

JsonNode JsonNode::operator[](std::size_t i) const {
  if (!IsSequence() || i >= v_->size) return {};
  return {base_, base_ + v_->first + i};
}

JsonNode JsonNode::operator[](std::string_view key) const {
  if (!IsMap()) return {};
  const JsonValue* at = base_ + v_->first;
  for (std::uint32_t i = 0; i < v_->size; ++i, at += 2) {
    if (std::string_view(at->text, at->size) == key) return {base_, at + 1};
  }
  return {};
}

JsonIterator JsonNode::begin() const {
  if (!IsSequence() && !IsMap()) return {base_, nullptr, false};
  return {base_, base_ + v_->first, IsMap()};
}

JsonIterator JsonNode::end() const {
  if (!IsSequence() && !IsMap()) return {base_, nullptr, false};
  return {base_, base_ + v_->first + v_->size * (IsMap() ? 2 : 1), IsMap()};
}

// boost::json's SAX handler: values go on a stack; a closing container moves its children,
// contiguous, to the document's value array (post-order), and itself onto the stack.
struct JsonBuilder {
  static constexpr std::size_t max_object_size = static_cast<std::uint32_t>(-1);
  static constexpr std::size_t max_array_size = static_cast<std::uint32_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::uint32_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::uint32_t>(-1);
  using ec_t = boost::system::error_code;

  explicit JsonBuilder(JsonDoc& doc) : doc_(doc) {}

  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_array_begin(ec_t&) { return true; }
  bool on_array_end(std::size_t n, ec_t&) { return close(JsonValue::Kind::sequence, n, n); }
  bool on_object_begin(ec_t&) { return true; }
  bool on_object_end(std::size_t n, ec_t&) { return close(JsonValue::Kind::map, n, 2 * n); }
  bool on_string_part(std::string_view s, std::size_t, ec_t&) { return part(s); }
  bool on_string(std::string_view s, std::size_t, ec_t&) {
    return scalar(JsonValue::Kind::quoted, s);
  }
  bool on_key_part(std::string_view s, std::size_t, ec_t&) { return part(s); }
  bool on_key(std::string_view s, std::size_t, ec_t&) { return scalar(JsonValue::Kind::quoted, s); }
  bool on_number_part(std::string_view s, ec_t&) { return part(s); }
  bool on_int64(std::int64_t, std::string_view s, ec_t&) {
    return scalar(JsonValue::Kind::plain, s);
  }
  bool on_uint64(std::uint64_t, std::string_view s, ec_t&) {
    return scalar(JsonValue::Kind::plain, s);
  }
  bool on_double(double, std::string_view s, ec_t&) { return scalar(JsonValue::Kind::plain, s); }
  bool on_bool(bool b, ec_t&) {
    return scalar(JsonValue::Kind::plain, b ? std::string_view("true") : "false");
  }
  bool on_null(ec_t&) {
    stack_.emplace_back();
    return true;
  }
  bool on_comment_part(std::string_view, ec_t&) { return true; }
  bool on_comment(std::string_view, ec_t&) { return true; }

  // The root, last in the document's values.
  void finish() { doc_.values_.push_back(stack_.back()); }

 private:
  bool part(std::string_view s) {
    part_.append(s);
    return true;
  }
  bool scalar(JsonValue::Kind kind, std::string_view s) {
    if (!part_.empty()) {
      part_.append(s);
      s = part_;
    }
    JsonValue v;
    v.kind = kind;
    v.size = static_cast<std::uint32_t>(s.size());
    v.text = store(s);
    stack_.push_back(v);
    part_.clear();
    return true;
  }
  bool close(JsonValue::Kind kind, std::size_t count, std::size_t values) {
    JsonValue v;
    v.kind = kind;
    v.size = static_cast<std::uint32_t>(count);
    v.first = doc_.values_.size();
    doc_.values_.insert(doc_.values_.end(), stack_.end() - static_cast<std::ptrdiff_t>(values),
                        stack_.end());
    stack_.resize(stack_.size() - values);
    stack_.push_back(v);
    return true;
  }
  // Text lives in 64 KiB chunks (a longer text gets its own).
  const char* store(std::string_view s) {
    constexpr std::size_t kChunk = 64 * 1024;
    if (s.size() > kChunk / 4) {
      doc_.text_.push_back(std::make_unique<char[]>(s.size() + 1));
      std::memcpy(doc_.text_.back().get(), s.data(), s.size());
      return doc_.text_.back().get();
    }
    if (!chunk_ || used_ + s.size() > kChunk) {
      doc_.text_.push_back(std::make_unique<char[]>(kChunk));
      chunk_ = doc_.text_.back().get();
      used_ = 0;
    }
    char* at = chunk_ + used_;
    std::memcpy(at, s.data(), s.size());
    used_ += s.size();
    return at;
  }

  JsonDoc& doc_;
  std::vector<JsonValue> stack_;
  std::string part_;
  char* chunk_ = nullptr;
  std::size_t used_ = 0;
};

std::optional<JsonDoc> JsonDoc::parse(std::string_view text) {
  const auto start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || (text[start] != '{' && text[start] != '[')) return {};
  JsonDoc doc;
  boost::json::parse_options options;
  options.max_depth = 1000;
  boost::json::basic_parser<JsonBuilder> parser(options, doc);
  boost::system::error_code ec;
  const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (ec || used != text.size() || !parser.done()) return {};
  parser.handler().finish();
  return doc;
}

}  // namespace archway::config
