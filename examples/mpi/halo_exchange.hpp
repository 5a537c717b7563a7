// The halo exchange between row blocks: each rank sends its first owned row up and its last one
// down, and receives its neighbours' into its halo rows.
#pragma once

#include <mpi.h>

#include <array>

#include "grid.hpp"

namespace jacobi {

class halo_exchange {
 public:
  /// Neighbours are rank - 1 (above) and rank + 1 (below); the first and last rank have none
  /// there (MPI_PROC_NULL: those operations complete at once and the fixed boundary stays).
  halo_exchange(MPI_Comm comm, int rank, int ranks)
      : comm_(comm),
        up_(rank > 0 ? rank - 1 : MPI_PROC_NULL),
        down_(rank + 1 < ranks ? rank + 1 : MPI_PROC_NULL) {}

  /// Posts the receives into g's halo rows and the sends of its edge rows. Until wait()
  /// returns, g's halo rows must not be read and its edge rows must not be written; its other
  /// rows are free, which is what lets the interior be computed meanwhile.
  void start(block_grid& g) {
    const int n = static_cast<int>(g.cols());  // the owned columns; the boundary ones are fixed
    MPI_Irecv(g.row(0) + 1, n, MPI_DOUBLE, up_, going_down, comm_, &requests_[0]);
    MPI_Irecv(g.row(g.rows() + 1) + 1, n, MPI_DOUBLE, down_, going_up, comm_, &requests_[1]);
    MPI_Isend(g.row(1) + 1, n, MPI_DOUBLE, up_, going_up, comm_, &requests_[2]);
    MPI_Isend(g.row(g.rows()) + 1, n, MPI_DOUBLE, down_, going_down, comm_, &requests_[3]);
  }

  /// Waits until the halos have arrived and the edge rows have left.
  void wait() {
    MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
  }

 private:
  static constexpr int going_up = 1;
  static constexpr int going_down = 2;
  MPI_Comm comm_;
  int up_;
  int down_;
  std::array<MPI_Request, 4> requests_{};
};

}  // namespace jacobi
