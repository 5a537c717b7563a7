// A 2-D heat (Jacobi) stencil over row blocks, one block per MPI rank, with one Magpie runtime
// per rank: the workers sweep the block's interior while the calling thread swaps halos with
// the neighbouring ranks. The result is checked against a serial run of the same sweeps.
// docs/distributed.md explains the sizing, the pinning, the MPI thread level and the overlap.
#include <mpi.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "grid.hpp"
#include "magpie/magpie.hpp"
#include "rank_placement.hpp"
#include "solver.hpp"

namespace {

constexpr const char* usage =
    "usage: jacobi_mpi [--rows N] [--cols N] [--iterations N] [--norm-every N] [--workers N]\n"
    "                  [--serial-ranks] [--no-verify] [--quiet]\n"
    "  --rows, --cols   grid size (default 1024 x 1024); at least one row per rank\n"
    "  --iterations     Jacobi sweeps (default 200)\n"
    "  --norm-every     a global residual every N sweeps and after the last (default 50; 0: last)\n"
    "  --workers        workers per rank (default: the PUs of the rank's cpuset, or its share)\n"
    "  --serial-ranks   plain MPI: no runtime, each rank sweeps on its one thread\n"
    "  --no-verify      skip the serial run and the comparison\n"
    "  --quiet          leave out the per-rank placement lines\n"
    "Exit status: 0 when the check passed (or was skipped), 1 on a mismatch or error, 2 on bad\n"
    "arguments.\n";

// A bad command line: every rank parsed the same one, so every rank throws this.
struct usage_error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct help_requested {};

struct options {
  jacobi::problem problem;
  std::size_t workers = 0;
  bool serial_ranks = false;
  bool verify = true;
  bool quiet = false;
};

// Throws usage_error naming the option; the caller prints it with the usage.
std::size_t count_arg(int argc, char** argv, int& i, std::size_t min) {
  const std::string name = argv[i];
  if (++i >= argc) throw usage_error(name + " needs a value");
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(argv[i], &end, 10);
  if (*argv[i] == '-' || *end != '\0' || end == argv[i] || errno != 0 || v < min) {
    throw usage_error(name + " takes an integer >= " + std::to_string(min) + ", not '" + argv[i] +
                      "'");
  }
  return static_cast<std::size_t>(v);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      throw help_requested{};
    } else if (a == "--rows") {
      o.problem.rows = count_arg(argc, argv, i, 1);
    } else if (a == "--cols") {
      o.problem.cols = count_arg(argc, argv, i, 1);
    } else if (a == "--iterations") {
      o.problem.iterations = count_arg(argc, argv, i, 1);
    } else if (a == "--norm-every") {
      o.problem.norm_every = count_arg(argc, argv, i, 0);
    } else if (a == "--workers") {
      o.workers = count_arg(argc, argv, i, 1);
    } else if (a == "--serial-ranks") {
      o.serial_ranks = true;
    } else if (a == "--no-verify") {
      o.verify = false;
    } else if (a == "--quiet") {
      o.quiet = true;
    } else {
      throw usage_error("unknown argument '" + a + "'");
    }
  }
  // MPI counts rows and columns in int.
  if (o.problem.rows > 1u << 30) throw usage_error("--rows is at most 2^30");
  if (o.problem.cols > 1u << 30) throw usage_error("--cols is at most 2^30");
  return o;
}

struct world_info {
  int rank = 0;
  int ranks = 1;
};

// Every rank's line, printed by rank 0 in rank order.
void print_in_order(const world_info& w, const std::string& line) {
  constexpr std::size_t width = 256;
  std::vector<char> mine(width, '\0');
  std::memcpy(mine.data(), line.data(), std::min(line.size(), width - 1));
  std::vector<char> all(w.rank == 0 ? width * static_cast<std::size_t>(w.ranks) : 0);
  MPI_Gather(mine.data(), width, MPI_CHAR, all.data(), width, MPI_CHAR, 0, MPI_COMM_WORLD);
  for (int r = 0; w.rank == 0 && r < w.ranks; ++r)
    std::printf("%s\n", all.data() + static_cast<std::size_t>(r) * width);
}

std::string describe(const world_info& w, const jacobi::rank_placement& p,
                     const magpie::runtime* rt) {
  std::string s = "rank " + std::to_string(w.rank) + ": node rank " + std::to_string(p.node_rank) +
                  "/" + std::to_string(p.node_ranks) + ", cpuset " + p.cpuset +
                  (p.sharers > 1 ? " (shared by " + std::to_string(p.sharers) + ")" : "");
  if (rt == nullptr) return s + ", plain MPI (no runtime)";
  const std::vector<int> cpus = rt->worker_cpus();
  return s + ", " + std::to_string(rt->worker_count()) + " worker(s) on PUs " +
         jacobi::pu_list(cpus.data(), cpus.size());
}

// The owned rows of this rank's block, packed, gathered into the whole grid on rank 0.
std::vector<double> gather_grid(const world_info& w, const jacobi::problem& p,
                                const jacobi::block_grid& g) {
  MPI_Datatype row;
  MPI_Type_contiguous(static_cast<int>(p.cols), MPI_DOUBLE, &row);
  MPI_Type_commit(&row);
  std::vector<double> mine;
  mine.reserve(g.rows() * p.cols);
  for (std::size_t i = 1; i <= g.rows(); ++i)
    mine.insert(mine.end(), g.row(i) + 1, g.row(i) + 1 + p.cols);
  std::vector<int> counts;
  std::vector<int> displs;
  for (int r = 0; w.rank == 0 && r < w.ranks; ++r) {
    const jacobi::row_block b =
        jacobi::block_of(p.rows, static_cast<std::size_t>(w.ranks), static_cast<std::size_t>(r));
    counts.push_back(static_cast<int>(b.count));
    displs.push_back(static_cast<int>(b.first));
  }
  std::vector<double> all(w.rank == 0 ? p.rows * p.cols : 0);
  MPI_Gatherv(mine.data(), static_cast<int>(g.rows()), row, all.data(), counts.data(),
              displs.data(), row, 0, MPI_COMM_WORLD);
  MPI_Type_free(&row);
  return all;
}

// Rank 0 runs the serial reference and compares; every rank returns the verdict.
bool verify(const world_info& w, const options& o, const jacobi::block_grid& result,
            double residual) {
  const std::vector<double> grid = gather_grid(w, o.problem, result);
  int ok = 1;
  if (w.rank == 0) {
    const jacobi::problem& p = o.problem;
    jacobi::block_grid a(p.rows, p.cols, {0, p.rows});
    jacobi::block_grid b(p.rows, p.cols, {0, p.rows});
    const double serial_residual = jacobi::solve_serial(p, a, b);
    double max_diff = 0.0;
    for (std::size_t i = 0; i < p.rows; ++i) {
      for (std::size_t j = 0; j < p.cols; ++j)
        max_diff = std::max(max_diff, std::abs(grid[i * p.cols + j] - a.row(i + 1)[j + 1]));
    }
    // The grids are bit-identical by construction (see sweep_rows); the residual is summed in
    // another order, so only close.
    const double rel = std::abs(residual - serial_residual) / std::max(serial_residual, 1e-300);
    ok = max_diff <= 1e-12 && rel <= 1e-9;
    std::printf(
        "verify: max |distributed - serial| = %.3g (tolerance 1e-12), residual %.17g vs "
        "serial %.17g (relative difference %.3g, tolerance 1e-9): %s\n",
        max_diff, residual, serial_residual, rel, ok ? "ok" : "MISMATCH");
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return ok == 1;
}

int run(const world_info& w, const options& o) {
  const jacobi::problem& p = o.problem;
  const jacobi::row_block mine =
      jacobi::block_of(p.rows, static_cast<std::size_t>(w.ranks), static_cast<std::size_t>(w.rank));
  jacobi::block_grid a(p.rows, p.cols, mine);
  jacobi::block_grid b(p.rows, p.cols, mine);
  const jacobi::rank_placement placement = jacobi::place_rank(MPI_COMM_WORLD, o.workers);
  std::optional<magpie::runtime> rt;  // destroyed before MPI_Finalize, at the end of this scope
  if (!o.serial_ranks) rt.emplace(placement.cfg);
  if (!o.quiet) print_in_order(w, describe(w, placement, rt ? &*rt : nullptr));

  MPI_Barrier(MPI_COMM_WORLD);
  const jacobi::solve_result r = jacobi::solve(MPI_COMM_WORLD, rt ? &*rt : nullptr, p, a, b);
  double slowest = 0.0;
  MPI_Reduce(&r.seconds, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  double cpu = 0.0;
  MPI_Reduce(&r.cpu_seconds, &cpu, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  if (w.rank == 0) {
    const double updates = static_cast<double>(p.rows * p.cols) * static_cast<double>(p.iterations);
    std::printf(
        "solve: %.4f s, cpu %.4f s, %.3g updates/s, residual %.6g (%s, %d rank(s), %zu x %zu, "
        "%zu sweeps)\n",
        slowest, cpu, updates / slowest, r.residual, o.serial_ranks ? "plain MPI" : "hybrid",
        w.ranks, p.rows, p.cols, p.iterations);
  }
  rt.reset();
  if (!o.verify) return 0;
  return verify(w, o, a, r.residual) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Only the thread that called MPI_Init_thread ever calls MPI; the runtime's workers never do.
  // That is MPI_THREAD_FUNNELED, which any MPI provides cheaply (MULTIPLE can cost a lock per
  // call in some implementations).
  int provided = MPI_THREAD_SINGLE;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  world_info w;
  MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &w.ranks);
  int status = 0;
  try {
    const options o = parse(argc, argv);
    if (o.problem.rows < static_cast<std::size_t>(w.ranks)) {
      throw usage_error("--rows " + std::to_string(o.problem.rows) + " is fewer than " +
                        std::to_string(w.ranks) + " ranks");
    }
    if (!o.serial_ranks && provided < MPI_THREAD_FUNNELED) {
      if (w.rank == 0) {
        std::fprintf(stderr,
                     "jacobi_mpi: MPI_Init_thread provided level %d, below "
                     "MPI_THREAD_FUNNELED; run with --serial-ranks\n",
                     provided);
      }
      MPI_Finalize();
      return 1;
    }
    status = run(w, o);
  } catch (const help_requested&) {
    if (w.rank == 0) std::printf("%s", usage);
  } catch (const usage_error& e) {
    if (w.rank == 0) std::fprintf(stderr, "jacobi_mpi: %s\n%s", e.what(), usage);
    status = 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "jacobi_mpi: rank %d: %s\n", w.rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
  return status;
}
