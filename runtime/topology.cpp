#include "topology.hpp"

#include <hwloc.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

namespace magpie::detail {
namespace {

struct bitmap_deleter {
  void operator()(hwloc_bitmap_s* b) const noexcept { hwloc_bitmap_free(b); }
};
using bitmap = std::unique_ptr<hwloc_bitmap_s, bitmap_deleter>;

// Allowed PUs below `obj`, interleaved one per child in turn: children at every level take
// turns, so consecutive entries land in different packages, then NUMA nodes/caches, then cores.
std::vector<unsigned> scatter_below(hwloc_obj_t obj, hwloc_const_bitmap_t allowed) {
  if (obj->type == HWLOC_OBJ_PU) {
    if (hwloc_bitmap_isset(allowed, obj->os_index)) return {obj->os_index};
    return {};
  }
  std::vector<std::vector<unsigned>> parts;
  for (hwloc_obj_t c = obj->first_child; c != nullptr; c = c->next_sibling) {
    auto part = scatter_below(c, allowed);
    if (!part.empty()) parts.push_back(std::move(part));
  }
  std::vector<unsigned> out;
  for (std::size_t i = 0;; ++i) {
    bool any = false;
    for (const auto& p : parts) {
      if (i < p.size()) {
        out.push_back(p[i]);
        any = true;
      }
    }
    if (!any) return out;
  }
}

std::string list(const std::vector<unsigned>& v) {
  std::string s;
  for (unsigned x : v)
    s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

}  // namespace

topology::topology(const std::string& synthetic) : synthetic_(!synthetic.empty()) {
  if (hwloc_topology_init(&topo_) != 0)
    throw std::runtime_error("magpie: hwloc_topology_init failed");
  if (synthetic_ && hwloc_topology_set_synthetic(topo_, synthetic.c_str()) != 0) {
    hwloc_topology_destroy(topo_);
    throw std::invalid_argument("config.synthetic_topology: hwloc cannot parse \"" + synthetic +
                                "\"");
  }
  if (hwloc_topology_load(topo_) != 0) {
    hwloc_topology_destroy(topo_);
    throw std::runtime_error("magpie: hwloc_topology_load failed");
  }
  bitmap allowed(hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(topo_)));
  if (!synthetic_) {
    // The calling thread's binding carries taskset/sched_setaffinity restrictions.
    bitmap bound(hwloc_bitmap_alloc());
    if (hwloc_get_cpubind(topo_, bound.get(), HWLOC_CPUBIND_THREAD) == 0 &&
        hwloc_bitmap_intersects(bound.get(), allowed.get())) {
      hwloc_bitmap_and(allowed.get(), allowed.get(), bound.get());
    }
  }
  collect(allowed.get());
  if (compact_.empty()) {
    hwloc_topology_destroy(topo_);
    throw std::runtime_error("magpie: hwloc reports no processing unit usable by this process");
  }
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

bool topology::bind_current_thread(unsigned pu) const noexcept {
  if (synthetic_) return false;
  hwloc_obj_t obj = hwloc_get_pu_obj_by_os_index(topo_, pu);
  if (obj == nullptr) return false;
  return hwloc_set_cpubind(topo_, obj->cpuset, HWLOC_CPUBIND_THREAD) == 0;
}

}  // namespace magpie::detail
