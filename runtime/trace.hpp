// Per-worker event tracing (config.trace): a fixed-size ring of events written by its worker
// alone, the oldest overwritten, readable by another thread at any time; and the writer of the
// Chrome Trace Event JSON (runtime::write_chrome_trace).
//
// Reading while the worker writes is a seqlock over the ring: before overwriting a slot the
// worker raises `claimed_` (then a release fence), after writing it raises `published_`. A reader
// copies the slots below `published_`, then (acquire fence) reads `claimed_`: any slot it copied
// that a newer event may have overwritten meanwhile is below claimed - capacity and is dropped.
// So a copy is never torn; it may only miss the events overwritten while it was being taken.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "magpie/detail/cache_line.hpp"

namespace magpie::detail {

enum class trace_kind : std::uint32_t {
  task,   ///< a task ran from `start` to `end`; arg = its lane
  steal,  ///< took a task from another worker; arg = victim index << 2 | lane
  park,   ///< went to sleep in the kernel
  wake,   ///< woken from a park
};

struct trace_event {
  std::uint64_t start;  // clock ticks (clock.hpp)
  std::uint64_t end;    // == start for instants
  trace_kind kind;
  std::uint32_t arg;
};

class trace_ring {
 public:
  /// Throws std::bad_alloc; capacity >= 1 (config validation).
  explicit trace_ring(std::size_t capacity);

  // --- owner (the worker's thread) ---
  void task(std::uint64_t start, std::uint64_t end, unsigned lane) noexcept {
    put(start, end, trace_kind::task, lane);
  }
  void instant(trace_kind k, std::uint64_t at, std::uint32_t arg = 0) noexcept {
    put(at, at, k, arg);
  }

  // --- any thread ---
  /// The events still in the ring, oldest first; `lost` gets how many were recorded before
  /// them (overwritten, or overwritten while this copy was taken).
  std::vector<trace_event> snapshot(std::uint64_t& lost) const;

 private:
  void put(std::uint64_t start, std::uint64_t end, trace_kind k, std::uint32_t arg) noexcept;

  // Atomic slots (relaxed), so a reader racing with the writer is not a data race.
  struct slot {
    std::atomic<std::uint64_t> start{0};
    std::atomic<std::uint64_t> end{0};
    std::atomic<std::uint64_t> kind_arg{0};
  };
  const std::size_t capacity_;
  std::unique_ptr<slot[]> slots_;
  std::uint64_t next_ = 0;  // owner-only copy of the counts below
  // Written by the owner, read by a snapshot.
  alignas(cache_line) std::atomic<std::uint64_t> claimed_{0};
  std::atomic<std::uint64_t> published_{0};
};

inline void trace_ring::put(std::uint64_t start, std::uint64_t end, trace_kind k,
                            std::uint32_t arg) noexcept {
  const std::uint64_t n = next_++;
  // relaxed + release fence: a reader that copies any of the slot stores below then sees
  // claimed_ > n after its acquire fence (fence-fence synchronization), and drops the event
  // this one overwrites.
  claimed_.store(n + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  slot& s = slots_[n % capacity_];
  // relaxed: published by the release store of published_ (and guarded by claimed_, above).
  s.start.store(start, std::memory_order_relaxed);
  s.end.store(end, std::memory_order_relaxed);
  s.kind_arg.store(static_cast<std::uint64_t>(k) << 32 | arg, std::memory_order_relaxed);
  // release: a reader that acquires this count sees the slots written before it.
  published_.store(n + 1, std::memory_order_release);
}

/// Writes `rings` (index = worker) as Chrome Trace Event JSON to `path`. Timestamps are
/// microseconds since `origin` ticks, converted with `ns_per_tick`. Throws std::system_error if
/// the file cannot be written.
void write_chrome_trace(const std::string& path, const std::vector<const trace_ring*>& rings,
                        std::uint64_t origin, double ns_per_tick);

}  // namespace magpie::detail
