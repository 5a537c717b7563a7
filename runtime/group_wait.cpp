#include "magpie/detail/group_wait.hpp"

#include <algorithm>
#include <thread>

#include "pause.hpp"
#include "runtime_core.hpp"
#include "wait_group.hpp"

namespace magpie::detail {
namespace {

using time_point = std::chrono::steady_clock::time_point;

// A thread other than the group's home: the home's local count cannot be folded into the
// word from here, so nobody would wake us; look again every poll interval. Rare by design:
// groups are waited for where they were made.
bool wait_foreign(group_state& g, time_point deadline) {
  using clock = std::chrono::steady_clock;
  while (g.outstanding() != 0) {
    const time_point now = clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<clock::duration>(foreign_wait_poll, deadline - now));
  }
  return true;
}

}  // namespace

// Spins for the runtime's spin budget, then sleeps until the last finisher wakes us or the
// deadline passes.
bool wait_outside(group_state& g, std::chrono::steady_clock::time_point deadline) {
  using clock = std::chrono::steady_clock;
  runtime_core& core = *g.core;
  const auto spin_end = std::min(deadline, clock::now() + core.spin());
  while (g.outstanding() != 0 && clock::now() < spin_end)
    pause_between_rounds();
  if (g.home != nullptr) return wait_foreign(g, deadline);
  parker p;
  p.is_worker = false;
  while (g.outstanding() != 0) {
    core.idle.prepare_park(p, false, &g);
    if (g.announce_waiter() && core.idle.cancel_park(p)) return true;
    if (deadline == time_point::max()) {
      idle_set::commit_park(p);
    } else if (!core.idle.commit_park_until(p, deadline)) {
      return g.outstanding() == 0;  // timed out and unlisted: no waker can still touch `p`
    }
  }
  core.idle.sync();  // the waker may still be inside wake_locked touching `p`
  return true;
}

bool wait_group_until(group_state& g, time_point deadline, const char* who) {
  return wait_group(g, deadline, who);
}

}  // namespace magpie::detail
