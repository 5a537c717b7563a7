#include "config_check.hpp"

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace magpie::detail {
namespace {

constexpr std::size_t max_workers = 4096;
constexpr std::chrono::milliseconds max_stall_threshold = std::chrono::hours(24);

void validate(const config& c) {
  if (c.workers > max_workers) {
    throw std::invalid_argument("config.workers: " + std::to_string(c.workers) +
                                " exceeds the limit of " + std::to_string(max_workers));
  }
  if (c.max_workers > max_workers) {
    throw std::invalid_argument("config.max_workers: " + std::to_string(c.max_workers) +
                                " exceeds the limit of " + std::to_string(max_workers));
  }
  validate_spin("config.spin", c.spin);
  if (c.starvation_limit < 2 || c.starvation_limit > (std::size_t{1} << 20)) {
    throw std::invalid_argument("config.starvation_limit: must be between 2 and 2^20, got " +
                                std::to_string(c.starvation_limit));
  }
  if (c.stall_threshold.count() < 0 || c.stall_threshold > max_stall_threshold) {
    throw std::invalid_argument(
        "config.stall_threshold: must be between 0 and 86400000 ms (24 h), got " +
        std::to_string(c.stall_threshold.count()) + " ms");
  }
  if (c.trace && (c.trace_capacity == 0 || c.trace_capacity > (std::size_t{1} << 26))) {
    throw std::invalid_argument("config.trace_capacity: must be between 1 and 2^26, got " +
                                std::to_string(c.trace_capacity));
  }
}

}  // namespace

// Checked in the caller's unit, before any conversion (microseconds::min() in nanoseconds
// overflows).
void validate_spin(const char* what, std::chrono::microseconds spin) {
  if (spin.count() < 0 || spin > std::chrono::seconds(1)) {
    throw std::invalid_argument(std::string(what) + ": must be between 0 and 1 s, got " +
                                std::to_string(spin.count()) + " us");
  }
}

// Validated, with a max_pending of 2^63 or more (SIZE_MAX, the natural "no bound"; the signed
// pending count cannot compare against it) meaning unbounded, as 0 does.
config validated(config c) {
  validate(c);
  if (c.max_pending > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max()))
    c.max_pending = 0;
  return c;
}

// Resolves config.workers (0 = one per PU) and config.max_workers (0 = the worker count) in
// place, and returns the number of threads to start: max_workers.
std::size_t resolve_worker_counts(config& c, const topology& t) {
  if (!c.cpus.empty() && t.is_synthetic()) {
    // Explicit CPUs are a requirement; a described machine's PUs are never bound to.
    throw std::invalid_argument(std::string("config.cpus: explicit CPUs need this machine's "
                                            "topology, but it comes from ") +
                                t.source() + ", whose processing units are not bound to");
  }
  const bool automatic = c.workers == 0;
  std::size_t n = c.workers;
  if (automatic) n = !c.cpus.empty() ? c.cpus.size() : t.allowed_pus().size();
  if (n > max_workers) {  // one per PU of a (possibly described) machine with too many
    throw std::invalid_argument("config.workers: 0 means one per processing unit, " +
                                std::to_string(n) + " here, which exceeds the limit of " +
                                std::to_string(max_workers));
  }
  if (c.latency_workers > n) {
    throw std::invalid_argument("config.latency_workers: " + std::to_string(c.latency_workers) +
                                " exceeds the worker count " + std::to_string(n));
  }
  if (c.max_workers != 0 && c.max_workers < n) {
    throw std::invalid_argument("config.max_workers: " + std::to_string(c.max_workers) +
                                " is below the worker count " + std::to_string(n) +
                                (automatic ? " (config.workers 0: one per processing unit)" : ""));
  }
  c.workers = n;
  if (c.max_workers == 0) c.max_workers = n;
  return c.max_workers;
}

}  // namespace magpie::detail
