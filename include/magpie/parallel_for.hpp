// parallel_for: a body over every index of [first, last), every element of an iterator pair or
// a sized random-access range, or every tile of a range2d.
#pragma once

#include <concepts>
#include <cstddef>
#include <iterator>
#include <ranges>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "magpie/detail/broadcast_loop.hpp"
#include "magpie/detail/lazy_split.hpp"
#include "magpie/detail/loop_index.hpp"
#include "magpie/detail/on_runtime.hpp"
#include "magpie/detail/shared_pieces.hpp"
#include "magpie/detail/tile_split.hpp"
#include "magpie/errors.hpp"
#include "magpie/partitioner.hpp"
#include "magpie/range2d.hpp"
#include "magpie/runtime.hpp"

namespace magpie {

namespace detail {

template <class Body, class Index>
constexpr bool is_range_body =
    std::is_invocable_v<Body&, Index, Index> && !std::is_invocable_v<Body&, Index>;

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
  if (n <= grain ||
      (adaptive && workers == 1 && detail::on_worker_of(detail::runtime_access::core(rt)))) {
    chunk(first, last);  // nothing to gain from tasks
    return;
  }
  // Searching workers take part through the loop board when one is free (adaptive only: fixed
  // chunking must not depend on who takes part); else tasks, or helpers for a joining caller.
  if (opts.caller_joins && !detail::on_worker_of(detail::runtime_access::core(rt))) {
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

/// body(row_begin, row_end, col_begin, col_end) on tiles covering `r`, taking the paths of a 1-D
/// loop: inline for one tile, the loop board when a worker searches, a joining caller with
/// `opts.caller_joins`. `opts.part` chooses the partitioner; tile sizes come from r.row_grain /
/// r.col_grain, so opts.grain must be 0.
template <class Body>
void parallel_for(runtime& rt, range2d r, loop_options opts, Body&& body) {
  static_assert(std::is_invocable_v<Body&, std::size_t, std::size_t, std::size_t, std::size_t>,
                "magpie::parallel_for over a range2d: the body takes (row_begin, row_end, "
                "col_begin, col_end)");
  detail::check_range2d(r, opts);
  if (r.rows() == 0 || r.cols() == 0) return;
  const std::size_t workers = rt.worker_count();
  detail::tile_state t{
      {rt, 0, opts.part == partitioner::adaptive},
      r.row_grain != 0 ? r.row_grain : detail::pick_side_grain(r.rows(), workers, opts.part),
      r.col_grain != 0 ? r.col_grain : detail::pick_side_grain(r.cols(), workers, opts.part)};
  if ((r.rows() <= t.row_grain && r.cols() <= t.col_grain) ||
      (t.s.adaptive && workers == 1 && detail::on_worker_of(detail::runtime_access::core(rt)))) {
    body(r.row_begin, r.row_end, r.col_begin, r.col_end);  // one tile, inline
    return;
  }
  detail::run_range2d(rt, t, r, opts.caller_joins, body);
}

template <class Body>
void parallel_for(runtime& rt, range2d r, Body&& body) {
  parallel_for(rt, r, loop_options{}, std::forward<Body>(body));
}

}  // namespace magpie
