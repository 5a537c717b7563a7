#include "group_limiter.hpp"

#include "magpie/detail/submit.hpp"
#include "magpie/errors.hpp"
#include "runtime_core.hpp"

namespace magpie::detail {
namespace {

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

void spawn_limited(group_limiter& l, task&& item) {
  l.spawn(std::move(item));
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
    item.reset();
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
    item.reset();
    result = launched::failed;
  }
  finish_group_task(group_);  // the waiting count; a launched job holds its own
  return result;
}

}  // namespace magpie::detail
