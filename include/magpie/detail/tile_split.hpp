// Splitting a range2d into tiles: halving along the longer side, lazily as 1-D loops split, on
// the task path; a grid of grain-sized tiles, numbered as a 1-D loop, on the loop board and for a
// joining caller.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <stdexcept>

#include "magpie/detail/broadcast_loop.hpp"
#include "magpie/detail/lazy_split.hpp"
#include "magpie/detail/on_runtime.hpp"
#include "magpie/detail/shared_pieces.hpp"
#include "magpie/errors.hpp"
#include "magpie/partitioner.hpp"
#include "magpie/range2d.hpp"
#include "magpie/runtime.hpp"
#include "magpie/task_group.hpp"

namespace magpie::detail {

/// The default tile sides of a 2-D loop: about 32 × workers tiles (adaptive), 256 (fixed).
inline std::size_t pick_side_grain(std::size_t side, std::size_t workers, partitioner p) {
  const std::size_t per_side =
      p == partitioner::fixed ? 16 : 2 + static_cast<std::size_t>(std::sqrt(32.0 * workers));
  return std::max<std::size_t>(1, side / per_side);
}

struct tile_state {
  loop_state s;
  std::size_t row_grain;
  std::size_t col_grain;
};

// Splits the tile along its longer divisible side, spawning the second half when (adaptive) our
// deque is empty, else running both halves here, checking again at every level.
template <class Body>
void for_tiles(tile_state& t, range2d r, const Body& body) {
  if (t.s.failed.load(std::memory_order_relaxed)) return;
  const bool split_rows = r.rows() > t.row_grain;
  const bool split_cols = r.cols() > t.col_grain;
  if (!split_rows && !split_cols) {
    body(r.row_begin, r.row_end, r.col_begin, r.col_end);
    return;
  }
  range2d second = r;
  if (split_rows && (!split_cols || r.rows() >= r.cols())) {
    r.row_end = second.row_begin = r.row_begin + r.rows() / 2;
  } else {
    r.col_end = second.col_begin = r.col_begin + r.cols() / 2;
  }
  if (t.s.adaptive && !should_split(detail::runtime_access::core(t.s.rt))) {
    for_tiles(t, r, body);
    for_tiles(t, second, body);
    return;
  }
  task_group g(t.s.rt);
  g.spawn([&t, second, &body] { flag_failure(t.s, [&] { for_tiles(t, second, body); }); });
  MAGPIE_TRY {
    for_tiles(t, r, body);
  }
  MAGPIE_CATCH(...) {
    t.s.failed.store(true, std::memory_order_relaxed);
    g.cancel();
    MAGPIE_RETHROW;
  }
  g.wait();
}

/// The tiles of the loop board and joining-caller paths: grain-sized tiles numbered row-major
/// (consecutive numbers are neighbours along a row), so that a 2-D loop is a 1-D loop over tile
/// numbers and takes the same paths as one.
struct tile_grid {
  range2d r;
  std::size_t row_grain;
  std::size_t col_grain;
  std::size_t tile_cols;  // tiles in one row of tiles
  std::size_t tiles;      // 0 when the count does not fit a size_t: only the task path then
};

inline tile_grid make_tile_grid(const range2d& r, std::size_t row_grain, std::size_t col_grain) {
  const std::size_t tile_rows = r.rows() / row_grain + (r.rows() % row_grain != 0 ? 1 : 0);
  const std::size_t tile_cols = r.cols() / col_grain + (r.cols() % col_grain != 0 ? 1 : 0);
  const bool fits = tile_rows <= static_cast<std::size_t>(-1) / tile_cols;
  return {r, row_grain, col_grain, tile_cols, fits ? tile_rows * tile_cols : 0};
}

/// body(row_begin, row_end, col_begin, col_end) for the tiles numbered [first, last).
template <class Body>
void run_tiles(const tile_grid& g, std::size_t first, std::size_t last, const Body& body) {
  for (std::size_t t = first; t < last; ++t) {
    const std::size_t r0 = g.r.row_begin + (t / g.tile_cols) * g.row_grain;
    const std::size_t c0 = g.r.col_begin + (t % g.tile_cols) * g.col_grain;
    body(r0, r0 + std::min(g.row_grain, g.r.row_end - r0), c0,
         c0 + std::min(g.col_grain, g.r.col_end - c0));
  }
}

/// Throws std::invalid_argument for reversed sides, or a 1-D grain given to a 2-D loop.
inline void check_range2d(const range2d& r, const loop_options& opts) {
  if (r.row_end < r.row_begin) {
    MAGPIE_THROW(
        std::invalid_argument("magpie::parallel_for: range2d rows reversed (row_end < row_begin)"));
  }
  if (r.col_end < r.col_begin) {
    MAGPIE_THROW(
        std::invalid_argument("magpie::parallel_for: range2d cols reversed (col_end < col_begin)"));
  }
  if (opts.grain != 0) {
    MAGPIE_THROW(std::invalid_argument(
        "magpie::parallel_for: loop_options::grain must be 0 for a range2d (set row_grain and "
        "col_grain)"));
  }
}

/// A 2-D loop of more than one tile by the 1-D loop's paths, over the grid's tile numbers: a
/// joining caller posts it on the loop board (adaptive) or shares its tiles with helper tasks;
/// otherwise it runs on a worker, through the board when one searches (adaptive), else as
/// lazily split tiles. partitioner::fixed never uses the board, so its tiles stay the split
/// tree's whoever takes part.
template <class Body>
void run_range2d(runtime& rt, tile_state& t, const range2d& r, bool caller_joins,
                 const Body& body) {
  const tile_grid grid = make_tile_grid(r, t.row_grain, t.col_grain);
  const auto tiles = [&grid, &body](std::size_t b, std::size_t e) { run_tiles(grid, b, e, body); };
  const std::size_t n = grid.tiles;
  if (n != 0 && caller_joins && !on_worker_of(runtime_access::core(rt))) {
    if (t.s.adaptive && broadcast_for(rt, std::size_t{0}, n, 1, tiles)) return;
    share_pieces(rt, std::size_t{0}, n, 1,
                 [&tiles](std::size_t, std::size_t b, std::size_t e) { tiles(b, e); });
    return;
  }
  on_runtime(rt, "magpie::parallel_for", [&] {
    if (!t.s.adaptive || n == 0 || !broadcast_for(rt, std::size_t{0}, n, 1, tiles)) {
      for_tiles(t, r, body);
    }
  });
}

}  // namespace magpie::detail
