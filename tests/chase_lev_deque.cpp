#include "magpie/ext/chase_lev_deque.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

#include "test_support.hpp"

using magpie::ext::chase_lev_deque;
using magpie::ext::deque_owner;
using magpie::ext::deque_thief;
using magpie::ext::steal_status;

static_assert(!std::is_copy_constructible_v<deque_owner<int>> &&
              !std::is_copy_assignable_v<deque_owner<int>>);

TEST_CASE("a deque has one owner: a second deque_owner throws" * doctest::timeout(60)) {
  chase_lev_deque<int> d;
  deque_owner<int> owner(d);
  CHECK_THROWS_AS(deque_owner<int>{d}, std::logic_error);
  owner.push(7);  // the first owner still works
  int v = 0;
  REQUIRE(owner.pop(v));
  CHECK(v == 7);
}

TEST_CASE("owner pops LIFO and thieves steal FIFO" * doctest::timeout(120)) {
  chase_lev_deque<std::uint64_t> d(4);
  deque_owner<std::uint64_t> owner(d);
  deque_thief<std::uint64_t> thief(d);
  for (std::uint64_t i = 1; i <= 3; ++i)
    owner.push(i);
  auto s = thief.steal();
  REQUIRE(s.status == steal_status::success);
  CHECK(s.value == 1);
  std::uint64_t v = 0;
  REQUIRE(owner.pop(v));
  CHECK(v == 3);
  REQUIRE(owner.pop(v));
  CHECK(v == 2);
  CHECK_FALSE(owner.pop(v));
  CHECK(thief.steal().status == steal_status::empty);
}

TEST_CASE("pop on an empty deque leaves it usable" * doctest::timeout(120)) {
  chase_lev_deque<std::uint64_t> d(2);
  deque_owner<std::uint64_t> owner(d);
  std::uint64_t v = 0;
  for (int i = 0; i < 3; ++i)
    CHECK_FALSE(owner.pop(v));
  owner.push(7);
  REQUIRE(owner.pop(v));
  CHECK(v == 7);
  CHECK(d.size_approx() == 0);
}

TEST_CASE("grow preserves every item and their order" * doctest::timeout(120)) {
  chase_lev_deque<std::uint64_t> d(2);
  deque_owner<std::uint64_t> owner(d);
  deque_thief<std::uint64_t> thief(d);
  constexpr std::uint64_t n = 1000;
  for (std::uint64_t i = 0; i < n; ++i)
    owner.push(i);
  CHECK(d.capacity() >= n);
  for (std::uint64_t i = 0; i < n / 2; ++i) {
    auto s = thief.steal();
    REQUIRE(s.status == steal_status::success);
    CHECK(s.value == i);
  }
  for (std::uint64_t i = n; i-- > n / 2;) {
    std::uint64_t v = 0;
    REQUIRE(owner.pop(v));
    CHECK(v == i);
  }
}

TEST_CASE("an owned_deque is its deque's owner: push, pop, steal, growth and reuse of stolen room" *
          doctest::timeout(60)) {
  magpie::ext::owned_deque<std::uint64_t> d(4);
  CHECK_THROWS_AS(deque_owner<std::uint64_t>{d.shared()}, std::logic_error);
  deque_thief<std::uint64_t> thief(d.shared());
  for (std::uint64_t i = 1; i <= 4; ++i)
    d.push(i);
  CHECK(d.shared().capacity() == 4);  // full, not grown
  REQUIRE(thief.steal().value == 1);
  REQUIRE(thief.steal().value == 2);
  // Room the thieves freed is found by reloading top: no growth.
  d.reserve();
  d.push_reserved(5);
  d.push_made([] { return std::uint64_t{6}; });
  CHECK(d.shared().capacity() == 4);
  CHECK(d.size_approx() == 4);
  d.push(7);  // now it must grow, keeping 3..7
  CHECK(d.shared().capacity() == 8);
  auto s = thief.steal();
  REQUIRE(s.status == steal_status::success);
  CHECK(s.value == 3);
  std::uint64_t v = 0;
  for (std::uint64_t want = 7; want >= 4; --want) {
    REQUIRE(d.pop(v));
    CHECK(v == want);
  }
  CHECK_FALSE(d.pop(v));
  CHECK(d.empty_approx());
  CHECK(thief.steal().status == steal_status::empty);
}

TEST_CASE("push_made pushes nothing when the item's maker throws" * doctest::timeout(60)) {
  magpie::ext::owned_deque<std::uint64_t> d(2);
  CHECK_THROWS_AS(d.push_made([]() -> std::uint64_t { throw std::runtime_error("no item"); }),
                  std::runtime_error);
  CHECK(d.empty_approx());
  d.push_made([] { return std::uint64_t{9}; });
  std::uint64_t v = 0;
  REQUIRE(d.pop(v));
  CHECK(v == 9);
}

TEST_CASE("wrap-around without growth keeps items" * doctest::timeout(120)) {
  chase_lev_deque<std::uint64_t> d(4);
  deque_owner<std::uint64_t> owner(d);
  deque_thief<std::uint64_t> thief(d);
  for (std::uint64_t i = 0; i < 100; ++i) {
    owner.push(i);
    owner.push(i + 1000);
    auto s = thief.steal();
    REQUIRE(s.status == steal_status::success);
    CHECK(s.value == i);
    std::uint64_t v = 0;
    REQUIRE(owner.pop(v));
    CHECK(v == i + 1000);
  }
  CHECK(d.capacity() == 4);
}

namespace {

// One owner pushes 1..n in random bursts and pops some back; `thieves` threads steal until the
// owner is done and the deque is empty. Every item must be taken exactly once.
void stress(std::size_t thieves, std::size_t initial_capacity, std::uint64_t n) {
  chase_lev_deque<std::uint64_t> d(initial_capacity);
  std::unique_ptr<std::atomic<std::uint8_t>[]> seen(new std::atomic<std::uint8_t>[n + 1]);
  for (std::uint64_t i = 0; i <= n; ++i)
    seen[i].store(0, std::memory_order_relaxed);
  std::atomic<bool> owner_done{false};
  std::atomic<std::uint64_t> stolen{0}, retries{0};

  std::vector<std::thread> pool;
  for (std::size_t k = 0; k < thieves; ++k) {
    pool.emplace_back([&] {
      deque_thief<std::uint64_t> thief(d);
      std::uint64_t mine = 0, lost = 0;
      for (;;) {
        const bool finished = owner_done.load(std::memory_order_acquire);
        auto s = thief.steal();
        if (s.status == steal_status::success) {
          seen[s.value].fetch_add(1, std::memory_order_relaxed);
          ++mine;
        } else if (s.status == steal_status::retry) {
          ++lost;
        } else if (finished) {
          break;
        }
      }
      stolen += mine;
      retries += lost;
    });
  }

  deque_owner<std::uint64_t> owner(d);
  std::uint64_t rng = 88172645463325252ull, next = 1, popped = 0;
  while (next <= n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    const std::uint64_t burst = 1 + rng % 64;
    for (std::uint64_t i = 0; i < burst && next <= n; ++i)
      owner.push(next++);
    const std::uint64_t pops = rng % (burst + 1);
    for (std::uint64_t i = 0; i < pops; ++i) {
      std::uint64_t v = 0;
      if (!owner.pop(v)) break;
      seen[v].fetch_add(1, std::memory_order_relaxed);
      ++popped;
    }
  }
  for (std::uint64_t v = 0; owner.pop(v);) {
    seen[v].fetch_add(1, std::memory_order_relaxed);
    ++popped;
  }
  owner_done.store(true, std::memory_order_release);
  for (auto& t : pool)
    t.join();

  std::uint64_t missing = 0, duplicated = 0;
  for (std::uint64_t i = 1; i <= n; ++i) {
    const auto c = seen[i].load(std::memory_order_relaxed);
    missing += c == 0 ? 1 : 0;
    duplicated += c > 1 ? 1 : 0;
  }
  CHECK(missing == 0);
  CHECK(duplicated == 0);
  CHECK(popped + stolen.load() == n);
  MESSAGE("thieves=" << thieves << " popped=" << popped << " stolen=" << stolen.load()
                     << " lost races=" << retries.load());
}

}  // namespace

TEST_CASE("steal never returns an item twice: one owner, 1..8 thieves" * doctest::timeout(300)) {
  const std::uint64_t n = magpie::test::scaled(1'000'000);
  for (std::size_t thieves : {1, 2, 4, 8}) {
    CAPTURE(thieves);
    stress(thieves, 256, n);
  }
}

TEST_CASE("growth under contention keeps every item exactly once" * doctest::timeout(300)) {
  stress(4, 2, magpie::test::scaled(1'000'000));
}
