// Waiting on a group_state: shared by task_group and future.
#pragma once

#include <chrono>

#include "magpie/detail/deadline.hpp"
#include "magpie/detail/group_state.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

/// Waits for `g` (helping on a worker of its runtime, parking elsewhere) until it has no pending
/// task or `deadline` passes; true if it has none. `who` names the caller in errors: throws
/// std::logic_error when called from one of `g`'s own tasks.
MAGPIE_API bool wait_group_until(group_state& g, std::chrono::steady_clock::time_point deadline,
                                 const char* who);

/// Marks one task of `g` counted in its shared word finished (the workers' path, and tasks that
/// count themselves, like async's): wakes its waiters if it was the last, and touches nothing in
/// `g` after the decrement, which may let a waiter return and destroy it. Never blocks. Defined
/// in runtime/worker.cpp, where the workers' calls inline it.
MAGPIE_API void finish_group_task(group_state& g) noexcept;

}  // namespace magpie::detail
