// Splitting a range2d into tiles: halving along the longer side, lazily as 1-D loops split.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>

#include "magpie/detail/lazy_split.hpp"
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

}  // namespace magpie::detail
