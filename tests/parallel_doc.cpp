// The C++ examples of docs/parallel-for.md, compiled and run. Each fenced block of the guide
// appears here verbatim (tests/parallel_doc_sync.cmake checks that), between "clang-format off"
// markers so that formatting never changes them, with the `rt` the guide assumes in scope; the
// lines after each check what it computed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <ranges>
#include <stdexcept>
#include <vector>

#include "magpie/magpie.hpp"
#include "test_support.hpp"

using magpie::test::with_workers;

TEST_CASE("guide: loops, an explicit grain, parallel_invoke" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2, magpie::pinning::none));
  // clang-format off
const std::size_t n = 100'000;
const float a = 2.0f;
std::vector<float> x(n, 1.0f), y(n, 0.0f);

// body(i) for each i in [first, last)
magpie::parallel_for(rt, 0, n, [&](std::size_t i) { y[i] = a * x[i] + y[i]; });

// body(begin, end) on subranges: the inner loop is yours, so it vectorizes
magpie::parallel_for(rt, 0, n, [&](std::size_t b, std::size_t e) {
  for (std::size_t i = b; i < e; ++i) y[i] = a * x[i] + y[i];
});

// an explicit grain: ranges of at most 4096 iterations are not split
magpie::parallel_for(rt, 0, n, 4096, [&](std::size_t i) { y[i] += x[i]; });

std::vector<int> left{3, 1, 2}, right{9, 7, 8};
magpie::parallel_invoke(rt, [&] { std::ranges::sort(left); }, [&] { std::ranges::sort(right); });
  // clang-format on
  CHECK(std::all_of(y.begin(), y.end(), [](float v) { return v == 5.0f; }));
  CHECK(left == std::vector<int>{1, 2, 3});
  CHECK(right == std::vector<int>{7, 8, 9});
}

TEST_CASE("guide: map and range forms of parallel_reduce" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2, magpie::pinning::none));
  // clang-format off
const std::size_t n = 100'000;
std::vector<float> x(n, 0.5f), y(n, 4.0f);

// map form: reduce(...reduce(identity, map(first))..., map(last - 1))
double dot = magpie::parallel_reduce(rt, 0, n, 0.0,
    [&](std::size_t i) { return double(x[i]) * y[i]; }, std::plus<>{});

// range form: body(begin, end, acc) folds a subrange into acc and returns it
double sum = magpie::parallel_reduce(rt, 0, n, 0.0,
    [&](std::size_t b, std::size_t e, double acc) {
      for (std::size_t i = b; i < e; ++i) acc += x[i];
      return acc;
    },
    std::plus<>{});
  // clang-format on
  CHECK(dot == 2.0 * n);
  CHECK(sum == 0.5 * n);
}

TEST_CASE("guide: mixed index types" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2, magpie::pinning::none));
  // clang-format off
std::vector<int> v(1000);
magpie::parallel_for(rt, 0, v.size(), [&](std::size_t i) { v[i] = int(i); });  // int, size_t
long m = 500;
magpie::parallel_for(rt, 0, m, [&](long i) { v[std::size_t(i)] += 1; });  // int, long
int k = -1;
try {
  magpie::parallel_for(rt, k, v.size(), [](std::size_t) {});
} catch (const std::invalid_argument&) {
  // "magpie::parallel_for: first is negative and the other bound is unsigned"
}
  // clang-format on
  for (std::size_t i = 0; i < v.size(); ++i) {
    CHECK(v[i] == int(i) + (i < 500 ? 1 : 0));
  }
  CHECK_THROWS_WITH_AS(magpie::parallel_for(rt, k, v.size(), [](std::size_t) {}),
                       "magpie::parallel_for: first is negative and the other bound is unsigned",
                       std::invalid_argument);
}

TEST_CASE("guide: iterators and ranges" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2, magpie::pinning::none));
  // clang-format off
std::vector<double> w(10'000, 1.0);
magpie::parallel_for(rt, w.begin(), w.end(), [](double& e) { e *= 2; });
magpie::parallel_for(rt, w, [](double& e) { e += 1; });
magpie::parallel_for(rt, std::views::iota(0, 100), [&](int i) { w[std::size_t(i)] = 0; });

double total = magpie::parallel_reduce(rt, w, 0.0, [](double e) { return e; }, std::plus<>{});
double also = magpie::parallel_reduce(rt, w.begin(), w.end(), 0.0,
    [](auto sub, double acc) {  // sub: std::ranges::subrange of w's iterators
      for (double e : sub) acc += e;
      return acc;
    },
    std::plus<>{});
  // clang-format on
  CHECK(total == 3.0 * (10'000 - 100));
  CHECK(also == total);
}

TEST_CASE("guide: 2-D loops" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2, magpie::pinning::none));
  // clang-format off
const std::size_t rows = 480, cols = 640;
std::vector<float> image(rows * cols);
magpie::parallel_for(rt, magpie::range2d{0, rows, 0, cols},
                     [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
                       for (std::size_t r = r0; r < r1; ++r)
                         for (std::size_t c = c0; c < c1; ++c) image[r * cols + c] = float(r + c);
                     });

// explicit tile grains: no tile is taller than 32 rows or wider than 64 columns
magpie::parallel_for(rt, magpie::range2d{0, rows, 0, cols, 32, 64},
                     [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
                       for (std::size_t r = r0; r < r1; ++r)
                         for (std::size_t c = c0; c < c1; ++c) image[r * cols + c] *= 2;
                     });
  // clang-format on
  std::size_t wrong = 0;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c)
      wrong += image[r * cols + c] == 2.0f * float(r + c) ? 0 : 1;
  CHECK(wrong == 0);
}

TEST_CASE("guide: 2-D loops with a joining caller" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2, magpie::pinning::none));
  // clang-format off
const std::size_t rows = 300, cols = 200;
std::vector<int> hits(rows * cols, 0);
magpie::loop_options joins{0, magpie::partitioner::adaptive, true};
magpie::parallel_for(rt, magpie::range2d{0, rows, 0, cols, 10, 20}, joins,
                     [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
                       // a 10 x 20 tile (the grid's), run by the caller or a worker
                       for (std::size_t r = r0; r < r1; ++r)
                         for (std::size_t c = c0; c < c1; ++c) ++hits[r * cols + c];
                     });
  // clang-format on
  CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
}

TEST_CASE("guide: parallel_invoke with a joining caller" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2, magpie::pinning::none));
  // clang-format off
std::vector<int> a{5, 3, 4}, b{2, 9, 1}, c{8, 6, 7};
magpie::loop_options joins{0, magpie::partitioner::adaptive, true};
magpie::parallel_invoke(rt, joins, [&] { std::ranges::sort(a); }, [&] { std::ranges::sort(b); },
                        [&] { std::ranges::sort(c); });
  // clang-format on
  CHECK(a == std::vector<int>{3, 4, 5});
  CHECK(b == std::vector<int>{1, 2, 9});
  CHECK(c == std::vector<int>{6, 7, 8});
}

TEST_CASE("guide: the calling thread taking part" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2, magpie::pinning::none));
  // clang-format off
const std::size_t n = 100'000;
std::vector<float> x(n, 1.0f), y(n, 1.0f);

magpie::config cfg;
cfg.workers = 3;  // on a 4-core machine: the calling thread is the fourth
magpie::runtime engine(cfg);
magpie::loop_options joins{0, magpie::partitioner::adaptive, true};
magpie::parallel_for(engine, 0, n, joins, [&](std::size_t i) { y[i] += x[i]; });
double total = magpie::parallel_reduce(engine, 0, n, 0.0,
    [&](std::size_t i) { return double(x[i]); }, std::plus<>{}, joins);
  // clang-format on
  CHECK(std::all_of(y.begin(), y.end(), [](float v) { return v == 2.0f; }));
  CHECK(total == double(n));
}

TEST_CASE("guide: a fixed split tree" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2, magpie::pinning::none));
  // clang-format off
const std::size_t n = 100'003;
auto map = [](std::size_t i) { return 1.0 / (1.0 + double(i)); };
auto fold = [](std::size_t b, std::size_t e, double acc) {
  for (std::size_t i = b; i < e; ++i) acc += 1.0 / (1.0 + double(i));
  return acc;
};
magpie::loop_options fixed{0, magpie::partitioner::fixed};
double s = magpie::parallel_reduce(rt, 0, n, 0.0, map, std::plus<>{}, fixed);
double s2 = magpie::parallel_reduce(rt, 0, n, 0.0, fold, std::plus<>{}, fixed);  // range form
  // clang-format on
  CHECK(s == s2);
}

TEST_CASE("guide: fork-join by hand" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2, magpie::pinning::none));
  // clang-format off
// Fork-join: spawn every child but the last, run the last on this thread, then wait.
std::function<long(long, long)> count = [&](long lo, long hi) -> long {
  if (hi - lo <= 1000) return hi - lo;              // small enough: serial
  const long mid = lo + (hi - lo) / 2;
  long left = 0, right = 0;
  magpie::task_group g(rt);
  g.spawn([&] { left = count(lo, mid); });          // may be stolen by another worker
  g.run_and_wait([&] { right = count(mid, hi); });  // runs here, then joins
  return left + right;
};
long total = 0;
rt.async([&] { total = count(0, 1'000'000); }).get();  // start the recursion on a worker
  // clang-format on
  CHECK(total == 1'000'000);
}
