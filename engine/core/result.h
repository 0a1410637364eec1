#pragma once
// Expected failures as values: a field path (Kong style, "services[1].routes[0].paths[0]") and a
// message. The data plane never throws across an async boundary; config code returns these.
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace archway::core {

struct Error {
  std::string path;  // empty when the error is not about one field
  std::string message;

  std::string text() const { return path.empty() ? message : path + ": " + message; }
  bool operator==(const Error&) const = default;
};

using Errors = std::vector<Error>;

// A value or the list of every error found (validation reports all errors at once).
template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) { errors_.push_back(std::move(error)); }
  Result(Errors errors) : errors_(std::move(errors)) {}

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  const Errors& errors() const { return errors_; }

  // All errors on one line each, the first one first.
  std::string errorText() const {
    std::string out;
    for (const auto& e : errors_) {
      if (!out.empty()) out += '\n';
      out += e.text();
    }
    return out;
  }

 private:
  std::optional<T> value_;
  Errors errors_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace archway::core
