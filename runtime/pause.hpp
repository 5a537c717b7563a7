// Pausing while spinning: how many pauses a search waits between rounds, and how often a wait
// that nobody can wake looks again. The pause itself is detail/cpu_relax.hpp.
#pragma once

#include <chrono>

#include "magpie/detail/cpu_relax.hpp"

namespace magpie::detail {

// Pauses between two rounds of a search (a worker's, or an outside waiter's spin). A pause is
// ~65 cycles on AMD Zen 2 and ~140 on recent Intel cores, and each one is latency added to a
// submission that arrives meanwhile, so few; a round itself already reads every queue.
inline constexpr int pauses_between_rounds = 4;

// How long a worker that just left a loop watches the loop board alone (worker::
// linger_on_board): ~1-2 us, the gap between loops called back to back and their caller.
inline constexpr int board_linger_pauses = 64;

// How long a wait on a group homed on another worker sleeps between looks: such a wait cannot
// be woken by the group's finishers (group_state.hpp), so it polls.
inline constexpr std::chrono::microseconds foreign_wait_poll{200};

inline void pause_between_rounds() noexcept {
  for (int i = 0; i < pauses_between_rounds; ++i)
    cpu_relax();
}

}  // namespace magpie::detail
