// The state of a magpie::semaphore: units in use, capacity and a waiters flag in one word (the
// fast path is one CAS on it), and a FIFO queue of waiting tasks under a mutex (the slow path).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <new>
#include <utility>

#include "magpie/config.hpp"
#include "magpie/detail/cache_line.hpp"
#include "magpie/detail/held_source.hpp"
#include "magpie/detail/ring_queue.hpp"
#include "magpie/detail/submit.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

class semaphore_state;
class worker;

/// The units one task of a semaphore holds. Given back when the task is destroyed, whether it
/// ran, threw, was skipped (its group canceled) or discarded (shutdown(cancel)): no path can
/// leak units and strand the waiting tasks. Unarmed (no units yet) while its task waits.
class sem_ticket {
 public:
  sem_ticket() noexcept = default;
  sem_ticket(semaphore_state* s, std::uint32_t w) noexcept : s_(s), w_(w) {}
  sem_ticket(sem_ticket&& o) noexcept : s_(std::exchange(o.s_, nullptr)), w_(o.w_) {}
  sem_ticket& operator=(sem_ticket&&) = delete;
  inline ~sem_ticket();
  void arm(semaphore_state* s, std::uint32_t w) noexcept {
    s_ = s;
    w_ = w;
  }
  void disarm() noexcept { s_ = nullptr; }
  /// Hands the units to `to` (unarmed), leaving this one unarmed.
  void move_to(sem_ticket& to) noexcept {
    to.s_ = std::exchange(s_, nullptr);
    to.w_ = w_;
  }
  bool armed() const noexcept { return s_ != nullptr; }
  std::uint32_t weight() const noexcept { return s_ != nullptr ? w_ : 0; }

 private:
  semaphore_state* s_ = nullptr;
  std::uint32_t w_ = 0;
};

/// A task of a semaphore: the user's callable and, declared first so that it is destroyed
/// last, its ticket (the callable's captures are gone before the units go back).
template <class D>
struct sem_job {
  sem_ticket ticket;
  D f;
  void operator()() { std::invoke(f); }
};

/// Where the ticket of a sem_job<D> built by build_task sits inside its task.
template <class D>
sem_ticket& ticket_of(task& t) noexcept {
  using J = sem_job<D>;
  if constexpr (fits_inline<J>) {
    return std::launder(reinterpret_cast<J*>(t.storage))->ticket;
  } else {
    return (*std::launder(reinterpret_cast<J**>(t.storage)))->ticket;
  }
}
using ticket_fn = sem_ticket& (*)(task&) noexcept;

class MAGPIE_API semaphore_state final : public held_source {
 public:
  static constexpr std::uint64_t max_capacity = (std::uint64_t{1} << 31) - 1;

  /// Throws std::invalid_argument for a capacity outside [1, max_capacity].
  semaphore_state(runtime_core& c, std::size_t capacity);
  /// Waits until no task holds units or waits (helping, on a worker of the runtime).
  ~semaphore_state();

  /// Validates a weight for the call `who`: std::invalid_argument if 0 or above the capacity.
  std::uint32_t checked_weight(std::size_t weight, const char* who) const;

  /// The fast path: takes `w` units if nobody waits and they are free. One CAS.
  bool try_take(std::uint32_t w) noexcept {
    // relaxed: the CAS below re-reads the word.
    std::uint64_t u = word_.load(std::memory_order_relaxed);
    for (;;) {
      if ((u & waiters_bit) != 0 || used(u) + w > cap(u)) return false;
      // acq_rel: acquire pairs with the release of the units' last holder (its effects are
      // visible to this task, as after a mutex); release is not needed but costs nothing more.
      if (word_.compare_exchange_weak(u, u + w, std::memory_order_acq_rel,
                                      std::memory_order_relaxed))
        return true;
    }
  }
  /// The slow path, for the built (unarmed) task `t` of weight `w`, group `g` (null: detached):
  /// takes the units if they are free and nobody waits (returns false: the caller submits `t`,
  /// its ticket armed), else queues it (returns true; counted in `g`). Throws
  /// std::invalid_argument naming `who` if `w` exceeds the capacity (set_capacity raced), or
  /// std::bad_alloc; either way nothing was queued. `slot_held`: the caller holds a slot of the
  /// runtime's (reserve_slot) until this returns, which lets it start waiters during shutdown.
  bool take_or_queue(task& t, std::uint32_t w, priority prio, ticket_fn ticket, group_state* g,
                     const char* who, bool slot_held = false);
  /// A ticket gave back `w` units: starts waiting tasks that now fit, oldest first.
  void release(std::uint32_t w) noexcept {
    std::uint64_t u = word_.load(std::memory_order_relaxed);  // relaxed: the CAS re-reads
    do {
      // With tasks waiting, the units go back under the mutex (pump): the destructor, which
      // waits for no units in use and no waiters bit, cannot free the semaphore under us.
      if ((u & waiters_bit) != 0) return pump(w);
      // acq_rel: release publishes the task's effects to the next holder; acquire orders the
      // waiters bit we read after the enqueue that set it.
    } while (!word_.compare_exchange_weak(u, u - w, std::memory_order_acq_rel,
                                          std::memory_order_relaxed));
  }
  void set_capacity(std::size_t n);
  std::size_t capacity() const noexcept { return cap(word_.load(std::memory_order_relaxed)); }
  std::size_t available() const noexcept {
    const std::uint64_t u = word_.load(std::memory_order_relaxed);  // relaxed: a snapshot
    return used(u) >= cap(u) ? 0 : cap(u) - used(u);
  }
  std::size_t waiting() const noexcept { return waiting_.load(std::memory_order_relaxed); }
  std::uint64_t held() const noexcept override { return waiting(); }

  runtime_core& core;

 private:
  struct waiter {
    task item;
    std::uint32_t weight = 0;
    priority prio = priority::normal;
    ticket_fn ticket = nullptr;
  };
  // Granted per hold of the mutex at most: a release of w units rarely frees more than a few.
  static constexpr std::size_t pump_batch = 8;
  static constexpr std::uint64_t waiters_bit = std::uint64_t{1} << 63;
  static std::uint64_t used(std::uint64_t u) noexcept { return u & 0xffffffffu; }
  static std::uint64_t cap(std::uint64_t u) noexcept { return (u >> 32) & max_capacity; }
  bool granted_locked(std::uint32_t w) noexcept;
  void pump(std::uint32_t returning, bool counted = false, bool slot_held = false) noexcept;
  /// On a worker, under mu_: queues a granted waiter on its deque; false if out of memory.
  bool launch_local(worker& self, waiter& next) noexcept;
  /// Queues a granted waiter (or discards it, its units returned: the pump looks again).
  void launch(waiter& next, bool slot_held) noexcept;
  bool quiet() const noexcept;

  // Units in use (bits 0-31), capacity (32-62), waiters queued (63). The hot word: every
  // acquire and release of every submitter and worker.
  alignas(cache_line) std::atomic<std::uint64_t> word_;
  alignas(cache_line) std::mutex mu_;
  ring_queue<waiter> queue_;             // guarded by mu_; FIFO
  std::atomic<std::size_t> waiting_{0};  // queue_.size(), written under mu_, read by anyone
  std::size_t launching_ = 0;            // guarded by mu_: pumps launching what they granted
};

sem_ticket::~sem_ticket() {
  if (s_ != nullptr) s_->release(w_);
}

/// Hands the built task `t` over where `r` says (as submit_callable does for a callable): into
/// the reserved block and the worker's deque, or into the injector. Counts it in no group
/// (the caller did). Throws std::bad_alloc from the injector, having destroyed `t`.
MAGPIE_API void submit_built(runtime_core& core, reservation r, task& t, priority prio);

}  // namespace magpie::detail
