// Logs `argv[1]` records (default 1000) through core::log and returns from main at once: the
// records must still reach stderr (log_test reads them).
#include <string>

#include "core/log.h"

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 1000;
  for (int i = 0; i < n; ++i) archway::core::log::error("exiting soon", {{"i", std::to_string(i)}});
  return 0;
}
