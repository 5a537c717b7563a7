// Submitting from outside under backpressure (config.max_pending): try_submit refuses, submit
// blocks until there is room or shutdown, submit_for gives up at its deadline; a worker's own
// submits never wait.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <thread>

#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using namespace std::chrono_literals;
using magpie::test::gate;
using magpie::test::with_workers;

namespace {

// A runtime whose only worker is held by a gate and whose injector is full.
struct full_runtime {
  explicit full_runtime(std::size_t max_pending) : rt(make_config(max_pending)) {
    rt.submit([this] { g.pass(); });
    g.wait_entered();
    for (std::size_t i = 0; i < max_pending; ++i)
      REQUIRE(rt.try_submit([this] { ran.fetch_add(1); }));
  }
  ~full_runtime() { g.release(); }
  static magpie::config make_config(std::size_t max_pending) {
    magpie::config c = with_workers(1);
    c.max_pending = max_pending;
    return c;
  }
  gate g;
  std::atomic<int> ran{0};
  magpie::runtime rt;
};

}  // namespace

TEST_CASE("try_submit refuses once max_pending tasks are queued, and leaves f untouched" *
          doctest::timeout(120)) {
  config c = with_workers(1);
  c.max_pending = 10;
  runtime rt(c);
  gate g;
  g.occupy(rt);
  std::atomic<int> count{0};
  for (int i = 0; i < 10; ++i)
    CHECK(rt.try_submit([&] { count.fetch_add(1); }));
  auto probe = std::make_shared<int>(5);
  auto f = [probe, &count] { count.fetch_add(*probe); };
  CHECK_FALSE(rt.try_submit(std::move(f)));
  CHECK(probe.use_count() == 2);  // f was not moved from
  g.release();
  rt.submit(f);  // blocks until there is room, then goes in
  rt.shutdown();
  CHECK(count.load() == 15);
}

TEST_CASE("a worker submitting to its own runtime never blocks on a full injector" *
          doctest::timeout(120)) {
  config c = with_workers(1);
  c.max_pending = 1;
  runtime rt(c);
  std::atomic<int> count{0};
  task_group g(rt);
  g.spawn([&] {
    for (int i = 0; i < 1000; ++i)
      rt.submit([&] { count.fetch_add(1); });
  });
  g.wait();
  rt.shutdown();
  CHECK(count.load() == 1000);
}

TEST_CASE("a submit blocked on a full injector gives up with runtime_closed at shutdown" *
          doctest::timeout(120)) {
  config c;
  c.workers = 1;
  c.max_pending = 1;
  runtime rt(c);
  std::atomic<bool> open{false}, entered{false};
  rt.submit([&] {
    entered.store(true);
    entered.notify_one();
    open.wait(false);
  });
  entered.wait(false);
  rt.submit([] {});  // fills the injector
  std::atomic<bool> threw{false};
  std::thread blocked([&] {
    try {
      rt.submit([] {});  // no room: blocks until shutdown closes the runtime
    } catch (const runtime_closed&) {
      threw.store(true);
    }
  });
  std::thread closer([&] { rt.shutdown(); });
  blocked.join();  // returns only through the runtime_closed path (nothing else frees room)
  open.store(true);
  open.notify_one();
  closer.join();
  CHECK(threw.load());
}

TEST_CASE("submit_for gives up on a full injector after its timeout, leaving f untouched" *
          doctest::timeout(120)) {
  full_runtime f(4);
  auto probe = std::make_shared<int>(1);
  auto task = [probe] {};
  CHECK_FALSE(f.rt.submit_for(std::move(task), 20ms));
  CHECK(probe.use_count() == 2);  // not moved from
  CHECK_FALSE(f.rt.submit_for([] {}, 0ms));
  CHECK_FALSE(f.rt.submit_for([] {}, -5ms));
}

TEST_CASE("submit_for goes in once room appears before its deadline" * doctest::timeout(120)) {
  full_runtime f(4);
  std::thread opener([&] { f.g.release(); });
  CHECK(f.rt.submit_for([&] { f.ran.fetch_add(1); }, 60s));
  opener.join();
  f.rt.shutdown();
  CHECK(f.ran.load() == 5);
}

TEST_CASE("submit_for on a worker never waits, even with a full injector" * doctest::timeout(120)) {
  magpie::config c = with_workers(1);
  c.max_pending = 2;
  magpie::runtime rt(c);
  gate g;
  std::atomic<bool> accepted{false};
  std::latch done(1);
  rt.submit([&] {
    g.pass();
    accepted.store(rt.submit_for([] {}, 0ms));  // to this worker's own deque
    done.count_down();
  });
  g.wait_entered();
  REQUIRE(rt.try_submit([] {}));
  REQUIRE(rt.try_submit([] {}));
  REQUIRE_FALSE(rt.try_submit([] {}));  // full
  g.release();
  done.wait();
  CHECK(accepted.load());
}

TEST_CASE("submit_for after shutdown throws runtime_closed; huge timeouts do not overflow" *
          doctest::timeout(120)) {
  magpie::runtime rt(with_workers(1));
  std::latch done(1);
  CHECK(rt.submit_for([&] { done.count_down(); }, std::chrono::hours::max()));
  done.wait();
  rt.shutdown();
  CHECK_THROWS_AS(rt.submit_for([] {}, 1s), magpie::runtime_closed);
}
