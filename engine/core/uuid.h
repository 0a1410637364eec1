#pragma once
#include <string>
#include <string_view>

namespace archway::core {

// A random (version 4) UUID in canonical lower-case form.
std::string uuid4();

// A name-based (version 5, SHA-1) UUID: the same namespace and name always give the same id,
// which is how entities of a declarative file without an `id` get stable ids.
std::string uuid5(std::string_view namespaceUuid, std::string_view name);

// Archway's namespace for ids derived from declarative config.
inline constexpr std::string_view kConfigNamespace = "fd02801f-0957-4a15-a8ef-a4b2c39d3e2b";

bool isUuid(std::string_view s);

}  // namespace archway::core
