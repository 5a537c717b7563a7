// idle_set on its own: the searching/sleeping accounting of announce (prepare_park), cancel and
// notify, who gets woken (active, inactive, outside waiters, other CPUs), and real races of a
// notify against a park, driven by threads, in which every item must be taken exactly once. A
// lost wake-up leaves an item untaken and a thread waiting for it: the case's timeout names it.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "idle_set.hpp"
#include "magpie/detail/cpu_relax.hpp"
#include "test_support.hpp"

namespace {

using magpie::detail::group_state;
using magpie::detail::idle_set;
using magpie::detail::parker;
using magpie::test::scaled;

// A worker's parker (parkers are pinned in place: their token is an atomic).
struct worker_parker : parker {
  explicit worker_parker(std::size_t index, int bound_to = -1) {
    worker_index = index;
    cpu = bound_to;
  }
};

bool woken(const parker& p) {
  return p.token.load() == 1 && !p.listed;
}

// A stand-in for a group: idle_set only compares the address, never dereferences it.
const group_state* fake_group(const int& anchor) {
  return reinterpret_cast<const group_state*>(&anchor);
}

}  // namespace

TEST_CASE("searchers are limited to about half the workers unless `always`" *
          doctest::timeout(120)) {
  idle_set s(4);
  CHECK(s.searching_now() == 0);
  CHECK(s.try_begin_search());
  CHECK(s.try_begin_search());
  CHECK_FALSE(s.try_begin_search());  // 2 of 4 already search
  CHECK(s.searching_now() == 2);
  CHECK(s.try_begin_search(true));  // a latency-mode worker always may
  CHECK(s.searching_now() == 3);
  CHECK_FALSE(s.end_search());
  CHECK_FALSE(s.end_search());
  CHECK(s.end_search());  // the last searcher is told so
  CHECK(s.searching_now() == 0);
}

TEST_CASE("announce moves a searcher to sleeping; cancel moves it back, once" *
          doctest::timeout(120)) {
  idle_set s(2);
  worker_parker p(0);
  REQUIRE(s.try_begin_search());
  CHECK_FALSE(s.prepare_park(p, true, nullptr));  // an active worker
  CHECK(p.listed);
  CHECK(s.searching_now() == 0);
  CHECK(s.idle_workers() == 1);
  CHECK(s.cancel_park(p));  // its re-check found work
  CHECK_FALSE(p.listed);
  CHECK(s.searching_now() == 1);  // it now counts as searching
  CHECK(s.idle_workers() == 0);
  CHECK_FALSE(s.cancel_park(p));
  CHECK(s.searching_now() == 1);
  CHECK(s.end_search());
}

TEST_CASE("wake_after_publish wakes a sleeper only while nobody searches, and it wakes searching" *
          doctest::timeout(120)) {
  idle_set s(3);
  s.wake_after_publish();  // nobody sleeps: nothing to do
  CHECK(s.searching_now() == 0);
  worker_parker p(0);
  s.prepare_park(p, false, nullptr);
  REQUIRE(s.try_begin_search());  // another worker searches: it will find the task
  s.wake_after_publish();
  CHECK(p.listed);
  CHECK(p.token.load() == 0);
  CHECK(s.end_search());
  s.wake_after_publish();
  CHECK(woken(p));
  CHECK(s.searching_now() == 1);  // counted as searching before it runs
  CHECK(s.idle_workers() == 0);
  idle_set::commit_park(p);  // returns at once: the token is set
  CHECK_FALSE(s.cancel_park(p));
  s.wake_after_publish();  // the woken worker searches: no second wake-up
  CHECK(s.end_search());
}

TEST_CASE("wake_after_publish wakes the most recently parked worker" * doctest::timeout(120)) {
  idle_set s(3);
  worker_parker first(0);
  worker_parker second(1);
  s.prepare_park(first, false, nullptr);
  s.prepare_park(second, false, nullptr);
  CHECK(s.idle_workers() == 2);
  s.wake_after_publish();
  CHECK(woken(second));
  CHECK(first.listed);
  s.wake_all();
  CHECK(woken(first));
  CHECK(s.searching_now() == 2);
}

TEST_CASE("a worker beyond the active count is not woken until it becomes active" *
          doctest::timeout(120)) {
  idle_set s(2);
  s.set_active(1);
  CHECK(s.active() == 1);
  worker_parker p(1);
  CHECK(s.prepare_park(p, false, nullptr));  // listed as inactive
  s.wake_after_publish();
  CHECK(p.listed);
  CHECK(s.hand_off_search(-1) == false);  // not a candidate either
  CHECK(p.listed);
  s.set_active(2);
  CHECK(woken(p));
  CHECK(s.searching_now() == 1);
}

TEST_CASE("hand_off_search wakes a sleeper on another CPU, or none" * doctest::timeout(120)) {
  idle_set s(3);
  worker_parker here(0, 3);
  s.prepare_park(here, false, nullptr);
  CHECK_FALSE(s.hand_off_search(3));  // the only sleeper shares the caller's CPU
  CHECK(here.listed);
  worker_parker there(1, 5);
  s.prepare_park(there, false, nullptr);
  CHECK(s.hand_off_search(3));
  CHECK(woken(there));
  CHECK(here.listed);
  CHECK(s.hand_off_search(3));  // somebody searches now: nothing to hand over
  CHECK(here.listed);
  s.wake_all();
}

TEST_CASE("an outside waiter is woken by its group only and is not counted as a worker" *
          doctest::timeout(120)) {
  idle_set s(2);
  const int a = 0, b = 0;
  parker outside;
  outside.is_worker = false;
  s.prepare_park(outside, false, fake_group(a));
  CHECK(s.idle_workers() == 0);
  CHECK(s.searching_now() == 0);
  s.wake_after_publish();
  s.wake_all();
  s.wake_group_waiters(fake_group(b));
  CHECK(outside.listed);
  s.wake_group_waiters(fake_group(a));
  CHECK(woken(outside));
  CHECK(s.searching_now() == 0);  // a waiter does not search
}

TEST_CASE("a timed park past its deadline unlists itself and counts as searching" *
          doctest::timeout(120)) {
  idle_set s(2);
  worker_parker p(0);
  s.prepare_park(p, false, nullptr);
  CHECK_FALSE(s.commit_park_until(p, std::chrono::steady_clock::now() - std::chrono::seconds(1)));
  CHECK_FALSE(p.listed);
  CHECK(s.searching_now() == 1);
  CHECK(s.idle_workers() == 0);
  CHECK(s.end_search());
  s.prepare_park(p, false, nullptr);
  s.wake_after_publish();  // woken before it sleeps: the timed park reports the wake-up
  CHECK(s.commit_park_until(p, std::chrono::steady_clock::now() + std::chrono::hours(1)));
  CHECK(s.end_search());
}

namespace {

// The work the race case hands over: one slot per producer, published with a release store like
// a lock-free queue's enqueue (a plain store on x86), so that only idle_set's fences order the
// publication against the parker's announcement; each item is taken by one exchange.
class item_slots {
 public:
  explicit item_slots(std::size_t producers) : slots_(producers) {}
  void push(std::size_t producer, std::size_t id) {
    slots_[producer].store(id + 1, std::memory_order_release);  // release: a queue's publish
  }
  std::optional<std::size_t> take() {
    for (std::atomic<std::size_t>& slot : slots_) {
      // acquire: pairs with push's release.
      if (slot.load(std::memory_order_acquire) == 0) continue;
      const std::size_t got = slot.exchange(0, std::memory_order_acquire);
      if (got != 0) return got - 1;
    }
    return std::nullopt;
  }
  bool free(std::size_t producer) const {
    return slots_[producer].load(std::memory_order_acquire) == 0;  // acquire: see take
  }
  bool empty() const {
    for (const std::atomic<std::size_t>& slot : slots_) {
      if (slot.load(std::memory_order_acquire) != 0) return false;  // acquire: see take
    }
    return true;
  }

 private:
  std::vector<std::atomic<std::size_t>> slots_;
};

// What the workers and producers of the race below share.
struct handover {
  handover(std::size_t workers, std::size_t producers, std::size_t items)
      : s(workers), q(producers), taken(items) {}
  idle_set s;
  item_slots q;
  std::vector<std::atomic<int>> taken;  // each item's takers
  std::atomic<std::size_t> done{0};     // items taken
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> canceled{0}, slept{0};  // how parks ended: both paths are raced
};

// A worker's loop as worker.cpp runs it: search, and when dry announce, re-check, then cancel
// or sleep.
void consume(handover& h, std::size_t index) {
  worker_parker p(index);
  bool searching = h.s.try_begin_search(true);
  for (;;) {
    if (const std::optional<std::size_t> id = h.q.take()) {
      if (searching) h.s.end_search();
      h.taken[*id].fetch_add(1);
      h.done.fetch_add(1);
      h.done.notify_all();
      searching = h.s.try_begin_search(true);
      continue;
    }
    if (h.stop.load()) break;
    h.s.prepare_park(p, searching, nullptr);
    if ((!h.q.empty() || h.stop.load()) && h.s.cancel_park(p)) {
      h.canceled.fetch_add(1);
    } else {
      idle_set::commit_park(p);  // returns at once if a waker unlisted it first
      h.slept.fetch_add(1);
    }
    searching = true;  // woken or canceled: counted as searching
  }
  if (searching) h.s.end_search();
  h.s.sync();  // no waker still touches `p`
}

}  // namespace

TEST_CASE("a notify racing a park is never lost: every item is taken exactly once" *
          doctest::timeout(120)) {
  constexpr std::size_t workers = 2, producers = 2;
  const std::size_t per_producer = scaled(20000);
  handover h(workers, producers, producers * per_producer);
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < workers; ++w)
    threads.emplace_back([&h, w] { consume(h, w); });
  std::vector<std::thread> feeders;
  for (std::size_t pr = 0; pr < producers; ++pr) {
    feeders.emplace_back([&h, pr, per_producer] {
      for (std::size_t i = 0; i < per_producer; ++i) {
        h.q.push(pr, pr * per_producer + i);
        h.s.wake_after_publish();
        // Waits for the item to be taken (`done` moves after each take), so that the next push
        // meets workers going to sleep.
        for (std::size_t seen = h.done.load(); !h.q.free(pr); seen = h.done.load())
          h.done.wait(seen);
      }
    });
  }
  for (std::thread& t : feeders)
    t.join();
  while (h.done.load() != h.taken.size())  // the last items may still be queued
    h.done.wait(h.done.load());
  h.stop.store(true);
  h.s.wake_all();
  for (std::thread& t : threads)
    t.join();
  std::size_t once = 0;
  for (const std::atomic<int>& t : h.taken)
    once += t.load() == 1 ? 1 : 0;
  MESSAGE("parks canceled by the re-check: " << h.canceled.load() << ", slept: " << h.slept.load());
  CHECK(once == h.taken.size());
  CHECK(h.s.searching_now() == 0);
  CHECK(h.s.idle_workers() == 0);
}

TEST_CASE("a group's completion racing its waiter's park is never lost" * doctest::timeout(120)) {
  idle_set s(1);
  const int anchor = 0;
  const group_state* g = fake_group(anchor);
  const std::size_t rounds = scaled(20000);
  std::atomic<std::size_t> ready{0};      // the round the waiter waits for
  std::atomic<std::size_t> completed{0};  // the "group": rounds completed so far
  std::thread finisher([&] {
    for (std::size_t r = 1; r <= rounds; ++r) {
      while (ready.load() != r)
        std::this_thread::yield();  // spins, so that it completes while the waiter parks
      completed.store(r);
      s.wake_group_waiters(g);
    }
  });
  // Odd rounds release the finisher before the waiter announces itself (the completion races
  // the announcement), even ones after (it races the re-check and the cancel, at a distance
  // that varies from round to round).
  std::size_t slept = 0, canceled = 0, beaten = 0;
  for (std::size_t r = 1; r <= rounds; ++r) {
    if (r % 2 == 1) ready.store(r);
    parker p;
    p.is_worker = false;
    while (completed.load() != r) {
      s.prepare_park(p, false, g);
      ready.store(r);
      for (std::size_t i = 0; i < r % 512; ++i)
        magpie::detail::cpu_relax();
      if (completed.load() != r) {
        idle_set::commit_park(p);
        ++slept;
      } else if (s.cancel_park(p)) {
        ++canceled;
      } else {
        idle_set::commit_park(p);  // the finisher unlisted it first: returns at once
        ++beaten;
      }
    }
    s.sync();  // no waker still touches `p`
  }
  finisher.join();
  MESSAGE("waits canceled by the re-check: " << canceled << ", woken before the cancel: " << beaten
                                             << ", slept: " << slept);
  CHECK(completed.load() == rounds);
  CHECK(s.idle_workers() == 0);
}
