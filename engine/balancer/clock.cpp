#include "balancer/clock.h"

namespace archway::balancer {

const Clock& steadyClock() {
  static const SteadyClock clock;
  return clock;
}

}  // namespace archway::balancer
