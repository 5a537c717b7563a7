// shutdown_for, shutdown(cancel) and config.on_discard.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "magpie/magpie.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using magpie::priority;
using magpie::test::gate;
using magpie::test::with_workers;

}  // namespace

TEST_CASE("shutdown_for drains everything that finishes before the deadline" *
          doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2));
  std::atomic<int> count{0};
  for (int i = 0; i < 5000; ++i)
    rt.submit([&] { count.fetch_add(1); });
  const magpie::shutdown_report r = rt.shutdown_for(60s);
  CHECK(count.load() == 5000);
  CHECK(r.ran == 5000);
  CHECK(r.discarded == 0);
  CHECK(r.still_running == 0);
}

TEST_CASE("past its deadline shutdown_for discards the rest and reports a stuck task" *
          doctest::timeout(120)) {
  std::array<std::atomic<int>, 3> discarded_by_lane{};
  magpie::config c = with_workers(1);
  c.on_discard = [&](priority p) { discarded_by_lane[static_cast<std::size_t>(p)].fetch_add(1); };
  magpie::runtime rt(c);
  gate g;
  g.occupy(rt);  // the only worker is stuck until the test releases it
  std::atomic<int> ran{0};
  for (int i = 0; i < 30; ++i)
    rt.submit([&] { ran.fetch_add(1); }, static_cast<priority>(i % 3));
  magpie::task_group group(rt, priority::low);
  for (int i = 0; i < 10; ++i)
    group.spawn([&] { ran.fetch_add(1); });

  const magpie::shutdown_report early = rt.shutdown_for(10ms);
  CHECK(early.still_running == 1);
  CHECK(early.discarded == 40);
  CHECK(early.ran == 0);
  CHECK(discarded_by_lane[0].load() == 10);
  CHECK(discarded_by_lane[1].load() == 10);
  CHECK(discarded_by_lane[2].load() == 20);
  CHECK(group.is_canceled());
  // The tasks queued behind the stuck worker were discarded by this thread, not a worker: the
  // snapshot counts them too, so it agrees with the report.
  const magpie::runtime_stats st = rt.stats();
  std::uint64_t by_workers = 0;
  for (const magpie::worker_stats& w : st.workers)
    by_workers += w.discarded;
  CHECK(st.discarded_by_shutdown == 40);
  CHECK(st.discarded_by_shutdown + by_workers == early.discarded);
  CHECK(magpie::to_json(st).find("\"discarded_by_shutdown\":40") != std::string::npos);
  CHECK(magpie::to_prometheus(st).find("\nmagpie_tasks_discarded_by_shutdown_total 40\n") !=
        std::string::npos);

  g.release();
  const magpie::shutdown_report last = rt.shutdown();  // joins; final counts
  CHECK(last.ran == 1);
  CHECK(last.discarded == 40);
  CHECK(last.still_running == 0);
  CHECK(ran.load() == 0);
  group.wait();  // everything was accounted for: the group's count is zero
}

TEST_CASE("shutdown(cancel) passes every discarded task's lane to on_discard" *
          doctest::timeout(120)) {
  std::atomic<int> seen{0};
  magpie::config c = with_workers(1);
  c.on_discard = [&](priority p) {
    CHECK(p == priority::high);
    seen.fetch_add(1);
  };
  magpie::runtime rt(c);
  gate g;
  g.occupy(rt);
  for (int i = 0; i < 25; ++i)
    rt.submit([] {}, priority::high);
  magpie::shutdown_report r;
  std::thread closer([&] { r = rt.shutdown(magpie::shutdown_mode::cancel); });
  int accepted = 0;  // try_submit fails once shutdown closed the runtime (after the cancel flag)
  while (rt.try_submit([] {}, priority::high))
    ++accepted;
  g.release();
  closer.join();
  CHECK(r.discarded == 25 + accepted);
  CHECK(seen.load() == 25 + accepted);
}

TEST_CASE("an on_discard handler that throws does not stop the discarding" *
          doctest::timeout(120)) {
  std::atomic<int> calls{0};
  magpie::config c = with_workers(1);
  c.on_discard = [&](priority) {
    calls.fetch_add(1);
    throw std::runtime_error("on_discard failed");
  };
  magpie::runtime rt(c);
  gate g;
  g.occupy(rt);
  for (int i = 0; i < 10; ++i)
    rt.submit([] {});
  magpie::shutdown_report r;
  std::thread closer([&] { r = rt.shutdown(magpie::shutdown_mode::cancel); });
  int accepted = 0;
  while (rt.try_submit([] {}))
    ++accepted;
  g.release();
  closer.join();
  CHECK(r.discarded == 10 + accepted);
  CHECK(calls.load() == 10 + accepted);
}

TEST_CASE("after shutdown began a worker's try_submit is refused and its spawns still run" *
          doctest::timeout(60)) {
  magpie::runtime rt(with_workers(1));
  gate gt;
  std::atomic<bool> try_submit_refused{false};
  std::atomic<int> spawned_ran{0};
  rt.submit([&] {
    gt.pass();  // shutdown starts while this task waits here
    while (!try_submit_refused.load()) {
      if (!rt.try_submit([] {})) try_submit_refused.store(true);
    }
    magpie::task_group g(rt);
    for (int i = 0; i < 10; ++i)
      g.spawn([&] { spawned_ran.fetch_add(1); });
    g.wait();
  });
  gt.wait_entered();
  std::thread closer([&] { rt.shutdown(); });
  gt.release();
  closer.join();
  CHECK(try_submit_refused.load());
  CHECK(spawned_ran.load() == 10);
}
