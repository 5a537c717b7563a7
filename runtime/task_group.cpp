#include "magpie/task_group.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <thread>

#include "pause.hpp"
#include "runtime_core.hpp"

namespace magpie {
namespace detail {
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

// A thread that is not a worker of the group's runtime: spin for the runtime's spin budget,
// then sleep until the last finisher wakes us or the deadline passes. Not inlined: its spills
// would otherwise burden every wait on a worker (fib's hot path).
[[gnu::noinline]] bool wait_outside(group_state& g, time_point deadline) {
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

// Behind wait_group_until and task_group::wait: internal, so that wait() (fib's hot path)
// calls it directly instead of through the exported, interposable symbol.
bool wait_group(group_state& g, time_point deadline, const char* who) {
  worker* w = this_worker();
  if (w != nullptr && w->current_group() == &g) [[unlikely]] {
    throw std::logic_error(std::string(who) + " called from one of the group's own tasks");
  }
  bool done = g.outstanding() == 0;
  if (!done) {
    if (w != nullptr && w->core == g.core) {
      if (deadline == time_point::max()) {
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

// After the group was seen with nothing outstanding: rethrows the first exception once.
void rethrow_first(group_state& g) {
  if (std::exception_ptr e = g.take_error()) std::rethrow_exception(e);
}

// A job of a limited group: runs one task while holding one running slot (see group_limit.hpp).
class slot_ticket {
 public:
  explicit slot_ticket(group_limiter& l) noexcept : limiter_(&l) {}
  slot_ticket(slot_ticket&& other) noexcept : limiter_(std::exchange(other.limiter_, nullptr)) {}
  slot_ticket& operator=(slot_ticket&&) = delete;
  ~slot_ticket() {
    if (limiter_ != nullptr) limiter_->slot_returned();
  }

 private:
  group_limiter* limiter_;
};

struct limited_job {
  slot_ticket ticket;  // declared first: destroyed after `item`, once the task is gone
  task item;
  void operator()() { item.run(); }
};

}  // namespace

void end_group_task(group_state& g) noexcept {
  finish_group_task(g);
}

bool wait_group_until(group_state& g, time_point deadline, const char* who) {
  return wait_group(g, deadline, who);
}

group_limiter::~group_limiter() = default;

void group_limiter::spawn(task&& item) {
  runtime_core& core = *group_.core;
  // Reserved first, so that nothing is queued once the runtime is closed.
  const reservation r = reserve_slot(core, true, false);
  if (r.kind == slot::closed)
    throw runtime_closed("magpie::task_group::spawn: runtime is shut down");
  slot_guard guard(core, r);
  {
    std::lock_guard lock(mu_);
    if (running_ >= limit_) {
      waiting_.push_back(std::move(item));  // may throw: then nothing was accepted
      // A job of this group holds a slot (running_ >= 1) and is counted; it cannot finish
      // before taking mu_ to hand its slot over, so the count cannot reach zero first.
      group_.add_shared();
      return;  // the guard gives the reservation back
    }
    ++running_;
  }
  guard.disarm();
  // If this throws, the job was destroyed unrun and its ticket already gave the slot back.
  submit_callable(core, r, limited_job{slot_ticket(*this), std::move(item)}, &group_,
                  priority::normal);
}

void group_limiter::set_limit(std::size_t limit) {
  {
    std::lock_guard lock(mu_);
    limit_ = limit;
  }
  pump(false);
}

void group_limiter::slot_returned() noexcept {
  pump(true);
}

// Gives back one slot (if returning_slot), then hands free slots to waiting tasks, oldest first.
// A canceled group (or one under a canceled ancestor) ignores the limit: its waiting tasks are
// launched at once and skipped by the worker, which counts them as canceled.
void group_limiter::pump(bool returning_slot) noexcept {
  for (;;) {
    task next;
    {
      std::lock_guard lock(mu_);
      if (returning_slot) --running_;
      returning_slot = false;
      if (waiting_.empty() || (running_ >= limit_ && !group_.cancel_requested())) return;
      ++running_;
      next = std::move(waiting_.front());
      waiting_.pop_front();
    }
    switch (launch(next)) {
      case launched::yes:
        break;
      case launched::closed: {
        // Only off the workers (set_limit, or a failed spawn): running jobs, on workers, can
        // still launch it, so it goes back to the front and the slot is freed.
        std::lock_guard lock(mu_);
        waiting_.push_front(std::move(next));
        --running_;
        return;
      }
      case launched::failed:
        break;  // the job's ticket already gave the slot back
      case launched::failed_slot_unused:
        returning_slot = true;
        break;
    }
  }
}

// Launches a waiting task as a job holding the slot just taken for it. Its waiting count moves
// to the job (counted by submit_callable). Out of memory, the task is dropped unrun: the group's
// count still goes down, so wait() returns, but it never ran — the one way a limited group can
// lose an accepted task (documented in docs/errors.md).
group_limiter::launched group_limiter::launch(task& item) noexcept {
  runtime_core& core = *group_.core;
  reservation r{};
  try {
    r = reserve_slot(core, true, false);
  } catch (...) {
    item.discard();
    finish_group_task(group_);
    return launched::failed_slot_unused;
  }
  if (r.kind == slot::closed) return launched::closed;
  launched result = launched::yes;
  try {
    submit_callable(core, r, limited_job{slot_ticket(*this), std::move(item)}, &group_,
                    priority::normal);
  } catch (...) {
    // The job was destroyed unrun, and its ticket gave the slot back.
    item.discard();
    result = launched::failed;
  }
  finish_group_task(group_);  // the waiting count; a launched job holds its own
  return result;
}

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
}

void task_group::wait() {
  detail::wait_group(state_, detail::time_point::max(), "magpie::task_group::wait");
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
  if (limiter_ == nullptr) {
    limiter_ = std::make_unique<detail::group_limiter>(state_, limit);
    state_.local_spawner = nullptr;  // spawns now go through the limiter
  } else {
    limiter_->set_limit(limit);
  }
}

void task_group::cancel() noexcept {
  state_.request_cancel(detail::group_state::by_user);
}

bool task_group::is_canceled() const noexcept {
  return state_.cancel_requested();
}

}  // namespace magpie
