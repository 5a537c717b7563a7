// Stuck-worker detection (config.stall_threshold): a thread that wakes every threshold / 2,
// samples each worker's activity marker (activity.hpp), and flags a worker whose marker has
// said "busy" without changing for longer than the threshold: no task finished and no search
// began all that time, so it is inside one task. The workers pay nothing per task for it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "activity.hpp"
#include "magpie/config.hpp"
#include "magpie/detail/cache_line.hpp"

namespace magpie::detail {

class stall_monitor {
 public:
  /// Starts the monitor thread (throws std::system_error if it cannot). `workers[i]` is worker
  /// i's activity and must outlive the monitor. An empty `on_stall` reports on stderr.
  stall_monitor(std::vector<const activity*> workers, std::chrono::milliseconds threshold,
                std::function<void(const stall_info&)> on_stall);
  /// stop(). Destroyed on its own thread (a runtime destroyed from on_stall), it aborts with a
  /// message naming that misuse: the thread would run on in freed memory.
  ~stall_monitor();
  stall_monitor(const stall_monitor&) = delete;
  stall_monitor& operator=(const stall_monitor&) = delete;

  /// Asks the monitor thread to end: it calls on_stall no more once a call in progress returns.
  /// Never blocks. Idempotent.
  void request_stop() noexcept;
  /// request_stop(), then joins the monitor thread, except from that thread itself (on_stall
  /// calling runtime::shutdown), where it only asks: the destructor joins later. Idempotent.
  void stop() noexcept;

  struct view {
    bool stalled = false;
    std::uint64_t running_ns = 0;  ///< since the monitor first saw the current task; 0 if idle
  };
  /// What the monitor knows about worker `i`, if that worker is still where the monitor last
  /// saw it (a task that ended since is not reported as stalled). Thread-safe.
  view look(std::size_t i) const noexcept;

 private:
  void run();
  void sample();
  void report(std::size_t worker, std::chrono::nanoseconds running_for) noexcept;

  // Per worker; written by the monitor thread, read by look().
  struct alignas(cache_line) record {
    // The marker timed (activity::marker); `changes` is stored last and loaded first.
    std::atomic<std::uint64_t> finished{0};
    std::atomic<std::uint64_t> changes{0};
    std::atomic<std::int64_t> since_ns{0};  // steady_clock time it was first seen
    std::atomic<bool> stalled{false};       // busy for longer than the threshold
    bool reported = false;                  // monitor thread only: on_stall called for it
  };

  const std::vector<const activity*> workers_;
  const std::chrono::nanoseconds threshold_;
  const std::function<void(const stall_info&)> on_stall_;
  std::unique_ptr<record[]> records_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                  // guarded by mu_
  std::atomic<bool> stopping_{false};  // stop_, readable without mu_ between reports
  std::mutex join_mu_;                 // two shutdowns may stop the monitor at once
  std::thread thread_;
};

}  // namespace magpie::detail
