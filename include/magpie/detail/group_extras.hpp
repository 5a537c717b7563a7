// What a task_group allocates only when asked for it (a concurrency limit, a stop token), behind
// one pointer in its state: a group that never asks pays a null check when it is destroyed, the
// same check a limit alone used to cost, and nothing on spawn or finish.
#pragma once

#include <memory>
#include <stop_token>

#include "magpie/detail/group_limit.hpp"
#include "magpie/detail/group_state.hpp"
#include "magpie/export.hpp"

namespace magpie::detail {

struct group_stop;  // runtime/group_stop.hpp: a stop source listed in its runtime's registry

struct MAGPIE_API group_extras {
  group_extras() noexcept;
  ~group_extras();  // out of line: group_stop is complete only there
  group_extras(const group_extras&) = delete;
  group_extras& operator=(const group_extras&) = delete;

  // set_limit; like the limit itself, not thread-safe against a concurrent spawn.
  std::unique_ptr<group_limiter> limiter;
  // stop_token(); written under the runtime's stop registry lock.
  std::unique_ptr<group_stop> stop;
};

/// The extras of `g`, made on first use. Thread-safe: racing callers get the same object.
MAGPIE_API group_extras& extras_of(const group_state& g);
/// After the group's wait, when no task of it can run: unlists its stop source and frees the
/// extras. Tokens handed out stay valid (their state is shared) and keep their answer.
MAGPIE_API void destroy_extras(group_state& g) noexcept;

/// A token that is stop-requested once `g` or an ancestor is canceled (before or after this
/// call). Made on the first call for `g`; later calls return tokens of the same source.
MAGPIE_API std::stop_token group_stop_token(const group_state& g);
/// After wait() lifted an exception's cancellation: a group that is no longer canceled gets a
/// fresh source, so a reused group's new tokens are not born stopped. Earlier tokens stay stopped.
MAGPIE_API void renew_group_stop(const group_state& g) noexcept;

}  // namespace magpie::detail
