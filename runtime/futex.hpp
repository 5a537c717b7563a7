// Sleeping on a 32-bit word. libstdc++ 12's atomic::wait keeps a process-wide waiter table and
// spins first; parking wants neither, so on Linux we call futex directly (private futexes).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ctime>
#endif

namespace magpie::detail {

/// Sleeps while `word == expected` (may return spuriously; callers loop on their condition).
inline void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
#if defined(__linux__)
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
#else
  word.wait(expected, std::memory_order_acquire);
#endif
}

/// Sleeps while `word == expected`, at most until `deadline`. Returns false without sleeping once
/// the deadline has passed; true otherwise (woken, spurious, or timed out: callers loop on their
/// condition and call again, so a timeout shows up as `false` on the next call).
inline bool futex_wait_until(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                             std::chrono::steady_clock::time_point deadline) noexcept {
  const auto left = deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return false;
#if defined(__linux__)
  // FUTEX_WAIT takes a relative timeout measured on CLOCK_MONOTONIC, steady_clock's clock.
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  timespec rel{};
  rel.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  rel.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, &rel,
          nullptr, 0);
#else
  // No timed atomic wait before C++26: yield and let the caller re-check.
  (void)word;
  (void)expected;
  std::this_thread::yield();
#endif
  return true;
}

inline void futex_wake_one(std::atomic<std::uint32_t>& word) noexcept {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr,
          nullptr, 0);
#else
  word.notify_one();
#endif
}

inline void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT32_MAX,
          nullptr, nullptr, 0);
#else
  word.notify_all();
#endif
}

/// A counter that threads can sleep on until it moves: read epoch, re-check the condition,
/// wait(epoch). Signalling bumps it, so a signal between the read and the wait is never missed.
class epoch_signal {
 public:
  std::uint32_t read() const noexcept {
    // acquire: pairs with the release bump, so state changed before a bump is seen after it.
    return word_.load(std::memory_order_acquire);
  }
  void wait(std::uint32_t seen) noexcept { futex_wait(word_, seen); }
  /// wait(), giving up at `deadline` (may also return early; callers re-check).
  void wait_until(std::uint32_t seen, std::chrono::steady_clock::time_point deadline) noexcept {
    futex_wait_until(word_, seen, deadline);
  }
  void signal_all() noexcept {
    // release: publishes the state change made before the signal (see read()).
    word_.fetch_add(1, std::memory_order_release);
    futex_wake_all(word_);
  }

 private:
  std::atomic<std::uint32_t> word_{0};
};

}  // namespace magpie::detail
