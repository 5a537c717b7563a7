#include "magpie/future.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "magpie/coro.hpp"
#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using magpie::test::gate;
using magpie::test::with_workers;

namespace {

std::uint64_t fib(runtime& rt, int n) {
  if (n < 2) return static_cast<std::uint64_t>(n);
  future<std::uint64_t> a = rt.async([&rt, n] { return fib(rt, n - 1); });
  const std::uint64_t b = fib(rt, n - 2);
  return a.get() + b;  // helps: a's task may be right behind us in this worker's deque
}

}  // namespace

TEST_CASE("get from an outside thread returns the task's value" * doctest::timeout(120)) {
  runtime rt(with_workers(2));
  future<int> f = rt.async([] { return 6 * 7; });
  CHECK(f.valid());
  CHECK(f.get() == 42);
  CHECK_FALSE(f.valid());
  CHECK_FALSE(f.ready());
}

TEST_CASE("a future carries move-only values and void" * doctest::timeout(120)) {
  runtime rt(with_workers(2));
  future<std::unique_ptr<std::string>> s =
      rt.async([] { return std::make_unique<std::string>("moved"); });
  CHECK(*s.get() == "moved");
  std::atomic<bool> ran{false};
  future<void> v = rt.async([&] { ran.store(true); });
  v.get();
  CHECK(ran.load());
}

TEST_CASE("get rethrows the task's exception, once" * doctest::timeout(120)) {
  runtime rt(with_workers(2));
  future<int> f = rt.async([]() -> int { throw std::out_of_range("no such thing"); });
  f.wait();
  CHECK(f.ready());
  CHECK_THROWS_WITH_AS(f.get(), "no such thing", std::out_of_range);
  CHECK_THROWS_AS(f.get(), std::logic_error);  // no result left
  const shutdown_report r = rt.shutdown();
  CHECK(r.exceptions == 0);  // delivered through the future, not to on_exception
}

TEST_CASE("recursive async on one worker does not deadlock: get helps" * doctest::timeout(120)) {
  runtime rt(with_workers(1));
  future<std::uint64_t> f = rt.async([&rt] { return fib(rt, 20); });
  CHECK(f.get() == 6765);
}

TEST_CASE("recursive async on several workers gives the serial result" * doctest::timeout(120)) {
  runtime rt(with_workers(4));
  CHECK(rt.async([&rt] { return fib(rt, 22); }).get() == 17711);
}

TEST_CASE("wait_for and ready report a result that is not there yet" * doctest::timeout(120)) {
  runtime rt(with_workers(1));
  gate gt;
  future<int> f = rt.async([&] {
    gt.pass();
    return 1;
  });
  gt.wait_entered();
  CHECK_FALSE(f.ready());
  CHECK_FALSE(f.wait_for(std::chrono::milliseconds(2)));
  gt.release();
  CHECK(f.wait_for(std::chrono::hours(1)));
  CHECK(f.ready());
  CHECK(f.get() == 1);
}

TEST_CASE("a dropped future does not wait, and its task still runs" * doctest::timeout(120)) {
  runtime rt(with_workers(1));
  gate gt;
  std::latch ran(1);
  {
    future<void> f = rt.async([&] {
      gt.pass();
      ran.count_down();
    });
    gt.wait_entered();
  }  // dropped while the task is held
  gt.release();
  ran.wait();
}

TEST_CASE("a default-constructed future has no result" * doctest::timeout(120)) {
  future<int> f;
  CHECK_FALSE(f.valid());
  CHECK_FALSE(f.ready());
  CHECK_THROWS_AS(f.wait(), std::logic_error);
  CHECK_THROWS_AS(static_cast<void>(f.wait_for(std::chrono::seconds(1))), std::logic_error);
  CHECK_THROWS_WITH_AS(f.get(),
                       "magpie::future::get: no result here (default-constructed, moved from, or "
                       "get() already called)",
                       std::logic_error);
}

TEST_CASE("async after shutdown throws runtime_closed" * doctest::timeout(120)) {
  runtime rt(with_workers(1));
  rt.shutdown();
  CHECK_THROWS_AS(static_cast<void>(rt.async([] { return 1; })), runtime_closed);
}

TEST_CASE("async rejects an empty callable" * doctest::timeout(120)) {
  runtime rt(with_workers(1));
  int (*none)() = nullptr;
  CHECK_THROWS_WITH_AS(static_cast<void>(rt.async(none)), "magpie::runtime::async: empty callable",
                       std::invalid_argument);
}

TEST_CASE("a task discarded by shutdown(cancel) makes get throw runtime_closed" *
          doctest::timeout(120)) {
  runtime rt(with_workers(1));
  gate gt;
  gt.occupy(rt);
  future<int> f = rt.async([] { return 1; });  // queued behind the held task
  std::thread stopper([&] { rt.shutdown(shutdown_mode::cancel); });
  while (rt.try_submit([] {})) {
    // shutdown has not closed the runtime yet; these are discarded with the rest
  }
  gt.release();
  CHECK_THROWS_AS(f.get(), runtime_closed);
  stopper.join();
}

TEST_CASE("get on a worker of another runtime waits without helping that runtime" *
          doctest::timeout(120)) {
  runtime a(with_workers(1));
  runtime b(with_workers(1));
  future<int> inner;
  future<int> outer = a.async([&b] { return b.async([] { return 5; }).get() + 1; });
  CHECK(outer.get() == 6);
}

TEST_CASE("then runs on a worker with the ready future and chains" * doctest::timeout(60)) {
  runtime rt(with_workers(2));
  future<int> f = rt.async([] { return 20; });
  future<int> g = f.then([&rt](future<int> x) {
    CHECK(rt.is_current_worker());
    return x.get() * 2;
  });
  CHECK_FALSE(f.valid());  // consumed
  future<std::string> h = g.then([](future<int> x) { return std::to_string(x.get() + 2); });
  CHECK(h.get() == "42");
  future<void> bad = rt.async([] { throw std::runtime_error("first"); });
  future<int> caught = bad.then([](future<void> x) {
    try {
      x.get();
    } catch (const std::runtime_error& e) {
      return static_cast<int>(std::string(e.what()).size());
    }
    return 0;
  });
  CHECK(caught.get() == 5);
  gate held;
  future<int> twice = rt.async([&held] {
    held.pass();
    return 1;
  });
  held.wait_entered();  // pending: the callback below stays attached until the release
  twice.on_ready([] {});
  CHECK_THROWS_AS(twice.then([](future<int>) { return 0; }), std::logic_error);
  held.release();
  CHECK(twice.get() == 1);
}

TEST_CASE("promise: set from any thread, once; broken when dropped" * doctest::timeout(60)) {
  runtime rt(with_workers(2));
  promise<int> p(rt);
  future<int> f = p.get_future();
  CHECK_THROWS_AS(p.get_future(), std::logic_error);
  std::thread setter([&p] { p.set_value(7); });
  CHECK(f.get() == 7);
  setter.join();
  CHECK_THROWS_AS(p.set_value(8), std::logic_error);
  CHECK_THROWS_AS(p.set_exception(nullptr), std::logic_error);

  future<void> broken;
  {
    promise<void> q(rt);
    broken = q.get_future();
  }
  CHECK_THROWS_AS(broken.get(), std::future_error);

  promise<std::string> e(rt);
  future<std::string> fe = e.get_future();
  e.set_exception(std::make_exception_ptr(std::runtime_error("set")));
  CHECK_THROWS_WITH_AS(fe.get(), "set", std::runtime_error);
}

TEST_CASE("a promise's future is awaited by a coroutine without holding a worker" *
          doctest::timeout(60)) {
  runtime rt(with_workers(1));
  promise<int> p(rt);
  auto waiter = [](future<int> f) -> task<int> { co_return co_await std::move(f) + 1; };
  std::thread setter;
  auto body = [&]() -> task<int> {
    task<int> w = waiter(p.get_future());
    // The only worker suspends in the co_await; the outside thread completes the promise.
    setter = std::thread([&p] { p.set_value(41); });
    co_return co_await std::move(w);
  };
  CHECK(sync_wait(rt, body()) == 42);
  setter.join();
}

TEST_CASE("shared_future: several threads read the one value" * doctest::timeout(60)) {
  runtime rt(with_workers(2));
  gate g;
  shared_future<std::string> s = rt.async([&g] {
                                     g.pass();
                                     return std::string("shared");
                                   }).share();
  shared_future<std::string> copy = s;
  std::atomic<int> same{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&s, &same] {
      const std::string& v = s.get();
      if (v == "shared" && &v == &s.get()) same.fetch_add(1);
    });
  }
  g.wait_entered();
  CHECK_FALSE(copy.wait_for(std::chrono::milliseconds(1)));
  g.release();
  for (auto& t : readers)
    t.join();
  CHECK(same == 4);
  CHECK(copy.get() == "shared");
  CHECK(copy.wait_until(std::chrono::steady_clock::now()));
}

TEST_CASE("when_all and when_any over futures" * doctest::timeout(60)) {
  runtime rt(with_workers(2));
  gate g;
  future<int> slow = rt.async([&g] {
    g.pass();
    return 1;
  });
  future<std::string> fast = rt.async([] { return std::string("fast"); });
  future<when_any_result<int, std::string>> any = when_any(std::move(slow), std::move(fast));
  when_any_result<int, std::string> first = any.get();  // the slow one is held in the gate
  CHECK(first.index == 1);
  CHECK(std::get<1>(first.futures).get() == "fast");
  // Until it is ready, a loser keeps when_any's callback: it can be waited for, not combined.
  CHECK_THROWS_AS(when_all(std::move(std::get<0>(first.futures))), std::logic_error);
  g.release();
  future<int> one = rt.async([] { return 1; });
  future<void> fails = rt.async([] { throw std::runtime_error("one failed"); });
  auto all = when_all(std::move(one), std::move(fails));
  auto [a, b] = all.get();
  CHECK(a.get() == 1);
  CHECK_THROWS_WITH_AS(b.get(), "one failed", std::runtime_error);
  future<int> invalid;
  CHECK_THROWS_AS(when_all(std::move(invalid)), std::logic_error);
}

TEST_CASE("future::wait_until gives up at the deadline" * doctest::timeout(60)) {
  runtime rt(with_workers(1));
  gate g;
  future<int> f = rt.async([&g] {
    g.pass();
    return 3;
  });
  g.wait_entered();
  CHECK_FALSE(f.wait_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(2)));
  g.release();
  CHECK(f.wait_until(std::chrono::system_clock::now() + std::chrono::hours(1)));
  CHECK(f.get() == 3);
}
