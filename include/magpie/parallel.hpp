// Data-parallel loops: parallel_for, parallel_reduce, parallel_invoke.
//
// Splitting is lazy binary splitting (Tzannes et al., PPoPP 2010): a worker runs its range in
// grain-sized pieces and splits off the upper half only when its own deque is empty, i.e. when
// no work of its is waiting to be stolen. Loops that nobody steals from cost about a plain loop
// plus one check per grain; a stolen half splits again on the thief, so skewed loops balance.
// See docs/parallel-for.md for the guide and docs/design.md for the reasoning.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>  // std::type_identity_t
#include <utility>

#include "magpie/export.hpp"
#include "magpie/runtime.hpp"
#include "magpie/task_group.hpp"

namespace magpie {

enum class partitioner {
  adaptive,  ///< lazy binary splitting (default)
  fixed      ///< split down to the grain regardless of stealing: the same chunks every run
};

/// Options of a parallel loop. grain 0 picks one: the range over 32 × workers pieces (adaptive),
/// or over 256 pieces but at least 64 iterations (fixed: chunking that does not depend on the
/// worker count either).
struct loop_options {
  std::size_t grain = 0;
  partitioner part = partitioner::adaptive;
};

namespace detail {

/// True when the calling thread is a worker of `rt` whose own deque is empty: splitting now
/// gives idle thieves something to take. Never blocks.
MAGPIE_API bool should_split(runtime_core& rt) noexcept;
/// True when the calling thread is one of `rt`'s workers.
MAGPIE_API bool on_worker_of(runtime_core& rt) noexcept;

template <class Index>
using unsigned_of = std::make_unsigned_t<Index>;

template <class Index>
std::size_t span(Index first, Index last, const char* where) {
  static_assert(std::is_integral_v<Index> && !std::is_same_v<Index, bool>,
                "parallel loops take integral indexes");
  if (last < first) {
    throw std::invalid_argument(std::string(where) + ": reversed range (last < first)");
  }
  using U = unsigned_of<Index>;  // narrow types promote to int: wrap back before widening
  return static_cast<std::size_t>(static_cast<U>(static_cast<U>(last) - static_cast<U>(first)));
}

template <class Index>
Index advance(Index i, std::size_t n) {
  using U = unsigned_of<Index>;
  return static_cast<Index>(static_cast<U>(static_cast<U>(i) + static_cast<U>(n)));
}

/// Shared by every piece of one loop: where to split, and whether to stop early.
struct loop_state {
  runtime& rt;
  std::size_t grain;
  bool adaptive;
  std::atomic<bool> failed{false};  // an exception was thrown: skip what has not started
};

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
// is empty; runs the rest in grain-sized pieces, checking again between them.
template <class Index, class Chunk>
void for_range(loop_state& s, Index first, Index last, const Chunk& chunk) {
  while (first < last && !s.failed.load(std::memory_order_relaxed)) {
    const std::size_t n = span(first, last, "magpie::parallel_for");
    if (n > s.grain && (!s.adaptive || should_split(s.rt.core()))) {
      const Index mid = advance(first, n / 2);
      task_group g(s.rt);
      g.spawn([&s, mid, last, &chunk] { for_range(s, mid, last, chunk); });
      try {
        for_range(s, first, mid, chunk);
      } catch (...) {
        s.failed.store(true, std::memory_order_relaxed);
        g.cancel();
        throw;  // g's destructor waits for the spawned half first
      }
      g.wait();
      return;
    }
    const Index stop = advance(first, std::min(n, s.grain));
    try {
      chunk(first, stop);
    } catch (...) {
      s.failed.store(true, std::memory_order_relaxed);
      throw;
    }
    first = stop;
  }
}

// Runs `work()` on a worker of `rt`: directly when already on one, else as a task the calling
// thread waits for (parking; it never becomes a worker).
template <class Work>
void on_runtime(runtime& rt, Work&& work) {
  if (on_worker_of(rt.core())) {
    work();
    return;
  }
  task_group g(rt);
  g.spawn(std::forward<Work>(work));
  g.wait();
}

/// The fixed parts of one parallel_reduce, passed by one reference so that a split's task
/// captures fit in a task's inline storage.
template <class T, class Map, class Reduce>
struct reduce_ctx {
  loop_state& s;
  const T& identity;
  const Map& map;
  const Reduce& reduce;
};

template <class Index, class T, class Map, class Reduce>
T reduce_range(const reduce_ctx<T, Map, Reduce>& c, Index first, Index last) {
  loop_state& s = c.s;
  T acc = c.identity;
  while (first < last && !s.failed.load(std::memory_order_relaxed)) {
    const std::size_t n = span(first, last, "magpie::parallel_reduce");
    if (n > s.grain && (!s.adaptive || should_split(s.rt.core()))) {
      const Index mid = advance(first, n / 2);
      T right = c.identity;
      task_group g(s.rt);
      g.spawn([&c, &right, mid, last] { right = reduce_range(c, mid, last); });
      try {
        acc = c.reduce(std::move(acc), reduce_range(c, first, mid));
      } catch (...) {
        s.failed.store(true, std::memory_order_relaxed);
        g.cancel();
        throw;
      }
      g.wait();
      return c.reduce(std::move(acc), std::move(right));  // left to right: order is kept
    }
    const Index stop = advance(first, std::min(n, s.grain));
    try {
      for (Index i = first; i < stop; ++i)
        acc = c.reduce(std::move(acc), c.map(i));
    } catch (...) {
      s.failed.store(true, std::memory_order_relaxed);
      throw;
    }
    first = stop;
  }
  return acc;
}

template <class Body, class Index>
constexpr bool is_range_body =
    std::is_invocable_v<Body&, Index, Index> && !std::is_invocable_v<Body&, Index>;

}  // namespace detail

/// Calls body(i) for every i in [first, last) — or body(b, e) on consecutive subranges when the
/// body takes two indexes (so inner loops vectorize). Blocks until done; on a worker it runs
/// pieces itself and helps, elsewhere it hands the loop to the runtime and waits. A range of at
/// most `grain` runs inline with no task. The first exception thrown by the body is rethrown
/// here; pieces not yet started are skipped. Throws std::invalid_argument if last < first.
template <class Index, class Body>
void parallel_for(runtime& rt, Index first, Index last, loop_options opts, Body&& body) {
  const std::size_t n = detail::span(first, last, "magpie::parallel_for");
  if (n == 0) return;
  const std::size_t workers = rt.worker_count();
  const std::size_t grain = detail::pick_grain(n, workers, opts);
  const auto chunk = [&body](Index b, Index e) {
    if constexpr (detail::is_range_body<Body, Index>) {
      body(b, e);
    } else {
      for (Index i = b; i < e; ++i)
        body(i);
    }
  };
  const bool adaptive = opts.part == partitioner::adaptive;
  if (n <= grain || (adaptive && workers == 1 && detail::on_worker_of(rt.core()))) {
    chunk(first, last);  // nothing to gain from tasks
    return;
  }
  detail::loop_state s{rt, grain, adaptive};
  detail::on_runtime(rt, [&] { detail::for_range(s, first, last, chunk); });
}

template <class Index, class Body>
void parallel_for(runtime& rt, Index first, Index last, Body&& body) {
  parallel_for(rt, first, last, loop_options{}, std::forward<Body>(body));
}

/// As above with an explicit grain: ranges of at most `grain` iterations are not split.
template <class Index, class Body>
void parallel_for(runtime& rt, Index first, Index last, std::type_identity_t<Index> grain,
                  Body&& body) {
  if (grain <= 0) throw std::invalid_argument("magpie::parallel_for: grain must be positive");
  parallel_for(rt, first, last, loop_options{static_cast<std::size_t>(grain)},
               std::forward<Body>(body));
}

/// reduce(...reduce(reduce(identity, map(first)), map(first + 1))..., map(last - 1)), computed in
/// parallel; `reduce` must be associative and `identity` its identity. Partial results are
/// combined left to right, so a non-commutative reduce works. With partitioner::fixed the
/// association is the same in every run (floating-point sums repeat exactly). Exceptions and
/// reversed ranges as for parallel_for.
template <class Index, class T, class Map, class Reduce>
T parallel_reduce(runtime& rt, Index first, Index last, T identity, Map&& map, Reduce&& reduce,
                  loop_options opts = {}) {
  const std::size_t n = detail::span(first, last, "magpie::parallel_reduce");
  if (n == 0) return identity;
  const std::size_t workers = rt.worker_count();
  detail::loop_state s{rt, detail::pick_grain(n, workers, opts),
                       opts.part == partitioner::adaptive};
  const detail::reduce_ctx<T, std::decay_t<Map>, std::decay_t<Reduce>> c{s, identity, map, reduce};
  if (n <= s.grain || (s.adaptive && workers == 1 && detail::on_worker_of(rt.core()))) {
    s.grain = n;  // one piece, inline
    return detail::reduce_range(c, first, last);
  }
  T result = identity;
  detail::on_runtime(rt, [&] { result = detail::reduce_range(c, first, last); });
  return result;
}

/// Runs every f as a task and returns when all have finished (on a worker the caller helps);
/// the first exception is rethrown.
template <class... F>
void parallel_invoke(runtime& rt, F&&... fs) {
  static_assert(sizeof...(F) >= 1, "parallel_invoke needs at least one function");
  detail::on_runtime(rt, [&] {
    task_group g(rt);
    (g.spawn(fs), ...);
    g.wait();
  });
}

}  // namespace magpie
