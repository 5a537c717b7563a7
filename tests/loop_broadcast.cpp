// The loop board: the cut of a job into pieces, the post/join/leave/close protocol under
// joiners racing the poster, and loops through a runtime whose idle workers always search
// (config.latency_workers), so that loops are offered to them through the board.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "idle_set.hpp"
#include "loop_board.hpp"
#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using magpie::detail::broadcast_job;
using magpie::detail::loop_board;
using magpie::test::scaled;
using magpie::test::with_workers;

namespace {

// n visits, each recorded once per index: the plain `round` stamp must be written by exactly
// one piece and read by the poster after the joiners left (a race here is a TSan report).
struct visits {
  std::vector<std::atomic<std::uint8_t>> seen;
  std::vector<std::size_t> stamp;
  explicit visits(std::size_t n) : seen(n), stamp(n, 0) {}
};

struct stress_ctx {
  visits* v;
  std::size_t round;
  std::size_t throw_at;  // n + 1: never
};

void run_stress_piece(const void* ctx, std::size_t, std::size_t b, std::size_t e) {
  const auto& c = *static_cast<const stress_ctx*>(ctx);
  for (std::size_t i = b; i < e; ++i) {
    c.v->seen[i].fetch_add(1, std::memory_order_relaxed);
    c.v->stamp[i] = c.round;
    if (i == c.throw_at) throw std::runtime_error("piece");
  }
}

void plan(broadcast_job& job, std::size_t n, std::size_t grain, std::size_t p) {
  job.n = n;
  job.grain = grain;
  job.participants = p;
  job.pieces = detail::broadcast_piece_count(n, grain, p);
}

// One joiner thread: joins whatever is open until told to stop.
void joiner(loop_board& board, const std::atomic<bool>& stop, std::atomic<std::size_t>& joins) {
  while (!stop.load(std::memory_order_relaxed)) {
    if (!board.is_open()) {
      std::this_thread::yield();  // two cores shared with the poster
      continue;
    }
    std::size_t who = 0;
    if (broadcast_job* job = board.join(who)) {
      who = std::min(who, job->owners);
      detail::run_broadcast_pieces(board, *job, nullptr, who, detail::steal_piece(*job, who));
      joins.fetch_add(1, std::memory_order_relaxed);
      board.leave();
    }
  }
}

}  // namespace

TEST_CASE("a job's pieces cover [0, n) in order, none empty" * doctest::timeout(60)) {
  for (std::size_t n : {1, 2, 7, 64, 999, 1000, 4096, 100'003, 10'000'000}) {
    for (std::size_t grain : {1, 3, 15, 64, 1000}) {
      for (std::size_t p : {1, 2, 3, 8, 65}) {
        CAPTURE(n);
        CAPTURE(grain);
        CAPTURE(p);
        broadcast_job job;
        plan(job, n, grain, p);
        std::size_t at = 0;
        bool ok = true;
        for (std::size_t k = 0; k < job.pieces; ++k) {
          std::size_t b = 0, e = 0;
          detail::broadcast_piece_bounds(job, k, b, e);
          ok = ok && b == at && e > b;
          // Round r's pieces are (n >> (r + 1)) / p long, as documented at broadcast_job.
          const std::size_t shift = k / p + 1;
          const std::size_t round_size = shift < 64 ? (n >> shift) / p : 0;
          ok = ok && (round_size < grain || e - b == round_size);
          at = e;
        }
        CHECK(ok);
        CHECK(at == n);
        // Few pieces for a small loop: at most the rounds' pieces plus grain-sized ones for
        // what the rounds leave (under 2 * p * grain iterations).
        CHECK(job.pieces <= p * 64 + 2 * p + 1);
      }
    }
  }
}

TEST_CASE(
    "posted jobs: every index runs once, exceptions reach the poster, joiners never "
    "outlive the call" *
    doctest::timeout(300)) {
  loop_board board;
  detail::idle_set idle(3);  // nobody sleeps in it: the poster's wake-ups find nobody
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> joins{0};
  std::vector<std::thread> joiners;
  for (int t = 0; t < 3; ++t)
    joiners.emplace_back([&] { joiner(board, stop, joins); });
  const std::size_t rounds = scaled(4000);
  std::size_t wrong = 0, missed_errors = 0;
  for (std::size_t round = 1; round <= rounds; ++round) {
    const std::size_t n = 1 + (round * 7919) % 5000;
    visits v(n);
    const bool throws = round % 10 == 0;
    const stress_ctx ctx{&v, round, throws ? (round * 31) % n : n + 1};
    broadcast_job job;
    plan(job, n, 1 + round % 40, round % 3 == 0 ? 12 : 4);  // 12: more than max_owners
    job.run = &run_stress_piece;
    job.ctx = &ctx;
    REQUIRE(board.post(job));  // only this thread posts: the board is always free here
    detail::run_broadcast_pieces(board, job, &idle);
    board.retire();
    if (throws) {
      missed_errors += job.error == nullptr ? 1 : 0;
      continue;  // pieces after the failure were skipped
    }
    for (std::size_t i = 0; i < n; ++i)
      wrong += (v.seen[i].load(std::memory_order_relaxed) != 1 || v.stamp[i] != round) ? 1 : 0;
  }
  stop.store(true);
  for (std::thread& t : joiners)
    t.join();
  CHECK(wrong == 0);
  CHECK(missed_errors == 0);
  MESSAGE("joins: " << joins.load());
}

TEST_CASE(
    "owned ranges: taking and stealing in any order hands out every piece once, a thief "
    "gets about half of the iterations left" *
    doctest::timeout(60)) {
  for (std::size_t p : {2, 3, 12}) {
    for (std::size_t order = 0; order < 16; ++order) {
      CAPTURE(p);
      CAPTURE(order);
      loop_board board;
      broadcast_job job;
      plan(job, 100'003, 7, p);
      REQUIRE(board.post(job));
      std::vector<int> taken(job.pieces, 0);
      // Participant `who` (p + 1: a joiner beyond the owners) takes or steals one piece; the
      // order of turns comes from the bits of a counter.
      std::size_t turn = order * 2654435761u, left = job.pieces;
      while (left != 0) {
        turn = turn * 6364136223846793005u + 1442695040888963407u;
        const std::size_t who = (turn >> 33) % (std::min(p, broadcast_job::max_owners) + 1);
        std::size_t k = detail::take_piece(job, who);
        if (k == detail::no_piece) k = detail::steal_piece(job, who);
        REQUIRE(k < job.pieces);  // one thread: every piece left is in some range
        ++taken[k];
        --left;
      }
      CHECK(std::count(taken.begin(), taken.end(), 1) == static_cast<long>(job.pieces));
      for (std::size_t who = 0; who <= p; ++who)
        CHECK(detail::steal_piece(job, std::min(who, broadcast_job::max_owners)) ==
              detail::no_piece);
      CHECK(board.close() == 0);
      board.retire();
    }
  }
  // The first steal from a fresh job takes about half of the iterations after the owner's first
  // piece.
  loop_board board;
  broadcast_job job;
  plan(job, 1000, 15, 2);
  REQUIRE(board.post(job));
  CHECK(detail::take_piece(job, 0) == 0);  // 250 iterations
  const std::size_t k = detail::steal_piece(job, 1);
  std::size_t b = 0, e = 0;
  detail::broadcast_piece_bounds(job, k, b, e);
  CHECK(b >= 500);
  CHECK(b <= 700);
  CHECK(detail::pieces_left(job, 0) + detail::pieces_left(job, 1) + 2 == job.pieces);
  board.retire();
}

TEST_CASE("a second poster is refused while the board is taken" * doctest::timeout(60)) {
  loop_board board;
  broadcast_job first, second;
  plan(first, 100, 10, 2);
  plan(second, 100, 10, 2);
  CHECK(board.is_free());
  REQUIRE(board.post(first));
  CHECK(board.is_open());
  CHECK_FALSE(board.post(second));
  broadcast_job* joined = board.join();
  CHECK(joined == &first);
  CHECK(board.close() == 1);
  CHECK_FALSE(board.is_open());
  CHECK(board.join() == nullptr);  // closed: nobody else joins
  board.leave();
  board.retire();  // the one joiner left: returns at once
  CHECK(board.is_free());
  CHECK(board.post(second));
  board.retire();  // nobody joined
  CHECK(board.is_free());
}

namespace {

// Workers that always search while idle, so that loops find searchers to post to.
config searching_workers(std::size_t n) {
  config c = with_workers(n, pinning::none);
  c.latency_workers = n;
  return c;
}

}  // namespace

TEST_CASE("loops from a worker while the others search: every index once, reductions in order" *
          doctest::timeout(300)) {
  struct interval {
    long first, last;
    bool ok;
  };
  const auto join = [](interval a, interval b) {
    if (a.last == a.first) return b;  // identity on the left
    if (b.last == b.first) return a;
    return interval{a.first, b.last, a.ok && b.ok && a.last == b.first};
  };
  runtime rt(searching_workers(3));
  std::size_t wrong = 0, unordered = 0;
  task_group g(rt);
  g.spawn([&] {
    for (std::size_t call = 0; call < scaled(2000); ++call) {
      const long n = static_cast<long>(1 + (call * 7919) % 3000);
      std::vector<std::atomic<std::uint8_t>> seen(static_cast<std::size_t>(n));
      parallel_for(rt, 0L, n, [&](long i) { seen[static_cast<std::size_t>(i)].fetch_add(1); });
      for (auto& s : seen)
        wrong += s.load() != 1 ? 1 : 0;
      const interval r = parallel_reduce(
          rt, 0L, n, interval{0, 0, true},
          [](long i) {
            return interval{i, i + 1, true};
          },
          join);
      unordered += (r.ok && r.first == 0 && r.last == n) ? 0 : 1;
    }
  });
  g.wait();
  CHECK(wrong == 0);
  CHECK(unordered == 0);
}

TEST_CASE("a throwing piece run by a searching worker reaches the caller" * doctest::timeout(120)) {
  runtime rt(searching_workers(2));
  std::size_t caught = 0;
  const std::size_t calls = scaled(500);
  task_group g(rt);
  g.spawn([&] {
    for (std::size_t call = 0; call < calls; ++call) {
      try {
        parallel_for(rt, std::size_t{0}, std::size_t{4000}, [&](std::size_t i) {
          if (i == (call * 13) % 4000) throw std::runtime_error("body");
        });
      } catch (const std::runtime_error&) {
        ++caught;
      }
    }
  });
  g.wait();
  CHECK(caught == calls);
  // Still usable afterwards.
  std::atomic<std::size_t> sum{0};
  parallel_for(rt, std::size_t{0}, std::size_t{10'000}, [&](std::size_t) { sum.fetch_add(1); });
  CHECK(sum.load() == 10'000);
}

TEST_CASE("nested loops with searching workers give the serial result" * doctest::timeout(300)) {
  runtime rt(searching_workers(3));
  for (int rep = 0; rep < 20; ++rep) {
    std::atomic<std::uint64_t> total{0};
    parallel_for(rt, 0, 64, [&](int outer) {
      const std::uint64_t inner = parallel_reduce(
          rt, 0, 1000, std::uint64_t{0}, [](int i) { return static_cast<std::uint64_t>(i); },
          std::plus<>{});
      total.fetch_add(inner + static_cast<std::uint64_t>(outer));
    });
    CHECK(total.load() == 64 * (999 * 1000 / 2) + 63 * 64 / 2);
  }
}

TEST_CASE("caller_joins with one searching worker: every index once, the sum exact" *
          doctest::timeout(300)) {
  runtime rt(searching_workers(1));
  const loop_options joins{0, partitioner::adaptive, true};
  std::size_t wrong = 0, bad_sums = 0;
  for (std::size_t call = 0; call < scaled(1000); ++call) {
    const std::size_t n = 1 + (call * 7919) % 20'000;
    std::vector<std::atomic<std::uint8_t>> seen(n);
    parallel_for(rt, std::size_t{0}, n, joins, [&](std::size_t i) { seen[i].fetch_add(1); });
    for (auto& s : seen)
      wrong += s.load() != 1 ? 1 : 0;
    const std::uint64_t sum = parallel_reduce(
        rt, std::size_t{0}, n, std::uint64_t{0}, [](std::size_t i) { return std::uint64_t{i}; },
        std::plus<>{}, joins);
    bad_sums += sum == std::uint64_t{n} * (n - 1) / 2 ? 0 : 1;
  }
  CHECK(wrong == 0);
  CHECK(bad_sums == 0);
}

TEST_CASE("2-D loops while the others search: every cell once, from a worker and joining" *
          doctest::timeout(300)) {
  runtime rt(searching_workers(3));
  const loop_options joins{0, partitioner::adaptive, true};
  std::size_t wrong = 0;
  const auto run = [&](std::size_t call, const loop_options& opts) {
    const std::size_t rows = 1 + (call * 7919) % 97, cols = 1 + (call * 104'729) % 131;
    std::vector<std::atomic<std::uint8_t>> seen(rows * cols);
    parallel_for(rt, range2d{0, rows, 0, cols, 1 + call % 7, 1 + call % 11}, opts,
                 [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
                   for (std::size_t i = r0; i < r1; ++i)
                     for (std::size_t j = c0; j < c1; ++j)
                       seen[i * cols + j].fetch_add(1);
                 });
    for (auto& s : seen)
      wrong += s.load() != 1 ? 1 : 0;
  };
  task_group g(rt);
  g.spawn([&] {
    for (std::size_t call = 0; call < scaled(1000); ++call)
      run(call, {});
  });
  g.wait();
  for (std::size_t call = 0; call < scaled(1000); ++call)
    run(call, joins);
  CHECK(wrong == 0);
}

TEST_CASE("parallel_invoke while the others search: every call once, exceptions, nesting" *
          doctest::timeout(300)) {
  runtime rt(searching_workers(3));
  const loop_options joins{0, partitioner::adaptive, true};
  std::size_t wrong = 0, caught = 0;
  const auto run = [&](const loop_options& opts) {
    for (std::size_t call = 0; call < scaled(1000); ++call) {
      std::atomic<int> a{0}, b{0}, c{0}, d{0};
      parallel_invoke(
          rt, opts, [&] { a.fetch_add(1); }, [&] { b.fetch_add(1); }, [&] { c.fetch_add(1); },
          [&] { d.fetch_add(1); });
      wrong += (a.load() == 1 && b.load() == 1 && c.load() == 1 && d.load() == 1) ? 0 : 1;
      try {
        parallel_invoke(
            rt, opts, [] {},
            [call] {
              if (call % 2 == 0) throw std::runtime_error("call");
            });
      } catch (const std::runtime_error&) {
        ++caught;
      }
    }
  };
  task_group g(rt);
  g.spawn([&] { run({}); });
  g.wait();
  run(joins);
  CHECK(wrong == 0);
  CHECK(caught == scaled(1000));
  // Calls that run loops, and loops whose bodies invoke: the serial totals.
  for (int rep = 0; rep < 20; ++rep) {
    std::atomic<std::uint64_t> total{0};
    parallel_invoke(
        rt, joins,
        [&] { parallel_for(rt, 0, 1000, [&](int i) { total.fetch_add(std::uint64_t(i)); }); },
        [&] {
          parallel_for(rt, range2d{0, 8, 0, 8, 1, 1},
                       [&](std::size_t, std::size_t, std::size_t, std::size_t) {
                         parallel_invoke(
                             rt, [&] { total.fetch_add(1); }, [&] { total.fetch_add(2); });
                       });
        });
    CHECK(total.load() == 999 * 1000 / 2 + 64 * 3);
  }
}
