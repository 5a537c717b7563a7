// The machinery of parallel_reduce: the per-element leaf, the lazily split reduction tree,
// one partial per piece on the loop board or a joining caller, and the driver choosing a path.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "magpie/detail/broadcast_loop.hpp"
#include "magpie/detail/lazy_split.hpp"
#include "magpie/detail/loop_index.hpp"
#include "magpie/detail/on_runtime.hpp"
#include "magpie/detail/shared_pieces.hpp"
#include "magpie/errors.hpp"
#include "magpie/partitioner.hpp"
#include "magpie/runtime.hpp"
#include "magpie/task_group.hpp"

namespace magpie::detail {

/// The per-element loop of the map form. The accumulator is a by-value parameter returned by
/// value and nothing else in this function can throw into a handler, so it stays in a register
/// exactly as in a hand-written loop (no try block keeps it live, no reference makes it escape).
template <class T, class Index, class Map, class Reduce>
T map_leaf(T acc, Index first, Index last, const Map& map, const Reduce& reduce) {
  for (Index i = first; i < last; ++i)
    acc = reduce(std::move(acc), map(i));
  return acc;
}

/// The fixed parts of one parallel_reduce, passed by one reference so that a split's task
/// captures fit in a task's inline storage. leaf(acc, b, e) folds [b, e) into acc.
template <class T, class Leaf, class Reduce>
struct reduce_ctx {
  loop_state& s;
  const T& identity;
  const Leaf& leaf;
  const Reduce& reduce;
};

template <class Index, class T, class Leaf, class Reduce>
T reduce_range(const reduce_ctx<T, Leaf, Reduce>& c, Index first, Index last);

// [first, mid) here and [mid, last) as a task, combined left to right after `acc`.
template <class Index, class T, class Leaf, class Reduce>
T reduce_split(const reduce_ctx<T, Leaf, Reduce>& c, T acc, Index first, Index mid, Index last) {
  loop_state& s = c.s;
  T right = c.identity;
  task_group g(s.rt);
  g.spawn(
      [&c, &right, mid, last] { flag_failure(c.s, [&] { right = reduce_range(c, mid, last); }); });
  MAGPIE_TRY {
    acc = c.reduce(std::move(acc), reduce_range(c, first, mid));
  }
  MAGPIE_CATCH(...) {
    s.failed.store(true, std::memory_order_relaxed);
    g.cancel();
    MAGPIE_RETHROW;
  }
  g.wait();
  return c.reduce(std::move(acc), std::move(right));  // left to right: order is kept
}

template <class Index, class T, class Leaf, class Reduce>
T reduce_range(const reduce_ctx<T, Leaf, Reduce>& c, Index first, Index last) {
  loop_state& s = c.s;
  T acc = c.identity;
  while (first < last && !s.failed.load(std::memory_order_relaxed)) {
    const std::size_t n = span(first, last, "magpie::parallel_reduce");
    if (n > s.grain && (!s.adaptive || should_split(detail::runtime_access::core(s.rt)))) {
      return reduce_split(c, std::move(acc), first, advance(first, n / 2), last);
    }
    const Index stop = advance(first, std::min(n, s.grain));
    acc = c.leaf(std::move(acc), first, stop);
    first = stop;
  }
  return acc;
}

/// Which form a parallel_reduce body has: map(i) -> T, or body(begin, end, acc) -> T.
template <class F, class Index, class T>
constexpr bool is_map_body = std::is_invocable_v<F&, Index>;
template <class F, class Index, class T>
constexpr bool is_fold_body = !is_map_body<F, Index, T> && std::is_invocable_v<F&, Index, Index, T>;

template <class T>
struct partial_slot {
  T value;  // not a vector<T>: vector<bool>'s elements share words
};

/// acc combined with every partial, left to right.
template <class T, class Reduce>
T fold_partials(T acc, std::vector<partial_slot<T>>& partial, const Reduce& reduce) {
  for (partial_slot<T>& p : partial)
    acc = reduce(std::move(acc), std::move(p.value));
  return acc;
}

/// parallel_reduce through the loop board when a worker searches: one partial per piece,
/// combined left to right into `result`. False, with nothing run, when the board is not used.
template <class Index, class T, class Leaf, class Reduce>
bool broadcast_reduce(runtime& rt, Index first, std::size_t n, std::size_t grain, const T& identity,
                      const Leaf& leaf, const Reduce& reduce, T& result) {
  if (!broadcast_possible(detail::runtime_access::core(rt))) return false;
  broadcast_job job;
  plan_broadcast(rt, job, n, grain);
  std::vector<partial_slot<T>> partial(job.pieces, partial_slot<T>{identity});
  const auto piece = [&](std::size_t k, Index b, Index e) {
    partial[k].value = leaf(identity, b, e);
  };
  if (!try_broadcast(rt, job, first, piece)) return false;
  result = fold_partials(identity, partial, reduce);
  return true;
}

/// The reduce over [first, last) with leaf(acc, b, e) folding one piece.
template <class Index, class T, class Leaf, class Reduce>
T reduce_indexes(runtime& rt, Index first, Index last, T identity, const Leaf& leaf,
                 const Reduce& reduce, const loop_options& opts) {
  const std::size_t n = span(first, last, "magpie::parallel_reduce");
  if (n == 0) return identity;
  const std::size_t workers = rt.worker_count();
  loop_state s{rt, pick_grain(n, workers, opts), opts.part == partitioner::adaptive};
  if (n <= s.grain ||
      (s.adaptive && workers == 1 && on_worker_of(detail::runtime_access::core(rt)))) {
    return leaf(std::move(identity), first, last);  // one piece, inline
  }
  const bool joins = opts.caller_joins && !on_worker_of(detail::runtime_access::core(rt));
  T result = identity;
  if (joins) {
    if (s.adaptive && broadcast_reduce(rt, first, n, s.grain, identity, leaf, reduce, result)) {
      return result;
    }
    std::vector<partial_slot<T>> partial(piece_count(n, s.grain), partial_slot<T>{identity});
    share_pieces(rt, first, n, s.grain,
                 [&](std::size_t k, Index b, Index e) { partial[k].value = leaf(identity, b, e); });
    return fold_partials(std::move(result), partial, reduce);
  }
  const reduce_ctx<T, Leaf, Reduce> c{s, identity, leaf, reduce};
  on_runtime(rt, "magpie::parallel_reduce", [&] {
    if (!s.adaptive || !broadcast_reduce(rt, first, n, s.grain, identity, leaf, reduce, result)) {
      result = reduce_range(c, first, last);
    }
  });
  return result;
}

}  // namespace magpie::detail
