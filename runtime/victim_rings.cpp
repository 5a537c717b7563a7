#include "victim_rings.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace magpie::detail {

const char* to_string(steal_distance d) noexcept {
  switch (d) {
    case steal_distance::core:
      return "core";
    case steal_distance::l3:
      return "l3";
    case steal_distance::numa:
      return "numa";
    case steal_distance::package:
      return "package";
    case steal_distance::machine:
      return "machine";
  }
  return "?";
}

namespace {

// The shared domains below the machine, innermost first: the workers sharing the first `depth`
// fields of (package, numa, l3, core).
struct level {
  int depth;
  steal_distance distance;
};
constexpr std::array<level, 4> levels{{{4, steal_distance::core},
                                       {3, steal_distance::l3},
                                       {2, steal_distance::numa},
                                       {1, steal_distance::package}}};

// Whether workers at `x` and `y` share level `depth`'s domain. An unbound worker shares no
// domain below the machine with anyone.
bool same_domain(const placement& x, const placement& y, int depth) {
  if (!x.bound() || !y.bound()) return false;
  const std::array<int, 4> kx{x.package, x.numa, x.l3, x.core};
  const std::array<int, 4> ky{y.package, y.numa, y.l3, y.core};
  return std::equal(kx.begin(), kx.begin() + depth, ky.begin());
}

}  // namespace

victim_rings::victim_rings(std::vector<placement> where) : where_(std::move(where)) {
  if (where_.size() >= std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("victim_rings: too many workers");
  sort_by_placement();
  build_nests(domain_runs());
}

// Sorted by package, NUMA node, L3, core, PU (unbound workers last), every domain is a run of
// consecutive entries, so a worker's rings are differences of nested ranges.
void victim_rings::sort_by_placement() {
  order_.resize(where_.size());
  std::iota(order_.begin(), order_.end(), 0u);
  const auto key = [this](std::uint32_t w) {
    const placement& p = where_[w];
    return std::array<int, 7>{p.bound() ? 0 : 1,  p.package, p.numa, p.l3, p.core, p.pu,
                              static_cast<int>(w)};
  };
  std::sort(order_.begin(), order_.end(),
            [&](std::uint32_t a, std::uint32_t b) { return key(a) < key(b); });
}

// runs[l][pos]: the range of order_ that is level l's domain around the worker at position pos.
std::array<std::vector<victim_rings::range>, 4> victim_rings::domain_runs() const {
  const auto n = static_cast<std::uint32_t>(order_.size());
  std::array<std::vector<range>, 4> runs;
  for (std::size_t l = 0; l < levels.size(); ++l) {
    runs[l].resize(n);
    for (std::uint32_t b = 0; b < n;) {
      std::uint32_t e = b + 1;
      while (e < n && same_domain(where_[order_[b]], where_[order_[e]], levels[l].depth))
        ++e;
      for (std::uint32_t i = b; i < e; ++i)
        runs[l][i] = {b, e, levels[l].distance};
      b = e;
    }
  }
  return runs;
}

// Each worker's nest: its own slot, then every domain around it that is strictly larger than
// the one before (an equal one would make an empty ring), then the machine.
void victim_rings::build_nests(const std::array<std::vector<range>, 4>& runs) {
  const auto n = static_cast<std::uint32_t>(order_.size());
  nests_.resize(n);
  for (std::uint32_t pos = 0; pos < n; ++pos) {
    const std::uint32_t w = order_[pos];
    nest& s = nests_[w];
    s.ranges[s.count++] = {pos, pos + 1, steal_distance::core};
    for (std::size_t l = 0; l < levels.size(); ++l) {
      // Without an L3 nobody shares one: the core is the L3 domain.
      const range r = (levels[l].distance == steal_distance::l3 && where_[w].l3 < 0) ? runs[0][pos]
                                                                                     : runs[l][pos];
      const range& last = s.ranges[s.count - 1];
      if (r.end - r.begin > last.end - last.begin) s.ranges[s.count++] = r;
    }
    if (n > s.ranges[s.count - 1].end - s.ranges[s.count - 1].begin)
      s.ranges[s.count++] = {0, n, steal_distance::machine};
  }
}

victim_ring victim_rings::ring(std::size_t worker, std::size_t k) const noexcept {
  const range& inner = nests_[worker].ranges[k];
  const range& outer = nests_[worker].ranges[k + 1];
  victim_ring r;
  r.first_ = order_.data() + outer.begin;
  r.first_size_ = inner.begin - outer.begin;
  r.second_ = order_.data() + inner.end;
  r.second_size_ = outer.end - inner.end;
  r.distance_ = outer.distance;
  return r;
}

// Read off the rings, so that the distance a steal is counted at is the one its ring has: the
// smallest range of the thief's nest holding the victim's position.
steal_distance victim_rings::distance(std::size_t thief, std::size_t victim) const noexcept {
  const std::uint32_t pos = nests_[victim].ranges[0].begin;
  const nest& s = nests_[thief];
  for (std::size_t k = 0; k < s.count; ++k) {
    if (pos >= s.ranges[k].begin && pos < s.ranges[k].end) return s.ranges[k].distance;
  }
  return steal_distance::machine;  // unreachable: the last range is the machine
}

std::vector<std::vector<std::uint32_t>> victim_rings::lists(std::size_t worker) const {
  std::vector<std::vector<std::uint32_t>> out;
  for (std::size_t k = 0; k < ring_count(worker); ++k) {
    const victim_ring r = ring(worker, k);
    auto& v = out.emplace_back();
    for (std::size_t i = 0; i < r.size(); ++i)
      v.push_back(r[i]);
    std::sort(v.begin(), v.end());
  }
  return out;
}

}  // namespace magpie::detail
