// co_await sem.acquire(w): a coroutine waits for units in the semaphore's FIFO queue, as a task
// does, but suspended rather than built into a task: the grant queues a resumption.
#pragma once

#include <coroutine>
#include <cstdint>
#include <new>

#include "magpie/config.hpp"
#include "magpie/detail/coro_resume.hpp"
#include "magpie/detail/semaphore_state.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/semaphore_units.hpp"

namespace magpie::detail {

/// The task that resumes a coroutine whose units were granted: it moves the units (armed by the
/// grant) into the awaiter, then resumes. Destroyed unrun (shutdown(cancel)), it gives the units
/// back first (the ticket is destroyed first), then resumes the coroutine as discarded.
struct sem_resume_job {
  resume_job resume;
  sem_ticket ticket;
  sem_ticket* units;  // the awaiter's, in the suspended coroutine's frame
  void operator()() {
    ticket.move_to(*units);
    resume();
  }
};
static_assert(fits_inline<sem_resume_job>, "the resumption must not allocate");

inline sem_resume_job& resume_job_of(task& t) noexcept {
  return *std::launder(reinterpret_cast<sem_resume_job*>(t.storage));
}
inline sem_ticket& resume_ticket_of(task& t) noexcept {
  return resume_job_of(t).ticket;
}

class sem_acquire_awaiter : resumable {
 public:
  sem_acquire_awaiter(semaphore_state& s, std::uint32_t w, priority p) noexcept
      : s_(&s), w_(w), lane_(p) {}

  /// The fast path: units free and nobody waiting, so the coroutine does not suspend.
  bool await_ready() noexcept {
    if (!s_->try_take(w_)) return false;
    units_.arm(s_, w_);
    return true;
  }
  /// Queues the coroutine among the waiters; false (go on at once) if the units were free
  /// after all. Throws what take_or_queue throws, with nothing queued.
  bool await_suspend(std::coroutine_handle<> h) {
    handle = h;
    task t;
    build_task(t, sem_resume_job{resume_job(*this), sem_ticket(), &units_}, nullptr);
    bool queued = false;
    MAGPIE_TRY {
      queued = s_->take_or_queue(t, w_, lane_, &resume_ticket_of, nullptr, who);
    }
    MAGPIE_CATCH(...) {
      resume_job_of(t).resume.disarm();  // the exception resumes the coroutine instead
      MAGPIE_RETHROW;
    }
    // Queued: another thread may resume (and free) the coroutine from now on; touch nothing.
    if (queued) return true;
    resume_job_of(t).resume.disarm();
    units_.arm(s_, w_);
    return false;
  }
  semaphore_units await_resume() {
    check_resumed(who);
    return semaphore_units(units_);
  }

 private:
  static constexpr const char* who = "magpie::semaphore::acquire";
  semaphore_state* s_;
  std::uint32_t w_;
  priority lane_;
  sem_ticket units_;  // armed once granted, until await_resume hands them over
};

}  // namespace magpie::detail
