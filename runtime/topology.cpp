#include "topology.hpp"

#include <hwloc.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>

namespace magpie::detail {
namespace {

struct bitmap_deleter {
  void operator()(hwloc_bitmap_s* b) const noexcept { hwloc_bitmap_free(b); }
};
using bitmap = std::unique_ptr<hwloc_bitmap_s, bitmap_deleter>;

struct topology_deleter {
  void operator()(hwloc_topology* t) const noexcept { hwloc_topology_destroy(t); }
};

// Allowed PUs below `obj`, children taking turns in proportion to their allowed PUs (a child
// with twice the PUs gets every other turn). On a symmetric tree that is plain round robin, so
// consecutive entries land in different packages, then NUMA nodes/caches, then cores; on an
// asymmetric one a small package does not get its hyperthreads used before a big one's cores.
std::vector<unsigned> scatter_below(hwloc_obj_t obj, hwloc_const_bitmap_t allowed) {
  if (obj->type == HWLOC_OBJ_PU) {
    if (hwloc_bitmap_isset(allowed, obj->os_index)) return {obj->os_index};
    return {};
  }
  std::vector<std::vector<unsigned>> parts;
  std::size_t total = 0;
  for (hwloc_obj_t c = obj->first_child; c != nullptr; c = c->next_sibling) {
    auto part = scatter_below(c, allowed);
    total += part.size();
    if (!part.empty()) parts.push_back(std::move(part));
  }
  std::vector<unsigned> out;
  out.reserve(total);
  std::vector<std::size_t> taken(parts.size(), 0);
  while (out.size() < total) {
    // The part least used relative to its size; ties go to the earlier part.
    std::size_t best = parts.size();
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (taken[i] == parts[i].size()) continue;
      if (best == parts.size() || taken[i] * parts[best].size() < taken[best] * parts[i].size())
        best = i;
    }
    out.push_back(parts[best][taken[best]++]);
  }
  return out;
}

std::string list(const std::vector<unsigned>& v) {
  std::string s;
  for (unsigned x : v)
    s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

void count_below(hwloc_obj_t obj, topology_counts& n) {
  switch (obj->type) {
    case HWLOC_OBJ_PACKAGE:
      ++n.packages;
      break;
    case HWLOC_OBJ_NUMANODE:
      ++n.numa_nodes;
      break;
    case HWLOC_OBJ_L3CACHE:
      ++n.l3_caches;
      break;
    case HWLOC_OBJ_CORE:
      ++n.cores;
      break;
    case HWLOC_OBJ_PU:
      ++n.pus;
      break;
    default:
      break;
  }
  for (hwloc_obj_t c = obj->first_child; c != nullptr; c = c->next_sibling)
    count_below(c, n);
  for (hwloc_obj_t c = obj->memory_first_child; c != nullptr; c = c->next_sibling)
    count_below(c, n);
}

// hwloc 2 hangs NUMA nodes off the CPU tree as memory children; the PU's local node is the one
// attached to its nearest ancestor that has any (through memory-side caches, if present).
int local_numa_node(hwloc_obj_t pu) {
  for (hwloc_obj_t a = pu; a != nullptr; a = a->parent) {
    for (hwloc_obj_t m = a->memory_first_child; m != nullptr; m = m->memory_first_child) {
      if (m->type == HWLOC_OBJ_NUMANODE) return static_cast<int>(m->os_index);
    }
  }
  return 0;  // hwloc always has one; a machine without any is one node
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// hwloc's time to build a synthetic machine grows faster than the square of a level's arity
// ("pu:4096" takes seconds, "pack:1000 pu:1000" minutes): bound both before it starts. The
// limits leave room for any machine a runtime of max 4096 workers can use.
constexpr unsigned long long max_described_pus = 4096;
constexpr unsigned long long max_described_arity = 1024;

// Multiplies the "type:count" arities of a synthetic description (attributes in parentheses
// skipped); hwloc itself rejects what this reads past.
void check_synthetic_size(const std::string& description, const std::string& name) {
  unsigned long long pus = 1;
  int depth = 0;
  for (std::size_t i = 0; i < description.size(); ++i) {
    const char c = description[i];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c != ':' || depth != 0) continue;
    unsigned long long arity = 0;
    std::size_t j = i + 1;
    for (; j < description.size() && description[j] >= '0' && description[j] <= '9'; ++j) {
      arity = arity * 10 + static_cast<unsigned>(description[j] - '0');
      if (arity > max_described_arity) break;
    }
    if (arity > max_described_arity) {
      throw std::invalid_argument(name + ": a level with more than " +
                                  std::to_string(max_described_arity) +
                                  " children per parent in \"" + description + "\"");
    }
    pus *= arity == 0 ? 1 : arity;
    if (pus > max_described_pus) {
      throw std::invalid_argument(name + ": more than " + std::to_string(max_described_pus) +
                                  " processing units in \"" + description + "\"");
    }
    i = j - 1;
  }
}

const char* env(const char* name) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read once at start
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

// --- victim rings -----------------------------------------------------------------------------

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

// --- topology ---------------------------------------------------------------------------------

namespace {

std::runtime_error bad_xml_file(const char* path) {
  return std::runtime_error(std::string("magpie: hwloc cannot load the topology named by the "
                                        "environment variable HWLOC_XMLFILE=\"") +
                            path + "\"; unset it or point it at a valid hwloc XML export");
}

}  // namespace

topology::topology(const std::string& description) : synthetic_(!description.empty()) {
  hwloc_topology* raw = nullptr;
  if (hwloc_topology_init(&raw) != 0)
    throw std::runtime_error("magpie: hwloc_topology_init failed");
  std::unique_ptr<hwloc_topology, topology_deleter> t(raw);
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument("config.synthetic_topology: " + why + " \"" + description + "\"");
  };
  if (!description.empty() && description.front() == '<') {
    if (description.size() >= std::numeric_limits<int>::max()) throw bad("XML text too long");
    if (hwloc_topology_set_xmlbuffer(t.get(), description.c_str(),
                                     static_cast<int>(description.size() + 1)) != 0)
      throw bad("hwloc cannot read the XML text");
  } else if (ends_with(description, ".xml")) {
    if (hwloc_topology_set_xml(t.get(), description.c_str()) != 0)
      throw bad("hwloc cannot read the XML file");
  } else if (synthetic_) {
    check_synthetic_size(description, "config.synthetic_topology");
    if (hwloc_topology_set_synthetic(t.get(), description.c_str()) != 0)
      throw bad("hwloc cannot parse");
  } else if (const char* s = env("HWLOC_SYNTHETIC")) {
    check_synthetic_size(s, "HWLOC_SYNTHETIC");  // hwloc reads it when loading "this" machine
  } else if (const char* x = env("HWLOC_XMLFILE")) {
    // Set it ourselves: hwloc's own reading of the variable silently falls back to this machine
    // when its libxml2 parser (libhwloc-plugins) rejects the file.
    if (hwloc_topology_set_xml(t.get(), x) != 0) throw bad_xml_file(x);
  }
  if (hwloc_topology_load(t.get()) != 0) {
    if (synthetic_) throw bad("hwloc cannot load the topology");
    if (const char* x = env("HWLOC_XMLFILE")) throw bad_xml_file(x);
    throw std::runtime_error("magpie: hwloc_topology_load failed");
  }
  if (synthetic_) {
    source_ = "config.synthetic_topology";
  } else if (hwloc_topology_is_thissystem(t.get()) == 0) {
    // HWLOC_SYNTHETIC or HWLOC_XMLFILE replaced this machine: its PUs cannot be bound either.
    synthetic_ = true;
    source_ = env("HWLOC_XMLFILE") != nullptr ? "the environment variable HWLOC_XMLFILE"
                                              : "the environment variable HWLOC_SYNTHETIC";
  }
  bitmap allowed(hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(t.get())));
  if (!synthetic_) {
    // The calling thread's binding carries taskset/sched_setaffinity restrictions.
    bitmap bound(hwloc_bitmap_alloc());
    if (hwloc_get_cpubind(t.get(), bound.get(), HWLOC_CPUBIND_THREAD) == 0 &&
        hwloc_bitmap_intersects(bound.get(), allowed.get())) {
      hwloc_bitmap_and(allowed.get(), allowed.get(), bound.get());
    }
  }
  topo_ = t.get();
  collect(allowed.get());
  if (compact_.empty())
    throw std::runtime_error("magpie: hwloc reports no processing unit usable by this process");
  t.release();  // owned by *this from here on
}

topology::~topology() {
  hwloc_topology_destroy(topo_);
}

void topology::collect(const void* allowed_set) {
  const auto* allowed = static_cast<hwloc_const_bitmap_t>(allowed_set);
  const int n = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_PU);
  for (int i = 0; i < n; ++i) {
    hwloc_obj_t pu = hwloc_get_obj_by_type(topo_, HWLOC_OBJ_PU, static_cast<unsigned>(i));
    if (hwloc_bitmap_isset(allowed, pu->os_index)) compact_.push_back(pu->os_index);
  }
  scatter_ = scatter_below(hwloc_get_root_obj(topo_), allowed);
}

topology_counts topology::counts() const noexcept {
  topology_counts n;
  count_below(hwloc_get_root_obj(topo_), n);
  return n;
}

std::vector<int> topology::plan(pinning pin, std::size_t workers,
                                const std::vector<unsigned>& cpus) const {
  for (unsigned c : cpus) {
    if (std::find(compact_.begin(), compact_.end(), c) == compact_.end()) {
      throw std::invalid_argument("config.cpus: CPU " + std::to_string(c) +
                                  " is not available to this process (allowed: " + list(compact_) +
                                  ")");
    }
  }
  std::vector<int> out(workers, -1);
  const std::vector<unsigned>* order = nullptr;
  if (!cpus.empty()) {
    order = &cpus;
  } else if (pin == pinning::compact) {
    order = &compact_;
  } else if (pin == pinning::scatter) {
    order = &scatter_;
  }
  if (order == nullptr) return out;
  for (std::size_t i = 0; i < workers; ++i)
    out[i] = static_cast<int>((*order)[i % order->size()]);
  return out;
}

std::vector<placement> topology::place(const std::vector<int>& plan) const {
  std::vector<placement> out(plan.size());
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (plan[i] < 0) continue;
    hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo_, static_cast<unsigned>(plan[i]));
    if (pu == nullptr) {
      throw std::invalid_argument("topology::place: PU " + std::to_string(plan[i]) + " of worker " +
                                  std::to_string(i) + " is not in the topology");
    }
    const auto logical = [&](hwloc_obj_type_t type, int absent) {
      hwloc_obj_t a = hwloc_get_ancestor_obj_by_type(topo_, type, pu);
      return a == nullptr ? absent : static_cast<int>(a->logical_index);
    };
    placement& p = out[i];
    p.pu = plan[i];
    p.core = logical(HWLOC_OBJ_CORE, static_cast<int>(pu->logical_index));
    p.l3 = logical(HWLOC_OBJ_L3CACHE, -1);
    p.numa = local_numa_node(pu);
    p.package = logical(HWLOC_OBJ_PACKAGE, 0);
  }
  return out;
}

bool topology::bind_current_thread(unsigned pu) const noexcept {
  if (synthetic_) return false;
  hwloc_obj_t obj = hwloc_get_pu_obj_by_os_index(topo_, pu);
  if (obj == nullptr) return false;
  return hwloc_set_cpubind(topo_, obj->cpuset, HWLOC_CPUBIND_THREAD) == 0;
}

}  // namespace magpie::detail
