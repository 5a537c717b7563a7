// magpie::semaphore: a weighted limit shared by every task that goes through it (several groups,
// several submitters). A task that must wait for units waits inside the semaphore, not on a
// worker; waiting tasks get their units in FIFO order.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "magpie/detail/semaphore_acquire.hpp"
#include "magpie/detail/semaphore_state.hpp"
#include "magpie/detail/submit.hpp"
#include "magpie/detail/task.hpp"
#include "magpie/errors.hpp"
#include "magpie/export.hpp"
#include "magpie/runtime.hpp"
#include "magpie/semaphore_units.hpp"
#include "magpie/task_group.hpp"

namespace magpie {

/// `capacity` units, shared by the tasks submitted or spawned through it: a task of weight w
/// starts once w units are free and gives them back when it ends — returns, throws, or is
/// dropped unrun (its group canceled, shutdown(cancel)). Waiting tasks get their units in FIFO
/// order: a heavy task at the head is not overtaken by lighter ones behind it (as Go's
/// semaphore.Weighted), so a steady stream of light tasks cannot starve a heavy one; the price
/// is that units may sit idle while the head waits for enough of them.
///
/// Thread-safe. The fast path (units free, nobody waiting) is one CAS on the semaphore's word;
/// a task that has to wait costs a mutex and its place in a queue. Must not outlive its runtime;
/// the destructor waits until none of its tasks holds units or waits (on a worker it runs other
/// tasks meanwhile).
class MAGPIE_API semaphore {
 public:
  /// Throws std::invalid_argument for a capacity of 0 or above 2^31 - 1.
  semaphore(runtime& rt, std::size_t capacity)
      : state_(std::make_unique<detail::semaphore_state>(detail::runtime_access::core(rt),
                                                         capacity)) {}
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;

  /// Runs f() once on a worker, as runtime::submit does, once `weight` units are free, holding
  /// them while it runs. Never blocks for units (only, like submit, for room in the injector
  /// with config.max_pending). Throws std::invalid_argument for a weight of 0 or above
  /// capacity(), or an empty callable; runtime_closed after shutdown. An exception escaping f
  /// goes to config.on_exception.
  template <class F>
  void submit(std::size_t weight, F&& f, priority p = priority::normal) {
    constexpr const char* who = "magpie::semaphore::submit";
    detail::require_callable(f, who);
    const std::uint32_t w = state_->checked_weight(weight, who);
    start(w, std::forward<F>(f), nullptr, p, true, who);
  }

  /// Spawns f into `group` once `weight` units are free: the group counts the task from this
  /// call on, so group.wait() also waits for it while it waits for units. An exception escaping
  /// f goes to the group (as any of its tasks'); a canceled group skips it (its units go back).
  /// The group's set_limit does not apply to it. Throws as submit does.
  template <class F>
  void spawn(task_group& group, std::size_t weight, F&& f) {
    constexpr const char* who = "magpie::semaphore::spawn";
    detail::require_callable(f, who);
    const std::uint32_t w = state_->checked_weight(weight, who);
    detail::group_state& g = group.state_;
    if (g.core != &state_->core)
      MAGPIE_THROW(
          std::invalid_argument("magpie::semaphore::spawn: the group belongs to another runtime"));
    start(w, std::forward<F>(f), &g, g.prio, false, who);
  }

  /// For coroutines: `auto units = co_await sem.acquire(w);` suspends the coroutine (holding no
  /// worker) until `weight` units are free, queued FIFO with the waiting tasks, and returns them
  /// as a semaphore_units that gives them back when destroyed (also when the coroutine throws).
  /// With units free and nobody waiting it does not suspend. The coroutine resumes on the
  /// worker that gave the units back (lane `p`). If shutdown(cancel) discards the resumption,
  /// the co_await throws runtime_closed. Throws std::invalid_argument for a weight of 0 or above
  /// capacity().
  [[nodiscard]] detail::sem_acquire_awaiter acquire(std::size_t weight,
                                                    priority p = priority::normal) {
    return {*state_, state_->checked_weight(weight, "magpie::semaphore::acquire"), p};
  }

  /// Units free now (0 while set_capacity's lowering waits for running tasks). Never blocks.
  std::size_t available() const noexcept { return state_->available(); }
  /// Tasks waiting for units now. Never blocks.
  std::size_t waiting() const noexcept { return state_->waiting(); }
  std::size_t capacity() const noexcept { return state_->capacity(); }
  /// Changes the capacity at run time. Growing starts waiting tasks that now fit (from the
  /// calling thread); shrinking takes effect as running tasks give units back. Throws
  /// std::invalid_argument for 0, above 2^31 - 1, or below the weight of a task waiting now.
  void set_capacity(std::size_t n) { state_->set_capacity(n); }

 private:
  // A slot is reserved first and held until the task is queued here or submitted: shutdown's
  // drain counts the slot until the semaphore's queue counts the task, so a submit racing with
  // shutdown is refused, run, or discarded and reported, never lost. (Holding it also means no
  // units are held while waiting for injector room.)
  template <class F>
  void start(std::uint32_t w, F&& f, detail::group_state* g, priority p, bool detached,
             const char* who) {
    using D = std::decay_t<F>;
    using J = detail::sem_job<D>;
    detail::runtime_core& core = state_->core;
    const detail::reservation r = detail::reserve_slot(core, true, detached);
    if (r.kind == detail::slot::closed) throw_closed(who);
    detail::slot_guard guard(core, r);  // gives the slot back unless disarmed
    if (state_->try_take(w)) {
      // If the copy of f throws, the ticket (built first) gives the units back.
      J job{detail::sem_ticket(state_.get(), w), D(std::forward<F>(f))};
      guard.disarm();
      detail::submit_callable(core, r, std::move(job), g, p);  // throws: the job gave units back
      return;
    }
    detail::task t;
    detail::build_task(t, J{detail::sem_ticket(), D(std::forward<F>(f))}, g);
    if (state_->take_or_queue(t, w, p, &detail::ticket_of<D>, g, who, true)) return;  // queued
    detail::ticket_of<D>(t).arm(state_.get(), w);  // the units were free after all
    if (g != nullptr) g->add_shared();
    guard.disarm();
    detail::submit_built(core, r, t, p);
  }

  [[noreturn]] static void throw_closed(const char* who) {
    MAGPIE_THROW(runtime_closed(std::string(who) + ": runtime is shut down"));
  }

  std::unique_ptr<detail::semaphore_state> state_;
};

}  // namespace magpie
