// hwloc: which processing units (PUs) this process may use, where each worker goes, and the order
// in which a worker's thieves look at the others (victim rings, near to far). See
// docs/topology.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "magpie/config.hpp"

struct hwloc_topology;

namespace magpie::detail {

/// Where a worker's PU sits in the machine. An unbound worker (pinning::none) has every field -1.
/// Levels hwloc does not report: no core object -> the PU stands for its core; no L3 -> l3 is -1
/// (nobody shares it); no package -> 0 (the machine is one package).
struct placement {
  int pu = -1;       ///< OS index of the PU
  int core = -1;     ///< logical index of the core
  int l3 = -1;       ///< logical index of the L3 cache, -1 if hwloc reports none above the PU
  int numa = -1;     ///< OS index of the PU's local NUMA node (what mbind/hwloc_alloc_membind take)
  int package = -1;  ///< logical index of the package
  bool bound() const noexcept { return pu >= 0; }
  friend bool operator==(const placement&, const placement&) = default;
};

/// How far a victim is from its thief: the smallest domain both share. The order is the ring
/// order; `machine` also covers every pair where either worker is unbound.
enum class steal_distance : std::uint8_t { core, l3, numa, package, machine };

/// Near: the victim shares the thief's NUMA node, so its tasks' data is in local memory (rings
/// core, l3, numa). Far: the steal crosses NUMA nodes or packages (or placement is unknown).
constexpr bool is_near(steal_distance d) noexcept {
  return d <= steal_distance::numa;
}

/// "core", "l3", "numa", "package" or "machine".
const char* to_string(steal_distance d) noexcept;

/// One victim ring of one worker: a view into its victim_rings (valid while that lives). Its
/// victims are in topology order; a thief starts at a random position and wraps around.
class victim_ring {
 public:
  std::size_t size() const noexcept { return first_size_ + second_size_; }
  /// Worker index of the i-th victim, i < size().
  std::uint32_t operator[](std::size_t i) const noexcept {
    return i < first_size_ ? first_[i] : second_[i - first_size_];
  }
  steal_distance distance() const noexcept { return distance_; }

 private:
  friend class victim_rings;
  // A ring is a domain minus the next smaller one; both are ranges of one sorted array, so the
  // ring is the part of the domain before the smaller range and the part after it.
  const std::uint32_t* first_ = nullptr;
  std::size_t first_size_ = 0;
  const std::uint32_t* second_ = nullptr;
  std::size_t second_size_ = 0;
  steal_distance distance_ = steal_distance::machine;
};

/// Every worker's victims grouped by distance, nearest ring first: ring `core` holds the other
/// workers on the same core (or the same PU), `l3` those sharing the L3 but not the core, `numa`
/// the same NUMA node but not the L3, `package` the same package but another NUMA node, `machine`
/// the rest. Empty rings are dropped, so ring k of one worker and of another may differ in
/// distance: ask ring(w, k).distance(). Every other worker is in exactly one ring of w, w in none.
/// An unbound worker has one ring (`machine`) with everybody else, and is in the `machine` ring of
/// every other worker. A pure function of the placements: no hwloc, no running runtime.
/// Memory is O(workers), not O(workers^2): rings are views into one array sorted by placement.
/// Immutable after construction, so any number of threads may read it; ring() and distance()
/// never allocate or throw.
class victim_rings {
 public:
  /// Throws std::length_error for more than 2^32 - 1 workers; may allocate.
  explicit victim_rings(std::vector<placement> where);

  std::size_t workers() const noexcept { return where_.size(); }
  const placement& where(std::size_t worker) const noexcept { return where_[worker]; }
  /// Number of non-empty rings of `worker` (0 when it is the only worker).
  std::size_t ring_count(std::size_t worker) const noexcept { return nests_[worker].count - 1u; }
  /// Ring k < ring_count(worker) of `worker`.
  victim_ring ring(std::size_t worker, std::size_t k) const noexcept;
  /// Distance from thief to victim: the distance of the ring of `thief` that holds `victim`
  /// (steals count the ring's own distance; this is for tools and tests).
  steal_distance distance(std::size_t thief, std::size_t victim) const noexcept;
  /// The rings as lists of worker indexes, each sorted ascending (for tools and tests).
  std::vector<std::vector<std::uint32_t>> lists(std::size_t worker) const;

 private:
  struct range {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    steal_distance distance = steal_distance::core;
  };
  // Per worker: its own slot, then each strictly larger domain around it, nearest first.
  struct nest {
    std::array<range, 6> ranges{};
    std::uint8_t count = 0;
  };
  void sort_by_placement();
  std::array<std::vector<range>, 4> domain_runs() const;
  void build_nests(const std::array<std::vector<range>, 4>& runs);

  std::vector<placement> where_;
  std::vector<std::uint32_t> order_;  // workers sorted so that every domain is one range
  std::vector<nest> nests_;
};

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
