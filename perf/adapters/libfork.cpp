// libfork 3.x (a peer, compiled only when MAGPIE_PEER_LIBFORK_DIR names its source): every
// workload as an async function, lf::fork for every child but the last, lf::call for the last,
// then lf::join, started with lf::sync_wait. The pool is lf::lazy_pool, the one libfork's
// README recommends by default (its busy_pool spins instead of sleeping, "only if you have an
// otherwise idle machine").
#include <array>
#include <cstddef>
#include <cstdint>

#include <libfork.hpp>

#include "common/config.hpp"
#include "matmul/matmul.hpp"
#include "nqueens/nqueens.hpp"
#include "registry.hpp"

// LF_STATIC_CALL makes the async functions' call operators static, as libfork's examples do;
// clang accepts that in C++20 as an extension and says so.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wc++23-extensions"
#endif

namespace {

constexpr auto lf_fib = [](auto self, int n) LF_STATIC_CALL -> lf::task<std::uint64_t> {
  if (n < 2) co_return static_cast<std::uint64_t>(n);
  std::uint64_t x = 0;
  std::uint64_t y = 0;
  co_await lf::fork(&x, self)(n - 1);
  co_await lf::call(&y, self)(n - 2);
  co_await lf::join;
  co_return x + y;
};

constexpr auto lf_skynet = [](auto self, std::uint64_t first, std::uint64_t size)
                               LF_STATIC_CALL -> lf::task<std::uint64_t> {
  if (size == 1) co_return first;
  const std::uint64_t child = size / perf::skynet_fan_out;
  std::array<std::uint64_t, perf::skynet_fan_out> sums{};
  for (std::uint64_t i = 0; i + 1 < perf::skynet_fan_out; ++i) {
    co_await lf::fork(&sums[i], self)(first + i * child, child);
  }
  co_await lf::call(&sums.back(), self)(first + (perf::skynet_fan_out - 1) * child, child);
  co_await lf::join;
  std::uint64_t sum = 0;
  for (const std::uint64_t s : sums)
    sum += s;
  co_return sum;
};

constexpr auto lf_nqueens = [](auto self, perf::queens_board b, int row)
                                LF_STATIC_CALL -> lf::task<std::uint64_t> {
  if (row >= perf::nqueens_cutoff) co_return perf::nqueens_serial(b);
  std::uint32_t open = b.open_squares();
  if (open == 0) co_return 0;
  perf::queens_counts counts{};
  std::size_t k = 0;
  for (; (open & (open - 1)) != 0; open &= open - 1, ++k) {  // all but the last open square
    co_await lf::fork(&counts[k], self)(b.place(perf::lowest_bit(open)), row + 1);
  }
  co_await lf::call(&counts[k], self)(b.place(open), row + 1);
  co_await lf::join;
  co_return perf::queens_total(counts);
};

/// Rows [first, last) halved until a piece is at most one tile of rows.
constexpr auto lf_matmul = [](auto self, perf::matmul_problem* p, std::size_t first,
                              std::size_t last) LF_STATIC_CALL -> lf::task<void> {
  if (last - first <= perf::matmul_tile_rows) {
    perf::matmul_rows(*p, first, last);
    co_return;
  }
  const std::size_t mid = first + (last - first) / 2;
  co_await lf::fork(self)(p, first, mid);
  co_await lf::call(self)(p, mid, last);
  co_await lf::join;
};

struct libfork_adapter {
  static constexpr const char* name = "libfork";

  explicit libfork_adapter(std::size_t workers) : pool(workers) {}

  std::uint64_t fib(int n) { return lf::sync_wait(pool, lf_fib, n); }
  std::uint64_t skynet(std::uint64_t leaves) {
    return lf::sync_wait(pool, lf_skynet, std::uint64_t{0}, leaves);
  }
  std::uint64_t nqueens(int n) { return lf::sync_wait(pool, lf_nqueens, perf::queens_start(n), 0); }
  void matmul(perf::matmul_problem& p) { lf::sync_wait(pool, lf_matmul, &p, std::size_t{0}, p.n); }

  lf::lazy_pool pool;
};

}  // namespace

MAGPIE_BENCH_ADAPTER(libfork_adapter)
