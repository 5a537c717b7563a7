// How big a Magpie runtime each MPI rank gets, and where its workers run.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <string>

#include "magpie/config.hpp"

namespace jacobi {

struct rank_placement {
  magpie::config cfg;  ///< workers and pinning for this rank's runtime
  int node_rank = 0;   ///< this rank's index among the ranks on its node
  int node_ranks = 1;  ///< ranks on this node (MPI_COMM_TYPE_SHARED)
  int sharers = 1;     ///< ranks on this node with the same cpuset as this one
  std::string cpuset;  ///< the PUs the launcher left this rank, e.g. "0-3,8"
};

/// One worker per PU of the cpuset the launcher gave this rank (mpirun --bind-to core, socket,
/// numa, or a cgroup), pinned inside it, so the runtime never fights the launcher's binding.
/// Ranks of one node that were given the same cpuset (--bind-to none, or several ranks bound
/// to one socket) split it instead: each takes a disjoint, contiguous share of its PUs.
/// `workers` > 0 overrides the count (the PUs stay the same). Collective over `world`.
rank_placement place_rank(MPI_Comm world, std::size_t workers);

/// "0-3,8" for PUs {0, 1, 2, 3, 8}; -1 entries (unbound workers) print as "-".
std::string pu_list(const int* pus, std::size_t count);

}  // namespace jacobi
