// A snapshot of a runtime's counters and latency histograms (runtime::stats()).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "magpie/config.hpp"
#include "magpie/detail/lanes.hpp"
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
  std::uint64_t sum_ns = 0;     ///< exact sum of the latencies timed
  std::uint64_t max_ns = 0;

  /// Upper edge of the bucket holding the q-quantile (0 < q <= 1), capped at max_ns; 0 when
  /// nothing was timed. Throws std::invalid_argument for q outside (0, 1].
  std::uint64_t percentile_ns(double q) const;
};

/// One worker's counters since the runtime started. Each is written by its worker alone (one
/// relaxed load and store), so a snapshot of a running runtime is recent, not a consistent cut.
struct worker_stats {
  int cpu = -1;                      ///< OS index of the PU it is bound to, -1 if none
  bool active = true;                ///< below runtime::set_active_workers' count
  bool asleep = false;               ///< sleeping in the kernel right now
  std::uint64_t tasks_run = 0;       ///< callables invoked
  std::uint64_t stolen = 0;          ///< tasks taken from other workers' deques
  std::uint64_t steals_near = 0;     ///< of those, from a worker on the same NUMA node
  std::uint64_t steals_far = 0;      ///< from another NUMA node or package (or unbound workers)
  std::uint64_t injected = 0;        ///< tasks taken from the injector (outside submissions)
  std::uint64_t parks = 0;           ///< times it slept in the kernel
  std::uint64_t discarded = 0;       ///< dropped by shutdown(cancel)
  std::uint64_t canceled = 0;        ///< skipped because their group was canceled
  std::uint64_t exceptions = 0;      ///< detached tasks that threw
  std::uint64_t spawned = 0;         ///< tasks it submitted or spawned into its own deques
  std::uint64_t steal_attempts = 0;  ///< steals tried on deques that looked non-empty
  std::uint64_t wakeups = 0;         ///< times it was woken from a park
  /// Nanoseconds spent neither searching for work nor parked: running tasks and dispatching
  /// between them. Measured per run of work (the clock is read when the worker stops and starts
  /// searching), not per task, so it costs nothing on the fork-join hot path.
  std::uint64_t busy_ns = 0;
  /// With config.stall_threshold set: the current task has run longer than the threshold.
  bool stalled = false;
  /// With config.stall_threshold set: how long the current task has run, as seen by the stall
  /// monitor (it samples every threshold / 2, so this lags by up to that); 0 when idle or off.
  std::uint64_t current_task_ns = 0;
};

struct runtime_stats {
  /// Indexed by priority: latency[static_cast<std::size_t>(priority::high)] and so on.
  std::array<latency_histogram, detail::lane_count> latency;
  /// Tasks queued and not started, per lane (approximate while the runtime is busy).
  std::array<std::uint64_t, detail::lane_count> queued{};
  /// External tasks (submit / try_submit from outside the workers) queued in the injector and
  /// not yet taken by a worker. With config.max_pending this is the count the bound applies to
  /// (it includes submits between their reservation and their enqueue); without, it is the
  /// injector's queue length. Approximate while the runtime is busy.
  std::uint64_t pending = 0;
  /// Tasks dropped unrun by the thread that called shutdown_for, once its deadline passed (the
  /// tasks queued behind a stuck worker), rather than by a worker. A worker's discards are in its
  /// worker_stats::discarded; this plus their sum is the shutdown_report's `discarded`.
  std::uint64_t discarded_by_shutdown = 0;
  std::vector<worker_stats> workers;

  const latency_histogram& latency_of(priority p) const noexcept {
    return latency[static_cast<std::size_t>(p)];
  }
};

/// The snapshot as one JSON object (schema in docs/operations.md). May allocate; never throws
/// anything but std::bad_alloc.
MAGPIE_API std::string to_json(const runtime_stats& s);

/// The snapshot in the Prometheus text exposition format 0.0.4, every metric name starting with
/// `prefix` + "_": counters per worker, gauges for queues and stalls, and one histogram per lane
/// of submit-to-start latency in seconds (fixed bucket edges, so series stay stable between
/// scrapes). Throws std::invalid_argument if `prefix` is not a valid metric name.
MAGPIE_API std::string to_prometheus(const runtime_stats& s, std::string_view prefix = "magpie");

}  // namespace magpie
