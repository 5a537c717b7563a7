#include "idle_set.hpp"

#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "futex.hpp"
#include "magpie/detail/debug_check.hpp"
#include "magpie/detail/fence.hpp"

namespace magpie::detail {
namespace {

bool register_membarrier() noexcept {
#if defined(MAGPIE_TSAN)
  return false;  // ThreadSanitizer does not know membarrier: full fences on both sides
#else
  const long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  if (cmds < 0 || (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  return syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#endif
}

}  // namespace

idle_set::idle_set(std::size_t workers)
    : workers_(workers), asymmetric_(register_membarrier()), active_(workers) {
  sleepers_.reserve(workers);
}

void idle_set::heavy_barrier() const noexcept {
  // A failure (it cannot fail once registered) falls back to a full fence, which is not enough
  // on its own against light barriers: then abort rather than risk a lost wake-up.
  if (!asymmetric_) {
    full_fence();
  } else if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
    std::abort();
  }
}

bool idle_set::may_have_light_pushers(std::uint64_t after) const noexcept {
  return searching(after) + sleeping(after) < workers_;
}

void idle_set::wake_after_publish() noexcept {
  // seq_cst fence: the producer's half of the Dekker pair with prepare_park (see the header).
  // Producers that are not the pushing worker (the injector, batch moves) use a full fence.
  full_fence();
  wake_if_no_searcher();
}

void idle_set::wake_if_no_searcher() noexcept {
  // relaxed: ordered by the caller's fence; a stale read can only cause a spare wake-up or be
  // corrected under the lock in wake_one_slow.
  const std::uint64_t s = state_.load(std::memory_order_relaxed);
  if (searching(s) == 0 && sleeping(s) != 0) wake_one_slow();
}

// Prefers the sleeper bound to the caller's own CPU: the kernel then queues it where the waker
// runs, which on virtual machines is several times faster than an IPI to a halted vCPU (figures
// in docs/benchmarks.md). Else the most recently parked worker (its cache is warmest). A worker
// woken beside its waker hands searching over to another CPU once it has run the task (see
// hand_off_search), so it does not go on spinning on a CPU its waker may still need.
void idle_set::wake_one_slow() {
  const int here = sched_getcpu();
  std::lock_guard lock(mu_);
  const std::uint64_t s = state_.load(std::memory_order_relaxed);  // relaxed: changes under mu_
  if (searching(s) != 0) return;  // a searcher appeared meanwhile and will find the task
  std::size_t pick = sleepers_.size();
  for (std::size_t i = sleepers_.size(); i-- > 0;) {
    if (!sleepers_[i]->is_worker || sleepers_[i]->inactive) continue;
    if (pick == sleepers_.size()) pick = i;
    if (here >= 0 && sleepers_[i]->cpu == here) {
      wake_locked(i, true);
      return;
    }
  }
  if (pick != sleepers_.size()) wake_locked(pick);
}

bool idle_set::hand_off_search(int cpu) {
  std::lock_guard lock(mu_);
  const std::uint64_t s = state_.load(std::memory_order_relaxed);  // relaxed: changes under mu_
  if (searching(s) != 0) return true;
  for (std::size_t i = sleepers_.size(); i-- > 0;) {
    if (sleepers_[i]->is_worker && !sleepers_[i]->inactive && sleepers_[i]->cpu != cpu) {
      wake_locked(i);
      return true;
    }
  }
  return false;
}

// Caller holds mu_. The woken worker is counted as searching before it runs, so concurrent
// producers see a searcher and do not wake a second one for the same task.
void idle_set::wake_locked(std::size_t index, bool beside_waker) noexcept {
  parker* p = sleepers_[index];
  p->woken_beside_waker = beside_waker;
  sleepers_.erase(sleepers_.begin() + static_cast<std::ptrdiff_t>(index));
  p->listed = false;
  if (p->is_worker) {
    // seq_cst: part of the Dekker protocol on state_ (see prepare_park).
    state_.fetch_add(one_searching - one_sleeping, std::memory_order_seq_cst);
  }
  // release: the sleeper's acquire load of the token sees everything before the wake.
  p->token.store(1, std::memory_order_release);
  futex_wake_one(p->token);
}

bool idle_set::try_begin_search(bool always) noexcept {
  // relaxed: the limit is a heuristic; an occasional extra searcher is harmless.
  const std::uint64_t s = state_.load(std::memory_order_relaxed);
  if (!always && searching(s) != 0 && 2 * searching(s) >= workers_) return false;
  // seq_cst: producers decide whether to wake someone from this count.
  state_.fetch_add(one_searching, std::memory_order_seq_cst);
  return true;
}

bool idle_set::end_search() noexcept {
  // seq_cst: producers read the searching count after their fence (Dekker, see header).
  const std::uint64_t before = state_.fetch_sub(one_searching, std::memory_order_seq_cst);
  MAGPIE_DEBUG_CHECK(searching(before) >= 1 && searching(before) <= workers_);
  return searching(before) == 1;
}

bool idle_set::prepare_park(parker& p, bool was_searching, const group_state* waiting_on) {
  bool inactive = false;
  bool heavy = false;
  {
    std::lock_guard lock(mu_);
    p.waiting_on = waiting_on;
    p.listed = true;
    p.inactive = p.is_worker && p.worker_index >= active_.load(std::memory_order_relaxed);
    inactive = p.inactive;
    // relaxed: the token is only reset by its owner, and read after the futex handshake.
    p.token.store(0, std::memory_order_relaxed);
    sleepers_.push_back(&p);
    if (p.is_worker) {
      const std::uint64_t delta = one_sleeping - (was_searching ? one_searching : 0);
      // seq_cst: the sleeper's half of the Dekker pair with wake_after_publish.
      const std::uint64_t before = state_.fetch_add(delta, std::memory_order_seq_cst);
      MAGPIE_DEBUG_CHECK(!was_searching || searching(before) >= 1);
      MAGPIE_DEBUG_CHECK(sleeping(before) < workers_);
      heavy = may_have_light_pushers(before + delta);
    }
  }
  // The re-check of the queues that follows is ordered after the announcement: against
  // full-fence producers by a full fence, and against workers that pushed with only a light
  // barrier by the heavy one, needed only while some worker runs (may_have_light_pushers). An
  // outside thread's re-check is the group word's CAS (announce_waiter), an RMW against the
  // finishers' RMWs: it needs no barrier at all.
  if (heavy) {
    heavy_barrier();
  } else if (p.is_worker) {
    full_fence();
  }
  return inactive;
}

bool idle_set::cancel_park(parker& p) {
  std::lock_guard lock(mu_);
  if (!p.listed) return false;
  const auto it = std::find(sleepers_.begin(), sleepers_.end(), &p);
  sleepers_.erase(it);
  p.listed = false;
  if (p.is_worker) state_.fetch_add(one_searching - one_sleeping, std::memory_order_seq_cst);
  return true;
}

void idle_set::commit_park(parker& p) noexcept {
  // acquire: pairs with the release store in wake_locked.
  while (p.token.load(std::memory_order_acquire) == 0)
    futex_wait(p.token, 0);
}

bool idle_set::commit_park_until(parker& p, std::chrono::steady_clock::time_point deadline) {
  // acquire: pairs with the release store in wake_locked.
  while (p.token.load(std::memory_order_acquire) == 0) {
    if (futex_wait_until(p.token, 0, deadline)) continue;
    if (cancel_park(p)) return false;
    // A waker unlisted us first; it stored the token under mu_, which cancel_park just took.
    commit_park(p);
    return true;
  }
  return true;
}

void idle_set::wake_group_waiters(const group_state* g) {
  std::lock_guard lock(mu_);
  for (std::size_t i = sleepers_.size(); i-- > 0;) {
    if (sleepers_[i]->waiting_on == g) wake_locked(i);
  }
}

void idle_set::set_active(std::size_t n) {
  std::lock_guard lock(mu_);
  active_.store(n, std::memory_order_relaxed);  // relaxed: parkers read it under mu_
  for (std::size_t i = sleepers_.size(); i-- > 0;) {
    parker* p = sleepers_[i];
    if (!p->is_worker) continue;
    const bool inactive = p->worker_index >= n;
    if (p->inactive && !inactive) {
      wake_locked(i);  // it parked as inactive: nobody else would wake it
    } else {
      p->inactive = inactive;
    }
  }
}

void idle_set::wake_all() {
  std::lock_guard lock(mu_);
  for (std::size_t i = sleepers_.size(); i-- > 0;) {
    if (sleepers_[i]->is_worker) wake_locked(i);
  }
}

}  // namespace magpie::detail
