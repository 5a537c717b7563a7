// The order in which a worker's thieves look at the others: victim rings, near to far, computed
// from where each worker sits (placements). A pure function of the placements: no hwloc. See
// docs/topology.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

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

}  // namespace magpie::detail
