// magpie::strand: tasks never overlap and keep each producer's order, for 1..64 workers and
// several producers; futures; a hot strand yields its worker; shutdown runs or discards queued
// strand tasks and counts each once.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "coro_support.hpp"
#include "magpie/magpie.hpp"
#include "strand_support.hpp"
#include "test_support.hpp"

namespace {

using magpie::test::gate;
using magpie::test::order_check;
using magpie::test::scaled;
using magpie::test::shutdown_behind;
using magpie::test::tracker;
using magpie::test::with_workers;

}  // namespace

TEST_CASE("tasks never overlap and keep each producer's order, 1..64 workers, 4 producers" *
          doctest::timeout(240)) {
  for (std::size_t workers : {1, 2, 4, 16, 64}) {
    CAPTURE(workers);
    magpie::runtime rt(with_workers(workers));
    magpie::strand s(rt);
    constexpr std::size_t producers = 4;
    const std::size_t per_producer = scaled(workers >= 16 ? 5000 : 20000);
    order_check check(producers);
    std::vector<std::thread> threads;
    for (std::size_t p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        for (std::size_t i = 1; i <= per_producer; ++i)
          s.submit([&check, p, i] { check.task(p, i); });
      });
    }
    for (auto& t : threads)
      t.join();
    rt.wait_idle();
    CHECK(check.overlaps.load() == 0);
    CHECK(check.out_of_order.load() == 0);
    CHECK(check.ran.load() == producers * per_producer);
    CHECK(s.queued() == 0);
  }
}

TEST_CASE("many strands from two producers and from the workers, each in order" *
          doctest::timeout(120)) {
  magpie::runtime rt(with_workers(4));
  constexpr std::size_t strands = 64;
  std::vector<std::unique_ptr<magpie::strand>> s;
  std::vector<std::unique_ptr<order_check>> checks;
  for (std::size_t i = 0; i < strands; ++i) {
    s.push_back(std::make_unique<magpie::strand>(rt));
    checks.push_back(std::make_unique<order_check>(3));
  }
  const std::size_t per_producer = scaled(50000);
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < 2; ++p) {
    threads.emplace_back([&, p] {
      for (std::size_t i = 1; i <= per_producer; ++i) {
        const std::size_t k = (i * 31 + p) % strands;
        // Per strand, this producer's sequence numbers must rise: count per strand.
        s[k]->submit([c = checks[k].get(), p, i] { c->task(p, i); });
      }
    });
  }
  for (auto& t : threads)
    t.join();
  rt.wait_idle();
  std::size_t ran = 0;
  for (auto& c : checks) {
    CHECK(c->overlaps.load() == 0);
    ran += c->ran.load();
  }
  CHECK(ran == 2 * per_producer);

  // From inside tasks (a worker submits): one strand fed by a chain of tasks, in order.
  order_check chain(1);
  magpie::strand one(rt);
  magpie::task_group g(rt);
  g.spawn([&] {
    for (std::size_t i = 1; i <= 1000; ++i)
      one.submit([&chain, i] { chain.task(0, i); });
  });
  g.wait();
  rt.wait_idle();
  CHECK(chain.out_of_order.load() == 0);
  CHECK(chain.ran.load() == 1000);
  CHECK(rt.stats().strand_queued == 0);
}

TEST_CASE("per-strand order holds across interleaved strands" * doctest::timeout(60)) {
  // Sequence numbers per (strand, producer) pair, so the order check is exact.
  magpie::runtime rt(with_workers(2));
  constexpr std::size_t strands = 8;
  std::vector<std::unique_ptr<magpie::strand>> s;
  std::vector<std::unique_ptr<order_check>> checks;
  for (std::size_t i = 0; i < strands; ++i) {
    s.push_back(std::make_unique<magpie::strand>(rt));
    checks.push_back(std::make_unique<order_check>(2));
  }
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < 2; ++p) {
    threads.emplace_back([&, p] {
      std::vector<std::size_t> seq(strands, 0);
      for (std::size_t i = 0; i < scaled(40000); ++i) {
        const std::size_t k = (i * 5 + p * 3) % strands;
        const std::size_t n = ++seq[k];
        s[k]->submit([c = checks[k].get(), p, n] { c->task(p, n); });
      }
    });
  }
  for (auto& t : threads)
    t.join();
  rt.wait_idle();
  for (auto& c : checks) {
    CHECK(c->overlaps.load() == 0);
    CHECK(c->out_of_order.load() == 0);
  }
}

TEST_CASE("async returns the value or the exception; try_submit; closed runtime" *
          doctest::timeout(60)) {
  magpie::runtime rt(with_workers(2));
  magpie::strand s(rt, magpie::priority::high);
  int shared = 0;  // touched only by the strand's tasks
  auto a = s.async([&] { return ++shared; });
  auto b = s.async([&] { return ++shared; });
  auto c = s.async([]() -> int { throw std::runtime_error("strand"); });
  CHECK(s.try_submit([&] { ++shared; }));
  auto d = s.async([&] { return shared; });
  CHECK(a.get() == 1);
  CHECK(b.get() == 2);
  CHECK_THROWS_WITH_AS(c.get(), "strand", std::runtime_error);
  CHECK(d.get() == 3);
  void (*null_fn)() = nullptr;
  CHECK_THROWS_AS(s.submit(null_fn), std::invalid_argument);
  rt.shutdown();
  CHECK_THROWS_AS(s.submit([] {}), magpie::runtime_closed);
  CHECK_FALSE(s.try_submit([] {}));
  CHECK_THROWS_AS(s.async([] { return 1; }), magpie::runtime_closed);
}

TEST_CASE("an exception goes to on_exception and the strand goes on" * doctest::timeout(60)) {
  std::atomic<int> reported{0};
  magpie::config cfg = with_workers(2);
  cfg.on_exception = [&](std::exception_ptr) { reported.fetch_add(1); };
  magpie::runtime rt(cfg);
  magpie::strand s(rt);
  std::atomic<int> ran{0};
  for (int i = 0; i < 300; ++i) {
    s.submit([&, i] {
      ran.fetch_add(1);
      if (i % 3 == 0) throw std::runtime_error("x");
    });
  }
  rt.wait_idle();
  CHECK(ran.load() == 300);
  CHECK(reported.load() == 100);
  const magpie::shutdown_report r = rt.shutdown();
  CHECK(r.ran == 300);  // strand tasks, not runners
  CHECK(r.exceptions == 100);
}

TEST_CASE("a hot strand yields its worker after a batch" * doctest::timeout(60)) {
  magpie::runtime rt(with_workers(1));
  magpie::strand s(rt);
  gate hold;
  hold.occupy(rt);
  std::atomic<std::size_t> done{0};
  constexpr std::size_t n = 1000;
  for (std::size_t i = 0; i < n; ++i)
    s.submit([&] { done.fetch_add(1); });
  std::atomic<std::size_t> seen_at{n + 1};
  rt.submit([&] { seen_at.store(done.load()); });  // queued after the strand's runner
  hold.release();
  rt.wait_idle();
  CHECK(done.load() == n);
  // One worker: the probe ran between two batches, not after the whole strand.
  CHECK(seen_at.load() < n);
  CHECK(seen_at.load() % magpie::strand::batch == 0);
}

TEST_CASE("shutdown(drain) runs queued strand tasks; a destroyed strand's tasks still run" *
          doctest::timeout(60)) {
  magpie::runtime rt(with_workers(2));
  gate hold;
  std::atomic<int> ran{0};
  {
    magpie::strand s(rt);
    hold.occupy(s);
    for (int i = 0; i < 500; ++i)
      s.submit([&] { ran.fetch_add(1); });
  }  // destroyed with 500 queued
  const auto [r, probes] = shutdown_behind(hold, rt);
  CHECK(ran.load() == 500);
  CHECK(r.ran == 501 + probes);
  CHECK(r.discarded == 0);
}

TEST_CASE("shutdown(cancel) discards queued strand tasks, counting each once" *
          doctest::timeout(60)) {
  std::atomic<int> discards{0};
  magpie::config cfg = with_workers(2);
  cfg.on_discard = [&](magpie::priority) { discards.fetch_add(1); };
  magpie::runtime rt(cfg);
  magpie::strand s(rt);
  gate hold;
  std::atomic<int> ran{0};
  hold.occupy(s);
  for (int i = 0; i < 500; ++i)
    s.submit([&] { ran.fetch_add(1); });
  auto f = s.async([] { return 7; });
  const auto [r, probes] = shutdown_behind(hold, rt, magpie::shutdown_mode::cancel);
  CHECK(ran.load() == 0);
  // The gate task ran; the probes ran or were discarded; every strand task was discarded.
  CHECK(r.ran + r.discarded == 1 + 501 + probes);
  CHECK(r.discarded >= 501);
  CHECK(discards.load() == r.discarded);
  CHECK_THROWS_AS(f.get(), magpie::runtime_closed);
  CHECK(s.queued() == 0);
}

TEST_CASE("past shutdown_for's deadline, shutdown's own thread discards a strand's queue" *
          doctest::timeout(60)) {
  magpie::runtime rt(with_workers(1));
  magpie::strand s(rt);
  gate hold;
  hold.occupy(rt);  // the only worker is stuck: the queues are shutdown's
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i)
    s.submit([&] { ran.fetch_add(1); });
  const magpie::runtime_stats st = rt.stats();
  CHECK(st.strand_queued == 100);
  CHECK(magpie::to_json(st).find("\"strand_queued\":100,") != std::string::npos);
  CHECK(magpie::to_prometheus(st).find("\nmagpie_strand_queued_tasks 100\n") != std::string::npos);
  const magpie::shutdown_report early = rt.shutdown_for(std::chrono::milliseconds(1));
  CHECK(early.still_running == 1);
  CHECK(s.queued() == 0);
  hold.release();
  const magpie::shutdown_report r = rt.shutdown();
  CHECK(ran.load() == 0);
  CHECK(r.ran == 1);
  CHECK(r.discarded == 100);
}

// --- Coroutines: co_await s.schedule() ---

namespace {

void wait_queued(const magpie::strand& s, std::size_t n) {
  while (s.queued() != n)
    std::this_thread::yield();
}

}  // namespace

TEST_CASE("schedule: the coroutine continues in the strand's order, alone, until it suspends" *
          doctest::timeout(60)) {
  magpie::runtime rt(with_workers(2));
  magpie::strand s(rt);
  gate hold;
  s.submit([&] { hold.pass(); });
  hold.wait_entered();
  std::vector<int> order;  // plain memory: only the strand's tasks touch it
  std::atomic<int> step{0};
  std::atomic<int> seen{-1};
  auto body = [&]() -> magpie::task<void> {
    co_await s.schedule();
    order.push_back(1);
    s.submit([&] { seen = step.load(); });  // queued behind this resumption
    step = 1;
    co_await magpie::schedule(rt);  // leaves the strand: the task above may run now
    step = 2;
  };
  s.submit([&] { order.push_back(0); });
  rt.spawn(body());
  wait_queued(s, 3);  // the gate, task 0, the coroutine
  s.submit([&] { order.push_back(2); });
  hold.release();
  rt.wait_idle();
  CHECK(order == std::vector<int>{0, 1, 2});
  CHECK(seen.load() >= 1);  // never while the coroutine still held the strand
  CHECK(s.queued() == 0);
}

TEST_CASE("coroutines and tasks in one strand never overlap, many rounds" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(4));
  magpie::strand s(rt);
  order_check check(2);
  std::size_t coro_seq = 0;  // plain memory: touched only in the strand
  const std::size_t rounds = scaled(2000);
  auto body = [&]() -> magpie::task<void> {
    co_await s.schedule();
    check.task(1, ++coro_seq);  // overlapping a task would show as busy, or as a race
  };
  magpie::task_group g(rt);
  for (std::size_t i = 1; i <= rounds; ++i) {
    s.submit([&check, i] { check.task(0, i); });
    g.spawn(body());
  }
  g.wait();
  rt.wait_idle();
  CHECK(check.overlaps.load() == 0);
  CHECK(check.out_of_order.load() == 0);
  CHECK(check.ran.load() == 2 * rounds);
}

namespace {

// Coroutines queued in a strand behind a gated task, then shutdown(mode) from the test thread
// while the gate opens once the runtime is closed.
struct strand_coroutines {
  static constexpr int n = 50;
  magpie::runtime rt{with_workers(2)};
  magpie::strand s{rt};
  gate hold;
  std::atomic<int> live{0}, ran{0}, closed{0};

  magpie::task<void> waiter(tracker) {
    try {
      co_await s.schedule();
      ran.fetch_add(1);
    } catch (const magpie::runtime_closed&) {
      closed.fetch_add(1);
    }
  }
  magpie::shutdown_report run(magpie::shutdown_mode mode) {
    hold.occupy(s);
    for (int i = 0; i < n; ++i)
      rt.spawn(waiter(tracker(live)));
    wait_queued(s, n + 1);
    return shutdown_behind(hold, rt, mode).report;
  }
};

}  // namespace

TEST_CASE("shutdown(drain) runs the coroutines queued in a strand" * doctest::timeout(60)) {
  strand_coroutines t;
  t.run(magpie::shutdown_mode::drain);
  CHECK(t.ran.load() == strand_coroutines::n);
  CHECK(t.closed.load() == 0);
  CHECK(t.live.load() == 0);
}

TEST_CASE("shutdown(cancel) unwinds the coroutines queued in a strand with runtime_closed" *
          doctest::timeout(60)) {
  strand_coroutines t;
  const magpie::shutdown_report r = t.run(magpie::shutdown_mode::cancel);
  CHECK(t.ran.load() == 0);
  CHECK(t.closed.load() == strand_coroutines::n);
  CHECK(t.live.load() == 0);  // every frame freed
  CHECK(r.exceptions == 0);
  CHECK(t.s.queued() == 0);
}

TEST_CASE("schedule on a shut-down runtime throws runtime_closed in the coroutine" *
          doctest::timeout(60)) {
  magpie::runtime a(with_workers(1)), b(with_workers(1));
  magpie::strand s(b);
  b.shutdown();
  auto body = [&]() -> magpie::task<bool> {
    try {
      co_await s.schedule();
    } catch (const magpie::runtime_closed&) {
      co_return a.is_current_worker();
    }
    co_return false;
  };
  CHECK(magpie::sync_wait(a, body()));
}
