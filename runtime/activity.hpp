// What a worker is doing, published for the stall monitor and for busy time in stats():
//  * a marker word that changes at every task start and end and whenever the worker starts or
//    stops searching, so a monitor that sees the same "running" marker twice, far apart, knows
//    one task has run all that time, without a clock read per task;
//  * busy time, measured per run of work: the clock is read when the worker stops searching
//    (found work, woke up) and when it starts searching again, never per task.
// Written by its worker alone (plain copy + relaxed store), read by anyone.
#pragma once

#include <atomic>
#include <cstdint>

#include "clock.hpp"
#include "magpie/detail/cache_line.hpp"

namespace magpie::detail {

class alignas(cache_line) activity {
 public:
  // Marker layout: task nesting depth (a task waiting on a group runs others inside it) in the
  // low bits, an "idle" bit (searching or parked), and above them a count of changes.
  static constexpr std::uint64_t depth_mask = (std::uint64_t{1} << 20) - 1;
  static constexpr std::uint64_t idle_bit = std::uint64_t{1} << 20;
  static constexpr std::uint64_t change = std::uint64_t{1} << 21;

  /// A marker that means "running a task" (not idle, inside at least one task).
  static bool running(std::uint64_t marker) noexcept {
    return (marker & depth_mask) != 0 && (marker & idle_bit) == 0;
  }

  // --- owner (the worker's thread) ---
  void task_started() noexcept { publish(word() + change + 1); }
  void task_finished() noexcept { publish(word() + change - 1); }
  /// The worker starts searching (and may park): ends the current run of work.
  void went_idle() noexcept {
    if (idle_) return;
    idle_ = true;
    publish((word() + change) | idle_bit);
    const std::uint64_t now = clock_ticks();
    // relaxed, then release below: a reader that acquires the new total sees this 0, so it
    // never adds the run just counted a second time (it may briefly miss it instead).
    busy_since_.store(0, std::memory_order_relaxed);
    const std::uint64_t run = now > since_ ? now - since_ : 0;
    busy_ticks_.store(busy_ticks_.load(std::memory_order_relaxed) + run, std::memory_order_release);
  }
  /// The worker stops searching or wakes up: a run of work begins.
  void got_busy() noexcept {
    if (!idle_) return;
    idle_ = false;
    publish((word() + change) & ~idle_bit);
    since_ = clock_ticks();
    busy_since_.store(since_, std::memory_order_relaxed);  // relaxed: see busy_ticks
  }

  // --- any thread ---
  std::uint64_t marker() const noexcept {
    return marker_.load(std::memory_order_relaxed);  // relaxed: compared, never dereferenced
  }
  /// Busy clock ticks so far, including the run in progress (as of `now`).
  std::uint64_t busy_ticks(std::uint64_t now) const noexcept {
    // acquire: pairs with went_idle's release, so `since` is not the run already in `done`.
    const std::uint64_t done = busy_ticks_.load(std::memory_order_acquire);
    const std::uint64_t since = busy_since_.load(std::memory_order_relaxed);
    return done + (since != 0 && now > since ? now - since : 0);
  }

 private:
  // Single writer: a load and a store (no RMW); relaxed: the monitor only compares values.
  std::uint64_t word() const noexcept { return marker_.load(std::memory_order_relaxed); }
  void publish(std::uint64_t w) noexcept { marker_.store(w, std::memory_order_relaxed); }

  // Owner-only.
  std::uint64_t since_ = 0;
  bool idle_ = true;
  // Published; readers pull this line only when they sample (every threshold / 2, or stats()).
  std::atomic<std::uint64_t> marker_{idle_bit};
  std::atomic<std::uint64_t> busy_ticks_{0};
  std::atomic<std::uint64_t> busy_since_{0};  // 0: idle
};

}  // namespace magpie::detail
