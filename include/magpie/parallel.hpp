// Data-parallel loops: parallel_for, parallel_reduce, parallel_invoke.
//
// Splitting is lazy binary splitting (Tzannes et al., PPoPP 2010): a worker runs its range in
// grain-sized pieces and splits off the upper half only when its own deque is empty, i.e. when
// no work of its is waiting to be stolen. Loops that nobody steals from cost about a plain loop
// plus one check per grain; a stolen half splits again on the thief, so skewed loops balance.
// A loop started while a worker is searching skips the tasks: it is posted on the runtime's loop
// board (detail/loop_broadcast.hpp) and the searchers that show up take pieces beside the caller.
// See docs/parallel-for.md for the guide and docs/design.md for the reasoning.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "magpie/detail/loop_broadcast.hpp"
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
  /// Called from a thread that is not one of the runtime's workers, the calling thread runs
  /// pieces too instead of parking (for a runtime sized `workers = cores - 1`). Off by default:
  /// with one worker per core the caller would be one thread too many.
  bool caller_joins = false;
};

namespace detail {

/// True when the calling thread is a worker of `rt` whose own deque is empty: splitting now
/// gives idle thieves something to take. Never blocks.
MAGPIE_API bool should_split(runtime_core& rt) noexcept;
/// True when the calling thread is one of `rt`'s workers.
MAGPIE_API bool on_worker_of(runtime_core& rt) noexcept;

template <class T>
concept loop_index = std::integral<T> && !std::same_as<std::remove_cv_t<T>, bool>;

/// The type a loop over [first, last) counts in when the two bounds differ in type.
template <class First, class Last>
using common_index_t = std::common_type_t<First, Last>;

/// `v` as the loop's common index type C. Only a signed bound meeting an unsigned common type
/// could change value (a negative one would wrap to a huge count): that is refused at run time,
/// since whether it is negative is not known at compile time.
template <class C, class Bound>
C to_index(Bound v, const char* where, const char* field) {
  if constexpr (std::is_signed_v<Bound> && std::is_unsigned_v<C>) {
    if (v < 0) {
      throw std::invalid_argument(std::string(where) + ": " + field +
                                  " is negative and the other bound is unsigned");
    }
  }
  return static_cast<C>(v);
}

/// What a loop over iterators counts in: their difference type, or std::ptrdiff_t where that is an
/// integer-class type (std::views::iota over 64-bit integers) rather than an integral one.
template <class It>
using iter_index_t = std::conditional_t<loop_index<std::iter_difference_t<It>>,
                                        std::iter_difference_t<It>, std::ptrdiff_t>;

/// first + i for a loop index i.
template <class It, class Index>
It iter_at(It first, Index i) {
  return first + static_cast<std::iter_difference_t<It>>(i);
}

template <class Grain>
std::size_t to_grain(Grain grain, const char* where) {
  if (grain <= 0) throw std::invalid_argument(std::string(where) + ": grain must be positive");
  return static_cast<std::size_t>(grain);
}

template <class Index>
using unsigned_of = std::make_unsigned_t<Index>;

template <class Index>
std::size_t span(Index first, Index last, const char* where) {
  static_assert(loop_index<Index>, "parallel loops take integral indexes");
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

/// Runs f(); if it throws, pieces of the loop that have not started are skipped.
template <class F>
void flag_failure(loop_state& s, const F& f) {
  try {
    f();
  } catch (...) {
    s.failed.store(true, std::memory_order_relaxed);
    throw;
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
    if (n > s.grain && (!s.adaptive || should_split(s.rt.core()))) {
      const Index mid = advance(first, n / 2);
      task_group g(s.rt);
      g.spawn(
          [&s, mid, last, &chunk] { flag_failure(s, [&] { for_range(s, mid, last, chunk); }); });
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
    chunk(first, stop);
    first = stop;
  }
}

// Runs `work()` on a worker of `rt`: directly when already on one, else as a task the calling
// thread waits for (parking; it never becomes a worker). After shutdown it throws
// runtime_closed naming `where`, the call the user made.
template <class Work>
void on_runtime(runtime& rt, const char* where, Work&& work) {
  if (on_worker_of(rt.core())) {
    work();
    return;
  }
  task_group g(rt);
  try {
    g.spawn(std::forward<Work>(work));
  } catch (const runtime_closed&) {
    throw runtime_closed(std::string(where) + ": runtime is shut down");
  }
  g.wait();
}

inline std::size_t piece_count(std::size_t n, std::size_t grain) {
  return n / grain + (n % grain != 0 ? 1 : 0);
}

/// The pieces of one loop that the calling thread shares with helper tasks. It lives on the
/// heap, owned by the caller and every helper: the caller returns as soon as every piece is done,
/// and a helper that starts after that finds no piece left and touches nothing else.
template <class Index, class Piece>
struct shared_pieces {
  Index first;
  std::size_t n;
  std::size_t grain;
  std::size_t pieces;
  const Piece* piece;  // dereferenced only for a claimed piece, i.e. before the caller returns
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;  // the first exception; read by the caller after `done` is complete

  // Claims pieces in order until none is left. A piece after a failure is claimed and skipped,
  // so that `done` still reaches `pieces`.
  void drain() noexcept {
    for (;;) {
      const std::size_t k = next.fetch_add(1, std::memory_order_relaxed);
      if (k >= pieces) return;
      if (!failed.load(std::memory_order_relaxed)) {
        try {
          const std::size_t offset = k * grain;
          const Index b = advance(first, offset);
          (*piece)(k, b, advance(b, std::min(grain, n - offset)));
        } catch (...) {
          if (!failed.exchange(true, std::memory_order_relaxed)) error = std::current_exception();
        }
      }
      if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == pieces) done.notify_all();
    }
  }

  void wait_done() const noexcept {
    for (int spin = 0; spin < 4096; ++spin) {  // the last pieces are usually microseconds away
      if (done.load(std::memory_order_acquire) == pieces) return;
    }
    for (std::size_t d = done.load(std::memory_order_acquire); d != pieces;
         d = done.load(std::memory_order_acquire)) {
      done.wait(d, std::memory_order_acquire);
    }
  }
};

/// From a thread outside the runtime: the caller and up to `workers` helper tasks take the
/// grain-sized pieces of [first, first + n) in order from one shared counter until none is left,
/// calling piece(k, b, e) for piece k. Returns when every piece is done, without waiting for
/// helpers that have not started (they find nothing to do). The first exception is rethrown.
template <class Index, class Piece>
void share_pieces(runtime& rt, Index first, std::size_t n, std::size_t grain, const Piece& piece) {
  const std::size_t pieces = piece_count(n, grain);
  const auto state = std::make_shared<shared_pieces<Index, Piece>>();
  state->first = first;
  state->n = n;
  state->grain = grain;
  state->pieces = pieces;
  state->piece = &piece;
  const std::size_t helpers = std::min(rt.worker_count(), pieces - 1);
  for (std::size_t h = 0; h < helpers; ++h) {
    if (!rt.try_submit([state] { state->drain(); })) break;  // full or closed: fewer helpers
  }
  state->drain();
  state->wait_done();
  // Moved out first: a late helper may drop the last reference to the state at any moment, and
  // the exception in flight must not be released on that helper's thread.
  if (std::exception_ptr error = std::move(state->error)) std::rethrow_exception(error);
}

template <class Index, class Piece>
struct broadcast_ctx {
  Index first;
  const Piece* piece;
};

template <class Index, class Piece>
void run_broadcast_piece(const void* ctx, std::size_t k, std::size_t begin, std::size_t end) {
  const auto& c = *static_cast<const broadcast_ctx<Index, Piece>*>(ctx);
  (*c.piece)(k, advance(c.first, begin), advance(c.first, end));
}

/// A job over n iterations for the loop board: the caller and every worker may take part.
inline void plan_broadcast(runtime& rt, broadcast_job& job, std::size_t n, std::size_t grain) {
  job.n = n;
  job.grain = grain;
  job.participants = rt.worker_count() + (on_worker_of(rt.core()) ? 0 : 1);
  job.pieces = broadcast_piece_count(n, grain, job.participants);
}

/// Posts the planned `job` over [first, first + job.n) on the loop board and runs it with the
/// workers that are searching: piece(k, b, e) for each piece k. Returns false, having run
/// nothing, when no worker searches or the board is taken; else returns when every piece is
/// done, rethrowing the first exception.
template <class Index, class Piece>
bool try_broadcast(runtime& rt, broadcast_job& job, Index first, const Piece& piece) {
  const broadcast_ctx<Index, Piece> ctx{first, &piece};
  job.run = &run_broadcast_piece<Index, Piece>;
  job.ctx = &ctx;
  if (!broadcast_post(rt.core(), job)) return false;
  broadcast_finish(rt.core(), job);
  return true;
}

/// parallel_for's pieces through the loop board when a worker searches (see try_broadcast).
template <class Index, class Chunk>
bool broadcast_for(runtime& rt, Index first, std::size_t n, std::size_t grain, const Chunk& chunk) {
  if (!broadcast_possible(rt.core())) return false;
  broadcast_job job;
  plan_broadcast(rt, job, n, grain);
  return try_broadcast(rt, job, first, [&chunk](std::size_t, Index b, Index e) { chunk(b, e); });
}

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

template <class Index, class T, class Leaf, class Reduce>
T reduce_range(const reduce_ctx<T, Leaf, Reduce>& c, Index first, Index last) {
  loop_state& s = c.s;
  T acc = c.identity;
  while (first < last && !s.failed.load(std::memory_order_relaxed)) {
    const std::size_t n = span(first, last, "magpie::parallel_reduce");
    if (n > s.grain && (!s.adaptive || should_split(s.rt.core()))) {
      return reduce_split(c, std::move(acc), first, advance(first, n / 2), last);
    }
    const Index stop = advance(first, std::min(n, s.grain));
    acc = c.leaf(std::move(acc), first, stop);
    first = stop;
  }
  return acc;
}

template <class Body, class Index>
constexpr bool is_range_body =
    std::is_invocable_v<Body&, Index, Index> && !std::is_invocable_v<Body&, Index>;

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
  if (!broadcast_possible(rt.core())) return false;
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
  if (n <= s.grain || (s.adaptive && workers == 1 && on_worker_of(rt.core()))) {
    return leaf(std::move(identity), first, last);  // one piece, inline
  }
  const bool joins = opts.caller_joins && !on_worker_of(rt.core());
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

/// The default tile sides of a 2-D loop: about 32 × workers tiles (adaptive), 256 (fixed).
inline std::size_t pick_side_grain(std::size_t side, std::size_t workers, partitioner p) {
  const std::size_t per_side =
      p == partitioner::fixed ? 16 : 2 + static_cast<std::size_t>(std::sqrt(32.0 * workers));
  return std::max<std::size_t>(1, side / per_side);
}

}  // namespace detail

/// Rows × columns for a 2-D loop: [row_begin, row_end) × [col_begin, col_end). A tile is split
/// along its longer side while that side is longer than its grain (grain 0: picked from the size
/// and the worker count), so tiles stay close to square.
struct range2d {
  std::size_t row_begin = 0;
  std::size_t row_end = 0;
  std::size_t col_begin = 0;
  std::size_t col_end = 0;
  std::size_t row_grain = 0;
  std::size_t col_grain = 0;

  std::size_t rows() const noexcept { return row_end - row_begin; }
  std::size_t cols() const noexcept { return col_end - col_begin; }
};

namespace detail {

struct tile_state {
  loop_state s;
  std::size_t row_grain;
  std::size_t col_grain;
};

// Splits the tile along its longer divisible side, spawning the second half when (adaptive) our
// deque is empty, else running both halves here, checking again at every level.
template <class Body>
void for_tiles(tile_state& t, range2d r, const Body& body) {
  if (t.s.failed.load(std::memory_order_relaxed)) return;
  const bool split_rows = r.rows() > t.row_grain;
  const bool split_cols = r.cols() > t.col_grain;
  if (!split_rows && !split_cols) {
    body(r.row_begin, r.row_end, r.col_begin, r.col_end);
    return;
  }
  range2d second = r;
  if (split_rows && (!split_cols || r.rows() >= r.cols())) {
    r.row_end = second.row_begin = r.row_begin + r.rows() / 2;
  } else {
    r.col_end = second.col_begin = r.col_begin + r.cols() / 2;
  }
  if (t.s.adaptive && !should_split(t.s.rt.core())) {
    for_tiles(t, r, body);
    for_tiles(t, second, body);
    return;
  }
  task_group g(t.s.rt);
  g.spawn([&t, second, &body] { flag_failure(t.s, [&] { for_tiles(t, second, body); }); });
  try {
    for_tiles(t, r, body);
  } catch (...) {
    t.s.failed.store(true, std::memory_order_relaxed);
    g.cancel();
    throw;
  }
  g.wait();
}

}  // namespace detail

/// Calls body(i) for every i in [first, last) — or body(b, e) on consecutive subranges when the
/// body takes two indexes (so inner loops vectorize). Blocks until done; on a worker it runs
/// pieces itself and helps, elsewhere it hands the loop to the runtime and waits. A range of at
/// most `grain` runs inline with no task. The first exception thrown by the body is rethrown
/// here; pieces not yet started are skipped. Throws std::invalid_argument if last < first.
///
/// `first` and `last` may differ in type: the loop counts in their std::common_type. A negative
/// signed bound whose common type with the other is unsigned throws std::invalid_argument.
template <detail::loop_index First, detail::loop_index Last, class Body>
void parallel_for(runtime& rt, First first_bound, Last last_bound, loop_options opts, Body&& body) {
  using Index = detail::common_index_t<First, Last>;
  const Index first = detail::to_index<Index>(first_bound, "magpie::parallel_for", "first");
  const Index last = detail::to_index<Index>(last_bound, "magpie::parallel_for", "last");
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
  // Searching workers take part through the loop board when one is free (adaptive only: fixed
  // chunking must not depend on who takes part); else tasks, or helpers for a joining caller.
  if (opts.caller_joins && !detail::on_worker_of(rt.core())) {
    if (adaptive && detail::broadcast_for(rt, first, n, grain, chunk)) return;
    detail::share_pieces(rt, first, n, grain,
                         [&chunk](std::size_t, Index b, Index e) { chunk(b, e); });
    return;
  }
  detail::loop_state s{rt, grain, adaptive};
  detail::on_runtime(rt, "magpie::parallel_for", [&] {
    if (!adaptive || !detail::broadcast_for(rt, first, n, grain, chunk)) {
      detail::for_range(s, first, last, chunk);
    }
  });
}

template <detail::loop_index First, detail::loop_index Last, class Body>
void parallel_for(runtime& rt, First first, Last last, Body&& body) {
  parallel_for(rt, first, last, loop_options{}, std::forward<Body>(body));
}

/// As above with an explicit grain: ranges of at most `grain` iterations are not split.
template <detail::loop_index First, detail::loop_index Last, detail::loop_index Grain, class Body>
void parallel_for(runtime& rt, First first, Last last, Grain grain, Body&& body) {
  parallel_for(rt, first, last, loop_options{detail::to_grain(grain, "magpie::parallel_for")},
               std::forward<Body>(body));
}

/// body(element) for every element of [first, last), random-access iterators.
template <std::random_access_iterator It, class Body>
void parallel_for(runtime& rt, It first, It last, loop_options opts, Body&& body) {
  static_assert(std::is_invocable_v<Body&, std::iter_reference_t<It>>,
                "magpie::parallel_for over iterators: the body takes an element reference");
  using D = detail::iter_index_t<It>;
  parallel_for(rt, D{0}, static_cast<D>(last - first), opts, [&body, first](D b, D e) {
    for (It it = detail::iter_at(first, b), stop = detail::iter_at(first, e); it != stop; ++it)
      body(*it);
  });
}

template <std::random_access_iterator It, class Body>
requires(!std::integral<It>) void parallel_for(runtime& rt, It first, It last, Body&& body) {
  parallel_for(rt, first, last, loop_options{}, std::forward<Body>(body));
}

/// body(element) for every element of a random-access range with a known size (a vector, a
/// span, std::views::iota(a, b), ...).
template <class R, class Body>
requires std::ranges::random_access_range<R> && std::ranges::sized_range<R>
void parallel_for(runtime& rt, R&& range, loop_options opts, Body&& body) {
  const auto first = std::ranges::begin(range);
  const auto n = static_cast<std::ranges::range_difference_t<R>>(std::ranges::size(range));
  parallel_for(rt, first, first + n, opts, std::forward<Body>(body));
}

template <class R, class Body>
requires std::ranges::random_access_range<R> && std::ranges::sized_range<R>
void parallel_for(runtime& rt, R&& range, Body&& body) {
  parallel_for(rt, std::forward<R>(range), loop_options{}, std::forward<Body>(body));
}

/// body(row_begin, row_end, col_begin, col_end) on tiles covering `r`. `opts.part` chooses the
/// partitioner; tile sizes come from r.row_grain / r.col_grain, so opts.grain must be 0.
template <class Body>
void parallel_for(runtime& rt, range2d r, loop_options opts, Body&& body) {
  static_assert(std::is_invocable_v<Body&, std::size_t, std::size_t, std::size_t, std::size_t>,
                "magpie::parallel_for over a range2d: the body takes (row_begin, row_end, "
                "col_begin, col_end)");
  if (r.row_end < r.row_begin) {
    throw std::invalid_argument(
        "magpie::parallel_for: range2d rows reversed (row_end < row_begin)");
  }
  if (r.col_end < r.col_begin) {
    throw std::invalid_argument(
        "magpie::parallel_for: range2d cols reversed (col_end < col_begin)");
  }
  if (opts.grain != 0) {
    throw std::invalid_argument(
        "magpie::parallel_for: loop_options::grain must be 0 for a range2d (set row_grain and "
        "col_grain)");
  }
  if (r.rows() == 0 || r.cols() == 0) return;
  const std::size_t workers = rt.worker_count();
  detail::tile_state t{
      {rt, 0, opts.part == partitioner::adaptive},
      r.row_grain != 0 ? r.row_grain : detail::pick_side_grain(r.rows(), workers, opts.part),
      r.col_grain != 0 ? r.col_grain : detail::pick_side_grain(r.cols(), workers, opts.part)};
  if ((r.rows() <= t.row_grain && r.cols() <= t.col_grain) ||
      (t.s.adaptive && workers == 1 && detail::on_worker_of(rt.core()))) {
    body(r.row_begin, r.row_end, r.col_begin, r.col_end);  // one tile, inline
    return;
  }
  detail::on_runtime(rt, "magpie::parallel_for", [&] { detail::for_tiles(t, r, body); });
}

template <class Body>
void parallel_for(runtime& rt, range2d r, Body&& body) {
  parallel_for(rt, r, loop_options{}, std::forward<Body>(body));
}

/// reduce(...reduce(reduce(identity, map(first)), map(first + 1))..., map(last - 1)), computed in
/// parallel; `reduce` must be associative and `identity` its identity. Partial results are
/// combined left to right, so a non-commutative reduce works. With partitioner::fixed the
/// association is the same in every run (floating-point sums repeat exactly). Exceptions,
/// reversed ranges and mixed bound types as for parallel_for.
///
/// Range form: when `f` takes (begin, end, acc) instead of one index, it folds a subrange into
/// acc and returns the result, `acc = f(b, e, acc)` (oneTBB's functional parallel_reduce), so
/// its inner loop is a plain loop the compiler sees whole.
template <detail::loop_index First, detail::loop_index Last, class T, class F, class Reduce>
T parallel_reduce(runtime& rt, First first_bound, Last last_bound, T identity, F&& f,
                  Reduce&& reduce, loop_options opts = {}) {
  using Index = detail::common_index_t<First, Last>;
  const Index first = detail::to_index<Index>(first_bound, "magpie::parallel_reduce", "first");
  const Index last = detail::to_index<Index>(last_bound, "magpie::parallel_reduce", "last");
  if constexpr (detail::is_map_body<F, Index, T>) {
    const auto leaf = [&f, &reduce](T acc, Index b, Index e) {
      return detail::map_leaf(std::move(acc), b, e, f, reduce);
    };
    return detail::reduce_indexes(rt, first, last, std::move(identity), leaf, reduce, opts);
  } else {
    static_assert(detail::is_fold_body<F, Index, T>,
                  "magpie::parallel_reduce: the body takes one index (map form, returns a T) or "
                  "(begin, end, T acc) (range form, returns the new acc)");
    const auto leaf = [&f](T acc, Index b, Index e) -> T { return f(b, e, std::move(acc)); };
    return detail::reduce_indexes(rt, first, last, std::move(identity), leaf, reduce, opts);
  }
}

/// Over random-access iterators: map(element) -> T, or body(std::ranges::subrange<It>, acc) -> T.
template <std::random_access_iterator It, class T, class F, class Reduce>
requires(!std::integral<It>) T parallel_reduce(runtime& rt, It first, It last, T identity, F&& f,
                                               Reduce&& reduce, loop_options opts = {}) {
  using D = detail::iter_index_t<It>;
  using sub = std::ranges::subrange<It>;
  if constexpr (std::is_invocable_v<F&, std::iter_reference_t<It>>) {
    const auto leaf = [&f, &reduce, first](T acc, D b, D e) {
      for (It it = detail::iter_at(first, b), stop = detail::iter_at(first, e); it != stop; ++it)
        acc = reduce(std::move(acc), f(*it));
      return acc;
    };
    return detail::reduce_indexes(rt, D{0}, static_cast<D>(last - first), std::move(identity), leaf,
                                  reduce, opts);
  } else {
    static_assert(std::is_invocable_v<F&, sub, T>,
                  "magpie::parallel_reduce over iterators: the body takes an element reference "
                  "(map form) or (std::ranges::subrange, T acc) (range form)");
    const auto leaf = [&f, first](T acc, D b, D e) -> T {
      return f(sub(detail::iter_at(first, b), detail::iter_at(first, e)), std::move(acc));
    };
    return detail::reduce_indexes(rt, D{0}, static_cast<D>(last - first), std::move(identity), leaf,
                                  reduce, opts);
  }
}

/// Over a random-access range with a known size: map(element) -> T, or
/// body(std::ranges::subrange<iterator>, acc) -> T.
template <class R, class T, class F, class Reduce>
requires std::ranges::random_access_range<R> && std::ranges::sized_range<R> T parallel_reduce(
    runtime& rt, R&& range, T identity, F&& f, Reduce&& reduce, loop_options opts = {}) {
  const auto first = std::ranges::begin(range);
  const auto n = static_cast<std::ranges::range_difference_t<R>>(std::ranges::size(range));
  return parallel_reduce(rt, first, first + n, std::move(identity), std::forward<F>(f),
                         std::forward<Reduce>(reduce), opts);
}

/// Runs every f as a task and returns when all have finished (on a worker the caller helps);
/// the first exception is rethrown.
template <class... F>
void parallel_invoke(runtime& rt, F&&... fs) {
  static_assert(sizeof...(F) >= 1, "parallel_invoke needs at least one function");
  detail::on_runtime(rt, "magpie::parallel_invoke", [&] {
    task_group g(rt);
    (g.spawn(fs), ...);
    g.wait();
  });
}

}  // namespace magpie
