// The distributed Jacobi solve: hybrid ranks (MPI between ranks, Magpie inside each), plain MPI
// ranks (one thread each), and the serial reference both are checked against.
#pragma once

#include <mpi.h>

#include <cstddef>

#include "grid.hpp"
#include "magpie/runtime.hpp"

namespace jacobi {

struct problem {
  std::size_t rows = 1024;  ///< owned rows of the whole grid (the boundary is extra)
  std::size_t cols = 1024;  ///< owned columns
  std::size_t iterations = 200;
  std::size_t norm_every = 50;  ///< a global residual every this many sweeps, and after the last
};

struct solve_result {
  double seconds = 0;      ///< this rank's time for every sweep and residual
  double cpu_seconds = 0;  ///< CPU time this rank's process (all its threads) used meanwhile
  double residual = 0;     ///< the whole grid's ||next - cur||_2 of the last sweep
};

/// Runs p.iterations sweeps over this rank's block; the result is left in `a`. With a runtime,
/// its workers do all the arithmetic while this thread (the one that called MPI_Init_thread)
/// does all of the MPI; without one (plain MPI), this thread does both. Collective over comm.
solve_result solve(MPI_Comm comm, magpie::runtime* rt, const problem& p, block_grid& a,
                   block_grid& b);

/// The same sweeps over the whole grid on one thread, without MPI; the result is left in `a`
/// (a block_grid of all p.rows rows). Returns the last sweep's residual.
double solve_serial(const problem& p, block_grid& a, block_grid& b);

}  // namespace jacobi
