// The halo exchange between row blocks: each rank sends its first owned row up and its last one
// down, and receives its neighbours' into its halo rows.
#pragma once

#include <mpi.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <thread>

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

  /// Waits until the halos have arrived and the edge rows have left: polls for a few
  /// microseconds (a neighbour that is on time), then naps between polls, from 10 us up to
  /// 200 us. MPI_Waitall would spin instead, and the thread that calls this shares its rank's
  /// cores with the runtime's workers: a spin while a late neighbour catches up would take a
  /// core's share of time from the worker beside it.
  void wait() {
    using namespace std::chrono_literals;
    const auto spin_end = std::chrono::steady_clock::now() + 20us;
    std::chrono::microseconds nap = 10us;
    for (;;) {
      int done = 0;
      MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &done, MPI_STATUSES_IGNORE);
      if (done != 0) return;
      if (std::chrono::steady_clock::now() < spin_end) continue;
      std::this_thread::sleep_for(nap);
      nap = std::min(nap * 2, std::chrono::microseconds(200us));
    }
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
