#include "magpie/coro.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "coro_support.hpp"
#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using magpie::test::fib;
using magpie::test::gate;
using magpie::test::scaled;
using magpie::test::tracker;
using magpie::test::with_workers;

namespace {

std::uint64_t fib_serial(int n) {
  return n < 2 ? static_cast<std::uint64_t>(n) : fib_serial(n - 1) + fib_serial(n - 2);
}

// Marks every index of [lo, hi) through a binary tree of when_alls: 2 (hi - lo) - 1 coroutines.
task<void> mark(std::vector<std::atomic<std::uint32_t>>& seen, std::size_t lo, std::size_t hi) {
  if (hi - lo == 1) {
    seen[lo].fetch_add(1, std::memory_order_relaxed);
    co_return;
  }
  const std::size_t mid = lo + (hi - lo) / 2;
  co_await when_all(mark(seen, lo, mid), mark(seen, mid, hi));
}

// A linear chain of co_awaits `depth` deep: each level's frame waits on the next.
task<std::uint64_t> chain(std::uint64_t depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await chain(depth - 1);
}

task<int> throw_at(int level, int depth) {
  if (level == depth) throw std::runtime_error("level " + std::to_string(level));
  co_return 1 + co_await throw_at(level + 1, depth);
}

}  // namespace

TEST_CASE("a task is lazy and destroying it unstarted frees it" * doctest::timeout(60)) {
  std::atomic<int> live{0};
  std::atomic<bool> ran{false};
  {
    auto body = [](tracker, std::atomic<bool>& r) -> task<void> {
      r = true;
      co_return;
    };
    task<void> t = body(tracker(live), ran);
    CHECK(live == 1);
    CHECK(static_cast<bool>(t));
    task<void> moved = std::move(t);
    CHECK_FALSE(static_cast<bool>(t));
  }
  CHECK(live == 0);
  CHECK_FALSE(ran);
}

TEST_CASE("fib through when_all is right on 1, 2 and 4 workers" * doctest::timeout(120)) {
  for (std::size_t w : {1u, 2u, 4u}) {
    runtime rt(with_workers(w));
    CHECK(sync_wait(rt, fib(20)) == fib_serial(20));
  }
}

TEST_CASE("deep recursion does not grow the stack per level" * doctest::timeout(120)) {
  runtime rt(with_workers(2));
  // fib(30): 2.7 M coroutines, 30 levels of when_all.
  if (!magpie::test::sanitized) CHECK(sync_wait(rt, fib(30)) == fib_serial(30));
  // A chain of plain co_awaits far deeper than a worker's stack could hold as nested calls.
  // Sanitizers instrument every function's exit, which turns the symmetric transfer's tail
  // call into a nested one: there the chain only checks the results.
  const std::uint64_t depth = magpie::test::sanitized ? 2000 : 500000;
  CHECK(sync_wait(rt, chain(depth)) == depth);
}

TEST_CASE("every coroutine of a 1 M tree runs exactly once" * doctest::timeout(300)) {
  // 1 M leaves (2 M coroutines) on 1, 2, 16 and 64 workers (a tenth under the sanitizers).
  struct shape {
    std::size_t workers, leaves;
  };
  for (shape s : {shape{1, scaled(1u << 20)}, shape{2, scaled(1u << 20)},
                  shape{16, scaled(1u << 20)}, shape{64, scaled(1u << 20)}}) {
    CAPTURE(s.workers);
    runtime rt(with_workers(s.workers));
    std::vector<std::atomic<std::uint32_t>> seen(s.leaves);
    sync_wait(rt, mark(seen, 0, s.leaves));
    std::size_t wrong = 0;
    for (auto& x : seen)
      wrong += x.load() != 1 ? 1 : 0;
    CHECK(wrong == 0);
  }
}

TEST_CASE("when_all of a vector returns results in order; void gives monostate" *
          doctest::timeout(60)) {
  runtime rt(with_workers(2));
  auto square = [](int i) -> task<int> { co_return i* i; };
  auto nothing = []() -> task<void> { co_return; };
  auto body = [&]() -> task<void> {
    std::vector<task<int>> ts;
    for (int i = 0; i < 100; ++i)
      ts.push_back(square(i));
    std::vector<int> r = co_await when_all(std::move(ts));
    REQUIRE(r.size() == 100);
    for (int i = 0; i < 100; ++i)
      CHECK(r[static_cast<std::size_t>(i)] == i * i);
    std::vector<int> none = co_await when_all(std::vector<task<int>>{});
    CHECK(none.empty());
    auto [a, b] = co_await when_all(nothing(), square(3));
    CHECK(std::is_same_v<decltype(a), std::monostate>);
    CHECK(b == 9);
  };
  sync_wait(rt, body());
}

TEST_CASE("exceptions propagate from every level, the first child's first" * doctest::timeout(60)) {
  runtime rt(with_workers(2));
  for (int depth = 0; depth < 6; ++depth) {
    CAPTURE(depth);
    CHECK_THROWS_WITH_AS(sync_wait(rt, throw_at(0, depth)),
                         ("level " + std::to_string(depth)).c_str(), std::runtime_error);
  }
  auto fails = [](int i) -> task<int> {
    throw std::runtime_error("child " + std::to_string(i));
    co_return i;
  };
  std::atomic<int> ended{0};
  auto slow = [&ended]() -> task<int> {
    ended.fetch_add(1);
    co_return 1;
  };
  auto body = [&]() -> task<void> {
    try {
      co_await when_all(slow(), fails(1), fails(2), slow());
      FAIL("no exception");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "child 1");
    }
    CHECK(ended == 2);  // rethrown only after every child ended
    std::vector<task<int>> v;
    v.push_back(slow());
    v.push_back(fails(7));
    CHECK_THROWS_WITH_AS(co_await when_all(std::move(v)), "child 7", std::runtime_error);
  };
  sync_wait(rt, body());
}

TEST_CASE("when_all of two: values and exceptions, second child taken back or stolen" *
          doctest::timeout(60)) {
  runtime rt(with_workers(2));
  // `stolen`: the first child holds its worker until the second has started, which only a
  // thief can do, so the second ends on the other worker and counts the join there.
  auto child = [](int v, bool fails, std::atomic<bool>* wait_for,
                  std::atomic<bool>* started) -> task<int> {
    if (started != nullptr) {
      started->store(true);
      started->notify_all();
    }
    if (wait_for != nullptr) wait_for->wait(false);
    if (fails) throw std::runtime_error("child " + std::to_string(v));
    co_return v;
  };
  for (const bool stolen : {false, true}) {
    for (int fails = 0; fails < 4; ++fails) {
      CAPTURE(stolen);
      CAPTURE(fails);
      auto body = [&]() -> task<void> {
        std::atomic<bool> second_started{false};
        std::atomic<bool>* wait = stolen ? &second_started : nullptr;
        try {
          auto [a, b] = co_await when_all(child(1, (fails & 1) != 0, wait, nullptr),
                                          child(2, (fails & 2) != 0, nullptr, &second_started));
          CHECK(fails == 0);
          CHECK(a == 1);
          CHECK(b == 2);
        } catch (const std::runtime_error& e) {
          CHECK(std::string(e.what()) == ((fails & 1) != 0 ? "child 1" : "child 2"));
        }
        CHECK(second_started.load());  // both children ended before the parent resumed
      };
      sync_wait(rt, body());
    }
  }
}

TEST_CASE("empty tasks are refused with the call's name" * doctest::timeout(60)) {
  runtime rt(with_workers(1));
  task<int> empty;
  CHECK_THROWS_WITH_AS(sync_wait(rt, std::move(empty)),
                       "magpie::sync_wait: empty task (moved from?)", std::invalid_argument);
  CHECK_THROWS_AS(rt.spawn(task<void>{}), std::invalid_argument);
  CHECK_THROWS_AS(when_all(task<int>{}, fib(1)), std::invalid_argument);
}

TEST_CASE("sync_wait on a worker of the runtime throws std::logic_error" * doctest::timeout(60)) {
  runtime rt(with_workers(1));
  std::atomic<bool> threw{false};
  rt.submit([&] {
    try {
      sync_wait(rt, fib(3));
    } catch (const std::logic_error&) {
      threw = true;
    }
  });
  rt.wait_idle();
  CHECK(threw);
}

TEST_CASE("sync_wait from many threads at once" * doctest::timeout(120)) {
  runtime rt(with_workers(2));
  constexpr int threads = 8;
  const int rounds = static_cast<int>(scaled(50)) + 1;
  std::atomic<int> right{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back([&, i] {
      for (int r = 0; r < rounds; ++r) {
        if (sync_wait(rt, fib(10 + i % 4)) == fib_serial(10 + i % 4)) right.fetch_add(1);
      }
    });
  }
  for (auto& t : ts)
    t.join();
  CHECK(right == threads * rounds);
}

TEST_CASE("schedule moves a coroutine to another runtime and back" * doctest::timeout(60)) {
  runtime a(with_workers(2)), b(with_workers(1));
  auto body = [&]() -> task<int> {
    CHECK(a.is_current_worker());
    co_await schedule(b);
    CHECK(b.is_current_worker());
    const std::uint64_t f = co_await fib(12);  // runs on b
    CHECK(b.is_current_worker());
    co_await schedule(a, priority::high);
    CHECK(a.is_current_worker());
    co_return static_cast<int>(f);
  };
  CHECK(sync_wait(a, body()) == 144);
}

TEST_CASE("spawn runs detached; its exception goes to on_exception and is counted" *
          doctest::timeout(60)) {
  std::atomic<int> reported{0};
  config cfg = with_workers(2);
  cfg.on_exception = [&](std::exception_ptr) { reported.fetch_add(1); };
  runtime rt(cfg);
  std::atomic<int> done{0};
  auto ok = [&]() -> task<void> {
    co_await fib(8);
    done.fetch_add(1);
  };
  auto throws = [&]() -> task<void> {
    done.fetch_add(1);
    throw std::runtime_error("spawned");
    co_return;
  };
  for (int i = 0; i < 10; ++i) {
    rt.spawn(ok());
    rt.spawn(throws());
  }
  const shutdown_report r = rt.shutdown();
  CHECK(done == 20);
  CHECK(reported == 10);
  CHECK(r.exceptions == 10);
  CHECK(r.ran >= 20);
  CHECK_THROWS_AS(rt.spawn(ok()), runtime_closed);
  CHECK_THROWS_AS(sync_wait(rt, fib(3)), runtime_closed);
}

TEST_CASE("co_await on a future suspends until its task ends" * doctest::timeout(60)) {
  runtime rt(with_workers(2));
  gate g;
  auto body = [&]() -> task<int> {
    future<int> f = rt.async([&g] {
      g.pass();
      return 40;
    });
    future<int> ready = rt.async([] { return 2; });
    future<void> fails = rt.async([] { throw std::runtime_error("async"); });
    int r = co_await std::move(f);  // suspends: the other worker holds it in the gate
    r += co_await ready;
    CHECK_THROWS_WITH_AS(co_await std::move(fails), "async", std::runtime_error);
    future<int> none;
    CHECK_THROWS_AS(co_await std::move(none), std::logic_error);
    co_return r;
  };
  std::thread opener([&g] {
    g.wait_entered();
    g.release();
  });
  CHECK(sync_wait(rt, body()) == 42);
  opener.join();
}

// Awaits `f` (a const reference) and records whether it saw the one shared value.
task<void> await_shared(const shared_future<std::string>& f, const std::string* expected,
                        std::atomic<int>& same, std::atomic<int>& done) {
  const std::string& v = co_await f;
  if (&v == expected && v == "shared") same.fetch_add(1);
  done.fetch_add(1);
}

TEST_CASE("many coroutines co_await one shared_future; each resumes once with the value" *
          doctest::timeout(120)) {
  runtime rt(with_workers(4));
  for (int round = 0; round < 20; ++round) {
    promise<std::string> p(rt);
    const shared_future<std::string> f = p.get_future().share();
    std::atomic<int> same{0};
    std::atomic<int> done{0};
    const std::string* expected = nullptr;
    {
      task_group g(rt);
      constexpr int awaiters = 32;
      // Named: a coroutine lambda's captures live in the closure, which must outlive the frames.
      auto awaiter = [&]() -> task<void> {
        const std::string& v = co_await f;  // most suspend: the value comes below
        if (&v == &f.get() && v == "shared") same.fetch_add(1);  // the one shared object
        done.fetch_add(1);
      };
      for (int i = 0; i < awaiters; ++i)
        g.spawn(awaiter());
      p.set_value("shared");  // from this thread, not a worker: resumptions go through the queue
      g.wait();
      CHECK(done == awaiters);
      CHECK(same == awaiters);
      expected = &f.get();
    }
    // Awaiters that start after the value is there do not suspend and see the same object.
    std::atomic<int> late{0};
    sync_wait(rt, await_shared(f, expected, late, done));
    CHECK(late == 1);
  }
}

TEST_CASE("co_await on a shared_future: copies for temporaries, exceptions for all, void" *
          doctest::timeout(60)) {
  runtime rt(with_workers(2));
  gate g;
  shared_future<std::vector<int>> v = rt.async([&g] {
                                          g.pass();
                                          return std::vector<int>{1, 2, 3};
                                        }).share();
  shared_future<void> fails = rt.async([] { throw std::runtime_error("shared"); }).share();
  shared_future<void> nothing = rt.async([] {}).share();
  auto body = [&]() -> task<int> {
    shared_future<std::vector<int>> copy = v;
    std::vector<int> mine = co_await std::move(copy);  // a temporary's awaiter copies the value
    mine.push_back(4);
    const std::vector<int>& shared = co_await v;
    CHECK_THROWS_WITH_AS(co_await fails, "shared", std::runtime_error);
    CHECK_THROWS_WITH_AS(co_await fails, "shared", std::runtime_error);  // to every awaiter
    co_await nothing;
    shared_future<int> none;
    CHECK_THROWS_AS(co_await none, std::logic_error);
    co_return static_cast<int>(mine.size() * 10 + shared.size());
  };
  std::thread opener([&g] {
    g.wait_entered();
    g.release();
  });
  CHECK(sync_wait(rt, body()) == 43);
  opener.join();
  CHECK(v.get().size() == 3);  // the awaiters left the shared value alone
}

TEST_CASE("on_ready calls back once, on the worker that completed the future" *
          doctest::timeout(60)) {
  runtime rt(with_workers(2));
  std::atomic<int> calls{0};
  std::atomic<bool> on_worker{false};
  gate g;
  future<int> f = rt.async([&g] {
    g.pass();
    return 5;
  });
  g.wait_entered();  // pending while the callback is attached: the completer calls it
  f.on_ready([&] {
    on_worker = rt.is_current_worker();
    calls.fetch_add(1);
  });
  CHECK_THROWS_AS(f.on_ready([] {}), std::logic_error);
  g.release();
  CHECK(f.get() == 5);
  rt.wait_idle();
  CHECK(calls == 1);
  CHECK(on_worker);
}

TEST_CASE("a coroutine of a canceled group sees it" * doctest::timeout(60)) {
  runtime rt(with_workers(2));
  std::atomic<int> saw{0};
  std::atomic<bool> started{false};
  auto child = [&]() -> task<bool> { co_return co_await this_task::is_canceled(); };
  auto body = [&]() -> task<void> {
    started = true;
    started.notify_all();
    while (!co_await this_task::is_canceled())
      co_await schedule(rt);  // yields: nothing here blocks a worker
    saw.fetch_add(1);
    auto [c] = co_await when_all(child());  // the scope is inherited
    if (c) saw.fetch_add(1);
  };
  task_group tg(rt);
  tg.spawn(body());
  started.wait(false);
  tg.cancel();
  tg.wait();
  CHECK(saw == 2);
  // Outside any group: never canceled.
  CHECK_FALSE(sync_wait(rt, child()));
}

TEST_CASE("a coroutine's exception is its group's" * doctest::timeout(60)) {
  runtime rt(with_workers(2));
  task_group tg(rt);
  auto bad = []() -> task<void> {
    co_await fib(5);
    throw std::runtime_error("group coroutine");
  };
  tg.spawn(bad());
  CHECK_THROWS_WITH_AS(tg.wait(), "group coroutine", std::runtime_error);
}

TEST_CASE("schedule on a shut-down runtime throws runtime_closed in the coroutine" *
          doctest::timeout(60)) {
  runtime a(with_workers(1)), b(with_workers(1));
  b.shutdown();
  auto body = [&]() -> task<bool> {
    try {
      co_await schedule(b);
    } catch (const runtime_closed&) {
      co_return a.is_current_worker();  // still on a
    }
    co_return false;
  };
  CHECK(sync_wait(a, body()));
}

TEST_CASE("shutdown discarding unwinds suspended coroutines and counts them" *
          doctest::timeout(60)) {
  std::atomic<int> live{0};
  std::atomic<int> reported{0};
  config cfg = with_workers(1);
  cfg.on_exception = [&](std::exception_ptr) { reported.fetch_add(1); };
  runtime rt(cfg);
  gate g;
  auto blocker = [&g](tracker) -> task<void> {
    g.pass();
    co_return;
  };
  auto idle = [](tracker) -> task<void> { co_return; };
  auto parent = [&](tracker t) -> task<void> {
    // The first child runs here and holds the only worker; the second waits in the deque.
    task<void> first = blocker(t), second = idle(t);  // argument copies end here
    co_await when_all(std::move(first), std::move(second));
  };
  rt.spawn(parent(tracker(live)));
  g.wait_entered();
  constexpr int queued = 20;
  for (int i = 0; i < queued; ++i)
    rt.spawn(idle(tracker(live)));
  CHECK(live.load() == 3 + queued);
  // Past its (zero) drain time, shutdown_for discards what has not started from this thread and
  // returns with the gated task still running: the queued roots are unwound and freed here; the
  // suspended parent and its two children remain.
  const shutdown_report early = rt.shutdown_for(std::chrono::milliseconds(0));
  CHECK(early.still_running == 1);
  CHECK(live.load() == 3);
  g.release();
  const shutdown_report r = rt.shutdown();  // the parent resumes, sees runtime_closed, unwinds
  CHECK(live.load() == 0);
  CHECK(r.discarded == queued + 1);  // the roots and the parent's second child
  CHECK(r.exceptions == 0);          // being discarded is not the coroutine's failure
  CHECK(reported == 0);
}
