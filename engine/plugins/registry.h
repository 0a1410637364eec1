#pragma once
// The plugins of this build, registered by explicit calls in one list (all_plugins.cpp).
#include <string_view>
#include <vector>

#include "plugins/plugin.h"

namespace archway::plugins {

// Every plugin factory, in registration order. Built on first use; never changes afterwards.
const std::vector<const Factory*>& all();
// The factory named `name` ("key-auth"), or null.
const Factory* find(std::string_view name);

}  // namespace archway::plugins
