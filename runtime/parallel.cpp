#include "magpie/parallel.hpp"

#include "runtime_core.hpp"

namespace magpie::detail {

bool should_split(runtime_core& core) noexcept {
  const worker* w = this_worker();
  // A lone worker has no thief to feed; elsewhere split only when nothing of ours is waiting to
  // be stolen (lazy binary splitting).
  return w != nullptr && &w->core == &core && core.size() > 1 && !w->has_local_work();
}

bool on_worker_of(runtime_core& core) noexcept {
  const worker* w = this_worker();
  return w != nullptr && &w->core == &core;
}

}  // namespace magpie::detail
