// Linearizability of the Chase-Lev deque: record short concurrent histories (the owner pushes
// and pops, thieves steal), then search for an order of the operations that respects real time
// and that a sequential deque would produce (Wing & Gong's check). A steal that lost a race
// (steal_status::retry) promises nothing and linearizes as a no-op.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <random>
#include <thread>
#include <vector>

#include "magpie/ext/chase_lev_deque.hpp"
#include "test_support.hpp"

using magpie::ext::chase_lev_deque;
using magpie::ext::deque_owner;
using magpie::ext::deque_thief;
using magpie::ext::steal_status;

namespace {

enum class kind : std::uint8_t { push, pop, steal };

struct op {
  kind what;
  std::int64_t value;  // pushed value; popped/stolen value; -1: empty; -2: lost race
  std::uint64_t invoked, returned;
};

// Logical clock: an operation's interval is [invoked, returned]; a precedes b in real time when
// a.returned < b.invoked.
class history {
 public:
  std::uint64_t tick() { return clock_.fetch_add(1, std::memory_order_seq_cst); }

 private:
  std::atomic<std::uint64_t> clock_{0};
};

// Depth-first search for a linearization, with the sequential deque as the model.
class checker {
 public:
  explicit checker(std::vector<op> ops) : ops_(std::move(ops)), used_(ops_.size(), false) {}
  bool linearizable() { return search(0); }

 private:
  bool minimal(std::size_t i) const {  // no unused operation returned before i was invoked
    for (std::size_t j = 0; j < ops_.size(); ++j) {
      if (!used_[j] && j != i && ops_[j].returned < ops_[i].invoked) return false;
    }
    return true;
  }
  // Applies op i to the model if its result is possible there; returns false otherwise.
  bool apply(const op& o, std::deque<std::int64_t>& d) const {
    switch (o.what) {
      case kind::push:
        d.push_back(o.value);
        return true;
      case kind::pop:
        if (o.value == -1) return d.empty();
        if (d.empty() || d.back() != o.value) return false;
        d.pop_back();
        return true;
      case kind::steal:
        if (o.value == -2) return true;  // lost a race: no effect
        if (o.value == -1) return d.empty();
        if (d.empty() || d.front() != o.value) return false;
        d.pop_front();
        return true;
    }
    return false;
  }
  bool search(std::size_t placed) {
    if (placed == ops_.size()) return true;
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if (used_[i] || !minimal(i)) continue;
      std::deque<std::int64_t> saved = model_;
      if (apply(ops_[i], model_)) {
        used_[i] = true;
        if (search(placed + 1)) return true;
        used_[i] = false;
      }
      model_ = std::move(saved);
    }
    return false;
  }

  std::vector<op> ops_;
  std::vector<bool> used_;
  std::deque<std::int64_t> model_;
};

// One history: the owner runs a random push/pop script, each thief a few steals, all released
// together so that their operations overlap.
std::vector<op> record(std::uint64_t seed, std::size_t thieves) {
  chase_lev_deque<std::int64_t> d(2);  // tiny: pushes grow the ring while thieves read it
  history h;
  std::atomic<std::size_t> ready{0};
  std::vector<std::vector<op>> logs(thieves + 1);
  auto start = [&] {
    ready.fetch_add(1);
    while (ready.load() < thieves + 1) {
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < thieves; ++t) {
    pool.emplace_back([&, t] {
      deque_thief<std::int64_t> thief(d);
      start();
      for (int i = 0; i < 3; ++i) {
        op o{kind::steal, 0, h.tick(), 0};
        const auto r = thief.steal();
        o.returned = h.tick();
        o.value = r.status == steal_status::success ? r.value
                  : r.status == steal_status::empty ? -1
                                                    : -2;
        logs[t + 1].push_back(o);
      }
    });
  }
  deque_owner<std::int64_t> owner(d);
  std::mt19937_64 rng(seed);
  std::int64_t next = 1;
  start();
  for (int i = 0; i < 8; ++i) {
    op o{rng() % 3 == 0 ? kind::pop : kind::push, 0, h.tick(), 0};
    if (o.what == kind::push) {
      o.value = next++;
      owner.push(o.value);
    } else {
      std::int64_t v = 0;
      o.value = owner.pop(v) ? v : -1;
    }
    o.returned = h.tick();
    logs[0].push_back(o);
  }
  for (auto& t : pool)
    t.join();
  std::vector<op> all;
  for (auto& l : logs)
    all.insert(all.end(), l.begin(), l.end());
  return all;
}

}  // namespace

TEST_CASE("the checker rejects a history no deque could produce" * doctest::timeout(120)) {
  // push 1 then push 2 (sequential), then a steal that returns 2: the top is 1.
  std::vector<op> bad = {{kind::push, 1, 0, 1}, {kind::push, 2, 2, 3}, {kind::steal, 2, 4, 5}};
  CHECK_FALSE(checker(bad).linearizable());
  std::vector<op> good = {{kind::push, 1, 0, 1}, {kind::push, 2, 2, 3}, {kind::steal, 1, 4, 5}};
  CHECK(checker(good).linearizable());
  // Overlapping pop and steal: pop takes the bottom and steal the top, whichever goes first.
  std::vector<op> overlap = {
      {kind::push, 1, 0, 1}, {kind::push, 2, 2, 3}, {kind::pop, 1, 4, 7}, {kind::steal, 2, 5, 6}};
  CHECK_FALSE(checker(overlap).linearizable());  // in either order pop gets 2 or steal gets 1
}

TEST_CASE("concurrent histories of push, pop and steal are linearizable" * doctest::timeout(300)) {
  const std::size_t histories = magpie::test::scaled(5'000);
  std::size_t overlapping = 0;
  for (std::size_t i = 0; i < histories; ++i) {
    const std::size_t thieves = 1 + i % 3;
    std::vector<op> ops = record(i, thieves);
    // Count histories where some steal overlapped an owner operation (the interesting ones).
    for (const op& s : ops) {
      if (s.what != kind::steal) continue;
      const bool overlaps = std::any_of(ops.begin(), ops.end(), [&](const op& o) {
        return o.what != kind::steal && o.invoked < s.returned && s.invoked < o.returned;
      });
      if (overlaps) {
        ++overlapping;
        break;
      }
    }
    const bool ok = checker(std::move(ops)).linearizable();
    if (!ok) {
      FAIL("history " << i << " with " << thieves << " thieves is not linearizable");
    }
  }
  MESSAGE(overlapping << " of " << histories << " histories had a steal overlapping an owner op");
  CHECK(overlapping > 0);
}
