// parallel_reduce: map form and range form, over indexes, iterators or a sized range.
#pragma once

#include <concepts>
#include <iterator>
#include <ranges>
#include <type_traits>
#include <utility>

#include "magpie/detail/loop_index.hpp"
#include "magpie/detail/reduce_split.hpp"
#include "magpie/partitioner.hpp"
#include "magpie/runtime.hpp"

namespace magpie {

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

}  // namespace magpie
