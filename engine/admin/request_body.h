#pragma once
// Admin API request bodies as one JSON object, whatever the Content-Type (Kong's
// api_helpers): JSON, application/x-www-form-urlencoded and multipart/form-data. Form keys
// follow Kong's normalize_nested_params: `a.b=x` is {"a":{"b":"x"}}, `a[]=x` appends to an
// array, a repeated plain key becomes an array. Form values stay strings; the schema
// converts them.
#include <boost/json/object.hpp>
#include <string_view>

#include "core/result.h"

namespace archway::admin {

enum class BodyKind { empty, json, form };

struct ParsedBody {
  BodyKind kind = BodyKind::empty;
  boost::json::object fields;
};

// Errors have Kong's messages ("Cannot parse JSON body") and an empty path.
core::Result<ParsedBody> parseRequestBody(std::string_view body, std::string_view contentType);

// The raw value of one form/multipart field, for POST /config's `config` field (which must
// not be split on dots).
std::string_view formField(std::string_view body, std::string_view contentType,
                           std::string_view name, std::string& storage);

}  // namespace archway::admin
