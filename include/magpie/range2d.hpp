// A rows × columns range for 2-D loops (parallel_for over a range2d, magpie/parallel_for.hpp).
#pragma once

#include <cstddef>

namespace magpie {

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

}  // namespace magpie
