#include "solver.hpp"

#include <time.h>

#include <cmath>
#include <functional>
#include <utility>

#include "halo_exchange.hpp"
#include "magpie/parallel.hpp"
#include "magpie/task_group.hpp"

namespace jacobi {
namespace {

// Rows 1 and rows() read the halos; rows [2, rows()) do not.
struct row_split {
  std::size_t interior_begin;
  std::size_t interior_end;
  std::size_t last;  // the second edge row, or 1 when there is only one owned row
};

row_split split_of(const block_grid& g) {
  const std::size_t n = g.rows();
  return {2, n > 2 ? n : 2, n};
}

void sweep_edges(const block_grid& cur, block_grid& next, const row_split& s) {
  sweep_rows(cur, next, 1, 2);
  if (s.last > 1) sweep_rows(cur, next, s.last, s.last + 1);
}

// The overlap: the interior goes to the workers as one task (its parallel_for then splits on
// the workers), this thread swaps the halos meanwhile, and the two edge rows follow as a second
// task once their halos are in. Only this thread calls MPI: MPI_THREAD_FUNNELED is enough.
void hybrid_sweep(magpie::runtime& rt, halo_exchange& halo, block_grid& cur, block_grid& next) {
  const row_split s = split_of(cur);
  magpie::task_group sweep(rt);
  sweep.spawn([&] {
    magpie::parallel_for(rt, s.interior_begin, s.interior_end,
                         [&](std::size_t b, std::size_t e) { sweep_rows(cur, next, b, e); });
  });
  halo.start(cur);
  halo.wait();
  sweep.spawn([&] { sweep_edges(cur, next, s); });
  sweep.wait();
}

// Plain MPI: the same order on one thread. Without a thread calling into MPI during the
// interior, a message too big for the eager protocol moves only inside wait().
void serial_sweep(halo_exchange& halo, block_grid& cur, block_grid& next) {
  const row_split s = split_of(cur);
  halo.start(cur);
  sweep_rows(cur, next, s.interior_begin, s.interior_end);
  halo.wait();
  sweep_edges(cur, next, s);
}

// The whole grid's ||next - cur||_2: a parallel_reduce over this rank's rows, then a sum over
// the ranks.
double global_residual(MPI_Comm comm, magpie::runtime* rt, const block_grid& cur,
                       const block_grid& next) {
  const std::size_t end = cur.rows() + 1;
  double local = 0.0;
  if (rt != nullptr) {
    local = magpie::parallel_reduce(
        *rt, std::size_t{1}, end, 0.0,
        [&](std::size_t b, std::size_t e, double acc) {
          return acc + squared_change(cur, next, b, e);
        },
        std::plus<>{});
  } else {
    local = squared_change(cur, next, 1, end);
  }
  double global = 0.0;
  MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, comm);
  return std::sqrt(global);
}

// Busy time of every thread of this process, spinning included: on a shared machine it is the
// part of the cost that other processes do not change much.
double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

bool residual_due(const problem& p, std::size_t sweep) {
  return sweep + 1 == p.iterations || (p.norm_every != 0 && (sweep + 1) % p.norm_every == 0);
}

}  // namespace

solve_result solve(MPI_Comm comm, magpie::runtime* rt, const problem& p, block_grid& a,
                   block_grid& b) {
  int rank = 0;
  int ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  halo_exchange halo(comm, rank, ranks);
  solve_result r;
  const double start = MPI_Wtime();
  const double cpu_start = process_cpu_seconds();
  for (std::size_t t = 0; t < p.iterations; ++t) {
    if (rt != nullptr) {
      hybrid_sweep(*rt, halo, a, b);
    } else {
      serial_sweep(halo, a, b);
    }
    if (residual_due(p, t)) r.residual = global_residual(comm, rt, a, b);
    std::swap(a, b);  // the vectors' buffers: the new grid is `a` again
  }
  r.seconds = MPI_Wtime() - start;
  r.cpu_seconds = process_cpu_seconds() - cpu_start;
  return r;
}

double solve_serial(const problem& p, block_grid& a, block_grid& b) {
  double residual = 0.0;
  for (std::size_t t = 0; t < p.iterations; ++t) {
    sweep_rows(a, b, 1, a.rows() + 1);
    if (t + 1 == p.iterations) residual = std::sqrt(squared_change(a, b, 1, a.rows() + 1));
    std::swap(a, b);
  }
  return residual;
}

}  // namespace jacobi
