#pragma once
// file-log (Kong PRIORITY 9): appends one JSON line per request (Kong's log serializer) to
// `path`, creating the file (mode 0644) when missing; `reopen` closes and reopens the file on
// every write (for log rotation). The writing happens on the plugin's sender thread, never on
// a worker; Kong writes from the worker itself.
#include <memory>

#include "plugins/plugin.h"

namespace archway::plugins {

std::unique_ptr<archway::plugins::Factory> makeFileLogPlugin();

}  // namespace archway::plugins
