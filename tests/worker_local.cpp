#include "magpie/worker_local.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using magpie::test::with_workers;

TEST_CASE("each worker accumulates into its own value; for_each combines them" *
          doctest::timeout(120)) {
  runtime rt(with_workers(4));
  worker_local<std::uint64_t> partial(rt);
  constexpr std::uint64_t n = 100'000;
  parallel_for(rt, std::uint64_t{0}, n, [&](std::uint64_t i) { partial.local() += i; });
  std::uint64_t total = 0;
  std::size_t values = 0;
  partial.for_each([&](std::uint64_t v) {
    total += v;
    ++values;
  });
  CHECK(total == n * (n - 1) / 2);
  CHECK(values >= 1);
  CHECK(values <= 4);  // from outside, parallel_for runs every piece on the workers
}

TEST_CASE("values are built lazily by the factory, once per thread" * doctest::timeout(120)) {
  runtime rt(with_workers(2));
  std::atomic<int> built{0};
  worker_local<int> wl(rt, [&] {
    built.fetch_add(1);
    return 7;
  });
  int visited = 0;
  wl.for_each([&](int) { ++visited; });
  CHECK(visited == 0);
  CHECK(built.load() == 0);
  CHECK(wl.local() == 7);  // this (outside) thread's value
  wl.local() = 8;
  CHECK(wl.local() == 8);
  CHECK(built.load() == 1);
}

TEST_CASE("worker values sit on cache lines of their own" * doctest::timeout(120)) {
  runtime rt(with_workers(3));
  worker_local<char> wl(rt);
  std::mutex mu;
  std::set<const char*> addresses;
  task_group g(rt);
  std::latch all(3);  // hold each task until all three run, so every worker takes one
  for (int i = 0; i < 3; ++i) {
    g.spawn([&] {
      all.arrive_and_wait();
      std::lock_guard lock(mu);
      addresses.insert(&wl.local());
    });
  }
  g.wait();
  REQUIRE(addresses.size() == 3);
  for (const char* a : addresses)
    CHECK(reinterpret_cast<std::uintptr_t>(a) % magpie::detail::cache_line == 0);
}

TEST_CASE("outside threads each get a value of their own" * doctest::timeout(120)) {
  runtime rt(with_workers(1));
  worker_local<int> wl(rt);
  std::latch both(2);
  int* seen[2] = {nullptr, nullptr};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      seen[t] = &wl.local();
      *seen[t] = t + 1;
      both.arrive_and_wait();  // both alive at once: thread ids cannot be reused
    });
  }
  for (auto& t : threads)
    t.join();
  CHECK(seen[0] != seen[1]);
  int sum = 0;
  wl.for_each([&](int v) { sum += v; });
  CHECK(sum == 3);
}

TEST_CASE("values need not be movable" * doctest::timeout(120)) {
  runtime rt(with_workers(2));
  worker_local<std::atomic<int>> counters(rt, [] { return 0; });
  task_group g(rt);
  for (int i = 0; i < 1000; ++i)
    g.spawn([&] { counters.local().fetch_add(1, std::memory_order_relaxed); });
  g.wait();
  int total = 0;
  counters.for_each([&](std::atomic<int>& c) { total += c.load(); });
  CHECK(total == 1000);
}

TEST_CASE("a factory that throws leaves the slot empty, and the next local() retries" *
          doctest::timeout(120)) {
  runtime rt(with_workers(1));
  int calls = 0;
  worker_local<int> wl(rt, [&] {
    if (++calls == 1) throw std::runtime_error("not yet");
    return 5;
  });
  CHECK_THROWS_WITH_AS(wl.local(), "not yet", std::runtime_error);
  int visited = 0;
  wl.for_each([&](int) { ++visited; });
  CHECK(visited == 0);
  CHECK(wl.local() == 5);
  CHECK(calls == 2);
}
