// matmul: C = A * B for n x n row-major doubles, parallel over blocks of rows of C. Every
// scheduler runs the same tiled kernel on the rows it is given, so only the splitting differs.
//
// The entries are small integers, so every product and sum is exact in double whatever the
// order of the additions, and a weighted checksum of C can be predicted exactly in O(n^2):
// sum_ij w_i C_ij v_j = sum_k (sum_i w_i A_ik) (sum_j B_kj v_j).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/config.hpp"

namespace perf {

struct matmul_problem {
  std::size_t n;
  std::vector<double> a;
  std::vector<double> b;
  std::vector<double> c;  // written by matmul_rows; its old contents do not matter
};

/// A_ik in 0..6, B_kj in 0..4; C filled with -1, which no product of these gives, so that a row
/// left unwritten fails the checksum.
inline matmul_problem matmul_input(std::size_t n) {
  matmul_problem p{n, std::vector<double>(n * n), std::vector<double>(n * n),
                   std::vector<double>(n * n, -1.0)};
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      p.a[i * n + j] = static_cast<double>((i * 3 + j) % 7);
      p.b[i * n + j] = static_cast<double>((i + j * 5) % 5);
    }
  }
  return p;
}

/// Rows [first, last) of C = A * B (matmul/kernel.cpp). Out of line, so that every scheduler
/// runs the same machine code: inlined into each peer's loop body, the compiler's choices of
/// registers and unrolling moved the time by up to a third between peers.
void matmul_rows(matmul_problem& p, std::size_t first, std::size_t last);

// Checksum weights: uneven, so that a row or a column computed in the wrong place shows.
inline std::uint64_t matmul_row_weight(std::size_t i) {
  return i % 5 + 1;
}
inline std::uint64_t matmul_col_weight(std::size_t j) {
  return j % 3 + 1;
}

/// sum_ij w_i C_ij v_j, read from C. Every C_ij is a whole number below 2^53.
inline std::uint64_t matmul_checksum(const matmul_problem& p) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < p.n; ++i) {
    for (std::size_t j = 0; j < p.n; ++j) {
      const double cij = p.c[i * p.n + j];
      if (!(cij >= 0.0)) return 0;  // negative or NaN: never a product of these inputs
      sum += matmul_row_weight(i) * static_cast<std::uint64_t>(cij) * matmul_col_weight(j);
    }
  }
  return sum;
}

/// The same sum predicted from A and B alone.
inline std::uint64_t matmul_expected(const matmul_problem& p) {
  const std::size_t n = p.n;
  std::uint64_t sum = 0;
  for (std::size_t k = 0; k < n; ++k) {
    std::uint64_t wa = 0;  // sum_i w_i A_ik
    std::uint64_t bv = 0;  // sum_j B_kj v_j
    for (std::size_t i = 0; i < n; ++i) {
      wa += matmul_row_weight(i) * static_cast<std::uint64_t>(p.a[i * n + k]);
      bv += static_cast<std::uint64_t>(p.b[k * n + i]) * matmul_col_weight(i);
    }
    sum += wa * bv;
  }
  return sum;
}

}  // namespace perf
