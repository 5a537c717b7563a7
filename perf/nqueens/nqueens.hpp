// nqueens: counts the ways to put n queens on an n x n board with no two attacking each other,
// one queen per row. Irregular fan-out: a row has anywhere from 0 to n open squares, and
// subtrees differ in size by orders of magnitude. The parallel versions spawn a task per
// placement in the first nqueens_cutoff rows and search serially below.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <numeric>

#include "common/config.hpp"

namespace perf {

/// The squares of the next row, as bit masks of columns.
struct queens_board {
  std::uint32_t all;        // one bit per column
  std::uint32_t cols = 0;   // columns already holding a queen
  std::uint32_t left = 0;   // attacked along a diagonal from the queens above
  std::uint32_t right = 0;  // attacked along the other diagonal

  bool full() const { return cols == all; }
  std::uint32_t open_squares() const { return all & ~(cols | left | right); }
  /// The board after a queen on column `bit` (one bit set) of this row.
  queens_board place(std::uint32_t bit) const {
    return {all, cols | bit, (left | bit) << 1, (right | bit) >> 1};
  }
};

inline constexpr std::size_t queens_max_n = 32;                 // one column per bit of a mask
using queens_counts = std::array<std::uint64_t, queens_max_n>;  // one per open square of a row

inline queens_board queens_start(int n) {
  return queens_board{static_cast<std::uint32_t>((std::uint64_t{1} << n) - 1)};
}

inline std::uint32_t lowest_bit(std::uint32_t x) {
  return x & (~x + 1);
}

inline std::uint64_t nqueens_serial(const queens_board& b) {
  if (b.full()) return 1;
  std::uint64_t count = 0;
  for (std::uint32_t open = b.open_squares(); open != 0; open &= open - 1)
    count += nqueens_serial(b.place(lowest_bit(open)));
  return count;
}

inline std::uint64_t queens_total(const queens_counts& counts) {
  return std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
}

}  // namespace perf
