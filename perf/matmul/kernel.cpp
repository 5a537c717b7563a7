// The matmul kernel every scheduler calls on its rows.
#include <algorithm>
#include <cstddef>

#include "common/config.hpp"
#include "matmul/matmul.hpp"

namespace perf {

namespace {

// Row i of C, columns [j0, j1) += A_ik * row k of B for k in [k0, k1). Four k at a time: one
// load and store of C per four multiply-adds instead of one, which is what bounds this loop.
void add_products(const matmul_problem& p, double* ci, std::size_t i, std::size_t k0,
                  std::size_t k1, std::size_t j0, std::size_t j1) {
  const std::size_t n = p.n;
  const double* ai = p.a.data() + i * n;
  const double* b = p.b.data();
  std::size_t k = k0;
  for (; k + 4 <= k1; k += 4) {
    // In locals: ci may alias A as far as the compiler knows, so ai[k] would be reloaded per j.
    const double a0 = ai[k];
    const double a1 = ai[k + 1];
    const double a2 = ai[k + 2];
    const double a3 = ai[k + 3];
    const double* b0 = b + k * n;
    const double* b1 = b0 + n;
    const double* b2 = b1 + n;
    const double* b3 = b2 + n;
    for (std::size_t j = j0; j < j1; ++j)
      ci[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
  }
  for (; k < k1; ++k) {
    const double aik = ai[k];
    const double* bk = b + k * n;
    for (std::size_t j = j0; j < j1; ++j)
      ci[j] += aik * bk[j];
  }
}

}  // namespace

// Tiles of matmul_tile_rows rows x matmul_tile_k x matmul_tile_cols: the tile of B is reused by
// every row of the tile while it is in L2.
void matmul_rows(matmul_problem& p, std::size_t first, std::size_t last) {
  const std::size_t n = p.n;
  double* c = p.c.data();
  for (std::size_t i0 = first; i0 < last; i0 += matmul_tile_rows) {
    const std::size_t i1 = std::min(last, i0 + matmul_tile_rows);
    std::fill(c + i0 * n, c + i1 * n, 0.0);
    for (std::size_t k0 = 0; k0 < n; k0 += matmul_tile_k) {
      const std::size_t k1 = std::min(n, k0 + matmul_tile_k);
      for (std::size_t j0 = 0; j0 < n; j0 += matmul_tile_cols) {
        const std::size_t j1 = std::min(n, j0 + matmul_tile_cols);
        for (std::size_t i = i0; i < i1; ++i)
          add_products(p, c + i * n, i, k0, k1, j0, j1);
      }
    }
  }
}

}  // namespace perf
