#include "stall_monitor.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace magpie::detail {
namespace {

std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

stall_monitor::stall_monitor(std::vector<const activity*> workers,
                             std::chrono::milliseconds threshold,
                             std::function<void(const stall_info&)> on_stall)
    : workers_(std::move(workers)),
      threshold_(threshold),
      on_stall_(std::move(on_stall)),
      records_(std::make_unique<record[]>(workers_.size())) {
  thread_ = std::thread([this] { run(); });
}

stall_monitor::~stall_monitor() {
  if (std::this_thread::get_id() == thread_.get_id()) {
    // The thread would run on in freed memory once the handler returns.
    std::fprintf(stderr,
                 "magpie: a runtime was destroyed from its own config.on_stall handler; "
                 "aborting\n");
    std::abort();
  }
  stop();
}

void stall_monitor::request_stop() noexcept {
  stopping_.store(true, std::memory_order_relaxed);  // relaxed: mu_ orders what matters
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

void stall_monitor::stop() noexcept {
  request_stop();
  if (std::this_thread::get_id() == thread_.get_id()) return;  // on_stall called shutdown
  std::lock_guard lock(join_mu_);
  if (thread_.joinable()) thread_.join();
}

void stall_monitor::run() {
  // Half the threshold: a task is flagged between 1 and 1.5 thresholds after it started.
  const auto period = threshold_ / 2;
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
    lock.unlock();
    sample();
    lock.lock();
  }
}

void stall_monitor::sample() {
  const std::int64_t now = steady_ns();
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    record& r = records_[i];
    const activity::marker m = workers_[i]->now();
    // relaxed loads (monitor's own fields): this thread is their only writer.
    const activity::marker seen{r.finished.load(std::memory_order_relaxed),
                                r.changes.load(std::memory_order_relaxed)};
    if (m != seen) {
      r.since_ns.store(now, std::memory_order_relaxed);
      r.stalled.store(false, std::memory_order_relaxed);
      r.finished.store(m.finished, std::memory_order_relaxed);
      // release: look() that acquires this value sees the since_ns and flag stored for it.
      r.changes.store(m.changes, std::memory_order_release);
      r.reported = false;
      continue;
    }
    if (!activity::busy(m)) continue;
    const std::chrono::nanoseconds ran(now - r.since_ns.load(std::memory_order_relaxed));
    if (ran <= threshold_) continue;
    r.stalled.store(true, std::memory_order_relaxed);  // relaxed: a status flag for stats()
    if (!r.reported && !stopping_.load(std::memory_order_relaxed)) {
      r.reported = true;
      report(i, ran);
    }
  }
}

void stall_monitor::report(std::size_t worker, std::chrono::nanoseconds running_for) noexcept {
  if (!on_stall_) {
    std::fprintf(stderr,
                 "magpie: worker %zu has been running one task for %lld ms "
                 "(config.stall_threshold %lld ms)\n",
                 worker,
                 static_cast<long long>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(running_for).count()),
                 static_cast<long long>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(threshold_).count()));
    return;
  }
  try {
    on_stall_(stall_info{worker, running_for});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "magpie: config.on_stall threw: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "magpie: config.on_stall threw a non-standard exception\n");
  }
}

stall_monitor::view stall_monitor::look(std::size_t i) const noexcept {
  const record& r = records_[i];
  const activity::marker m = workers_[i]->now();
  if (!activity::busy(m)) return {};
  // acquire: pairs with sample's release store of `changes` (its since_ns and flag).
  const std::uint64_t changes = r.changes.load(std::memory_order_acquire);
  if (changes != m.changes || r.finished.load(std::memory_order_relaxed) != m.finished) return {};
  const std::int64_t ran = steady_ns() - r.since_ns.load(std::memory_order_relaxed);
  return {r.stalled.load(std::memory_order_relaxed), static_cast<std::uint64_t>(ran > 0 ? ran : 0)};
}

}  // namespace magpie::detail
