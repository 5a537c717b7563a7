// How idle workers spin, park and are woken: a submit after idle always finds a worker, the
// spin knob (set_spin), and latency mode, whose workers never sleep.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <stdexcept>
#include <thread>

#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using magpie::test::with_workers;

TEST_CASE("submit after idle always wakes a worker (lost wake-up probe, spin = 0)" *
          doctest::timeout(300)) {
  for (std::size_t workers : {1, 2, 4}) {
    CAPTURE(workers);
    config c = with_workers(workers);
    c.spin = std::chrono::microseconds(0);
    runtime rt(c);
    const std::size_t probes = magpie::test::scaled(5000);
    for (std::size_t i = 0; i < probes; ++i) {
      std::atomic<bool> ran{false};
      rt.submit([&ran] {
        ran.store(true);
        ran.notify_one();
      });
      ran.wait(false);  // hangs (and the doctest timeout fires) if the wake-up was lost
      if (i % 7 == 0) std::this_thread::yield();  // vary the phase of the next submit
    }
    CHECK(rt.shutdown().ran == probes);
  }
}

TEST_CASE("set_spin accepts 0 to 1 s and names the problem otherwise" * doctest::timeout(120)) {
  magpie::runtime rt(with_workers(2));
  CHECK_NOTHROW(rt.set_spin(std::chrono::microseconds(0)));
  CHECK_NOTHROW(rt.set_spin(std::chrono::seconds(1)));
  CHECK_THROWS_WITH_AS(rt.set_spin(std::chrono::microseconds(-1)), doctest::Contains("set_spin"),
                       std::invalid_argument);
  CHECK_THROWS_AS(rt.set_spin(std::chrono::seconds(2)), std::invalid_argument);
  rt.set_spin(std::chrono::microseconds(10));
  std::latch done(100);
  for (int i = 0; i < 100; ++i)
    rt.submit([&] { done.count_down(); });
  done.wait();
}

TEST_CASE("in latency mode the chosen worker never sleeps while the others do" *
          doctest::timeout(120)) {
  magpie::config c = with_workers(2, magpie::pinning::none);
  c.spin = std::chrono::microseconds(0);  // the other worker parks whenever it runs dry
  c.latency_workers = 1;
  magpie::runtime rt(c);
  for (int i = 0; i < 200; ++i) {
    std::latch done(1);
    rt.submit([&] { done.count_down(); });
    done.wait();
  }
  // With spin 0 an ordinary worker sleeps each time it runs dry (as worker 1 does at start, since
  // worker 0 already searches); the latency worker must not have slept once.
  CHECK(rt.stats().workers[0].parks == 0);
  const magpie::shutdown_report r = rt.shutdown();  // the latency worker stops searching
  CHECK(r.ran == 200);
}
