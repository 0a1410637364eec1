#pragma once
// Plugin header edits (plugins::EditList) written into the head the proxy sends: which headers
// of the original head they replace or remove, and the lines they leave. EditList::push did
// the bookkeeping (superseded entries, a filter of replaced names), so each function here is
// one pass without allocation.
#include <span>
#include <string>
#include <string_view>

#include "http/head_parser.h"
#include "plugins/plugin.h"

namespace archway::proxy {

// True when the edits replace or remove the headers named `name` (an `add` keeps them).
bool editedAway(const plugins::EditList& edits, std::string_view name);

// The value a plugin last set (or added) for `name`; empty when it removed it.
std::string_view editedValue(const plugins::EditList& edits, std::string_view name);

// Appends the header lines the edits leave, in order: a set or add counts unless a later set or
// remove of the same name supersedes it. Names and values that could inject a header line are
// refused (left out), unless the plugin vouched for them (HeaderEdit::trusted).
void appendEdited(std::string& out, const plugins::EditList& edits);

// Appends the end-to-end headers of a parsed head that the edits do not replace or remove,
// leaving out Content-Length too when `dropContentLength` (a replaced body).
void appendUnedited(std::string& out, const char* base, std::span<const http::Header> headers,
                    const plugins::EditList& edits, bool dropContentLength);

}  // namespace archway::proxy
