// Lazy binary splitting of a 1-D loop (Tzannes et al., PPoPP 2010): a worker runs its range in
// grain-sized pieces and splits off the upper half as a task only when its own deque is empty.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>

#include "magpie/detail/loop_index.hpp"
#include "magpie/errors.hpp"
#include "magpie/export.hpp"
#include "magpie/partitioner.hpp"
#include "magpie/runtime.hpp"
#include "magpie/task_group.hpp"

namespace magpie::detail {

/// True when the calling thread is a worker of `rt` whose own deque is empty: splitting now
/// gives idle thieves something to take. Never blocks.
MAGPIE_API bool should_split(runtime_core& rt) noexcept;

/// Shared by every piece of one loop: where to split, and whether to stop early.
struct loop_state {
  runtime& rt;
  std::size_t grain;
  bool adaptive;
  std::atomic<bool> failed{false};  // an exception was thrown: skip what has not started
};

/// Runs f(); if it throws, pieces of the loop that have not started are skipped.
template <class F>
void flag_failure(loop_state& s, const F& f) {
  MAGPIE_TRY {
    f();
  }
  MAGPIE_CATCH(...) {
    s.failed.store(true, std::memory_order_relaxed);
    MAGPIE_RETHROW;
  }
}

inline std::size_t pick_grain(std::size_t n, std::size_t workers, const loop_options& o) {
  if (o.grain != 0) return o.grain;
  if (o.part == partitioner::fixed) {
    // At most 256 pieces, but none under 64 iterations: a 1,000-iteration loop split 256 ways
    // spent ~30 us per call on task overhead. Neither bound depends on the worker count.
    return std::max<std::size_t>(64, n / 256);
  }
  return std::max<std::size_t>(1, n / (32 * std::max<std::size_t>(workers, 1)));
}

// Splits off [mid, last) as a task while the range is worth splitting and (adaptive) our deque
// is empty; runs the rest in grain-sized pieces, checking again between them. No try block
// encloses the pieces: an exception leaves through the guard of the task or split around it.
template <class Index, class Chunk>
void for_range(loop_state& s, Index first, Index last, const Chunk& chunk) {
  while (first < last && !s.failed.load(std::memory_order_relaxed)) {
    const std::size_t n = span(first, last, "magpie::parallel_for");
    if (n > s.grain && (!s.adaptive || should_split(detail::runtime_access::core(s.rt)))) {
      const Index mid = advance(first, n / 2);
      task_group g(s.rt);
      g.spawn(
          [&s, mid, last, &chunk] { flag_failure(s, [&] { for_range(s, mid, last, chunk); }); });
      MAGPIE_TRY {
        for_range(s, first, mid, chunk);
      }
      MAGPIE_CATCH(...) {
        s.failed.store(true, std::memory_order_relaxed);
        g.cancel();
        MAGPIE_RETHROW;  // g's destructor waits for the spawned half first
      }
      g.wait();
      return;
    }
    const Index stop = advance(first, std::min(n, s.grain));
    chunk(first, stop);
    first = stop;
  }
}

}  // namespace magpie::detail
