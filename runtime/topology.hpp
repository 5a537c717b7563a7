// hwloc: which processing units (PUs) this process may use, and where each worker goes. The
// order in which a worker's thieves look at the others is victim_rings.hpp. See docs/topology.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "magpie/config.hpp"
#include "victim_rings.hpp"

struct hwloc_topology;

namespace magpie::detail {

/// Object counts of a topology, for reports (magpie-topo).
struct topology_counts {
  std::size_t packages = 0;
  std::size_t numa_nodes = 0;
  std::size_t l3_caches = 0;
  std::size_t cores = 0;
  std::size_t pus = 0;
};

class topology {
 public:
  /// The machine's topology, or a described one when `description` is not empty: hwloc
  /// synthetic syntax ("package:2 numa:2 l3:4 core:8 pu:2"), an hwloc XML export (text starting
  /// with '<'), or the path of one (ending in ".xml"). Throws std::invalid_argument (naming
  /// config.synthetic_topology, or HWLOC_SYNTHETIC from the environment) for a bad description
  /// or one with more than 4096 PUs or 1024 children per parent, std::runtime_error if hwloc
  /// fails (naming HWLOC_XMLFILE when that is set).
  explicit topology(const std::string& description = {});
  ~topology();
  topology(const topology&) = delete;
  topology& operator=(const topology&) = delete;

  /// True for a described topology: its PUs are not this machine's, so nothing is bound. Also
  /// true when HWLOC_SYNTHETIC or HWLOC_XMLFILE in the environment replaced this machine's.
  bool is_synthetic() const noexcept { return synthetic_; }
  /// What described a synthetic topology ("config.synthetic_topology", "the environment
  /// variable HWLOC_XMLFILE", ...); null for this machine's.
  const char* source() const noexcept { return source_; }
  /// OS indexes of the PUs this process may use (allowed cpuset ∩ the caller's binding, so
  /// taskset and cgroup cpusets are honoured), in topology (compact) order.
  const std::vector<unsigned>& allowed_pus() const noexcept { return compact_; }
  /// The same PUs ordered to spread out: every level of the tree takes turns among its children
  /// in proportion to their allowed PUs, so packages first, then NUMA nodes, L3s, cores, PUs.
  const std::vector<unsigned>& scatter_order() const noexcept { return scatter_; }
  topology_counts counts() const noexcept;

  /// PU for each of `workers` workers (-1: unbound). compact: allowed_pus() in turn; scatter:
  /// scatter_order() in turn; none: unbound; non-empty `cpus` override `pin`: worker i on
  /// cpus[i % cpus.size()]. All wrap around when there are more workers than PUs. Explicit cpus
  /// must all be allowed, else std::invalid_argument naming config.cpus.
  std::vector<int> plan(pinning pin, std::size_t workers, const std::vector<unsigned>& cpus) const;

  /// Where each planned worker sits (-1 entries: unbound). Throws std::invalid_argument for a PU
  /// that is not in this topology.
  std::vector<placement> place(const std::vector<int>& plan) const;
  /// victim_rings(place(plan)).
  victim_rings rings(const std::vector<int>& plan) const { return victim_rings(place(plan)); }

  /// Binds the calling thread to one PU. Returns false if the OS refused.
  bool bind_current_thread(unsigned pu) const noexcept;

 private:
  void collect(const void* allowed_set);
  hwloc_topology* topo_ = nullptr;
  bool synthetic_ = false;
  const char* source_ = nullptr;
  std::vector<unsigned> compact_;
  std::vector<unsigned> scatter_;
};

}  // namespace magpie::detail
