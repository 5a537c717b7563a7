// What a worker is doing, published for the stall monitor and for busy time in stats():
//  * a marker that changes whenever the worker finishes a task or starts or stops searching:
//    the worker's count of tasks finished (run, discarded or skipped: worker_counters, which it
//    bumps anyway) and a
//    count of its idle/busy changes. A monitor that sees the same busy marker twice, far apart,
//    knows the worker has been inside one task all that time (a task that waits on a group runs
//    others inside it, and each of those finishing changes the marker), at no cost per task;
//  * busy time, measured per run of work: the clock is read when the worker stops searching
//    (found work, woke up) and when it starts searching again, never per task.
// Written by its worker alone (relaxed load and store, no RMW), read by anyone.
#pragma once

#include <atomic>
#include <cstdint>

#include "clock.hpp"
#include "magpie/detail/cache_line.hpp"
#include "magpie/detail/single_writer.hpp"

namespace magpie::detail {

class alignas(cache_line) activity {
 public:
  struct marker {
    std::uint64_t finished;  // tasks run, discarded or skipped
    std::uint64_t changes;   // idle/busy changes; odd: idle (searching or parked)
    bool operator==(const marker&) const = default;
  };
  /// A marker that means "busy": running a task, or dispatching between two.
  static bool busy(const marker& m) noexcept { return (m.changes & 1) == 0; }

  /// The worker's counters of tasks run, discarded and skipped (canceled), each bumped right
  /// after a task is done with.
  activity(const std::atomic<std::uint64_t>& ran, const std::atomic<std::uint64_t>& discarded,
           const std::atomic<std::uint64_t>& canceled) noexcept
      : ran_(ran), discarded_(discarded), canceled_(canceled) {}

  // --- owner (the worker's thread) ---
  /// The worker starts searching (and may park): ends the current run of work.
  void went_idle() noexcept {
    if (idle_) return;
    idle_ = true;
    change();
    const std::uint64_t now = clock_ticks();
    // relaxed, then release below: a reader that acquires the new total sees this 0, so it
    // never adds the run just counted a second time (it may briefly miss it instead).
    busy_since_.store(0, std::memory_order_relaxed);
    const std::uint64_t run = now > since_ ? now - since_ : 0;
    busy_ticks_.store(busy_ticks_.load(std::memory_order_relaxed) + run, std::memory_order_release);
  }
  /// The worker stops searching, wakes up, or returns to a task that waited: a run of work
  /// begins (and the task it is in counts as starting now, for the stall monitor).
  void got_busy() noexcept {
    if (!idle_) return;
    idle_ = false;
    change();
    since_ = clock_ticks();
    busy_since_.store(since_, std::memory_order_relaxed);  // relaxed: see busy_ticks
  }

  // --- any thread ---
  marker now() const noexcept {
    // relaxed: compared, never dereferenced; a change between the two loads only makes the
    // monitor restart its timer one sample early.
    const auto get = [](const std::atomic<std::uint64_t>& c) {
      return c.load(std::memory_order_relaxed);
    };
    return {get(ran_) + get(discarded_) + get(canceled_), get(changes_)};
  }
  /// Busy clock ticks so far, including the run in progress (as of `now`).
  std::uint64_t busy_ticks(std::uint64_t now) const noexcept {
    // acquire: pairs with went_idle's release, so `since` is not the run already in `done`.
    const std::uint64_t done = busy_ticks_.load(std::memory_order_acquire);
    const std::uint64_t since = busy_since_.load(std::memory_order_relaxed);
    return done + (since != 0 && now > since ? now - since : 0);
  }

 private:
  void change() noexcept {
    single_writer_add(changes_);  // relaxed: the monitor only compares values
  }

  const std::atomic<std::uint64_t>& ran_;
  const std::atomic<std::uint64_t>& discarded_;
  const std::atomic<std::uint64_t>& canceled_;
  // Owner-only.
  std::uint64_t since_ = 0;
  bool idle_ = true;
  // Published; readers pull this line only when they sample (every threshold / 2, or stats()).
  std::atomic<std::uint64_t> changes_{1};  // starts idle
  std::atomic<std::uint64_t> busy_ticks_{0};
  std::atomic<std::uint64_t> busy_since_{0};  // 0: idle
};

}  // namespace magpie::detail
