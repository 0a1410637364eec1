#pragma once
// `archwayd config diff FILE` and `archwayd config sync FILE` (decK-style): compare a kong.yml
// with the configuration a running node serves (its Admin API's GET /config) and print, or
// apply through the Admin API, the creates, updates and deletes between them.
//
// Exit codes: 0 done (for diff: whether or not there are differences); 1 the node could not be
// reached, answered something unexpected, or refused a sync call (its error body is printed);
// 2 bad arguments or an invalid FILE.
#include <ostream>

namespace archway::apps {

// argv[0] is "config", argv[1] "diff" or "sync". Output goes to `out`, errors (one line each)
// to `err`.
int runConfigCommand(int argc, char** argv, std::ostream& out, std::ostream& err);

// The lines `archwayd --help` adds for the subcommands.
extern const char* const kConfigCommandsHelp;

}  // namespace archway::apps
