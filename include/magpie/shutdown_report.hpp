#pragma once

#include <cstdint>

namespace magpie {

/// What became of every task the runtime accepted, over its whole life.
struct shutdown_report {
  std::uint64_t ran = 0;         ///< tasks whose callable was invoked (including those that threw)
  std::uint64_t discarded = 0;   ///< not started, dropped by shutdown(cancel)
  std::uint64_t canceled = 0;    ///< not started, skipped because their task_group was canceled
  std::uint64_t exceptions = 0;  ///< detached tasks that threw (passed to config.on_exception)
  std::uint64_t still_running = 0;  ///< tasks running when the report was taken (0 after a join)
};

}  // namespace magpie
