// hwloc: which processing units (PUs) this process may use, and where each worker goes.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "magpie/config.hpp"

struct hwloc_topology;

namespace magpie::detail {

class topology {
 public:
  /// The machine's topology, or the hwloc synthetic description when `synthetic` is not empty.
  /// Throws std::invalid_argument (naming config.synthetic_topology) for a bad description.
  explicit topology(const std::string& synthetic = {});
  ~topology();
  topology(const topology&) = delete;
  topology& operator=(const topology&) = delete;

  bool is_synthetic() const noexcept { return synthetic_; }
  /// OS indexes of the PUs this process may use (allowed cpuset ∩ the caller's binding, so
  /// taskset and cgroup cpusets are honoured), in topology (compact) order.
  const std::vector<unsigned>& allowed_pus() const noexcept { return compact_; }
  /// The same PUs ordered to spread out: round-robin over packages, then NUMA/L3, then cores.
  const std::vector<unsigned>& scatter_order() const noexcept { return scatter_; }

  /// PU for each of `workers` workers (-1: unbound). Explicit cpus must all be allowed, else
  /// std::invalid_argument naming config.cpus.
  std::vector<int> plan(pinning pin, std::size_t workers, const std::vector<unsigned>& cpus) const;

  /// Binds the calling thread to one PU. Returns false if the OS refused.
  bool bind_current_thread(unsigned pu) const noexcept;

 private:
  void collect(const void* allowed_set);
  hwloc_topology* topo_ = nullptr;
  bool synthetic_ = false;
  std::vector<unsigned> compact_;
  std::vector<unsigned> scatter_;
};

}  // namespace magpie::detail
