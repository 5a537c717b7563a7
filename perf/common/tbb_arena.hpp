// A oneTBB arena with the same number of threads as the Magpie runtime it is compared with.
#pragma once

#include <cstddef>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

namespace perf {

struct tbb_arena {
  /// reserved_for_caller = 1 when the calling thread joins through execute() (fork-join: caller
  /// plus workers-1 TBB threads); 0 when work only arrives through enqueue() (all TBB threads).
  tbb_arena(std::size_t workers, unsigned reserved_for_caller)
      : limit(tbb::global_control::max_allowed_parallelism, workers + 1),
        arena(static_cast<int>(workers), reserved_for_caller) {
    arena.initialize();
  }

  // TBB's default pool has cores-1 threads: 1 on the 2-core machines, which would leave an
  // enqueue-only arena one worker short of Magpie's. Lifting the limit gives it `workers`.
  tbb::global_control limit;
  tbb::task_arena arena;
};

}  // namespace perf
