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

// The allowed PUs in the two pinning orders: compact is hwloc's logical PU order (depth first:
// a core's PUs, then the next core under the same L3, ...), scatter round-robins over the tree.
// Only allowed PUs count: a cgroup or taskset may leave holes anywhere in the machine.
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
  // More workers than PUs wrap around the order (oversubscription), so every worker is bound;
  // pinning::none leaves every entry -1.
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
    // Logical indexes, which are unique per type across the machine. A machine without cores in
    // its tree counts each PU as its own core; without an L3, no two workers share one (-1);
    // without packages, everything is package 0.
    placement& p = out[i];
    p.pu = plan[i];
    p.core = logical(HWLOC_OBJ_CORE, static_cast<int>(pu->logical_index));
    p.l3 = logical(HWLOC_OBJ_L3CACHE, -1);
    p.numa = local_numa_node(pu);
    p.package = logical(HWLOC_OBJ_PACKAGE, 0);
  }
  return out;
}

// A described machine's PUs are not this machine's: binding to them would pick arbitrary CPUs.
bool topology::bind_current_thread(unsigned pu) const noexcept {
  if (synthetic_) return false;
  hwloc_obj_t obj = hwloc_get_pu_obj_by_os_index(topo_, pu);
  if (obj == nullptr) return false;
  return hwloc_set_cpubind(topo_, obj->cpuset, HWLOC_CPUBIND_THREAD) == 0;
}

}  // namespace magpie::detail
