// Data-parallel loops: parallel_for, parallel_reduce, parallel_invoke.
//
// Splitting is lazy binary splitting (Tzannes et al., PPoPP 2010): a worker runs its range in
// grain-sized pieces and splits off the upper half only when its own deque is empty, i.e. when
// no work of its is waiting to be stolen. Loops that nobody steals from cost about a plain loop
// plus one check per grain; a stolen half splits again on the thief, so skewed loops balance.
// A loop started while a worker is searching skips the tasks: it is posted on the runtime's loop
// board (detail/loop_broadcast.hpp) and the searchers that show up take pieces beside the caller.
// See docs/parallel-for.md for the guide and docs/design.md for the reasoning.
//
// This header includes them all; each concept has its own:
//   partitioner.hpp      loop_options, partitioner
//   parallel_for.hpp     parallel_for over indexes, iterators, ranges and range2d
//   parallel_reduce.hpp  parallel_reduce, map and range forms
//   range2d.hpp          the 2-D range
//   parallel_invoke.hpp  parallel_invoke
// and the splitting machinery lives under detail/ (lazy_split, tile_split, reduce_split,
// shared_pieces, broadcast_loop, on_runtime, loop_index).
#pragma once

#include "magpie/parallel_for.hpp"     // IWYU pragma: export
#include "magpie/parallel_invoke.hpp"  // IWYU pragma: export
#include "magpie/parallel_reduce.hpp"  // IWYU pragma: export
#include "magpie/partitioner.hpp"      // IWYU pragma: export
#include "magpie/range2d.hpp"          // IWYU pragma: export
