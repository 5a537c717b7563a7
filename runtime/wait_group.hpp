// Waiting for a group, inside the library: task_group::wait (fib's hot path) inlines the dispatch
// below instead of calling the exported wait_group_until, whose call would cost a frame per wait.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include "magpie/detail/group_state.hpp"
#include "worker.hpp"

namespace magpie::detail {

/// Waits from a thread that is not a worker of `g`'s runtime (group_wait.cpp). Out of line: its
/// spills would otherwise burden every wait on a worker.
[[gnu::noinline]] bool wait_outside(group_state& g, std::chrono::steady_clock::time_point deadline);

/// wait_group_until's body (see detail/group_wait.hpp). Always inlined: clang 19 called it out
/// of line from task_group::wait, a second frame per fib node (about 10 instructions).
[[gnu::always_inline]] inline bool wait_group(group_state& g,
                                              std::chrono::steady_clock::time_point deadline,
                                              const char* who) {
  worker* w = this_worker();
  if (w != nullptr && w->current_group() == &g) [[unlikely]] {
    throw std::logic_error(std::string(who) + " called from one of the group's own tasks");
  }
  bool done = g.outstanding() == 0;
  if (!done) {
    if (w != nullptr && w->core == g.core) {
      if (deadline == std::chrono::steady_clock::time_point::max()) {
        w->help_until_done(g);
        done = true;
      } else {
        done = w->help_until(g, deadline);
      }
    } else {
      done = wait_outside(g, deadline);
    }
  }
  if (done) g.waiter_left();
  return done;
}

}  // namespace magpie::detail
