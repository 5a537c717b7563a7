// TooManyCooks (a peer, compiled only when MAGPIE_PEER_TMC_DIR names its source): every
// workload as a tmc::task coroutine on a tmc::ex_cpu of `workers` threads, children forked and
// joined with `co_await tmc::spawn_tuple` (two children) or `co_await tmc::spawn_many` (many),
// as its README and benchmarks write them; the root is started with tmc::post_waitable.
// This is the one translation unit that includes TooManyCooks, so it holds its implementation.
#define TMC_IMPL

#include <array>
#include <cstddef>
#include <cstdint>
#include <numeric>

#include <tmc/all_headers.hpp>

#include "common/config.hpp"
#include "matmul/matmul.hpp"
#include "nqueens/nqueens.hpp"
#include "registry.hpp"

namespace {

tmc::task<std::uint64_t> tmc_fib(int n) {
  if (n < 2) co_return static_cast<std::uint64_t>(n);
  auto [x, y] = co_await tmc::spawn_tuple(tmc_fib(n - 1), tmc_fib(n - 2));
  co_return x + y;
}

tmc::task<std::uint64_t> tmc_skynet(std::uint64_t first, std::uint64_t size) {
  if (size == 1) co_return first;
  const std::uint64_t child = size / perf::skynet_fan_out;
  const std::array<std::uint64_t, perf::skynet_fan_out> sums =
      co_await tmc::spawn_many<perf::skynet_fan_out>(tmc::iter_adapter(
          std::uint64_t{0},
          [first, child](std::uint64_t i) { return tmc_skynet(first + i * child, child); }));
  std::uint64_t sum = 0;
  for (const std::uint64_t s : sums)
    sum += s;
  co_return sum;
}

tmc::task<std::uint64_t> tmc_nqueens(perf::queens_board b, int row) {
  if (row >= perf::nqueens_cutoff) co_return perf::nqueens_serial(b);
  std::array<tmc::task<std::uint64_t>, perf::queens_max_n> children;
  std::size_t k = 0;
  for (std::uint32_t open = b.open_squares(); open != 0; open &= open - 1, ++k) {
    children[k] = tmc_nqueens(b.place(perf::lowest_bit(open)), row + 1);
  }
  if (k == 0) co_return 0;
  // Results past the k-th are left default-initialised (indeterminate), so only k are summed.
  const perf::queens_counts counts = co_await tmc::spawn_many<perf::queens_max_n>(
      children.begin(), children.begin() + static_cast<std::ptrdiff_t>(k));
  co_return std::accumulate(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(k),
                            std::uint64_t{0});
}

/// Rows [first, last) halved until a piece is at most one tile of rows.
tmc::task<void> tmc_matmul(perf::matmul_problem& p, std::size_t first, std::size_t last) {
  if (last - first <= perf::matmul_tile_rows) {
    perf::matmul_rows(p, first, last);
    co_return;
  }
  const std::size_t mid = first + (last - first) / 2;
  co_await tmc::spawn_tuple(tmc_matmul(p, first, mid), tmc_matmul(p, mid, last));
}

struct tmc_adapter {
  static constexpr const char* name = "tmc";

  explicit tmc_adapter(std::size_t workers) { ex.set_thread_count(workers).init(); }

  std::uint64_t fib(int n) { return tmc::post_waitable(ex, tmc_fib(n)).get(); }
  std::uint64_t skynet(std::uint64_t leaves) {
    return tmc::post_waitable(ex, tmc_skynet(0, leaves)).get();
  }
  std::uint64_t nqueens(int n) {
    return tmc::post_waitable(ex, tmc_nqueens(perf::queens_start(n), 0)).get();
  }
  void matmul(perf::matmul_problem& p) { tmc::post_waitable(ex, tmc_matmul(p, 0, p.n)).get(); }

  tmc::ex_cpu ex;  // its destructor tears the pool down
};

}  // namespace

MAGPIE_BENCH_ADAPTER(tmc_adapter)
