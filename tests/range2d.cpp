// 2-D loops (range2d): coverage, tile shapes, errors, the 1-D paths they take.
#include "magpie/parallel.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <numeric>
#include <ranges>
#include <set>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

#include "magpie/magpie.hpp"
#include "test_support.hpp"

using namespace magpie;
using magpie::test::gate;
using magpie::test::with_workers;

namespace {

struct tile {
  std::size_t r0, r1, c0, c1;
};

// Runs a 2-D loop and checks that its tiles cover every cell exactly once.
std::vector<tile> run_tiles(runtime& rt, range2d r, loop_options opts = {}) {
  const std::size_t rows = r.row_end, cols = r.col_end;
  std::vector<std::atomic<int>> seen(rows * cols);
  std::mutex m;
  std::vector<tile> tiles;
  parallel_for(rt, r, opts, [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
    for (std::size_t i = r0; i < r1; ++i)
      for (std::size_t j = c0; j < c1; ++j)
        seen[i * cols + j].fetch_add(1);
    const std::lock_guard<std::mutex> lock(m);
    tiles.push_back({r0, r1, c0, c1});
  });
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) {
      const bool inside = i >= r.row_begin && j >= r.col_begin;
      wrong += seen[i * cols + j].load() != (inside ? 1 : 0) ? 1 : 0;
    }
  CHECK(wrong == 0);
  return tiles;
}

}  // namespace

TEST_CASE("a 2-D loop covers every cell once, in tiles no larger than the grains" *
          doctest::timeout(120)) {
  for (std::size_t w : {1, 2, 5}) {
    CAPTURE(w);
    runtime rt(with_workers(w, pinning::none));
    for (auto [rows, cols] : {std::pair<std::size_t, std::size_t>{1, 1},
                              {1, 1000},
                              {1000, 1},
                              {3, 700},
                              {257, 129},
                              {512, 512}}) {
      CAPTURE(rows);
      CAPTURE(cols);
      run_tiles(rt, range2d{0, rows, 0, cols});
      run_tiles(rt, range2d{2 % rows, rows, 1 % cols, cols});
      for (const tile& t : run_tiles(rt, range2d{0, rows, 0, cols, 16, 8})) {
        CHECK(t.r1 - t.r0 <= 16);
        CHECK(t.c1 - t.c0 <= 8);
      }
    }
    run_tiles(rt, range2d{0, 0, 0, 100});  // empty: no tile
  }
}

TEST_CASE("a 2-D loop splits the longer side first; fixed tiles do not depend on the workers" *
          doctest::timeout(120)) {
  const auto fixed_tiles = [](std::size_t w) {
    runtime rt(with_workers(w, pinning::none));
    std::vector<tile> t =
        run_tiles(rt, range2d{0, 64, 0, 1024, 16, 16}, loop_options{0, partitioner::fixed});
    std::sort(t.begin(), t.end(), [](const tile& a, const tile& b) {
      return a.r0 != b.r0 ? a.r0 < b.r0 : a.c0 < b.c0;
    });
    return t;
  };
  const std::vector<tile> one = fixed_tiles(1);
  // 64 x 1024 with 16 x 16 grains: halving the longer side each time ends in 16 x 16 tiles.
  REQUIRE(one.size() == 4 * 64);
  for (const tile& t : one) {
    CHECK(t.r1 - t.r0 == 16);
    CHECK(t.c1 - t.c0 == 16);
  }
  const std::vector<tile> three = fixed_tiles(3);
  REQUIRE(three.size() == one.size());
  for (std::size_t i = 0; i < one.size(); ++i) {
    CHECK(three[i].r0 == one[i].r0);
    CHECK(three[i].c0 == one[i].c0);
  }
  // A wide strip with only the columns divisible is cut along the columns alone.
  runtime rt(with_workers(2, pinning::none));
  for (const tile& t :
       run_tiles(rt, range2d{0, 4, 0, 4096, 4, 64}, loop_options{0, partitioner::fixed}))
    CHECK(t.r1 - t.r0 == 4);
}

TEST_CASE("2-D loops: reversed sides, a 1-D grain and a throwing body are reported" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  const auto nothing = [](std::size_t, std::size_t, std::size_t, std::size_t) {};
  CHECK_THROWS_WITH_AS(parallel_for(rt, range2d{5, 1, 0, 10}, nothing),
                       "magpie::parallel_for: range2d rows reversed (row_end < row_begin)",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(parallel_for(rt, range2d{0, 10, 5, 1}, nothing),
                       "magpie::parallel_for: range2d cols reversed (col_end < col_begin)",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(parallel_for(rt, range2d{0, 10, 0, 10}, loop_options{4}, nothing),
                       "magpie::parallel_for: loop_options::grain must be 0 for a range2d (set "
                       "row_grain and col_grain)",
                       std::invalid_argument);
  // How many tiles the cancel skips depends on timing; that no tile runs twice does not.
  std::mutex mu;
  std::set<std::pair<std::size_t, std::size_t>> seen;
  bool twice = false;
  CHECK_THROWS_WITH_AS(parallel_for(rt, range2d{0, 1000, 0, 1000, 10, 10},
                                    [&](std::size_t r0, std::size_t, std::size_t c0, std::size_t) {
                                      {
                                        std::lock_guard lock(mu);
                                        twice |= !seen.emplace(r0, c0).second;
                                      }
                                      if (r0 == 0 && c0 == 0)
                                        throw std::runtime_error("tile failed");
                                    }),
                       "tile failed", std::runtime_error);
  CHECK_FALSE(twice);
  CHECK(seen.count({0, 0}) == 1);
}

TEST_CASE("2-D loops take the 1-D paths: every cell once on a worker, outside, and joining" *
          doctest::timeout(120)) {
  const loop_options joins{0, partitioner::adaptive, true};
  const loop_options fixed_joins{0, partitioner::fixed, true};
  for (std::size_t w : {1, 2, 5}) {
    CAPTURE(w);
    runtime rt(with_workers(w, pinning::none));
    for (auto [rows, cols] :
         {std::pair<std::size_t, std::size_t>{1, 1}, {1, 1000}, {1000, 1}, {3, 700}, {257, 129}}) {
      CAPTURE(rows);
      CAPTURE(cols);
      run_tiles(rt, range2d{0, rows, 0, cols}, joins);
      run_tiles(rt, range2d{2 % rows, rows, 1 % cols, cols}, fixed_joins);
      for (const tile& t : run_tiles(rt, range2d{0, rows, 0, cols, 16, 8}, joins)) {
        CHECK(t.r1 - t.r0 <= 16);
        CHECK(t.c1 - t.c0 <= 8);
      }
      rt.async([&] { run_tiles(rt, range2d{0, rows, 0, cols, 4, 4}, joins); }).get();
    }
  }
}

TEST_CASE("fixed 2-D loops with a joining caller: the same grain-sized grid on any worker count" *
          doctest::timeout(120)) {
  for (std::size_t w : {1, 2, 5}) {
    CAPTURE(w);
    runtime rt(with_workers(w, pinning::none));
    std::vector<tile> t =
        run_tiles(rt, range2d{0, 100, 0, 70, 16, 8}, loop_options{0, partitioner::fixed, true});
    std::sort(t.begin(), t.end(), [](const tile& a, const tile& b) {
      return a.r0 != b.r0 ? a.r0 < b.r0 : a.c0 < b.c0;
    });
    REQUIRE(t.size() == 7 * 9);  // ceil(100 / 16) rows of ceil(70 / 8) tiles
    std::size_t off_grid = 0;
    for (std::size_t k = 0; k < t.size(); ++k) {
      const std::size_t r0 = (k / 9) * 16, c0 = (k % 9) * 8;
      const bool same = t[k].r0 == r0 && t[k].r1 == std::min<std::size_t>(100, r0 + 16) &&
                        t[k].c0 == c0 && t[k].c1 == std::min<std::size_t>(70, c0 + 8);
      off_grid += same ? 0 : 1;
    }
    CHECK(off_grid == 0);
  }
}

TEST_CASE("caller_joins: a 2-D loop runs tiles on the calling thread too" * doctest::timeout(120)) {
  runtime rt(with_workers(1, pinning::none));
  gate busy;  // holds the only worker, so the caller must start the loop itself
  rt.submit([&] { busy.pass(); });
  busy.wait_entered();
  const std::size_t rows = 300, cols = 200;
  std::vector<std::atomic<int>> seen(rows * cols);
  std::atomic<int> on_caller{0}, on_worker{0};
  parallel_for(rt, range2d{0, rows, 0, cols, 10, 20}, loop_options{0, partitioner::adaptive, true},
               [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
                 for (std::size_t i = r0; i < r1; ++i)
                   for (std::size_t j = c0; j < c1; ++j)
                     seen[i * cols + j].fetch_add(1);
                 if (current_worker() == -1) {
                   if (on_caller.fetch_add(1) == 0) busy.release();  // now the worker may help
                 } else {
                   on_worker.fetch_add(1);
                 }
               });
  int wrong = 0;
  for (auto& s : seen)
    wrong += s.load() != 1 ? 1 : 0;
  CHECK(wrong == 0);
  CHECK(on_caller.load() >= 1);
  CHECK(on_caller.load() + on_worker.load() == 30 * 10);  // grain-sized tiles
}

TEST_CASE("2-D loops: a throwing tile reaches a joining caller; nested 2-D loops complete" *
          doctest::timeout(120)) {
  runtime rt(with_workers(2, pinning::none));
  const loop_options joins{0, partitioner::adaptive, true};
  std::atomic<int> ran{0};
  CHECK_THROWS_WITH_AS(parallel_for(rt, range2d{0, 1000, 0, 1000, 10, 10}, joins,
                                    [&](std::size_t r0, std::size_t, std::size_t c0, std::size_t) {
                                      ran.fetch_add(1);
                                      if (r0 == 500 && c0 == 500)
                                        throw std::runtime_error("tile failed");
                                    }),
                       "tile failed", std::runtime_error);
  CHECK(ran.load() <= 100 * 100);
  CHECK_THROWS_WITH_AS(
      parallel_for(rt, range2d{0, 10, 0, 10}, loop_options{4, partitioner::adaptive, true},
                   [](std::size_t, std::size_t, std::size_t, std::size_t) {}),
      "magpie::parallel_for: loop_options::grain must be 0 for a range2d (set "
      "row_grain and col_grain)",
      std::invalid_argument);
  // Every outer tile runs an inner 2-D loop: the serial count of cells.
  std::atomic<std::uint64_t> cells{0};
  parallel_for(rt, range2d{0, 16, 0, 16, 4, 4}, joins,
               [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
                 parallel_for(rt, range2d{0, (r1 - r0) * 8, 0, (c1 - c0) * 8, 2, 2},
                              [&](std::size_t a, std::size_t b, std::size_t c, std::size_t d) {
                                cells.fetch_add((b - a) * (d - c));
                              });
               });
  CHECK(cells.load() == 16 * 16 * 64);
}
