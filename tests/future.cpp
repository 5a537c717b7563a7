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

TEST_CASE("get from an outside thread returns the task's value") {
  runtime rt(with_workers(2));
  future<int> f = rt.async([] { return 6 * 7; });
  CHECK(f.valid());
  CHECK(f.get() == 42);
  CHECK_FALSE(f.valid());
  CHECK_FALSE(f.ready());
}

TEST_CASE("a future carries move-only values and void") {
  runtime rt(with_workers(2));
  future<std::unique_ptr<std::string>> s =
      rt.async([] { return std::make_unique<std::string>("moved"); });
  CHECK(*s.get() == "moved");
  std::atomic<bool> ran{false};
  future<void> v = rt.async([&] { ran.store(true); });
  v.get();
  CHECK(ran.load());
}

TEST_CASE("get rethrows the task's exception, once") {
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

TEST_CASE("wait_for and ready report a result that is not there yet") {
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

TEST_CASE("a dropped future does not wait, and its task still runs") {
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

TEST_CASE("a default-constructed future has no result") {
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

TEST_CASE("async after shutdown throws runtime_closed") {
  runtime rt(with_workers(1));
  rt.shutdown();
  CHECK_THROWS_AS(static_cast<void>(rt.async([] { return 1; })), runtime_closed);
}

TEST_CASE("async rejects an empty callable") {
  runtime rt(with_workers(1));
  int (*none)() = nullptr;
  CHECK_THROWS_WITH_AS(static_cast<void>(rt.async(none)), "magpie::runtime::async: empty callable",
                       std::invalid_argument);
}

TEST_CASE("a task discarded by shutdown(cancel) makes get throw runtime_closed") {
  runtime rt(with_workers(1));
  gate gt;
  rt.submit([&] { gt.pass(); });
  gt.wait_entered();
  future<int> f = rt.async([] { return 1; });  // queued behind the held task
  std::thread stopper([&] { rt.shutdown(shutdown_mode::cancel); });
  while (rt.try_submit([] {})) {
    // shutdown has not closed the runtime yet; these are discarded with the rest
  }
  gt.release();
  CHECK_THROWS_AS(f.get(), runtime_closed);
  stopper.join();
}

TEST_CASE("get on a worker of another runtime waits without helping that runtime") {
  runtime a(with_workers(1));
  runtime b(with_workers(1));
  future<int> inner;
  future<int> outer = a.async([&b] { return b.async([] { return 5; }).get() + 1; });
  CHECK(outer.get() == 6);
}
