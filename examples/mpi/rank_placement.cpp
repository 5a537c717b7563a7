#include "rank_placement.hpp"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <vector>

namespace jacobi {
namespace {

// The PUs this thread may run on: what mpirun's --bind-to (or taskset, or a cgroup) left it.
// Magpie's default runtime uses the same set (docs/topology.md, "Allowed PUs").
cpu_set_t own_cpuset() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    throw std::system_error(errno, std::generic_category(), "sched_getaffinity");
  }
  return set;
}

std::vector<int> members(const cpu_set_t& set) {
  std::vector<int> pus;
  for (int pu = 0; pu < CPU_SETSIZE; ++pu) {
    if (CPU_ISSET(pu, &set)) pus.push_back(pu);
  }
  return pus;
}

}  // namespace

std::string pu_list(const int* pus, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count;) {
    std::size_t j = i;
    while (j + 1 < count && pus[i] >= 0 && pus[j + 1] == pus[j] + 1)
      ++j;
    if (!out.empty()) out += ',';
    out += pus[i] < 0 ? std::string("-") : std::to_string(pus[i]);
    if (j > i) out += '-' + std::to_string(pus[j]);
    i = j + 1;
  }
  return out;
}

rank_placement place_rank(MPI_Comm world, std::size_t workers) {
  rank_placement p;
  MPI_Comm node;
  MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &p.node_rank);
  MPI_Comm_size(node, &p.node_ranks);
  const cpu_set_t mine = own_cpuset();
  std::vector<cpu_set_t> all(static_cast<std::size_t>(p.node_ranks));
  MPI_Allgather(&mine, sizeof mine, MPI_BYTE, all.data(), sizeof mine, MPI_BYTE, node);
  MPI_Comm_free(&node);

  int index = 0;  // this rank's position among the ranks that share its cpuset
  p.sharers = 0;
  for (int k = 0; k < p.node_ranks; ++k) {
    if (!CPU_EQUAL(&all[static_cast<std::size_t>(k)], &mine)) continue;
    if (k < p.node_rank) ++index;
    ++p.sharers;
  }
  const std::vector<int> pus = members(mine);
  p.cpuset = pu_list(pus.data(), pus.size());
  if (p.sharers == 1) {
    // A cpuset of our own: compact placement inside it is what the launcher meant.
    p.cfg.workers = workers != 0 ? workers : pus.size();
    p.cfg.pin = magpie::pinning::compact;
    return p;
  }
  // Shared with other ranks: pinning every rank's worker 0 to the set's first PU would stack
  // them up, so each rank takes its own slice (wrapping when there are more ranks than PUs).
  const auto n = static_cast<std::size_t>(p.sharers);
  const std::size_t share = std::max<std::size_t>(1, pus.size() / n);
  for (std::size_t k = 0; k < share; ++k) {
    const std::size_t at = (static_cast<std::size_t>(index) * share + k) % pus.size();
    p.cfg.cpus.push_back(static_cast<unsigned>(pus[at]));
  }
  p.cfg.workers = workers != 0 ? workers : share;
  return p;
}

}  // namespace jacobi
