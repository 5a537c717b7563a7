#include "magpie/magpie.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace magpie;
using magpie::test::gate;
using magpie::test::with_workers;

namespace {

std::uint64_t fib(runtime& rt, int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  std::uint64_t a = 0;
  task_group g(rt);
  g.spawn([&] { a = fib(rt, n - 1); });
  const std::uint64_t b = fib(rt, n - 2);
  g.wait();
  return a + b;
}

std::uint64_t fib_on(runtime& rt, int n) {
  std::uint64_t r = 0;
  task_group g(rt);
  g.spawn([&] { r = fib(rt, n); });
  g.wait();
  return r;
}

void tree(runtime& rt, int depth, std::atomic<std::uint64_t>& leaves) {
  if (depth == 0) {
    leaves.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  task_group g(rt);
  for (int i = 0; i < 4; ++i)
    g.spawn([&rt, depth, &leaves] { tree(rt, depth - 1, leaves); });
  g.wait();
}

}  // namespace

TEST_CASE("four external producers x 250k submits each run exactly once" * doctest::timeout(300)) {
  const std::size_t per = magpie::test::scaled(250'000);
  constexpr std::size_t producers = 4;
  std::unique_ptr<std::atomic<std::uint8_t>[]> seen(new std::atomic<std::uint8_t>[producers * per]);
  for (std::size_t i = 0; i < producers * per; ++i)
    seen[i].store(0);
  runtime rt(with_workers(2));
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (std::size_t i = 0; i < per; ++i) {
        const std::size_t id = p * per + i;
        rt.submit([&seen, id] { seen[id].fetch_add(1, std::memory_order_relaxed); });
      }
    });
  }
  for (auto& t : threads)
    t.join();
  const shutdown_report r = rt.shutdown();
  CHECK(r.ran == producers * per);
  CHECK(r.discarded == 0);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < producers * per; ++i)
    wrong += seen[i].load() != 1 ? 1 : 0;
  CHECK(wrong == 0);
}

TEST_CASE("nested spawn trees give the serial result" * doctest::timeout(300)) {
  runtime rt(with_workers(2));
  CHECK(fib_on(rt, 25) == 75025);
  std::atomic<std::uint64_t> leaves{0};
  task_group g(rt);
  g.spawn([&] { tree(rt, 9, leaves); });
  g.wait();
  CHECK(leaves.load() == 262144);  // 4^9
}

TEST_CASE("many more workers than cores still compute the serial result" * doctest::timeout(300)) {
  for (std::size_t n : {16, 64}) {
    CAPTURE(n);
    runtime rt(with_workers(n));
    CHECK(rt.worker_count() == n);
    CHECK(fib_on(rt, 20) == 6765);
  }
}

TEST_CASE("one worker: wait inside a task helps instead of deadlocking" * doctest::timeout(60)) {
  runtime rt(with_workers(1));
  std::atomic<int> inner{0};
  task_group outer(rt);
  outer.spawn([&] {
    task_group g(rt);
    for (int i = 0; i < 100; ++i)
      g.spawn([&] { inner.fetch_add(1); });
    g.wait();
    CHECK(inner.load() == 100);
  });
  outer.wait();
  CHECK(inner.load() == 100);
  CHECK(fib_on(rt, 15) == 610);
}

TEST_CASE("exceptions from detached tasks go to on_exception and the worker carries on" *
          doctest::timeout(120)) {
  std::atomic<int> seen{0};
  config c = with_workers(2);
  c.on_exception = [&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::runtime_error& x) {
      CHECK(std::string(x.what()) == "boom");
      seen.fetch_add(1);
    }
  };
  runtime rt(c);
  std::atomic<int> ok{0};
  for (int i = 0; i < 100; ++i) {
    rt.submit([] { throw std::runtime_error("boom"); });
    rt.submit([&] { ok.fetch_add(1); });
  }
  const shutdown_report r = rt.shutdown();
  CHECK(seen.load() == 100);
  CHECK(ok.load() == 100);
  CHECK(r.exceptions == 100);
  CHECK(r.ran == 200);
}

TEST_CASE("an on_exception handler that throws does not kill the worker" * doctest::timeout(120)) {
  config c = with_workers(1);
  c.on_exception = [](std::exception_ptr) { throw std::logic_error("handler failed"); };
  runtime rt(c);
  std::atomic<int> ok{0};
  rt.submit([] { throw 42; });
  rt.submit([&] { ok.fetch_add(1); });
  const shutdown_report r = rt.shutdown();
  CHECK(ok.load() == 1);
  CHECK(r.exceptions == 1);
}

TEST_CASE("destroying the runtime with tasks still queued runs them all" * doctest::timeout(120)) {
  std::atomic<int> count{0};
  gate g;
  {
    runtime rt(with_workers(1));
    g.occupy(rt);
    for (int i = 0; i < 10000; ++i)
      rt.submit([&] { count.fetch_add(1); });
    g.release();
  }
  CHECK(count.load() == 10000);
}

TEST_CASE("shutdown(cancel) discards queued tasks and reports them" * doctest::timeout(120)) {
  runtime rt(with_workers(1));
  gate g;
  std::atomic<int> count{0};
  g.occupy(rt);
  for (int i = 0; i < 1000; ++i)
    rt.submit([&] { count.fetch_add(1); });
  shutdown_report report;
  std::thread closer([&] { report = rt.shutdown(shutdown_mode::cancel); });
  // try_submit fails once shutdown has closed the runtime (after it set the cancel flag).
  std::uint64_t accepted = 0;
  while (rt.try_submit([&] { count.fetch_add(1); }))
    ++accepted;
  g.release();
  closer.join();
  CHECK(count.load() == 0);
  CHECK(report.ran == 1);
  CHECK(report.discarded == 1000 + accepted);
}

TEST_CASE("submit after shutdown throws runtime_closed and try_submit returns false" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2));
  rt.shutdown();
  CHECK_THROWS_AS(rt.submit([] {}), runtime_closed);
  bool touched = false;
  CHECK_FALSE(rt.try_submit([&] { touched = true; }));
  CHECK_FALSE(touched);
  const shutdown_report again = rt.shutdown();  // idempotent
  CHECK(again.ran == 0);
}

TEST_CASE("current_worker is -1 outside and a worker index inside" * doctest::timeout(120)) {
  runtime rt(with_workers(3));
  CHECK(current_worker() == -1);
  std::atomic<int> seen{-2};
  task_group g(rt);
  g.spawn([&] { seen.store(current_worker()); });
  g.wait();
  CHECK(seen.load() >= 0);
  CHECK(seen.load() < 3);
}

TEST_CASE("two runtimes in one process do not interfere" * doctest::timeout(120)) {
  runtime a(with_workers(2));
  runtime b(with_workers(1));
  std::atomic<int> from_a_on_b{0};
  task_group ga(a);
  // A worker of `a` submitting to `b` is an outside thread for `b`.
  for (int i = 0; i < 1000; ++i)
    ga.spawn([&] { b.submit([&] { from_a_on_b.fetch_add(1); }); });
  ga.wait();
  b.shutdown();
  CHECK(from_a_on_b.load() == 1000);
  CHECK(fib_on(a, 18) == 2584);
}

TEST_CASE("destroying the runtime from one of its own tasks drains it on a helper thread" *
          doctest::timeout(120)) {
  auto rt = std::make_unique<runtime>(with_workers(2));
  std::atomic<int> count{0};
  gate g;
  g.occupy(*rt);
  for (int i = 0; i < 1000; ++i) {
    rt->submit([&] {
      count.fetch_add(1);
      count.notify_all();
    });
  }
  std::atomic<bool> destroyed{false};
  runtime& self = *rt;
  self.submit([&rt, &destroyed] {
    rt.reset();  // from a worker of that very runtime
    destroyed.store(true);
    destroyed.notify_one();
  });
  g.release();
  destroyed.wait(false);
  // Every task queued before the destruction still runs: wait for the count, not for time.
  for (int seen = count.load(); seen != 1000; seen = count.load())
    count.wait(seen);
  CHECK(count.load() == 1000);
  CHECK(rt == nullptr);
}
