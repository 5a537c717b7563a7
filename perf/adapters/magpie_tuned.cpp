// Magpie with other idle settings, for the latency and idle-cost workloads only (they offer
// submit alone): spin 0 (park at once), spin 1 ms, and latency mode (one worker always
// searching). The plain `magpie` adapter is the default spin of 50 us.
#include <chrono>
#include <cstddef>
#include <utility>

#include <magpie/magpie.hpp>

#include "registry.hpp"

namespace {

/// Spin in microseconds; searching: workers kept always searching (latency mode).
template <long Spin, std::size_t Searching>
struct tuned_magpie {
  explicit tuned_magpie(std::size_t workers) : rt(config_for(workers)) {}

  static magpie::config config_for(std::size_t workers) {
    magpie::config cfg;
    cfg.workers = workers;
    cfg.spin = std::chrono::microseconds(Spin);
    cfg.latency_workers = Searching;
    return cfg;
  }

  template <class F>
  void submit(F&& f) {
    rt.submit(std::forward<F>(f));
  }

  template <class F>
  void submit_high(F&& f) {
    rt.submit(std::forward<F>(f), magpie::priority::high);
  }

  magpie::runtime rt;
};

struct magpie_spin0 : tuned_magpie<0, 0> {
  static constexpr const char* name = "magpie_spin0";
  using tuned_magpie::tuned_magpie;
};

struct magpie_spin1ms : tuned_magpie<1000, 0> {
  static constexpr const char* name = "magpie_spin1ms";
  using tuned_magpie::tuned_magpie;
};

struct magpie_latency : tuned_magpie<50, 1> {
  static constexpr const char* name = "magpie_latency";
  using tuned_magpie::tuned_magpie;
};

}  // namespace

MAGPIE_BENCH_ADAPTER(magpie_spin0)
MAGPIE_BENCH_ADAPTER(magpie_spin1ms)
MAGPIE_BENCH_ADAPTER(magpie_latency)
