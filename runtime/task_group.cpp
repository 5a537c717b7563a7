#include "magpie/task_group.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "group_limiter.hpp"
#include "runtime_core.hpp"
#include "wait_group.hpp"

namespace magpie {
namespace detail {
namespace {

// rethrow_first's rare half: a task threw.
[[gnu::noinline, gnu::cold]] void rethrow_taken(group_state& g) {
  if (std::exception_ptr e = g.take_error()) {
    renew_group_stop(g);  // the exception's cancellation is lifted: so is its stop token's
    std::rethrow_exception(e);
  }
}

// After the group was seen with nothing outstanding: rethrows the first exception once. The
// test inline, the rest out of line: with wait_group inlined, g++ 12 called all of it (two
// instructions more per fib node).
inline void rethrow_first(group_state& g) {
  // relaxed: the acquire load that saw zero ordered the tasks' writes before us (take_error).
  if (g.error_claimed.load(std::memory_order_relaxed)) [[unlikely]]
    rethrow_taken(g);
}

}  // namespace
}  // namespace detail

void task_group::wait_and_drop() noexcept {
  if (const detail::worker* w = detail::this_worker();
      w != nullptr && w->current_group() == &state_) [[unlikely]] {
    // wait() cannot return here, and freeing the group would leave this task (and any sibling)
    // finishing into freed memory.
    std::fprintf(stderr,
                 "magpie: a task_group (magpie_group) was destroyed by one of its own tasks; "
                 "aborting\n");
    std::abort();
  }
  try {
    wait();
  } catch (...) {
    // Documented: an exception nobody waited for is dropped with the group.
  }
  detail::destroy_extras(state_);  // nothing of the group runs any more
}

void task_group::wait() {
  detail::wait_group(state_, std::chrono::steady_clock::time_point::max(),
                     "magpie::task_group::wait");
  detail::rethrow_first(state_);
}

bool task_group::wait_until(std::chrono::steady_clock::time_point deadline) {
  if (!detail::wait_group(state_, deadline, "magpie::task_group::wait")) return false;
  detail::rethrow_first(state_);
  return true;
}

void task_group::set_limit(std::size_t limit) {
  if (limit == 0) {
    throw std::invalid_argument("magpie::task_group::set_limit: the limit must be at least 1");
  }
  detail::group_extras& e = detail::extras_of(state_);
  if (e.limiter == nullptr) {
    e.limiter = std::make_unique<detail::group_limiter>(state_, limit);
    state_.local_spawner = nullptr;  // spawns now go through the limiter
  } else {
    e.limiter->set_limit(limit);
  }
}

void task_group::cancel() noexcept {
  state_.request_cancel(detail::group_state::by_user);
}

bool task_group::is_canceled() const noexcept {
  return state_.cancel_requested();
}

}  // namespace magpie
