#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace magpie {

/// Lane a task is queued in (docs/latency.md). Workers run the highest non-empty lane first,
/// except that every config.starvation_limit dispatches each lower lane gets the first look.
enum class priority : unsigned char { high, normal, low };

/// How workers are placed on processing units (PUs).
///  compact: worker i on the i-th allowed PU in topology order (fills a core and its L3 first);
///  scatter: spread across packages, then NUMA nodes, then cores (hwloc_distrib);
///  none:    no binding; the OS places the threads.
enum class pinning { none, compact, scatter };

/// What config.on_stall is told about a worker that has been running one task too long.
struct stall_info {
  std::size_t worker;                    ///< index of the worker (as current_worker() says)
  std::chrono::nanoseconds running_for;  ///< how long its current task has run, as far as seen
};

enum class shutdown_mode {
  drain,  ///< run every accepted task, then stop
  cancel  ///< discard every accepted task that has not started, then stop
};

/// Runtime configuration. The runtime constructor validates it and throws std::invalid_argument
/// naming the bad field.
struct config {
  /// Worker threads; 0 means one per processing unit this process may use. At most 4096.
  std::size_t workers = 0;
  /// Worker threads started, of which the first `workers` take work at start: the others sleep
  /// in the kernel (no CPU) until runtime::set_active_workers raises the active count, which it
  /// may up to this. 0 means the same as `workers`. At least the worker count, at most 4096.
  std::size_t max_workers = 0;
  pinning pin = pinning::compact;
  /// Explicit OS PU indexes, worker i on cpus[i % cpus.size()]; overrides `pin`. Each must be
  /// allowed to this process (taskset, cgroup cpuset), and a failure to bind is then an error.
  /// So is a described machine (synthetic_topology, or HWLOC_SYNTHETIC / HWLOC_XMLFILE in the
  /// environment), whose PUs are never bound to.
  std::vector<unsigned> cpus;
  /// How long a worker that ran dry keeps looking for work before it sleeps in the kernel.
  /// 0 parks at once; at most 1 second. Changeable later with runtime::set_spin.
  std::chrono::microseconds spin{50};
  /// Latency mode: this many workers never sleep while the runtime is open; they keep searching,
  /// so a submission is picked up without a kernel wake-up, at the cost of one busy core each.
  /// At most the worker count.
  std::size_t latency_workers = 0;
  /// Starvation bound K: a normal or low task that a worker can see (its own deque or the
  /// injector) starts within K of that worker's dispatches, however much higher-priority work
  /// keeps arriving. At least 2 (each lower lane gets the first look once every K dispatches).
  std::size_t starvation_limit = 32;
  /// Bound on external tasks queued and not started; 0 = unbounded, and so is 2^63 or more
  /// (SIZE_MAX). When full, try_submit returns false and submit blocks. Tasks submitted from
  /// the runtime's own workers never wait.
  std::size_t max_pending = 0;
  /// Called on the worker with the exception of a detached (submit) task. If empty, the
  /// exception is written to stderr. Either way it is counted and the worker carries on.
  std::function<void(std::exception_ptr)> on_exception;
  /// Called once for each accepted task that shutdown(cancel) or shutdown_for discards, with the
  /// task's lane, on the thread that runs the shutdown (shutdown, shutdown_for, the destructor),
  /// after the discarding and outside every lock of the runtime: it may call stats() or
  /// shutdown(). The runtime is closed by then, so a task it submits to this runtime is refused
  /// with runtime_closed (re-queue elsewhere, or log). Discards that happen after shutdown_for
  /// returned (behind a stuck task) are delivered by the later shutdown() or the destructor.
  /// Exceptions it throws are written to stderr and otherwise ignored.
  std::function<void(priority)> on_discard;
  /// Stuck-worker detection (docs/operations.md): a worker that runs one task for longer than
  /// this is flagged in runtime::stats() and reported once to on_stall. 0 = off (no monitor
  /// thread); at most 24 hours; negative is an error. The monitor looks every threshold / 2.
  std::chrono::milliseconds stall_threshold{0};
  /// Called on the monitor thread, once per stalled task, when stall_threshold is set. Keep it
  /// short: it delays the detection of other stalls. An exception it throws goes to stderr. It
  /// may call runtime::shutdown or shutdown_for (the monitor then ends after it returns), but
  /// must not destroy the runtime (that aborts with a message).
  std::function<void(const stall_info&)> on_stall;
  /// Per-worker event tracing (task start/end, steals, parks, wake-ups) for
  /// runtime::write_chrome_trace. Off: one predictable branch per event site.
  bool trace = false;
  /// Events kept per worker when tracing; the oldest are overwritten. 1 to 2^26.
  std::size_t trace_capacity = 65536;
  /// For tests and planning: a machine description used instead of this machine's, either hwloc
  /// synthetic syntax ("package:2 numa:2 l3:4 core:8 pu:2"), hwloc XML text (starting with '<')
  /// or the path of an XML export (ending in ".xml"). Its plan shapes the victim rings; workers
  /// are not pinned, since those PUs do not exist (docs/topology.md). At most 4096 PUs and 1024
  /// children per parent: hwloc's time to build one grows steeply with both.
  std::string synthetic_topology;
};

}  // namespace magpie
