// The part of a worker that a spawn on that worker touches: its deques, its pool of task blocks
// and the wake check. It lives in a header so that task_group::spawn inlines the whole local
// path into the caller (one TLS load, no call into the library); runtime/worker.hpp builds the
// scheduling loop on top of it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "magpie/detail/cache_line.hpp"
#include "magpie/detail/debug_check.hpp"
#include "magpie/detail/fence.hpp"
#include "magpie/detail/frame_pool.hpp"
#include "magpie/detail/group_state.hpp"
#include "magpie/detail/lanes.hpp"
#include "magpie/detail/single_writer.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/detail/task_pool.hpp"
#include "magpie/errors.hpp"
#include "magpie/export.hpp"
#include "magpie/ext/chase_lev_deque.hpp"

namespace magpie::detail {

class runtime_core;

struct worker_base {
  /// `push_word` is what a push reads after its light barrier (idle_set::push_word): the idle
  /// set's state word (searching | sleeping << 32), or, where parkers have no heavy barrier, a
  /// word that always sends the push to wake_after_push_slow, which fences first.
  worker_base(runtime_core& c, const std::atomic<std::uint64_t>& push_word)
      : core(&c), idle_state_(&push_word) {}
  worker_base(const worker_base&) = delete;
  worker_base& operator=(const worker_base&) = delete;

  /// Spawns f into g from this worker, which must belong to g's runtime. Counts the task in
  /// the home's local count when this worker is g's home. Throws what allocating or building
  /// the task throws, with nothing accepted.
  template <class F>
  void spawn(group_state& g, F&& f) {
    if (this == g.local_spawner) {
      spawn_local(g, std::forward<F>(f));
    } else if (g.prio != priority::normal) {
      spawn_side(g, std::forward<F>(f));
    } else {
      lanes_[normal_lane].owner.reserve();  // grow first: the push must not throw
      push_normal(build(g, std::forward<F>(f), g.home == this));
    }
  }
  /// spawn() from g.local_spawner (the home of a normal-lane group without a limit): the
  /// shortest path, with nothing to decide. Always inlined: clang 19 called it out of line from
  /// a spawning loop (a frame and the callable passed through memory, about 15 instructions).
  template <class F>
  [[gnu::always_inline]] void spawn_local(group_state& g, F&& f) {
    MAGPIE_DEBUG_CHECK(this == g.local_spawner);
    lanes_[normal_lane].owner.push_made([&] { return build(g, std::forward<F>(f), true); });
    bump(spawned);
    wake_after_push();
  }

  /// Pushes a built task to this worker's deque of `lane` (reserve() made room) and wakes a
  /// sleeper if nobody searches. Never throws.
  void push(task* t, unsigned lane) noexcept {
    bump(spawned);
    if (lane != normal_lane) [[unlikely]] {
      push_side(t, lane);
      return;
    }
    lanes_[normal_lane].owner.push_reserved(t);
    wake_after_push();
  }

  /// After publishing a task: wake one sleeper if nobody is searching. The light side of the
  /// pair with idle_set::prepare_park (fence.hpp): the push's store of bottom is ordered before
  /// the load of the idle word for the compiler only; a parker's membarrier does the rest.
  /// Only a running worker may push this way: parkers skip the membarrier when every worker is
  /// counted as searching or sleeping (idle_set::may_have_light_pushers).
  void wake_after_push() noexcept {
    MAGPIE_DEBUG_CHECK(!searching_);
    light_barrier();
    // relaxed: ordered by the barrier pair; a stale read costs a spare wake-up, or nothing (the
    // parker's re-check after its heavy barrier sees the task).
    const std::uint64_t s = idle_state_->load(std::memory_order_relaxed);
    if ((s & 0xffffffffu) == 0 && (s >> 32) != 0) [[unlikely]]
      wake_after_push_slow();
  }

  /// Pushes f as a task of no group, not timed (stamp 0), to this worker's normal deque: a
  /// coroutine's resumption (magpie/coro.hpp). F must fit inline and be nothrow-movable. Throws
  /// std::bad_alloc with nothing accepted. Always inlined: clang 19 called it (and take_back)
  /// out of line from every when_all, the resume_job passed through memory.
  template <class F>
  [[gnu::always_inline]] task* push_untimed(F&& f) {
    static_assert(fits_inline<std::decay_t<F>>);
    ext::owned_deque<task*>& d = lanes_[normal_lane].owner;
    d.reserve();
    task* t = pool_.allocate();
    build_task(*t, std::forward<F>(f), nullptr);
    t->stamp(normal_lane, 0);
    bump(spawned);
    d.push_reserved(t);
    wake_after_push();
    return t;
  }

  /// Pops the newest task of this worker's normal deque if `is_it(task)` says it is one the
  /// caller pushed and still owns (a coroutine taking back a child nobody stole) and frees its
  /// block without running or destroying its callable, which must be trivially disposable;
  /// otherwise leaves the deque as it was. Never throws.
  template <class Match>
  [[gnu::always_inline]] bool take_back(const Match& is_it) noexcept {
    ext::owned_deque<task*>& d = lanes_[normal_lane].owner;
    task* t = nullptr;
    if (!d.pop(t)) return false;
    if (!is_it(*t)) [[unlikely]] {
      d.push_reserved(t);  // it held t a moment ago: there is room
      wake_after_push();
      return false;
    }
    // Only this worker pushes to its deque, from its own pool: kept without the cap's test
    // (as execute_own). Its callable needs no destructor, and the block's first word is
    // overwritten by the free list, so `ops` needs no clearing either.
    pool_.release_own_empty(t);
    return true;
  }

  /// Pushes t, built after reserve() made room in the normal deque, and wakes a sleeper if
  /// nobody searches. Never throws.
  void push_normal(task* t) noexcept {
    bump(spawned);
    lanes_[normal_lane].owner.push_reserved(t);
    wake_after_push();
  }

  /// Makes `g` the group of the task this worker runs (run_and_wait); returns the previous one.
  const group_state* enter_group(const group_state* g) noexcept {
    return std::exchange(current_group_, g);
  }
  /// The group of the task this worker runs (innermost); between tasks, the last one's.
  const group_state* current_group() const noexcept { return current_group_; }

  static void bump(std::atomic<std::uint64_t>& c) noexcept { single_writer_add(c); }

  runtime_core* const core;
  std::atomic<std::uint64_t> spawned{0};  // a statistic, written by this worker only
  frame_pool frames;                      // coroutine frames (magpie/coro.hpp); owner-only

 protected:
  // A task of g in a block of this worker's pool, counted in g: locally when `home` (this is
  // g's home), else in its shared word.
  template <class F>
  task* build(group_state& g, F&& f, bool home) {
    task* t = pool_.allocate();
    if constexpr (fits_inline<std::decay_t<F>> &&
                  std::is_nothrow_constructible_v<std::decay_t<F>, F>) {
      build_task(*t, std::forward<F>(f), &g, home);
    } else {
      MAGPIE_TRY {
        build_task(*t, std::forward<F>(f), &g, home);
      }
      MAGPIE_CATCH(...) {
        pool_.release(t);
        MAGPIE_RETHROW;
      }
    }
    if (home) {
      g.add_home();
    } else {
      g.add_shared();
    }
    return t;
  }
  template <class F>
  [[gnu::noinline]] void spawn_side(group_state& g, F&& f) {
    const unsigned lane = lane_of(g.prio);
    lanes_[lane].owner.reserve();
    push(build(g, std::forward<F>(f), g.home == this), lane);
  }

  /// Out of line and cold: a task for the high or low lane (counted so that dispatch looks).
  [[gnu::noinline]] MAGPIE_API void push_side(task* t, unsigned lane) noexcept;
  /// Out of line: wakes one sleeper if nobody searches (after a full fence where the parkers
  /// have no heavy barrier).
  [[gnu::noinline]] MAGPIE_API void wake_after_push_slow() noexcept;

  struct lane_deque {
    ext::owned_deque<task*> owner;  // holds the deque: no pointer to follow per push or pop
    ext::deque_thief<task*> thief{owner.shared()};
  };
  // Owner-only state (thieves use lanes_[i].thief).
  std::array<lane_deque, lane_count> lanes_;
  task_pool pool_;
  // Tasks this worker pushed to its high and low deques and has not popped (thieves may have
  // taken some): 0 lets dispatch skip both deques.
  std::size_t side_tasks_ = 0;
  // Dispatches left before the next look at the slow path (worker::next_task).
  std::uint32_t countdown_ = 1;
  std::uint32_t budget_ = 1;  // the countdown's last starting value
  // The group of the task this worker runs (innermost); between tasks, the last one's.
  const group_state* current_group_ = nullptr;
  // Counted as searching in the idle set (worker.cpp's transitions keep it so).
  bool searching_ = false;

 private:
  const std::atomic<std::uint64_t>* const idle_state_;

  friend struct group_state;
};

/// The worker the calling thread is (of any runtime), or null. constinit: no TLS wrapper call on
/// access.
MAGPIE_API extern constinit thread_local worker_base* tls_worker;

/// The calling thread's worker if it is one of `c`'s workers, else null: the one test of "is
/// this thread a worker of this runtime". One pointer per thread, not per runtime: a thread is a
/// worker of at most one runtime.
inline worker_base* worker_base_of(const runtime_core& c) noexcept {
  worker_base* w = tls_worker;
  return w != nullptr && w->core == &c ? w : nullptr;
}

inline group_state::group_state(runtime_core& c, priority p)
    : group_state(c, p, worker_base_of(c),
                  tls_worker != nullptr ? tls_worker->current_group_ : nullptr) {}

}  // namespace magpie::detail
