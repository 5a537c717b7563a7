#!/usr/bin/env python3
"""PNG charts from a results.json of tools/bench_suite.py (python3-matplotlib, from Debian).

Usage: tools/bench_charts.py results/<date-time>/results.json   (writes beside it)

  ratios.png       per workload, each peer's ratio to Magpie (> 1: Magpie better), log scale
  latency_cdf.png  the distribution of every latency sample, per workload and scheduler
  sweep.png        speed-up over serial against the worker count (only after --sweep)
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_table  # noqa: E402

# What "better" means per workload: the metric, and whether more of it is better.
RATIO_METRIC = {**{w: ("time_s", False) for w in bench_table.FORK_JOIN + bench_table.LOOPS},
                **{w + "_1w": ("time_s", False) for w in bench_table.FORK_JOIN},
                **{w: ("items_per_second", True) for w in bench_table.THROUGHPUT},
                **{w: ("p50_us", False) for w in bench_table.WAKEUP},
                **{w: ("p99_us", False) for w in bench_table.PRIORITY}}
LATENCY = bench_table.WAKEUP + bench_table.PRIORITY


def color(scheduler):
    """The same colour for a scheduler in every chart."""
    order = bench_table.SCHEDULER_ORDER
    return f"C{order.index(scheduler) % 10}" if scheduler in order else None


def peers(r):
    return [s for s in r.schedulers if s not in ("magpie", "serial")]


def ratios_chart(results, r, path):
    workloads = [w for w in RATIO_METRIC if r.entry(w, "magpie") is not None]
    schedulers = [s for s in peers(r) if any(r.entry(w, s) for w in workloads)]
    if not workloads or not schedulers:
        return None
    fig, ax = plt.subplots(figsize=(max(8, 0.9 * len(workloads) + 3), 5))
    width = 0.8 / len(schedulers)
    for k, s in enumerate(schedulers):
        xs, ys = [], []
        for i, w in enumerate(workloads):
            metric, more_is_better = RATIO_METRIC[w]
            base, peer = r.stat(w, "magpie", metric), r.stat(w, s, metric)
            if base and peer:
                xs.append(i + (k - (len(schedulers) - 1) / 2) * width)
                ys.append(base / peer if more_is_better else peer / base)
        ax.bar(xs, ys, width, label=s, color=color(s))
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels(workloads, rotation=35, ha="right")
    ax.set_ylabel("peer / Magpie (> 1: Magpie better)")
    ax.set_title(f"Ratio to Magpie, {r.workers} workers (time; rate for submit; p50 for "
                 "wake-up; p99 for the flood)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def load_samples(out, results, workload, scheduler, workers):
    values = []
    for run in results["runs"]:
        if (run["workload"], run["scheduler"], run["workers"]) == (workload, scheduler, workers) \
                and run.get("samples"):
            with open(os.path.join(out, run["samples"])) as f:
                values.extend(float(x) for x in f if x.strip())
    return sorted(values)


def cdf_chart(results, r, out, path):
    panels = [w for w in LATENCY if any(r.entry(w, s) for s in r.schedulers)]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.5), squeeze=False)
    for ax, w in zip(axes[0], panels):
        for s in r.schedulers:
            v = load_samples(out, results, w, s, r.workers)
            if not v:
                continue
            ax.plot(v, [(i + 1) / len(v) for i in range(len(v))], label=s, linewidth=1.2,
                    color=color(s))
        ax.set_xscale("log")
        ax.set_xlabel("submit → start (µs)")
        ax.set_ylabel("fraction of samples")
        ax.set_title(w, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def sweep_chart(results, path):
    counts = results["settings"]["workers"]
    if len(counts) < 2:
        return None
    r_all = {n: bench_table.Results(results, n) for n in counts}
    last = r_all[counts[-1]]
    panels = [w for w in bench_table.FORK_JOIN + bench_table.LOOPS
              if last.stat(w, "serial", "time_s")]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.8), squeeze=False)
    for ax, w in zip(axes[0], panels):
        ts = last.stat(w, "serial", "time_s")
        for s in peers(last) + ["magpie"]:
            points = [(n, ts / e["metrics"]["time_s"]["median"]) for n in counts
                      if (e := r_all[n].by_key.get((n, w, s))) and "time_s" in e["metrics"]]
            if points:
                ax.plot(*zip(*points), marker="o", label=s, color=color(s))
        ax.set_xticks(counts)
        ax.set_xlabel("workers")
        ax.set_ylabel("speed-up Ts / T")
        ax.set_title(w, fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw(results, out):
    """Writes the charts into `out`; returns the paths written."""
    counts = results["settings"]["workers"]
    r = bench_table.Results(results, counts[-1])
    paths = [ratios_chart(results, r, os.path.join(out, "ratios.png")),
             cdf_chart(results, r, out, os.path.join(out, "latency_cdf.png")),
             sweep_chart(results, os.path.join(out, "sweep.png"))]
    return [p for p in paths if p]


def main(argv):
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(argv) != 2 or argv[1].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        results = json.load(f)
    for path in draw(results, os.path.dirname(os.path.abspath(argv[1]))):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
