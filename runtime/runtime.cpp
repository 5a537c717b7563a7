#include "magpie/runtime.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "runtime_core.hpp"

namespace magpie {

runtime::runtime(config cfg) : core_(std::make_unique<detail::runtime_core>(std::move(cfg))) {}

runtime::~runtime() {
  if (detail::worker_of(*core_) == nullptr) return;  // core_'s destructor drains and joins
  // Destroyed by one of its own tasks: that worker cannot join itself. A helper thread drains
  // (the destroying task finishes first), joins every worker and frees the core.
  // The thread takes ownership only once it exists: had it held core_ while failing to start,
  // destroying it here would shut the runtime down from its own worker.
  try {
    detail::runtime_core* core = core_.get();
    std::thread([core] { delete core; }).detach();
    static_cast<void>(core_.release());
  } catch (const std::system_error& e) {
    std::fprintf(stderr,
                 "magpie: cannot start the thread that finishes a runtime destroyed by "
                 "its own task (%s); aborting\n",
                 e.what());
    std::abort();
  }
}

std::size_t runtime::worker_count() const noexcept {
  return core_->size();
}

bool runtime::is_current_worker() const noexcept {
  return detail::worker_of(*core_) != nullptr;
}

shutdown_report runtime::shutdown(shutdown_mode mode) {
  return core_->shutdown(mode, std::chrono::steady_clock::time_point::max());
}

shutdown_report runtime::shutdown_until(std::chrono::steady_clock::time_point deadline) {
  return core_->shutdown(shutdown_mode::drain, deadline);
}

std::vector<int> runtime::worker_cpus() const {
  return core_->worker_cpus();
}

void runtime::set_spin(std::chrono::microseconds spin) {
  core_->set_spin(spin);
}

void runtime::set_active_workers(std::size_t n) {
  core_->set_active_workers(n);
}

std::size_t runtime::active_workers() const noexcept {
  return core_->idle.active();
}

std::size_t runtime::pending() const noexcept {
  return core_->pending();
}

std::size_t runtime::running() const noexcept {
  return static_cast<std::size_t>(core_->running());
}

void runtime::wait_idle() {
  core_->wait_idle();
}

runtime_stats runtime::stats() const {
  return core_->stats();
}

void runtime::write_chrome_trace(const std::string& path) const {
  core_->write_chrome_trace(path);
}

int current_worker() noexcept {
  const detail::worker* w = detail::this_worker();
  return w != nullptr ? static_cast<int>(w->index) : -1;
}

namespace detail {

running_future*& running_futures() noexcept {
  thread_local running_future* innermost = nullptr;
  return innermost;
}

void check_not_own_future(const group_state& g, const char* who) {
  for (const running_future* f = running_futures(); f != nullptr; f = f->outer) {
    if (f->group == &g) {
      throw std::logic_error(std::string(who) +
                             " called from the future's own task (it could never return)");
    }
  }
}

}  // namespace detail
}  // namespace magpie
