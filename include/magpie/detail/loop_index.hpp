// The index arithmetic of parallel loops: which type a loop counts in, and spans and offsets
// computed without signed overflow or narrow-type promotion.
#pragma once

#include <concepts>
#include <cstddef>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "magpie/errors.hpp"

namespace magpie::detail {

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
      MAGPIE_THROW(std::invalid_argument(std::string(where) + ": " + field +
                                         " is negative and the other bound is unsigned"));
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
  if (grain <= 0)
    MAGPIE_THROW(std::invalid_argument(std::string(where) + ": grain must be positive"));
  return static_cast<std::size_t>(grain);
}

template <class Index>
using unsigned_of = std::make_unsigned_t<Index>;

template <class Index>
std::size_t span(Index first, Index last, const char* where) {
  static_assert(loop_index<Index>, "parallel loops take integral indexes");
  if (last < first) {
    MAGPIE_THROW(std::invalid_argument(std::string(where) + ": reversed range (last < first)"));
  }
  using U = unsigned_of<Index>;  // narrow types promote to int: wrap back before widening
  return static_cast<std::size_t>(static_cast<U>(static_cast<U>(last) - static_cast<U>(first)));
}

template <class Index>
Index advance(Index i, std::size_t n) {
  using U = unsigned_of<Index>;
  return static_cast<Index>(static_cast<U>(static_cast<U>(i) + static_cast<U>(n)));
}

}  // namespace magpie::detail
