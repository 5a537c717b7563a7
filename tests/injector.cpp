// The injector on its own: each producer's tasks come out of a lane in the order it pushed them,
// lanes stay apart, the urgent and low hints count exactly what is queued, capacity for
// max_pending is taken and given back, and every task pushed by N producer threads is taken
// exactly once by M consumer threads.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "injector.hpp"
#include "test_support.hpp"

namespace {

using magpie::priority;
using magpie::detail::build_task;
using magpie::detail::injector;
using magpie::detail::lane_count;
using magpie::detail::lane_of;
using magpie::detail::task;
using magpie::test::scaled;

constexpr unsigned high = lane_of(priority::high);
constexpr unsigned normal = lane_of(priority::normal);
constexpr unsigned low = lane_of(priority::low);

// A task that appends `id` to `out` when it runs.
task recording(std::vector<int>& out, int id) {
  task t;
  build_task(
      t, [&out, id] { out.push_back(id); }, nullptr);
  return t;
}

// Takes and runs every task of `lane`, a batch at a time; returns how many ran.
std::size_t drain(injector& inj, unsigned lane) {
  moodycamel::ConsumerToken tok = inj.consumer_token(lane);
  std::array<task, injector::batch> got;
  std::size_t total = 0;
  while (const std::size_t n = inj.pop_bulk(tok, lane, got.begin(), got.size())) {
    for (std::size_t i = 0; i < n; ++i)
      got[i].run();
    total += n;
  }
  return total;
}

std::int64_t urgent_count(const std::atomic<std::int64_t>& urgent) {
  return urgent.load() & injector::hint_mask;
}

}  // namespace

TEST_CASE("a producer's tasks leave each lane in the order it pushed them" *
          doctest::timeout(120)) {
  std::atomic<std::int64_t> urgent{0};
  injector inj(urgent);
  magpie::detail::producer& p = inj.this_thread_producer();
  std::array<std::vector<int>, lane_count> ran;
  constexpr int per_lane = 100;  // more than one batch and one queue block
  for (int i = 0; i < per_lane; ++i) {
    for (unsigned lane : {low, normal, high})
      REQUIRE(inj.push(p, recording(ran[lane], i), lane));
  }
  CHECK(inj.size_approx(high) == per_lane);
  for (unsigned lane : {normal, low, high})
    CHECK(drain(inj, lane) == per_lane);
  std::vector<int> in_order(per_lane);
  for (int i = 0; i < per_lane; ++i)
    in_order[static_cast<std::size_t>(i)] = i;
  for (unsigned lane : {high, normal, low})
    CHECK(ran[lane] == in_order);
  CHECK(inj.empty_approx());
}

TEST_CASE("the urgent and low hints count exactly the tasks queued in their lanes" *
          doctest::timeout(120)) {
  std::atomic<std::int64_t> urgent{std::int64_t{1} << 50};  // a flag above the count's bits
  injector inj(urgent);
  magpie::detail::producer& p = inj.this_thread_producer();
  std::vector<int> ran;
  CHECK_FALSE(inj.may_have(high));
  CHECK_FALSE(inj.may_have(low));
  for (int i = 0; i < 5; ++i)
    REQUIRE(inj.push(p, recording(ran, i), high));
  REQUIRE(inj.push(p, recording(ran, 10), low));
  REQUIRE(inj.push(p, recording(ran, 20), normal));
  CHECK(urgent_count(urgent) == 5);
  CHECK((urgent.load() >> 50) == 1);  // the flag is untouched
  CHECK(inj.may_have(high));
  CHECK(inj.may_have(low));
  CHECK(drain(inj, normal) == 1);
  CHECK(urgent_count(urgent) == 5);  // the normal lane leaves the hints alone
  task one;
  REQUIRE(inj.try_pop(high, one));
  one.run();
  CHECK(urgent_count(urgent) == 4);
  CHECK(drain(inj, high) == 4);
  CHECK(urgent_count(urgent) == 0);
  CHECK_FALSE(inj.may_have(high));
  moodycamel::ConsumerToken tok = inj.consumer_token(high);
  std::array<task, 1> none;
  CHECK(inj.pop_bulk(tok, high, none.begin(), 1) == 0);  // the hint says empty: no dequeue
  CHECK(inj.may_have(low));
  CHECK(drain(inj, low) == 1);
  CHECK_FALSE(inj.may_have(low));
  CHECK(ran == std::vector<int>{20, 0, 1, 2, 3, 4, 10});
  CHECK(urgent.load() == std::int64_t{1} << 50);
}

TEST_CASE("tasks still queued when the injector goes are destroyed, not run" *
          doctest::timeout(120)) {
  std::atomic<std::int64_t> urgent{0};
  std::vector<int> ran;
  auto alive = std::make_shared<int>(0);
  {
    injector inj(urgent);
    magpie::detail::producer& p = inj.this_thread_producer();
    for (unsigned lane : {high, normal, low}) {
      task t;
      build_task(
          t, [alive, &ran] { ran.push_back(1); }, nullptr);
      REQUIRE(inj.push(p, std::move(t), lane));
    }
    CHECK(alive.use_count() == 4);
  }
  CHECK(alive.use_count() == 1);
  CHECK(ran.empty());
}

TEST_CASE("capacity for max_pending is refused at the limit and comes back when given" *
          doctest::timeout(120)) {
  std::atomic<std::int64_t> urgent{0};
  injector inj(urgent);
  CHECK(inj.pending() == 0);
  CHECK(inj.try_take_capacity(2));
  CHECK(inj.try_take_capacity(2));
  CHECK_FALSE(inj.try_take_capacity(2));
  CHECK(inj.pending() == 2);  // the refused attempt left no trace
  inj.give_capacity(1);
  CHECK(inj.pending() == 1);
  CHECK(inj.try_take_capacity(2));
  inj.give_capacity(2);
  CHECK(inj.pending() == 0);
}

TEST_CASE("each thread has one producer per injector; submits in flight are summed over them" *
          doctest::timeout(60)) {
  std::atomic<std::int64_t> urgent{0};
  injector a(urgent);
  magpie::detail::producer& mine = a.this_thread_producer();
  CHECK(&a.this_thread_producer() == &mine);
  CHECK_FALSE(a.submits_in_flight());
  bool distinct = false;
  std::thread other([&] {
    magpie::detail::producer& theirs = a.this_thread_producer();
    distinct = &theirs != &mine && &a.this_thread_producer() == &theirs;
    theirs.in_flight.fetch_add(1);
  });
  other.join();  // the thread is gone: its producer went with it
  CHECK(distinct);
  CHECK_FALSE(a.submits_in_flight());
  mine.in_flight.fetch_add(1);
  CHECK(a.submits_in_flight());
  mine.in_flight.fetch_sub(1);
  CHECK_FALSE(a.submits_in_flight());
  {
    injector b(urgent);  // a second injector: a second producer for this thread
    CHECK(&b.this_thread_producer() != &mine);
  }
  CHECK(&a.this_thread_producer() == &mine);  // b is gone; a's producer is still cached
}

TEST_CASE("every task pushed by N producers is taken exactly once, each producer's in order" *
          doctest::timeout(120)) {
  constexpr std::size_t producers = 4, consumers = 2;
  const std::size_t per_producer = scaled(30000);
  const std::size_t total = producers * per_producer;
  std::atomic<std::int64_t> urgent{0};
  injector inj(urgent);
  std::vector<std::atomic<int>> taken(total);
  std::atomic<std::size_t> done{0};
  std::atomic<std::size_t> out_of_order{0};
  std::atomic<std::size_t> refused{0};
  std::vector<std::thread> threads;
  for (std::size_t pr = 0; pr < producers; ++pr) {
    threads.emplace_back([&, pr] {
      magpie::detail::producer& p = inj.this_thread_producer();
      for (std::size_t i = 0; i < per_producer; ++i) {
        const std::size_t id = pr * per_producer + i;
        task t;
        build_task(
            t, [&taken, id] { taken[id].fetch_add(1); }, nullptr);
        t.origin = id;  // read back by the consumer (these tasks belong to no group)
        if (!inj.push(p, std::move(t), static_cast<unsigned>(id % lane_count))) {
          refused.fetch_add(1);  // allocation failed: counted, so the consumers still stop
          done.fetch_add(1);
        }
      }
    });
  }
  for (std::size_t c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      std::array<moodycamel::ConsumerToken, lane_count> tokens{
          inj.consumer_token(0), inj.consumer_token(1), inj.consumer_token(2)};
      // The last id this consumer took from each (producer, lane): a producer's tasks leave a
      // lane in its order, so each consumer sees them increasing.
      std::vector<std::size_t> last(producers * lane_count, 0);
      std::vector<bool> seen(producers * lane_count, false);
      std::array<task, injector::batch> got;
      while (done.load() < total) {
        for (unsigned lane = 0; lane < lane_count; ++lane) {
          const std::size_t n = inj.pop_bulk(tokens[lane], lane, got.begin(), got.size());
          for (std::size_t i = 0; i < n; ++i) {
            const std::size_t id = got[i].origin;
            const std::size_t key = id / per_producer * lane_count + lane;
            if (seen[key] && last[key] >= id) out_of_order.fetch_add(1);
            seen[key] = true;
            last[key] = id;
            got[i].run();
          }
          done.fetch_add(n);
        }
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  std::size_t once = 0;
  for (const std::atomic<int>& t : taken)
    once += t.load() == 1 ? 1 : 0;
  CHECK(refused.load() == 0);
  CHECK(once == total);
  CHECK(out_of_order.load() == 0);
  CHECK(inj.empty_approx());
  CHECK(urgent_count(urgent) == 0);
  CHECK_FALSE(inj.may_have(low));
}
