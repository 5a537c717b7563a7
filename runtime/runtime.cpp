#include "magpie/runtime.hpp"

#include "runtime_core.hpp"

namespace magpie {

runtime::runtime(config cfg) : core_(std::make_unique<detail::runtime_core>(std::move(cfg))) {}

runtime::~runtime() = default;

std::size_t runtime::worker_count() const noexcept {
  return core_->size();
}

shutdown_report runtime::shutdown(shutdown_mode mode) {
  return core_->shutdown(mode);
}

std::vector<int> runtime::worker_cpus() const {
  return core_->worker_cpus();
}

int current_worker() noexcept {
  const detail::worker* w = detail::this_worker();
  return w != nullptr ? static_cast<int>(w->index) : -1;
}

namespace detail {

reservation reserve_slot(runtime_core& core, bool wait_for_room) {
  return core.reserve(wait_for_room);
}

void release_slot(runtime_core& core, reservation r) noexcept {
  core.release(r);
}

void submit_local(runtime_core& core, task* t, priority) noexcept {
  core.submit_local(t);
}

void submit_injected(runtime_core& core, task& t, reservation r, priority) {
  core.submit_injected(t, r);
}

}  // namespace detail
}  // namespace magpie
