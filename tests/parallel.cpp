#include "magpie/parallel.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <numeric>
#include <ranges>
#include <set>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using magpie::test::gate;
using magpie::test::with_workers;

namespace {

std::uint64_t f(std::uint64_t i) {
  return i * 2654435761u % 1000003u;
}

// Every index in [0, n) is visited exactly once and the reduction equals the serial one.
void check_sizes(runtime& rt, const std::vector<std::size_t>& sizes) {
  for (std::size_t n : sizes) {
    CAPTURE(n);
    std::unique_ptr<std::atomic<std::uint8_t>[]> seen(new std::atomic<std::uint8_t>[n + 1]);
    for (std::size_t i = 0; i < n; ++i)
      seen[i].store(0);
    parallel_for(rt, std::size_t{0}, n, [&](std::size_t i) { seen[i].fetch_add(1); });
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i)
      wrong += seen[i].load() != 1 ? 1 : 0;
    CHECK(wrong == 0);
    std::uint64_t serial = 0;
    for (std::size_t i = 0; i < n; ++i)
      serial += f(i);
    const std::uint64_t par = parallel_reduce(
        rt, std::size_t{0}, n, std::uint64_t{0}, [](std::size_t i) { return f(i); },
        [](std::uint64_t a, std::uint64_t b) { return a + b; });
    CHECK(par == serial);
    const std::uint64_t folded = parallel_reduce(
        rt, 0, n, std::uint64_t{0},
        [](std::size_t b, std::size_t e, std::uint64_t acc) {
          for (std::size_t i = b; i < e; ++i)
            acc += f(i);
          return acc;
        },
        std::plus<>{});
    CHECK(folded == serial);
  }
}

}  // namespace

TEST_CASE("results equal the serial loop for many sizes, on 1, 2 and 16 workers" *
          doctest::timeout(300)) {
  const std::vector<std::size_t> sizes = {0,   1,   2,    7,    15,   16,   17,
                                          101, 997, 1023, 1024, 1025, 65537};
  for (std::size_t w : {1, 2, 16}) {
    CAPTURE(w);
    runtime rt(with_workers(w, pinning::none));
    check_sizes(rt, sizes);
  }
}

TEST_CASE("ten million elements reduce to the serial sum" * doctest::timeout(300)) {
  runtime rt(with_workers(2, pinning::none));
  const std::size_t n = magpie::test::scaled(10'000'000);
  std::vector<std::uint32_t> v(n);
  std::iota(v.begin(), v.end(), 0u);
  const std::uint64_t sum = parallel_reduce(
      rt, std::size_t{0}, n, std::uint64_t{0}, [&](std::size_t i) { return std::uint64_t{v[i]}; },
      [](std::uint64_t a, std::uint64_t b) { return a + b; });
  CHECK(sum == std::uint64_t{n} * (n - 1) / 2);
}

TEST_CASE_TEMPLATE("every integral index type works, negative ranges included" *
                       doctest::timeout(120),
                   Index, std::int8_t, std::uint8_t, std::int16_t, std::uint16_t, int, unsigned,
                   long long, unsigned long long) {
  runtime rt(with_workers(2, pinning::none));
  const Index first = std::is_signed_v<Index> ? Index(-50) : Index(3);
  const Index last = Index(first + 100);
  std::atomic<long long> sum{0};
  parallel_for(rt, first, last, Index(7),
               [&](Index i) { sum.fetch_add(static_cast<long long>(i)); });
  long long serial = 0;
  for (Index i = first; i < last; ++i)
    serial += static_cast<long long>(i);
  CHECK(sum.load() == serial);
}

TEST_CASE("a reversed range is an invalid_argument; an empty one runs nothing" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  bool ran = false;
  CHECK_THROWS_WITH_AS(parallel_for(rt, 10, 5, [&](int) { ran = true; }),
                       "magpie::parallel_for: reversed range (last < first)",
                       std::invalid_argument);
  CHECK_THROWS_AS(parallel_reduce(
                      rt, 10, 5, 0, [](int i) { return i; }, [](int a, int b) { return a + b; }),
                  std::invalid_argument);
  parallel_for(rt, 5, 5, [&](int) { ran = true; });
  CHECK_FALSE(ran);
  CHECK_THROWS_AS(parallel_for(rt, 0, 10, 0, [](int) {}), std::invalid_argument);
}

TEST_CASE("the range body gets disjoint subranges that cover the loop" * doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  const int n = 100000;
  std::vector<std::atomic<int>> seen(n);
  parallel_for(rt, 0, n, [&](int b, int e) {
    for (int i = b; i < e; ++i)
      seen[static_cast<std::size_t>(i)].fetch_add(1);
  });
  int wrong = 0;
  for (auto& s : seen)
    wrong += s.load() != 1 ? 1 : 0;
  CHECK(wrong == 0);
}

TEST_CASE("a range at or below the grain runs inline on the calling thread" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  std::atomic<int> off_caller{0};
  parallel_for(rt, 0, 64, 64, [&](int) { off_caller.fetch_add(current_worker() != -1 ? 1 : 0); });
  CHECK(off_caller.load() == 0);
}

TEST_CASE("nested loops inside tasks and inside loops give the serial result" *
          doctest::timeout(120)) {
  for (std::size_t w : {1, 2, 8}) {
    CAPTURE(w);
    runtime rt(with_workers(w, pinning::none));
    std::atomic<long> total{0};
    task_group g(rt);
    g.spawn([&] {
      parallel_for(rt, 0, 100, [&](int i) {
        parallel_for(rt, 0, 100, [&](int j) {
          parallel_for(rt, 0, 10, [&](int k) { total.fetch_add(i + j + k); });
        });
      });
    });
    g.wait();
    // sum over i,j,k of (i+j+k) = 100*10*4950*2 + 100*100*45
    CHECK(total.load() == 100L * 10 * 4950 * 2 + 100L * 100 * 45);
  }
}

TEST_CASE("the first exception reaches the caller and later chunks are skipped" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  const int n = 1'000'000;
  std::atomic<int> ran{0};
  CHECK_THROWS_WITH_AS(parallel_for(rt, 0, n, 100,
                                    [&](int i) {
                                      ran.fetch_add(1);
                                      if (i == 0) throw std::runtime_error("body failed");
                                    }),
                       "body failed", std::runtime_error);
  CHECK(ran.load() < n);
  CHECK_THROWS_WITH_AS(parallel_reduce(
                           rt, 0, n, 0,
                           [](int i) {
                             if (i == n / 2) throw std::logic_error("map failed");
                             return 1;
                           },
                           [](int a, int b) { return a + b; }),
                       "map failed", std::logic_error);
  // The runtime is still usable afterwards.
  std::atomic<int> after{0};
  parallel_for(rt, 0, 1000, [&](int) { after.fetch_add(1); });
  CHECK(after.load() == 1000);
}

TEST_CASE("a non-commutative reduce keeps left-to-right order" * doctest::timeout(120)) {
  struct interval {
    long first, last;
    bool ok;
  };
  runtime rt(with_workers(4, pinning::none));
  const long n = 200000;
  const interval r = parallel_reduce(
      rt, 0L, n, interval{0, 0, true},
      [](long i) {
        return interval{i, i + 1, true};
      },
      [](interval a, interval b) {
        if (a.last == a.first) return b;  // identity on the left
        if (b.last == b.first) return a;
        return interval{a.first, b.last, a.ok && b.ok && a.last == b.first};
      });
  CHECK(r.ok);
  CHECK(r.first == 0);
  CHECK(r.last == n);
}

TEST_CASE(
    "the fixed partitioner repeats floating-point sums bit for bit across worker counts, "
    "map and range forms" *
    doctest::timeout(120)) {
  const std::size_t n = 1'000'003;
  const auto term = [](std::size_t i) { return 1.0 / (1.0 + static_cast<double>(i)); };
  const loop_options fixed{0, partitioner::fixed};
  auto map_sum = [&](runtime& rt) {
    return parallel_reduce(
        rt, 0, n, 0.0, term, [](double a, double b) { return a + b; }, fixed);
  };
  auto range_sum = [&](runtime& rt) {
    return parallel_reduce(
        rt, 0, n, 0.0,
        [&](std::size_t b, std::size_t e, double acc) {
          for (std::size_t i = b; i < e; ++i)
            acc += term(i);
          return acc;
        },
        std::plus<>{}, fixed);
  };
  runtime one(with_workers(1, pinning::none));
  const double expected = map_sum(one);
  CHECK(range_sum(one) == expected);  // the same additions in the same order
  for (std::size_t w : {2, 7, 2}) {
    CAPTURE(w);
    runtime rt(with_workers(w, pinning::none));
    CHECK(map_sum(rt) == expected);
    CHECK(range_sum(rt) == expected);
  }
}

TEST_CASE("loops called from several outside threads at once all complete" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  std::vector<std::thread> threads;
  std::atomic<long> total{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < 20; ++r)
        parallel_for(rt, 0, 1000, [&](int i) { total.fetch_add(i); });
    });
  }
  for (auto& th : threads)
    th.join();
  CHECK(total.load() == 4L * 20 * 999 * 1000 / 2);
}

TEST_CASE("sizes around an explicit grain split correctly" * doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  for (int n : {63, 64, 65, 127, 128, 129}) {
    CAPTURE(n);
    std::vector<std::atomic<int>> seen(static_cast<std::size_t>(n));
    parallel_for(rt, 0, n, 64, [&](int i) { seen[static_cast<std::size_t>(i)].fetch_add(1); });
    int wrong = 0;
    for (auto& s : seen)
      wrong += s.load() != 1 ? 1 : 0;
    CHECK(wrong == 0);
    const long sum = parallel_reduce(
        rt, 0, n, 0L, [](int i) { return long{i}; }, [](long a, long b) { return a + b; },
        loop_options{64});
    CHECK(sum == long{n} * (n - 1) / 2);
  }
}

TEST_CASE("bounds of different integral types use their common type" * doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  std::vector<int> v(1000, 0);
  parallel_for(rt, 0, v.size(), [&](std::size_t i) { v[i] += 1; });
  const std::size_t n = v.size();
  parallel_for(rt, 0, n, 64, [&](std::size_t i) { v[i] += 1; });  // int, size_t, int grain
  parallel_for(rt, 0, 1000L, std::size_t{64}, [&](long i) { v[std::size_t(i)] += 1; });
  parallel_for(rt, std::int8_t{-5}, std::uint8_t{200}, [&](int i) {  // common type int
    if (i >= 0) v[std::size_t(i)] += 1;
  });
  parallel_for(rt, 10, static_cast<unsigned short>(20), [&](int i) { v[std::size_t(i)] += 1; });
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i)
    wrong += v[i] != 3 + (i < 200 ? 1 : 0) + (i >= 10 && i < 20 ? 1 : 0) ? 1 : 0;
  CHECK(wrong == 0);
  static_assert(std::is_same_v<detail::common_index_t<int, std::size_t>, std::size_t>);
  static_assert(std::is_same_v<detail::common_index_t<int, long>, long>);

  const auto sum = parallel_reduce(
      rt, 0, v.size(), std::size_t{0}, [](std::size_t i) { return i; }, std::plus<>{});
  CHECK(sum == n * (n - 1) / 2);
  const long folded = parallel_reduce(
      rt, 0u, 1000UL, 0L,
      [](unsigned long b, unsigned long e, long acc) { return acc + long(e - b); }, std::plus<>{});
  CHECK(folded == 1000);
}

TEST_CASE(
    "a negative signed bound with an unsigned one is an invalid_argument, before any "
    "iteration" *
    doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  bool ran = false;
  const int minus_one = -1;
  CHECK_THROWS_WITH_AS(
      parallel_for(rt, minus_one, std::size_t{10}, [&](std::size_t) { ran = true; }),
      "magpie::parallel_for: first is negative and the other bound is unsigned",
      std::invalid_argument);
  CHECK_THROWS_WITH_AS(parallel_for(rt, 0UL, -3L, [&](unsigned long) { ran = true; }),
                       "magpie::parallel_for: last is negative and the other bound is unsigned",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(parallel_reduce(
                           rt, minus_one, 10u, 0, [&](unsigned) { return 1; }, std::plus<>{}),
                       "magpie::parallel_reduce: first is negative and the other bound is unsigned",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(parallel_for(rt, 0, std::size_t{10}, -4, [&](std::size_t) { ran = true; }),
                       "magpie::parallel_for: grain must be positive", std::invalid_argument);
  // unsigned and a wider signed type count in the signed type: no check, a reversed range.
  CHECK_THROWS_WITH_AS(parallel_for(rt, 0u, -3LL, [&](long long) { ran = true; }),
                       "magpie::parallel_for: reversed range (last < first)",
                       std::invalid_argument);
  CHECK_FALSE(ran);
}

TEST_CASE("loops over iterators and ranges visit every element once" * doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  const std::size_t n = 100'000;
  std::vector<std::uint64_t> v(n);
  std::iota(v.begin(), v.end(), std::uint64_t{0});
  parallel_for(rt, v.begin(), v.end(), [](std::uint64_t& e) { e *= 2; });
  parallel_for(rt, v.data(), v.data() + n, [](std::uint64_t& e) { e += 1; });  // pointers
  parallel_for(rt, std::span(v), [](std::uint64_t& e) { e += 1; });
  parallel_for(rt, v, loop_options{0, partitioner::fixed}, [](std::uint64_t& e) { e -= 2; });
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i)
    wrong += v[i] != 2 * i ? 1 : 0;
  CHECK(wrong == 0);

  std::atomic<std::uint64_t> seen{0};
  parallel_for(rt, std::views::iota(std::uint64_t{0}, std::uint64_t{n}),
               [&](std::uint64_t i) { seen.fetch_add(i); });
  CHECK(seen.load() == std::uint64_t{n} * (n - 1) / 2);

  const std::uint64_t expected = std::uint64_t{n} * (n - 1);
  CHECK(parallel_reduce(
            rt, v, std::uint64_t{0}, [](std::uint64_t e) { return e; }, std::plus<>{}) == expected);
  CHECK(parallel_reduce(
            rt, v.cbegin(), v.cend(), std::uint64_t{0}, [](const std::uint64_t& e) { return e; },
            std::plus<>{}) == expected);
  // Range form: the sub-ranges are contiguous, disjoint and cover the range.
  using sub = std::ranges::subrange<std::vector<std::uint64_t>::iterator>;
  CHECK(parallel_reduce(
            rt, v, std::uint64_t{0},
            [](sub s, std::uint64_t acc) {
              for (std::uint64_t e : s)
                acc += e;
              return acc;
            },
            std::plus<>{}) == expected);
  const std::vector<int> empty;
  CHECK(parallel_reduce(
            rt, empty, 7, [](int e) { return e; }, std::plus<>{}) == 7);
  CHECK_THROWS_WITH_AS(parallel_for(rt, v.end(), v.begin(), [](std::uint64_t&) {}),
                       "magpie::parallel_for: reversed range (last < first)",
                       std::invalid_argument);
}

TEST_CASE("the range form over iterators keeps left-to-right order" * doctest::timeout(120)) {
  runtime rt(with_workers(4, pinning::none));
  std::vector<int> v(50'000);
  std::iota(v.begin(), v.end(), 0);
  // Each partial result is the [first, last) it covers; combining must join neighbours.
  struct span_of {
    int first, last;
    bool ok;
  };
  const span_of none{0, 0, true};
  const span_of r = parallel_reduce(
      rt, v.begin(), v.end(), none,
      [](auto s, span_of acc) {
        const span_of mine{s.front(), s.back() + 1, true};
        if (acc.first == acc.last) return mine;
        return span_of{acc.first, mine.last, acc.ok && acc.last == mine.first};
      },
      [](span_of a, span_of b) {
        if (a.first == a.last) return b;
        if (b.first == b.last) return a;
        return span_of{a.first, b.last, a.ok && b.ok && a.last == b.first};
      });
  CHECK(r.ok);
  CHECK(r.first == 0);
  CHECK(r.last == 50'000);
}

TEST_CASE("the range form of reduce rethrows the body's exception" * doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  CHECK_THROWS_WITH_AS(parallel_reduce(
                           rt, 0, 1'000'000, 0L,
                           [](int b, int e, long acc) {
                             if (b <= 500'000 && 500'000 < e) throw std::logic_error("fold failed");
                             return acc + (e - b);
                           },
                           std::plus<>{}),
                       "fold failed", std::logic_error);
  CHECK(parallel_reduce(
            rt, 0, 1000, 0L, [](int b, int e, long acc) { return acc + (e - b); }, std::plus<>{}) ==
        1000);
}

TEST_CASE("caller_joins: a loop called from outside runs pieces on the calling thread too" *
          doctest::timeout(120)) {
  runtime rt(with_workers(1, pinning::none));
  gate busy;  // holds the only worker, so the caller must start the loop itself
  busy.occupy(rt);
  const int n = 100'000;
  std::vector<std::atomic<int>> seen(n);
  std::atomic<int> on_caller{0}, on_worker{0};
  parallel_for(rt, 0, n, loop_options{1000, partitioner::adaptive, true}, [&](int b, int e) {
    for (int i = b; i < e; ++i)
      seen[static_cast<std::size_t>(i)].fetch_add(1);
    if (current_worker() == -1) {
      if (on_caller.fetch_add(1) == 0) busy.release();  // now the worker may help
    } else {
      on_worker.fetch_add(1);
    }
  });
  int wrong = 0;
  for (auto& s : seen)
    wrong += s.load() != 1 ? 1 : 0;
  CHECK(wrong == 0);
  CHECK(on_caller.load() >= 1);
  CHECK(on_caller.load() + on_worker.load() == n / 1000);
}

TEST_CASE("caller_joins: reductions keep their order, and fixed ones their bits" *
          doctest::timeout(120)) {
  const loop_options joins{0, partitioner::adaptive, true};
  const loop_options fixed_joins{0, partitioner::fixed, true};
  const std::size_t n = 1'000'003;
  const auto term = [](std::size_t i) { return 1.0 / (1.0 + static_cast<double>(i)); };
  double first = 0;
  for (std::size_t w : {1, 2, 7}) {
    CAPTURE(w);
    runtime rt(with_workers(w, pinning::none));
    check_sizes(rt, {0, 1, 17, 1025, 65537});
    const std::uint64_t serial = std::uint64_t{n} * (n - 1) / 2;
    CHECK(parallel_reduce(
              rt, 0, n, std::uint64_t{0}, [](std::size_t i) { return std::uint64_t{i}; },
              std::plus<>{}, joins) == serial);
    CHECK(parallel_reduce(
              rt, 0, n, std::uint64_t{0},
              [](std::size_t b, std::size_t e, std::uint64_t acc) {
                for (std::size_t i = b; i < e; ++i)
                  acc += i;
                return acc;
              },
              std::plus<>{}, joins) == serial);
    // Concatenation order: each partial is the [first, last) it covers.
    const auto joined = parallel_reduce(
        rt, 0, n, std::pair<std::size_t, std::size_t>{0, 0},
        [](std::size_t b, std::size_t e, std::pair<std::size_t, std::size_t> acc) {
          return acc.first == acc.second ? std::pair{b, e} : std::pair{acc.first, e};
        },
        [](std::pair<std::size_t, std::size_t> a, std::pair<std::size_t, std::size_t> b) {
          if (a.first == a.second) return b;
          if (b.first == b.second) return a;
          return a.second == b.first ? std::pair{a.first, b.second}
                                     : std::pair{std::size_t{n}, std::size_t{n}};
        },
        joins);
    CHECK(joined.first == 0);
    CHECK(joined.second == n);
    const double s = parallel_reduce(rt, 0, n, 0.0, term, std::plus<>{}, fixed_joins);
    if (w == 1) first = s;
    CHECK(s == first);
  }
}

TEST_CASE("caller_joins: the first exception reaches the caller; the runtime stays usable" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  const loop_options joins{100, partitioner::adaptive, true};
  CHECK_THROWS_WITH_AS(parallel_for(rt, 0, 1'000'000, joins,
                                    [](int i) {
                                      if (i == 500'000) throw std::runtime_error("piece failed");
                                    }),
                       "piece failed", std::runtime_error);
  CHECK_THROWS_WITH_AS(parallel_reduce(
                           rt, 0, 1'000'000, 0L,
                           [](int i) {
                             if (i == 0) throw std::logic_error("first piece failed");
                             return 1L;
                           },
                           std::plus<>{}, joins),
                       "first piece failed", std::logic_error);
  std::atomic<int> after{0};
  parallel_for(rt, 0, 1000, joins, [&](int) { after.fetch_add(1); });
  CHECK(after.load() == 1000);
}

TEST_CASE("caller_joins after shutdown: the caller runs every piece itself" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  rt.shutdown();
  std::atomic<int> on_caller{0};
  parallel_for(rt, 0, 10'000, loop_options{100, partitioner::adaptive, true}, [&](int b, int e) {
    if (current_worker() == -1) on_caller.fetch_add(e - b);
  });
  CHECK(on_caller.load() == 10'000);
  CHECK_THROWS_AS(parallel_for(rt, 0, 10'000, 100, [](int) {}), runtime_closed);
}
