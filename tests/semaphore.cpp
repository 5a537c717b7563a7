// magpie::semaphore: the capacity is never exceeded, waiting tasks are served FIFO, units come
// back on exceptions and cancellation, groups wait for tasks still waiting for units, shutdown
// runs or discards waiting tasks and counts each once.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "coro_support.hpp"
#include "magpie/magpie.hpp"
#include "test_support.hpp"

namespace {

using magpie::test::gate;
using magpie::test::scaled;
using magpie::test::shutdown_behind;
using magpie::test::tracker;
using magpie::test::with_workers;

}  // namespace

TEST_CASE("bad input is refused at the call" * doctest::timeout(60)) {
  magpie::runtime rt(with_workers(1));
  CHECK_THROWS_AS(magpie::semaphore(rt, 0), std::invalid_argument);
  CHECK_THROWS_AS(magpie::semaphore(rt, std::size_t{1} << 31), std::invalid_argument);
  magpie::semaphore sem(rt, 3);
  CHECK_THROWS_WITH_AS(sem.submit(4, [] {}),
                       doctest::Contains("magpie::semaphore::submit: the weight must be between 1"),
                       std::invalid_argument);
  CHECK_THROWS_AS(sem.submit(0, [] {}), std::invalid_argument);
  magpie::task_group g(rt);
  CHECK_THROWS_WITH_AS(sem.spawn(g, 9, [] {}), doctest::Contains("magpie::semaphore::spawn"),
                       std::invalid_argument);
  void (*null_fn)() = nullptr;
  CHECK_THROWS_AS(sem.submit(1, null_fn), std::invalid_argument);
  CHECK_THROWS_WITH_AS(sem.set_capacity(0), doctest::Contains("magpie::semaphore::set_capacity"),
                       std::invalid_argument);
  CHECK(sem.capacity() == 3);
  CHECK(sem.available() == 3);
  CHECK(sem.waiting() == 0);
  magpie::runtime other(with_workers(1));
  magpie::task_group foreign(other);
  CHECK_THROWS_AS(sem.spawn(foreign, 1, [] {}), std::invalid_argument);
}

TEST_CASE("the capacity is never exceeded, and every task runs once" * doctest::timeout(120)) {
  for (std::size_t workers : {1, 2, 4, 8}) {
    CAPTURE(workers);
    magpie::runtime rt(with_workers(workers));
    constexpr std::size_t capacity = 5;
    magpie::semaphore sem(rt, capacity);
    std::atomic<std::size_t> in_flight{0};
    std::atomic<std::size_t> over{0};
    std::atomic<std::size_t> ran{0};
    const std::size_t per_producer = scaled(20000);
    auto body = [&](std::size_t w) {
      return [&, w] {
        const std::size_t now = in_flight.fetch_add(w) + w;
        if (now > capacity) over.fetch_add(1);
        for (int i = 0; i < 20; ++i)
          (void)in_flight.load();  // a little work while holding the units
        in_flight.fetch_sub(w);
        ran.fetch_add(1);
      };
    };
    std::vector<std::thread> producers;
    for (std::size_t p = 0; p < 4; ++p) {
      producers.emplace_back([&, p] {
        for (std::size_t i = 0; i < per_producer; ++i) {
          const std::size_t w = 1 + (i * 7 + p) % 4;
          if (i % 3 == 0) {
            // From a worker too: a task that submits a weighted follow-up.
            rt.submit([&, w] { sem.submit(w, body(w)); });
          } else {
            sem.submit(w, body(w));
          }
        }
      });
    }
    for (auto& t : producers)
      t.join();
    rt.wait_idle();
    CHECK(over.load() == 0);
    CHECK(ran.load() == 4 * per_producer);
    CHECK(sem.available() == capacity);
    CHECK(sem.waiting() == 0);
  }
}

TEST_CASE("a heavy waiter at the head is not overtaken by lighter ones" * doctest::timeout(60)) {
  magpie::runtime rt(with_workers(2));
  magpie::semaphore sem(rt, 4);
  gate hold;
  sem.submit(1, [&] { hold.pass(); });  // holds 1 of the 4 units
  hold.wait_entered();
  std::mutex mu;
  std::vector<int> order;
  sem.submit(4, [&] {
    std::lock_guard lock(mu);
    order.push_back(-1);
  });
  for (int i = 0; i < 10; ++i) {
    sem.submit(1, [&, i] {
      std::lock_guard lock(mu);
      order.push_back(i);
    });
  }
  // Three units are free, yet nothing behind the heavy head may take them.
  CHECK(sem.available() == 3);
  CHECK(sem.waiting() == 11);
  const magpie::runtime_stats st = rt.stats();
  CHECK(st.semaphore_waiting == 11);
  CHECK(magpie::to_json(st).find("\"semaphore_waiting\":11,") != std::string::npos);
  CHECK(magpie::to_prometheus(st).find("\nmagpie_semaphore_waiting_tasks 11\n") !=
        std::string::npos);
  hold.release();
  rt.wait_idle();
  REQUIRE(order.size() == 11);
  CHECK(order.front() == -1);
  CHECK(sem.waiting() == 0);
  CHECK(rt.stats().semaphore_waiting == 0);
}

TEST_CASE("units come back when a task throws" * doctest::timeout(60)) {
  std::atomic<int> reported{0};
  magpie::config c = with_workers(2);
  c.on_exception = [&](std::exception_ptr) { reported.fetch_add(1); };
  magpie::runtime rt(c);
  magpie::semaphore sem(rt, 2);
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) {
    sem.submit(2, [&, i] {
      ran.fetch_add(1);
      if (i % 2 == 0) throw std::runtime_error("boom");
    });
  }
  rt.wait_idle();
  CHECK(ran.load() == 100);
  CHECK(reported.load() == 50);
  CHECK(sem.available() == 2);

  magpie::task_group g(rt);
  for (int i = 0; i < 10; ++i)
    sem.spawn(g, 1, [] { throw std::runtime_error("group"); });
  CHECK_THROWS_AS(g.wait(), std::runtime_error);
  CHECK(sem.available() == 2);
}

TEST_CASE("a group waits for its tasks still waiting for units; cancel returns them" *
          doctest::timeout(60)) {
  magpie::runtime rt(with_workers(2));
  magpie::semaphore sem(rt, 2);
  gate hold;
  sem.submit(2, [&] { hold.pass(); });
  hold.wait_entered();
  std::atomic<int> ran{0};
  {
    magpie::task_group g(rt);
    for (int i = 0; i < 20; ++i)
      sem.spawn(g, 1 + i % 2, [&] { ran.fetch_add(1); });
    CHECK(sem.waiting() == 20);
    CHECK_FALSE(g.wait_for(std::chrono::milliseconds(1)));  // they wait for units
    hold.release();
    g.wait();
    CHECK(ran.load() == 20);
  }
  gate hold2;
  sem.submit(2, [&] { hold2.pass(); });
  hold2.wait_entered();
  magpie::task_group g(rt);
  for (int i = 0; i < 20; ++i)
    sem.spawn(g, 1, [&] { ran.fetch_add(1); });
  g.cancel();
  hold2.release();
  g.wait();
  CHECK(ran.load() == 20);  // every one skipped
  rt.wait_idle();
  CHECK(sem.available() == 2);
  CHECK(sem.waiting() == 0);
  CHECK(rt.shutdown().canceled == 20);
}

TEST_CASE("set_capacity: growing starts waiting tasks, shrinking below a waiter is refused" *
          doctest::timeout(60)) {
  magpie::runtime rt(with_workers(2));
  magpie::semaphore sem(rt, 1);
  gate hold;
  sem.submit(1, [&] { hold.pass(); });
  hold.wait_entered();
  std::latch started(3);
  for (int i = 0; i < 3; ++i)
    sem.submit(1, [&] { started.count_down(); });
  CHECK(sem.waiting() == 3);
  sem.set_capacity(4);  // the three fit beside the held unit
  started.wait();
  hold.release();
  rt.wait_idle();
  CHECK(sem.available() == 4);

  gate hold2;
  sem.submit(4, [&] { hold2.pass(); });
  hold2.wait_entered();
  sem.submit(3, [] {});
  CHECK_THROWS_WITH_AS(sem.set_capacity(2), doctest::Contains("below the weight of a waiting task"),
                       std::invalid_argument);
  sem.set_capacity(3);  // lower: takes effect as units come back
  CHECK(sem.available() == 0);
  hold2.release();
  rt.wait_idle();
  CHECK(sem.available() == 3);
  CHECK_THROWS_AS(sem.submit(4, [] {}), std::invalid_argument);
}

TEST_CASE(
    "many producers, set_capacity moving and a racing shutdown: each task once, within "
    "the capacity" *
    doctest::timeout(300)) {
  constexpr std::size_t producers = 4;
  constexpr std::size_t high = 8;  // the highest capacity set; every task checks against it
  const std::size_t per_producer = scaled(5000);
  for (int round = 0; round < 6; ++round) {
    CAPTURE(round);
    const bool cancel = round % 2 == 1;
    magpie::runtime rt(with_workers(1 + round % 3));
    magpie::semaphore sem(rt, high);
    std::vector<std::atomic<std::uint8_t>> runs(producers * per_producer);
    std::atomic<std::size_t> in_flight{0};
    std::atomic<std::size_t> over{0};
    std::atomic<std::size_t> refused{0};
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> finished{0};  // producers done submitting
    std::vector<std::thread> threads;
    for (std::size_t p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        for (std::size_t i = 0; i < per_producer; ++i) {
          const std::size_t id = p * per_producer + i;
          const std::size_t w = 1 + (i * 5 + p) % 4;
          try {
            sem.submit(w, [&, id, w] {
              if (in_flight.fetch_add(w) + w > high) over.fetch_add(1);
              runs[id].fetch_add(1);
              in_flight.fetch_sub(w);
            });
          } catch (const magpie::runtime_closed&) {
            refused.fetch_add(1);
          } catch (const std::invalid_argument&) {  // above a lowered capacity
            refused.fetch_add(1);
          }
        }
        finished.fetch_add(1);
      });
    }
    threads.emplace_back([&] {  // moves the capacity; refused below a waiting task's weight
      for (std::size_t k = 0; !stop.load(); ++k) {
        try {
          sem.set_capacity(k % 3 == 0 ? 2 : (k % 3 == 1 ? 4 : high));
        } catch (const std::invalid_argument&) {
        } catch (const magpie::runtime_closed&) {  // lowering after shutdown began
        }
        std::this_thread::yield();
      }
    });
    // Shut down while the producers may still be submitting.
    while (sem.waiting() == 0 && refused.load() == 0 && finished.load() < producers)
      std::this_thread::yield();
    const magpie::shutdown_report r =
        rt.shutdown(cancel ? magpie::shutdown_mode::cancel : magpie::shutdown_mode::drain);
    for (std::size_t p = 0; p < producers; ++p)
      threads[p].join();
    stop.store(true);
    threads.back().join();
    std::size_t ran = 0, twice = 0;
    for (auto& n : runs) {
      ran += n.load();
      twice += n.load() > 1 ? 1 : 0;
    }
    CHECK(over.load() == 0);
    CHECK(twice == 0);
    CHECK(r.ran == ran);
    if (cancel) {
      CHECK(r.ran + r.discarded == producers * per_producer - refused.load());
    } else {
      CHECK(ran + refused.load() == producers * per_producer);  // the drain ran every one
      CHECK(r.discarded == 0);
    }
    CHECK(sem.waiting() == 0);
    sem.set_capacity(high);
    CHECK(sem.available() == high);
  }
}

TEST_CASE("shutdown(drain) runs the tasks waiting for units" * doctest::timeout(60)) {
  magpie::runtime rt(with_workers(2));
  magpie::semaphore sem(rt, 3);
  gate hold;
  sem.submit(3, [&] { hold.pass(); });
  hold.wait_entered();
  std::atomic<int> ran{0};
  for (int i = 0; i < 200; ++i)
    sem.submit(1 + i % 3, [&] { ran.fetch_add(1); });
  const auto [r, probes] = shutdown_behind(hold, rt);
  CHECK(ran.load() == 200);
  CHECK(r.ran == 201 + probes);
  CHECK(r.discarded == 0);
  CHECK(sem.waiting() == 0);
  CHECK(sem.available() == 3);
  CHECK_THROWS_AS(sem.submit(1, [] {}), magpie::runtime_closed);
}

TEST_CASE("shutdown(cancel) discards the tasks waiting for units, counting each once" *
          doctest::timeout(60)) {
  std::atomic<int> discards{0};
  magpie::config c = with_workers(2);
  c.on_discard = [&](magpie::priority) { discards.fetch_add(1); };
  magpie::runtime rt(c);
  magpie::semaphore sem(rt, 3);
  gate hold;
  sem.submit(3, [&] { hold.pass(); });
  hold.wait_entered();
  std::atomic<int> ran{0};
  magpie::task_group g(rt);
  for (int i = 0; i < 200; ++i) {
    if (i % 2 == 0) {
      sem.submit(1 + i % 3, [&] { ran.fetch_add(1); });
    } else {
      sem.spawn(g, 1 + i % 3, [&] { ran.fetch_add(1); });
    }
  }
  const auto [r, probes] = shutdown_behind(hold, rt, magpie::shutdown_mode::cancel);
  CHECK(ran.load() == 0);
  // The gate task ran; the probes ran or were discarded; every waiting task was discarded.
  CHECK(r.ran + r.discarded == 1 + 200 + probes);
  CHECK(r.discarded >= 200);
  CHECK(discards.load() == r.discarded);
  g.wait();  // returns: every task of the group was accounted for
  CHECK(sem.waiting() == 0);
  CHECK(sem.available() == 3);
}

TEST_CASE("a semaphore destroyed with tasks waiting waits for them" * doctest::timeout(60)) {
  magpie::runtime rt(with_workers(1));
  std::atomic<int> ran{0};
  {
    magpie::semaphore sem(rt, 1);
    for (int i = 0; i < 1000; ++i)
      sem.submit(1, [&] { ran.fetch_add(1); });
  }
  CHECK(ran.load() == 1000);
  // On a worker: the destructor runs the waiting tasks itself (one worker, nobody else could).
  rt.submit([&] {
    magpie::semaphore sem(rt, 1);
    for (int i = 0; i < 100; ++i)
      sem.submit(1, [&] { ran.fetch_add(1); });
  });
  rt.wait_idle();
  CHECK(ran.load() == 1100);
}

TEST_CASE("past shutdown_for's deadline, shutdown's own thread discards the waiting tasks" *
          doctest::timeout(60)) {
  magpie::runtime rt(with_workers(1));
  magpie::semaphore sem(rt, 2);
  gate hold;
  hold.occupy(rt);  // the only worker is stuck: the queues are shutdown's
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i)
    sem.submit(1, [&] { ran.fetch_add(1); });  // two hold units in the injector, 98 wait
  CHECK(sem.waiting() == 98);
  const magpie::shutdown_report early = rt.shutdown_for(std::chrono::milliseconds(1));
  CHECK(early.still_running == 1);
  CHECK(sem.waiting() == 0);
  CHECK(sem.available() == 2);
  hold.release();
  const magpie::shutdown_report r = rt.shutdown();
  CHECK(ran.load() == 0);
  CHECK(r.ran == 1);
  CHECK(r.discarded == 100);
}

// --- Coroutines: co_await sem.acquire(w) ---

namespace {

void wait_waiting(const magpie::semaphore& sem, std::size_t n) {
  while (sem.waiting() != n)
    std::this_thread::yield();
}

}  // namespace

TEST_CASE("acquire: free units come at once; the guard gives them back, also early" *
          doctest::timeout(60)) {
  magpie::runtime rt(with_workers(2));
  magpie::semaphore sem(rt, 5);
  auto body = [&]() -> magpie::task<std::size_t> {
    magpie::semaphore_units a = co_await sem.acquire(2);
    CHECK(a.weight() == 2);
    CHECK(sem.available() == 3);
    {
      auto b = co_await sem.acquire(3);
      CHECK(sem.available() == 0);
      a = std::move(b);  // gives a's 2 back, takes b's 3
      CHECK_FALSE(b);
      CHECK(sem.available() == 2);
    }
    CHECK(a.weight() == 3);
    a.release();
    CHECK_FALSE(a);
    co_return sem.available();
  };
  CHECK(magpie::sync_wait(rt, body()) == 5);
  CHECK_THROWS_WITH_AS((void)sem.acquire(6), doctest::Contains("magpie::semaphore::acquire"),
                       std::invalid_argument);
  CHECK_THROWS_AS((void)sem.acquire(0), std::invalid_argument);
}

TEST_CASE("acquire waits with tasks, holds no worker, and the capacity holds" *
          doctest::timeout(60)) {
  magpie::runtime rt(with_workers(2));
  constexpr std::size_t cap = 4;
  magpie::semaphore sem(rt, cap);
  gate hold;
  sem.submit(cap, [&] { hold.pass(); });
  hold.wait_entered();
  std::mutex mu;
  std::vector<int> order;
  std::atomic<std::size_t> in_use{0};
  std::atomic<bool> exceeded{false};
  auto note = [&](int i, std::size_t w) {
    if (in_use.fetch_add(w) + w > cap) exceeded = true;
    std::lock_guard lock(mu);
    order.push_back(i);
  };
  auto waiter = [&](int i, std::size_t w) -> magpie::task<void> {
    auto units = co_await sem.acquire(w);
    note(i, w);
    co_await magpie::schedule(rt);  // the units stay held across a suspension
    in_use.fetch_sub(w);
  };
  constexpr int n = 40;
  for (int i = 0; i < n; ++i) {
    const std::size_t w = 1 + static_cast<std::size_t>(i) % cap;
    if (i % 2 == 0) {
      rt.spawn(waiter(i, w));
      wait_waiting(sem, static_cast<std::size_t>(i) + 1);  // queued in this order
    } else {
      sem.submit(w, [&, i, w] {
        note(i, w);
        in_use.fetch_sub(w);
      });
    }
  }
  // Every waiting coroutine is suspended: the free worker still runs other work.
  CHECK(rt.async([] { return 7; }).get() == 7);
  hold.release();
  rt.wait_idle();
  CHECK(order.size() == n);
  CHECK_FALSE(exceeded.load());
  CHECK(sem.available() == cap);
}

TEST_CASE("a heavy coroutine at the head is not overtaken by lighter tasks" *
          doctest::timeout(60)) {
  magpie::runtime rt(with_workers(2));
  magpie::semaphore sem(rt, 4);
  gate hold;
  sem.submit(3, [&] { hold.pass(); });
  hold.wait_entered();
  std::mutex mu;
  std::vector<int> order;
  auto heavy = [&]() -> magpie::task<void> {
    auto units = co_await sem.acquire(4);
    {
      std::lock_guard lock(mu);
      order.push_back(-1);
    }
    co_await magpie::schedule(rt);  // still holding all 4: nothing else may start
    std::lock_guard lock(mu);
    order.push_back(-2);
  };
  rt.spawn(heavy());
  wait_waiting(sem, 1);
  for (int i = 0; i < 10; ++i) {
    sem.submit(1, [&, i] {
      std::lock_guard lock(mu);
      order.push_back(i);
    });
  }
  CHECK(sem.available() == 1);  // free, yet nothing behind the heavy head may take it
  CHECK(sem.waiting() == 11);
  hold.release();
  rt.wait_idle();
  REQUIRE(order.size() == 12);
  CHECK(order[0] == -1);
  CHECK(order[1] == -2);
  CHECK(sem.available() == 4);
}

TEST_CASE("units come back when the coroutine holding them throws" * doctest::timeout(60)) {
  magpie::runtime rt(with_workers(2));
  magpie::semaphore sem(rt, 2);
  auto bad = [&]() -> magpie::task<void> {
    auto units = co_await sem.acquire(2);
    co_await magpie::schedule(rt);
    throw std::runtime_error("holding two");
  };
  CHECK_THROWS_WITH_AS(magpie::sync_wait(rt, bad()), "holding two", std::runtime_error);
  CHECK(sem.available() == 2);
}

namespace {

// Coroutines that wait for units behind a gated task, then shutdown(mode) from the test thread
// while the gate opens once the runtime is closed.
struct waiting_coroutines {
  static constexpr int n = 50;
  magpie::runtime rt{with_workers(2)};
  magpie::semaphore sem{rt, 2};
  gate hold;
  std::atomic<int> live{0}, ran{0}, closed{0};

  magpie::task<void> waiter(tracker, std::size_t w) {
    try {
      auto units = co_await sem.acquire(w);
      ran.fetch_add(1);
    } catch (const magpie::runtime_closed&) {
      closed.fetch_add(1);
    }
  }
  magpie::shutdown_report run(magpie::shutdown_mode mode) {
    sem.submit(2, [this] { hold.pass(); });
    hold.wait_entered();
    for (int i = 0; i < n; ++i) {
      rt.spawn(waiter(tracker(live), 1 + static_cast<std::size_t>(i) % 2));
      wait_waiting(sem, static_cast<std::size_t>(i) + 1);
    }
    return shutdown_behind(hold, rt, mode).report;
  }
};

}  // namespace

TEST_CASE("shutdown(drain) resumes the coroutines waiting for units" * doctest::timeout(60)) {
  waiting_coroutines t;
  t.run(magpie::shutdown_mode::drain);
  CHECK(t.ran.load() == waiting_coroutines::n);
  CHECK(t.closed.load() == 0);
  CHECK(t.live.load() == 0);
  CHECK(t.sem.available() == 2);
}

TEST_CASE("shutdown(cancel) unwinds the coroutines waiting for units with runtime_closed" *
          doctest::timeout(60)) {
  waiting_coroutines t;
  const magpie::shutdown_report r = t.run(magpie::shutdown_mode::cancel);
  CHECK(t.ran.load() == 0);
  CHECK(t.closed.load() == waiting_coroutines::n);
  CHECK(t.live.load() == 0);  // every frame freed
  CHECK(r.exceptions == 0);
  CHECK(t.sem.waiting() == 0);
  CHECK(t.sem.available() == 2);
}
