// How a parallel loop is cut into pieces (magpie::partitioner) and the options every loop takes.
#pragma once

#include <cstddef>

namespace magpie {

enum class partitioner {
  adaptive,  ///< lazy binary splitting (default)
  fixed      ///< split down to the grain regardless of stealing: the same chunks every run
};

/// Options of a parallel loop. grain 0 picks one: the range over 32 × workers pieces (adaptive),
/// or over 256 pieces but at least 64 iterations (fixed: chunking that does not depend on the
/// worker count either).
struct loop_options {
  std::size_t grain = 0;
  partitioner part = partitioner::adaptive;
  /// Called from a thread that is not one of the runtime's workers, the calling thread runs
  /// pieces too instead of parking (for a runtime sized `workers = cores - 1`). Off by default:
  /// with one worker per core the caller would be one thread too many.
  bool caller_joins = false;
};

}  // namespace magpie
