// The heat-equation grid of the MPI example: one rank's block of rows, its halos, and the
// Jacobi kernel. Nothing here knows about MPI or Magpie, so the serial reference, the plain-MPI
// ranks and the hybrid ranks all run exactly this code.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace jacobi {

/// Rows [first, first + count) of a `total`-row grid, owned by rank `rank` of `ranks`: the first
/// total % ranks ranks get one row more than the others.
struct row_block {
  std::size_t first = 0;
  std::size_t count = 0;
};

inline row_block block_of(std::size_t total, std::size_t ranks, std::size_t rank) {
  const std::size_t base = total / ranks;
  const std::size_t extra = total % ranks;
  return {rank * base + std::min(rank, extra), base + (rank < extra ? 1 : 0)};
}

/// The fixed temperature of the top edge of the grid; the left edge cools linearly from it to 0
/// at the bottom, and the right and bottom edges are 0.
inline constexpr double top_edge = 1.0;

/// The starting temperature of owned point (global row, column): a pattern that differs from row
/// to row and column to column, so that a halo row received from the wrong place, or a row
/// swept twice or not at all, changes the result from the first sweep on.
inline double initial_value(std::size_t row, std::size_t col) {
  return static_cast<double>((row * 7 + col * 13) % 17) / 17.0;
}

/// One rank's block of a grid of `global_rows` x `cols` owned points. Local row i in 1..rows()
/// is global row first + i - 1; rows 0 and rows() + 1 are halos (the neighbour's edge rows, or
/// the fixed boundary at the top and bottom of the grid). Columns 0 and cols() + 1 are the fixed
/// left and right boundary; a row is contiguous, cols() + 2 values.
class block_grid {
 public:
  block_grid(std::size_t global_rows, std::size_t cols, row_block b)
      : rows_(b.count), cols_(cols), stride_(cols + 2), data_((b.count + 2) * (cols + 2), 0.0) {
    for (std::size_t i = 0; i < rows_ + 2; ++i) {
      const std::size_t global = b.first + i;  // + 1 for the top boundary row, - 1 for the halo
      row(i)[0] =
          top_edge * (1.0 - static_cast<double>(global) / static_cast<double>(global_rows + 1));
      for (std::size_t j = 1; j <= cols_ && i >= 1 && i <= rows_; ++j)
        row(i)[j] = initial_value(global - 1, j - 1);
    }
    // The grid's top edge; its bottom edge is 0, as every halo starts.
    if (b.first == 0) std::fill(row(0) + 1, row(0) + stride_, top_edge);
  }

  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  double* row(std::size_t i) noexcept { return data_.data() + i * stride_; }
  const double* row(std::size_t i) const noexcept { return data_.data() + i * stride_; }

 private:
  std::size_t rows_;
  std::size_t cols_;
  std::size_t stride_;
  std::vector<double> data_;
};

/// next = one Jacobi sweep of cur over local rows [first, last) (within 1..rows()). Each point
/// is the same expression of the same inputs however the rows are split, so every run of the
/// example computes bit-identical grids.
inline void sweep_rows(const block_grid& cur, block_grid& next, std::size_t first,
                       std::size_t last) {
  const std::size_t cols = cur.cols();
  for (std::size_t i = first; i < last; ++i) {
    const double* up = cur.row(i - 1);
    const double* mid = cur.row(i);
    const double* down = cur.row(i + 1);
    double* out = next.row(i);
    for (std::size_t j = 1; j <= cols; ++j)
      out[j] = 0.25 * (up[j] + down[j] + mid[j - 1] + mid[j + 1]);
  }
}

/// Sum over local rows [first, last) of (next - cur)^2: the squared size of the last sweep's
/// change, whose square root over the whole grid is the residual the example reports.
inline double squared_change(const block_grid& cur, const block_grid& next, std::size_t first,
                             std::size_t last) {
  double sum = 0.0;
  for (std::size_t i = first; i < last; ++i) {
    const double* a = cur.row(i);
    const double* b = next.row(i);
    for (std::size_t j = 1; j <= cur.cols(); ++j)
      sum += (b[j] - a[j]) * (b[j] - a[j]);
  }
  return sum;
}

}  // namespace jacobi
