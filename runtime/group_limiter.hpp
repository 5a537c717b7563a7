// The concurrency limit of a task_group (task_group::set_limit): at most `limit` of the group's
// tasks run at once; the others wait here, inside the group, without occupying a worker.
// task_group.hpp sees only the opaque type of magpie/detail/group_limit.hpp: its queue and
// mutex stay out of every user's includes.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>

#include "magpie/detail/group_limit.hpp"
#include "magpie/detail/group_state.hpp"
#include "magpie/detail/task.hpp"

namespace magpie::detail {

/// A task of a limited group runs inside a job that holds one running slot. The job gives the
/// slot back when it is destroyed — after running, or unrun when it is skipped (cancellation),
/// discarded (shutdown(cancel)) or refused — and the slot then goes to the oldest waiting task.
/// Tying the hand-over to destruction means no path can leak a slot and strand waiting tasks.
///
/// Not a hot path: one mutex per spawn and per finished task, and waiting tasks are launched in a
/// heap-allocated job. A limited group is for throttling (connections, memory), not for speed.
class group_limiter {
 public:
  group_limiter(group_state& g, std::size_t limit) : group_(g), limit_(limit) {}
  /// Only after the group's wait: no job holds a slot and nothing waits any more.
  ~group_limiter();
  group_limiter(const group_limiter&) = delete;
  group_limiter& operator=(const group_limiter&) = delete;

  /// Runs `item` (built with no group) as a task of the group now if a slot is free, else queues
  /// it (spawn_limited). Throws runtime_closed after shutdown, std::bad_alloc; either way nothing
  /// was accepted. May block while the runtime's injector is full, like task_group::spawn.
  void spawn(task&& item);
  /// Raising the limit starts waiting tasks at once (from the calling thread); lowering it
  /// takes effect as running tasks finish. `limit` >= 1 (checked by task_group::set_limit).
  void set_limit(std::size_t limit);
  /// A job gave its slot back. Never throws; see the .cpp for the out-of-memory case.
  void slot_returned() noexcept;

 private:
  enum class launched {
    yes,                // the job holds the slot
    closed,             // runtime closed: the task is still the caller's, and so is the slot
    failed,             // out of memory: task dropped, the job's ticket returned the slot
    failed_slot_unused  // out of memory before a job existed: task dropped, slot still taken
  };
  void pump(bool returning_slot) noexcept;
  launched launch(task& item) noexcept;

  group_state& group_;
  std::mutex mu_;
  std::deque<task> waiting_;  // guarded by mu_; each entry is counted in group_.word
  std::size_t limit_;         // guarded by mu_
  std::size_t running_ = 0;   // guarded by mu_: slots held by jobs (queued or running)
};

}  // namespace magpie::detail
