// A snapshot of a runtime's counters and latency histograms (runtime::stats()).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "magpie/config.hpp"
#include "magpie/export.hpp"

namespace magpie {

/// Submit-to-start latencies of the detached tasks (submit / try_submit) of one lane. Buckets
/// are log-scale, four per power of two, so a percentile read from them is at most 25 % above
/// the true value (and never above the maximum seen). Tasks spawned into a task_group are not
/// timed: fork-join code waits on its results, not on the start of each task.
struct MAGPIE_API latency_histogram {
  struct bucket {
    std::uint64_t upper_ns;  ///< exclusive upper edge of the bucket
    std::uint64_t count;
  };
  std::vector<bucket> buckets;  ///< the non-empty buckets, ascending
  std::uint64_t count = 0;      ///< tasks timed
  std::uint64_t max_ns = 0;

  /// Upper edge of the bucket holding the q-quantile (0 < q <= 1), capped at max_ns; 0 when
  /// nothing was timed. Throws std::invalid_argument for q outside (0, 1].
  std::uint64_t percentile_ns(double q) const;
};

/// One worker's counters since the runtime started. Each is written by its worker alone.
struct worker_stats {
  int cpu = -1;                  ///< OS index of the PU it is bound to, -1 if none
  std::uint64_t tasks_run = 0;   ///< callables invoked
  std::uint64_t stolen = 0;      ///< tasks taken from other workers' deques
  std::uint64_t injected = 0;    ///< tasks taken from the injector (outside submissions)
  std::uint64_t parks = 0;       ///< times it slept in the kernel
  std::uint64_t discarded = 0;   ///< dropped by shutdown(cancel)
  std::uint64_t canceled = 0;    ///< skipped because their group was canceled
  std::uint64_t exceptions = 0;  ///< detached tasks that threw
};

struct runtime_stats {
  /// Indexed by priority: latency[static_cast<std::size_t>(priority::high)] and so on.
  std::array<latency_histogram, 3> latency;
  /// Tasks queued and not started, per lane (approximate while the runtime is busy).
  std::array<std::uint64_t, 3> queued{};
  std::vector<worker_stats> workers;

  const latency_histogram& latency_of(priority p) const noexcept {
    return latency[static_cast<std::size_t>(p)];
  }
};

}  // namespace magpie
