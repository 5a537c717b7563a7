// Magpie: submit for external work (priority::high for the urgent lane), task_group for
// fork-join, parallel_for / parallel_reduce with their default adaptive partitioner. fib,
// skynet and nqueens in Magpie's fastest idiom: spawn every child but the last, run the last
// on this worker (run_and_wait, or for fib a plain call: a child whose exceptions need no
// group), then wait.
#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>

#include <magpie/magpie.hpp>

#include "common/config.hpp"
#include "nqueens/nqueens.hpp"
#include "registry.hpp"

namespace {

std::uint64_t magpie_fib(magpie::runtime& rt, int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t x = 0;
  magpie::task_group g(rt);
  g.spawn([&rt, &x, n] { x = magpie_fib(rt, n - 1); });
  const std::uint64_t y = magpie_fib(rt, n - 2);  // a plain call: cheaper than run_and_wait
  g.wait();
  return x + y;
}

std::uint64_t magpie_skynet(magpie::runtime& rt, std::uint64_t first, std::uint64_t size) {
  if (size == 1) return first;
  const std::uint64_t child = size / perf::skynet_fan_out;
  std::array<std::uint64_t, perf::skynet_fan_out> sums{};
  magpie::task_group g(rt);
  for (std::uint64_t i = 0; i + 1 < perf::skynet_fan_out; ++i) {
    g.spawn([&rt, out = &sums[i], lo = first + i * child, child] {
      *out = magpie_skynet(rt, lo, child);
    });
  }
  g.run_and_wait([&rt, &sums, first, child] {
    sums.back() = magpie_skynet(rt, first + (perf::skynet_fan_out - 1) * child, child);
  });
  std::uint64_t sum = 0;
  for (const std::uint64_t s : sums)
    sum += s;
  return sum;
}

magpie::task<std::uint64_t> magpie_fib_coro(int n) {
  if (n < 2) co_return static_cast<std::uint64_t>(n);
  auto [x, y] = co_await magpie::when_all(magpie_fib_coro(n - 1), magpie_fib_coro(n - 2));
  co_return x + y;
}

magpie::task<std::uint64_t> magpie_skynet_coro(std::uint64_t first, std::uint64_t size);

// The ten children of a skynet node in one variadic when_all (a vector would allocate).
template <std::size_t... I>
auto skynet_children(std::uint64_t first, std::uint64_t child, std::index_sequence<I...>) {
  return magpie::when_all(magpie_skynet_coro(first + I * child, child)...);
}

magpie::task<std::uint64_t> magpie_skynet_coro(std::uint64_t first, std::uint64_t size) {
  if (size == 1) co_return first;
  const auto sums = co_await skynet_children(first, size / perf::skynet_fan_out,
                                             std::make_index_sequence<perf::skynet_fan_out>{});
  co_return std::apply([](auto... s) { return (s + ...); }, sums);
}

std::uint64_t magpie_nqueens(magpie::runtime& rt, const perf::queens_board& b, int row) {
  if (row >= perf::nqueens_cutoff) return perf::nqueens_serial(b);
  std::uint32_t open = b.open_squares();
  if (open == 0) return 0;
  perf::queens_counts counts{};
  magpie::task_group g(rt);
  std::size_t k = 0;
  for (; (open & (open - 1)) != 0; open &= open - 1, ++k) {  // all but the last open square
    g.spawn([&rt, out = &counts[k], child = b.place(perf::lowest_bit(open)), row] {
      *out = magpie_nqueens(rt, child, row + 1);
    });
  }
  g.run_and_wait(
      [&rt, &counts, &b, k, open, row] { counts[k] = magpie_nqueens(rt, b.place(open), row + 1); });
  return perf::queens_total(counts);
}

// Victims: near-to-far stealing (the default) or the random order most runtimes use, so the
// two can be compared in one binary (docs/topology.md).
template <magpie::detail::steal_order Victims>
struct basic_magpie_adapter {
  static constexpr const char* name =
      Victims == magpie::detail::steal_order::topology ? "magpie" : "magpie_random_steal";

  explicit basic_magpie_adapter(std::size_t workers) : rt(config_for(workers), Victims) {}

  static magpie::config config_for(std::size_t workers) {
    magpie::config cfg;
    cfg.workers = workers;
    return cfg;
  }

  template <class F>
  void submit(F&& f) {
    rt.submit(std::forward<F>(f));
  }

  struct strand {
    explicit strand(basic_magpie_adapter& a) : s(a.rt) {}
    template <class F>
    void post(F&& f) {
      s.submit(std::forward<F>(f));
    }
    magpie::strand s;
  };

  struct limiter {
    limiter(basic_magpie_adapter& a, std::size_t capacity) : sem(a.rt, capacity) {}
    template <class F>
    void submit(std::size_t weight, F&& f) {
      sem.submit(weight, std::forward<F>(f));
    }
    magpie::semaphore sem;
  };

  template <class F>
  void submit_high(F&& f) {
    rt.submit(std::forward<F>(f), magpie::priority::high);
  }

  /// The root on a worker: spawned from an outside thread, every spawn below it would go
  /// through the injector instead of a worker's deque.
  template <class F>
  void run(F&& root) {
    magpie::task_group g(rt);
    g.spawn(std::forward<F>(root));
    g.wait();
  }

  template <class F>
  void enter(F&& f) {
    run(std::forward<F>(f));
  }

  std::uint64_t fib(int n) {
    std::uint64_t r = 0;
    run([this, &r, n] { r = magpie_fib(rt, n); });
    return r;
  }

  std::uint64_t skynet(std::uint64_t leaves) {
    std::uint64_t r = 0;
    run([this, &r, leaves] { r = magpie_skynet(rt, 0, leaves); });
    return r;
  }

  std::uint64_t fib_coro(int n) { return magpie::sync_wait(rt, magpie_fib_coro(n)); }

  std::uint64_t skynet_coro(std::uint64_t leaves) {
    return magpie::sync_wait(rt, magpie_skynet_coro(0, leaves));
  }

  std::uint64_t nqueens(int n) {
    std::uint64_t r = 0;
    run([this, &r, n] { r = magpie_nqueens(rt, perf::queens_start(n), 0); });
    return r;
  }

  class group {
   public:
    explicit group(basic_magpie_adapter& a) : g_(a.rt) {}
    template <class F>
    void spawn(F&& f) {
      g_.spawn(std::forward<F>(f));
    }
    void wait() { g_.wait(); }

   private:
    magpie::task_group g_;
  };

  template <class Body>
  void parallel_for(std::size_t first, std::size_t last, std::size_t grain, Body&& body) {
    if (grain == 0) {
      magpie::parallel_for(rt, first, last, std::forward<Body>(body));
    } else {
      magpie::parallel_for(rt, first, last, grain, std::forward<Body>(body));
    }
  }

  template <class T, class Map, class Reduce>
  T parallel_reduce(std::size_t first, std::size_t last, T identity, Map&& map, Reduce&& reduce) {
    return magpie::parallel_reduce(rt, first, last, identity, std::forward<Map>(map),
                                   std::forward<Reduce>(reduce));
  }

  template <class T, class Body, class Reduce>
  T parallel_reduce_range(std::size_t first, std::size_t last, T identity, Body&& body,
                          Reduce&& reduce) {
    return magpie::parallel_reduce(rt, first, last, identity, std::forward<Body>(body),
                                   std::forward<Reduce>(reduce));
  }

  magpie::runtime rt;
};

using magpie_adapter = basic_magpie_adapter<magpie::detail::steal_order::topology>;
using magpie_random_steal = basic_magpie_adapter<magpie::detail::steal_order::random>;

}  // namespace

MAGPIE_BENCH_ADAPTER(magpie_adapter)
MAGPIE_BENCH_ADAPTER(magpie_random_steal)
