#include "magpie/parallel.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <numeric>
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

TEST_CASE_TEMPLATE("every integral index type works, negative ranges included", Index, std::int8_t,
                   std::uint8_t, std::int16_t, std::uint16_t, int, unsigned, long long,
                   unsigned long long) {
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

TEST_CASE("a reversed range is an invalid_argument; an empty one runs nothing") {
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

TEST_CASE("the range body gets disjoint subranges that cover the loop") {
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

TEST_CASE("a range at or below the grain runs inline on the calling thread") {
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

TEST_CASE("the first exception reaches the caller and later chunks are skipped") {
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

TEST_CASE("a non-commutative reduce keeps left-to-right order") {
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

TEST_CASE("the fixed partitioner repeats floating-point sums bit for bit across worker counts") {
  const std::size_t n = 1'000'003;
  auto sum_with = [&](std::size_t w) {
    runtime rt(with_workers(w, pinning::none));
    return parallel_reduce(
        rt, std::size_t{0}, n, 0.0,
        [](std::size_t i) { return 1.0 / (1.0 + static_cast<double>(i)); },
        [](double a, double b) { return a + b; }, loop_options{0, partitioner::fixed});
  };
  const double one = sum_with(1);
  CHECK(sum_with(2) == one);
  CHECK(sum_with(7) == one);
  CHECK(sum_with(2) == one);
}

TEST_CASE("parallel_invoke runs every function once and rethrows the first exception") {
  runtime rt(with_workers(2, pinning::none));
  std::atomic<int> a{0}, b{0}, c{0};
  parallel_invoke(
      rt, [&] { a.fetch_add(1); }, [&] { b.fetch_add(1); }, [&] { c.fetch_add(1); });
  CHECK(a.load() + b.load() + c.load() == 3);
  CHECK(a.load() == 1);
  CHECK_THROWS_WITH_AS(parallel_invoke(
                           rt, [] {}, [] { throw std::runtime_error("invoke failed"); }),
                       "invoke failed", std::runtime_error);
}

TEST_CASE("loops called from several outside threads at once all complete") {
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

TEST_CASE("sizes around an explicit grain split correctly") {
  runtime rt(with_workers(2, pinning::none));
  for (int n : {63, 64, 65, 127, 128, 129}) {
    CAPTURE(n);
    std::vector<std::atomic<int>> seen(static_cast<std::size_t>(n));
    parallel_for(rt, 0, n, 64, [&](int i) { seen[static_cast<std::size_t>(i)].fetch_add(1); });
    int wrong = 0;
    for (auto& s : seen) wrong += s.load() != 1 ? 1 : 0;
    CHECK(wrong == 0);
    const long sum = parallel_reduce(
        rt, 0, n, 0L, [](int i) { return long{i}; }, [](long a, long b) { return a + b; },
        loop_options{64});
    CHECK(sum == long{n} * (n - 1) / 2);
  }
}
