#include "magpie/task_group.hpp"

#include <stdexcept>

#include "runtime_core.hpp"

namespace magpie {
namespace {

// An outside thread (or another runtime's worker): spin for the runtime's spin budget, then
// sleep until the last task's decrement wakes us.
void wait_outside(detail::group_state& g) {
  using clock = std::chrono::steady_clock;
  detail::runtime_core& core = *g.core;
  const auto deadline = clock::now() + core.spin();
  while (g.pending() != 0 && clock::now() < deadline) {
    for (int i = 0; i < 16; ++i)
      detail::cpu_relax();
  }
  detail::parker p;
  p.is_worker = false;
  while (g.pending() != 0) {
    core.idle.prepare_park(p, false, &g);
    // seq_cst: announce the waiter in the group's word; the last decrement then sees it.
    const bool done = g.word.fetch_or(detail::group_state::waiter_bit, std::memory_order_seq_cst) <
                      detail::group_state::one_task;
    if (done && core.idle.cancel_park(p)) return;
    detail::idle_set::commit_park(p);
  }
  core.idle.sync();  // the waker may still be inside wake_locked touching `p`
}

}  // namespace

task_group::~task_group() {
  try {
    wait();
  } catch (...) {
    // Documented: an exception nobody waited for is dropped with the group.
  }
}

void task_group::wait() {
  detail::worker* w = detail::this_worker();
  if (w != nullptr && w->current_group() == &state_) {
    throw std::logic_error("magpie::task_group::wait called from one of the group's own tasks");
  }
  if (state_.pending() != 0) {
    if (w != nullptr && &w->core == state_.core) {
      w->help_until_done(state_);
    } else {
      wait_outside(state_);
    }
  }
  // relaxed: the acquire load that saw zero already ordered the tasks' writes before us.
  if (state_.error_claimed.load(std::memory_order_relaxed)) {
    std::exception_ptr e = std::move(state_.error);
    state_.error = nullptr;
    state_.error_claimed.store(false, std::memory_order_relaxed);
    std::rethrow_exception(e);
  }
}

void task_group::cancel() noexcept {
  // relaxed: advisory; workers check it before starting each of the group's tasks.
  state_.canceled.store(true, std::memory_order_relaxed);
}

bool task_group::is_canceled() const noexcept {
  return state_.canceled.load(std::memory_order_relaxed);
}

}  // namespace magpie
