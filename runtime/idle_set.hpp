// Spin-then-park bookkeeping: how many workers are searching for work and which threads sleep.
//
// Protocol (Tokio/Go's "searching workers" on top of an event count):
//  * a producer publishes a task, then reads the state word; if nobody is searching and
//    someone sleeps, it wakes exactly one sleeper, which starts out searching;
//  * a worker that runs dry searches (at most about half the workers at once), then parks:
//    it lists itself and moves from searching to sleeping in one seq_cst RMW, then re-checks
//    every queue; work found -> it unlists itself (cancel), else it sleeps on its own futex;
//  * a searcher that finds work and was the last searcher wakes another (work spreads without
//    a thundering herd).
// The producer's barrier and the parker's RMW + barrier form a Dekker pair: either the producer
// sees the sleeper, or the sleeper's re-check sees the task. The pair is asymmetric where the
// kernel has membarrier (fence.hpp): a worker pushing to its own deque (the fork-join hot path)
// pays only a compiler barrier, and the parker a membarrier call, once per sleep, and only while
// another worker runs (may_have_light_pushers). Producers off the workers (the injector) use a
// full fence. The mutex guards only the lists.
// Naming: every function that may wake a sleeper is wake_* (wake_after_publish, wake_all, ...;
// worker_base::wake_after_push on the push path); notify_* is left to std and the futex word.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "magpie/detail/cache_line.hpp"
#include "magpie/detail/group_state.hpp"

namespace magpie::detail {

/// One sleeping thread (a worker, or an outside thread waiting on a task_group).
struct parker {
  // 0 = asleep or about to be; 1 = woken. Written by the waker, read by the sleeper.
  alignas(cache_line) std::atomic<std::uint32_t> token{0};
  const group_state* waiting_on = nullptr;  // a group whose completion wakes this thread
  int cpu = -1;                             // the PU a worker is bound to, -1 if none
  std::size_t worker_index = 0;             // which worker (when is_worker)
  bool is_worker = true;
  bool inactive = false;  // guarded by idle_set's mutex: beyond set_active_workers, not woken
  bool woken_beside_waker = false;  // set by the waker before the token; read after it
  bool listed = false;              // guarded by idle_set's mutex
};

class idle_set {
 public:
  /// Registers the process for membarrier (once per runtime; the call is idempotent) unless the
  /// kernel lacks it or this is a ThreadSanitizer build.
  explicit idle_set(std::size_t workers);

  /// Whether parkers use membarrier, so that pushers may use light_barrier (fence.hpp).
  bool asymmetric() const noexcept { return asymmetric_; }
  /// The word a worker reads after pushing a task with only a light barrier: the state word
  /// (searching | sleeping << 32) where parkers use membarrier; else a constant that looks like
  /// "nobody searches, someone sleeps", so that every push takes the out-of-line path, which
  /// fences and reads the state word (worker_base::wake_after_push_slow). The push path has no
  /// branch on it.
  const std::atomic<std::uint64_t>& push_word() const noexcept {
    return asymmetric_ ? state_ : always_look_;
  }
  /// The rare side of the asymmetric pair: membarrier, or a full fence without it.
  void heavy_barrier() const noexcept;
  /// How many workers are searching now. relaxed: a hint (the loop board's "is anybody there").
  std::uint32_t searching_now() const noexcept {
    return static_cast<std::uint32_t>(searching(state_.load(std::memory_order_relaxed)));
  }

  /// Workers with an index below this take part in scheduling (runtime::set_active_workers).
  std::size_t active() const noexcept {
    return active_.load(std::memory_order_relaxed);  // relaxed: changes are handed over under mu_
  }
  /// Sets the active count; wakes sleeping workers that become active. Sleepers that become
  /// inactive are marked so wake-ups skip them.
  void set_active(std::size_t n);

  /// After publishing a task: wake one sleeper if nobody is searching. Lock-free unless it wakes.
  void wake_after_publish() noexcept;
  /// Wakes a sleeper if nobody searches, without the fence (caller already ordered its writes).
  void wake_if_no_searcher() noexcept;

  /// A worker that ran dry asks to search; false when about half the workers already do, unless
  /// `always` (a latency-mode worker).
  bool try_begin_search(bool always = false) noexcept;
  /// A searcher stops searching (found work, or leaves to do something else). Returns true if
  /// it was the last searcher: the caller should then fence, and wake_if_no_searcher if work is
  /// still visible (worker::stop_searching), so that work keeps spreading.
  bool end_search() noexcept;

  /// Lists `p` as sleeping (leaving `searching` state if it was searching), then orders the
  /// caller's re-check after that announcement (the heavy barrier while another worker runs, a
  /// full fence otherwise, nothing for an outside thread). The caller must then re-check for
  /// work and call either cancel_park or commit_park.
  /// Returns whether `p` was listed as inactive (a worker beyond the active count): its re-check
  /// then concerns only its own deques, since becoming active wakes it explicitly.
  bool prepare_park(parker& p, bool was_searching, const group_state* waiting_on);
  /// Unlists `p` after its re-check found work. Returns true if it was still listed (the caller
  /// is now counted as searching); false if a waker got there first (call commit_park, which
  /// returns at once).
  bool cancel_park(parker& p);
  /// Sleeps until woken. On return a worker counts as searching.
  static void commit_park(parker& p) noexcept;
  /// commit_park that gives up at `deadline`: returns false if it timed out (then unlisted, and a
  /// worker counts as searching, as after cancel_park), true if it was woken.
  bool commit_park_until(parker& p, std::chrono::steady_clock::time_point deadline);

  /// Hands searching over to a sleeping worker bound to a CPU other than `cpu`, unless somebody
  /// already searches. Returns false if there was no such worker (the caller searches itself).
  bool hand_off_search(int cpu);

  /// Wakes every thread waiting on `g`'s completion. `g` may already be destroyed: it is only
  /// compared, never dereferenced.
  void wake_group_waiters(const group_state* g);
  /// Returns once any wake-up in progress has finished touching its parker (so a parker on the
  /// stack may be destroyed).
  void sync() { std::lock_guard lock(mu_); }
  /// Wakes every sleeping worker (shutdown).
  void wake_all();
  /// Workers asleep and not inside a task_group wait (for shutdown's quiescence test); the
  /// caller's predicate runs under the same lock as the lists change.
  template <class Pred>
  bool all_workers_idle_and(Pred&& pred) {
    std::lock_guard lock(mu_);
    return idle_workers_locked() == workers_ && pred();
  }
  /// Workers asleep and not inside a task_group wait.
  std::size_t idle_workers() {
    std::lock_guard lock(mu_);
    return idle_workers_locked();
  }

 private:
  static constexpr std::uint64_t one_searching = 1;
  static constexpr std::uint64_t one_sleeping = std::uint64_t{1} << 32;
  static std::uint64_t searching(std::uint64_t s) noexcept { return s & 0xffffffffu; }
  static std::uint64_t sleeping(std::uint64_t s) noexcept { return s >> 32; }

  /// Whether, with the state word at `after` (a parker's announcement included), some worker
  /// may be running, and so may have pushed a task with only a light barrier whose store the
  /// parker's re-check cannot see yet. A worker counted as searching or sleeping made an RMW on
  /// the state word after its last light push (running -> searching or sleeping always goes
  /// through one, and nothing pushes with a light barrier while counted so), and that RMW
  /// precedes the parker's in the word's modification order: it is released to the parker's
  /// RMW (a release sequence of RMWs), so its push is visible to the re-check. A push after
  /// its next RMW (leaving that state) is followed by a load of the word that sees the parker
  /// listed (coherence), so it wakes one. Only running workers need the heavy barrier.
  bool may_have_light_pushers(std::uint64_t after) const noexcept;
  void wake_locked(std::size_t index, bool beside_waker = false) noexcept;
  std::size_t idle_workers_locked() const noexcept {
    std::size_t idle = 0;
    for (const parker* p : sleepers_)
      idle += (p->is_worker && p->waiting_on == nullptr) ? 1 : 0;
    return idle;
  }
  void wake_one_slow();

  const std::size_t workers_;
  const bool asymmetric_;
  std::atomic<std::size_t> active_;                             // written under mu_
  const std::atomic<std::uint64_t> always_look_{one_sleeping};  // see push_word
  // Searching workers (low 32 bits) and sleeping workers (high 32 bits).
  alignas(cache_line) std::atomic<std::uint64_t> state_{0};
  alignas(cache_line) std::mutex mu_;
  std::vector<parker*> sleepers_;  // guarded by mu_; most recent last (woken first: warm cache)
};

}  // namespace magpie::detail
