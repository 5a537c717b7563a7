// The non-template parts of parallel loops (magpie/detail/lazy_split.hpp, on_runtime.hpp).
#include "magpie/detail/lazy_split.hpp"
#include "magpie/detail/on_runtime.hpp"

#include "runtime_core.hpp"

namespace magpie::detail {

bool should_split(runtime_core& core) noexcept {
  const worker* w = worker_of(core);
  // A lone worker has no thief to feed; elsewhere split only when nothing of ours is waiting to
  // be stolen (lazy binary splitting).
  return w != nullptr && core.size() > 1 && !w->has_local_work();
}

bool on_worker_of(runtime_core& core) noexcept {
  return worker_of(core) != nullptr;
}

}  // namespace magpie::detail
