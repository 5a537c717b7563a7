// Helpers shared by the suites.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

#include "magpie/config.hpp"
#include "magpie/magpie.hpp"

namespace magpie::test {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif
#else
inline constexpr bool sanitized = false;
#endif

/// Iteration counts shrink under sanitizers (10x slower) instead of timing out.
constexpr std::size_t scaled(std::size_t n) {
  return sanitized ? n / 10 : n;
}

inline magpie::config with_workers(std::size_t n, magpie::pinning pin = magpie::pinning::compact) {
  magpie::config c;
  c.workers = n;
  c.pin = pin;
  return c;
}

/// Holds a worker inside a task until release(), so a test can keep work queued behind it
/// deterministically (no sleeps): the task calls pass(), the test wait_entered() then release().
struct gate {
  std::atomic<bool> open{false};
  std::atomic<bool> entered{false};
  void pass() {
    entered.store(true);
    entered.notify_all();
    open.wait(false);
  }
  void wait_entered() { entered.wait(false); }
  void release() {
    open.store(true);
    open.notify_all();
  }
  /// Submits to `to` (a runtime or a strand) a task that stops at this gate, and waits until it
  /// is there.
  template <class Executor>
  void occupy(Executor& to) {
    to.submit([this] { pass(); });
    wait_entered();
  }
};

/// Waits (from outside the runtime) until shutdown has closed it. Returns how many of its probe
/// tasks were accepted meanwhile (each then runs, or is discarded, like any task).
inline std::uint64_t wait_closed(magpie::runtime& rt) {
  std::uint64_t accepted = 0;
  while (rt.try_submit([] {})) {
    ++accepted;
    std::this_thread::yield();
  }
  return accepted;
}

/// What shutdown_behind returns: shutdown's report, and how many probes wait_closed got in.
struct held_shutdown {
  magpie::shutdown_report report;
  std::uint64_t probes = 0;
};

/// Shuts `rt` down in `mode` while a task waits at `hold`, which opens only once shutdown has
/// closed the runtime: everything queued behind the task meets a closed runtime.
inline held_shutdown shutdown_behind(gate& hold, magpie::runtime& rt,
                                     magpie::shutdown_mode mode = magpie::shutdown_mode::drain) {
  held_shutdown out;
  std::thread opener([&] {
    out.probes = wait_closed(rt);
    hold.release();
  });
  out.report = rt.shutdown(mode);
  opener.join();
  return out;
}

}  // namespace magpie::test
