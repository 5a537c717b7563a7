#!/usr/bin/env python3
"""Prints the tables of a magpie_bench JSON file (Google Benchmark --benchmark_out_format=json).

Usage: tools/bench_table.py results/<date-time>/bench.json

Benchmarks are named <workload>/<scheduler>[/...]. Every figure is the median over the
repetitions; the spread is the min-max of the repetitions (the stddev when only that is there).
Ratios compare medians and read "> 1: Magpie is better" everywhere.
Python 3 standard library only.
"""

import json
import math
import statistics
import sys

UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
WORKLOAD_ORDER = ["fib", "fib_1w", "skynet", "skynet_1w", "nqueens", "nqueens_1w",
                  "pfor_sum", "pfor_tiny", "pfor_skewed", "matmul", "submit_1p", "submit_2p",
                  "wakeup_spinning", "wakeup_parked", "idle"]
# Timed like the fork-join workloads, but printed in a table of their own with the speed-up
# over the serial loop.
LOOP_WORKLOADS = {"pfor_sum", "pfor_tiny", "pfor_skewed", "matmul"}
SCHEDULER_ORDER = ["magpie", "tbb", "openmp", "openmp_dynamic", "plain_pool", "serial"]
NOT_COUNTERS = {"name", "family_index", "per_family_instance_index", "run_name", "run_type",
                "repetitions", "repetition_index", "threads", "aggregate_name", "aggregate_unit",
                "iterations", "real_time", "cpu_time", "time_unit", "error_occurred",
                "error_message", "label"}


class Result:
    """One <workload>/<scheduler>: its metrics, each as {median, min, max, stddev}."""

    def __init__(self):
        self.aggregates = {}   # aggregate name -> {metric: value}
        self.runs = []         # per-repetition {metric: value}, when not aggregated away
        self.error = None

    def stats(self, metric):
        agg = {k: v[metric] for k, v in self.aggregates.items() if metric in v}
        runs = [r[metric] for r in self.runs if metric in r]
        out = {}
        if "median" in agg:
            out["median"] = agg["median"]
        elif runs:
            out["median"] = statistics.median(runs)
        if "min" in agg and "max" in agg:
            out["min"], out["max"] = agg["min"], agg["max"]
        elif len(runs) > 1:
            out["min"], out["max"] = min(runs), max(runs)
        if "stddev" in agg:
            out["stddev"] = agg["stddev"]
        return out


def metrics_of(entry):
    """The entry's time in seconds, and its counters, as one flat dict."""
    out = {"time": entry["real_time"] * UNIT_SECONDS[entry.get("time_unit", "ns")]}
    for key, value in entry.items():
        if key not in NOT_COUNTERS and isinstance(value, (int, float)):
            out[key] = float(value)
    return out


def load(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    results = {}
    for entry in data.get("benchmarks", []):
        parts = entry.get("run_name", entry["name"]).split("/")
        key = (parts[0], parts[1] if len(parts) > 1 else "")
        result = results.setdefault(key, Result())
        if entry.get("error_occurred"):
            result.error = entry.get("error_message", "error")
            continue
        if entry.get("run_type") == "aggregate":
            # A cv is a ratio, not in the metric's unit: leave it out.
            if entry.get("aggregate_unit", "time") == "time":
                result.aggregates[entry["aggregate_name"]] = metrics_of(entry)
        else:
            result.runs.append(metrics_of(entry))
    return data.get("context", {}), results


def ordered(names, order):
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


def num(x):
    """Three significant digits, never in exponent form (1010, 41.8, 0.00491)."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    return f"{x:.{max(0, 2 - math.floor(math.log10(abs(x))))}f}"


def fmt_time(seconds):
    """The time in the largest unit that keeps it >= 1, and that unit's scale and name."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{num(seconds / scale)} {unit}", scale, unit
    return f"{num(seconds / 1e-9)} ns", 1e-9, "ns"


def fmt_spread(st, scale=1.0):
    if "min" in st and "max" in st:
        return f"{num(st['min'] / scale)}–{num(st['max'] / scale)}"
    if "stddev" in st:
        return f"± {num(st['stddev'] / scale)}"
    return "—"


def ratio(top, bottom):
    if top is None or bottom is None or bottom == 0:
        return "n/a"
    r = top / bottom
    return f"{r:.2f}" if r >= 0.1 else num(r)


def table(title, note, header, rows):
    if not rows:
        return
    print(f"\n### {title}\n")
    if note:
        print(f"{note}\n")
    rows = [row + [""] * (len(header) - len(row)) for row in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))


def kind_of(results, workload):
    for (w, _), r in results.items():
        if w != workload:
            continue
        metrics = set()
        for values in list(r.aggregates.values()) + r.runs:
            metrics |= set(values)
        if "cpu_pct_of_core" in metrics:
            return "idle"
        if "p50_us" in metrics:
            return "latency"
        if "items_per_second" in metrics:
            return "throughput"
        if metrics:
            return "time"
    return "time"


def median(results, workload, scheduler, metric):
    r = results.get((workload, scheduler))
    if r is None or r.error:
        return None
    return r.stats(metric).get("median")


def rows_for(results, workload, build_row):
    rows = []
    schedulers = [s for (w, s) in results if w == workload]
    for scheduler in ordered(schedulers, SCHEDULER_ORDER):
        r = results[(workload, scheduler)]
        if r.error:
            rows.append([workload, scheduler, "ERROR: " + r.error])
        else:
            rows.append([workload, scheduler] + build_row(r, scheduler))
    return rows


def time_rows(results, workload):
    base = median(results, workload, "magpie", "time")

    def build(r, scheduler):
        st = r.stats("time")
        text, scale, unit = fmt_time(st["median"])
        return [text, f"{fmt_spread(st, scale)} {unit}",
                "base" if scheduler == "magpie" else ratio(st["median"], base)]
    return rows_for(results, workload, build)


def loop_rows(results, workload):
    """time_rows plus the speed-up over the serial loop (Ts / T)."""
    serial = median(results, workload, "serial", "time")
    rows = time_rows(results, workload)
    for row in rows:
        t = median(results, workload, row[1], "time")
        if not row[2].startswith("ERROR"):
            row.append("—" if row[1] == "serial" else ratio(serial, t))
    return rows


def throughput_rows(results, workload):
    base = median(results, workload, "magpie", "items_per_second")

    def build(r, scheduler):
        st = r.stats("items_per_second")
        return [num(st["median"] / 1e6), fmt_spread(st, 1e6),
                "base" if scheduler == "magpie" else ratio(base, st["median"])]
    return rows_for(results, workload, build)


def latency_rows(results, workload):
    base = median(results, workload, "magpie", "p50_us")

    def build(r, scheduler):
        p50 = r.stats("p50_us")
        others = [num(r.stats(m).get("median", math.nan)) for m in ("p90_us", "p99_us", "max_us")]
        return [num(p50["median"]), fmt_spread(p50)] + others + \
            ["base" if scheduler == "magpie" else ratio(p50["median"], base)]
    return rows_for(results, workload, build)


def idle_rows(results, workload):
    def build(r, _):
        st = r.stats("cpu_pct_of_core")
        return [num(st["median"]), fmt_spread(st)]
    return rows_for(results, workload, build)


def fork_join_rows(results, workloads):
    """Ts, T1, T2 and the two figures they give, for each workload that has a _1w twin."""
    rows = []
    for workload in workloads:
        if workload.endswith("_1w") or workload + "_1w" not in workloads:
            continue
        ts = median(results, workload, "serial", "time")
        for scheduler in ("magpie", "tbb", "openmp"):
            t1 = median(results, workload + "_1w", scheduler, "time")
            t2 = median(results, workload, scheduler, "time")
            if t1 is None and t2 is None:
                continue
            fmt = lambda t: fmt_time(t)[0] if t is not None else "n/a"
            rows.append([workload, scheduler, fmt(ts), fmt(t1), fmt(t2),
                         ratio(t1, ts), ratio(ts, t2), ratio(t1, t2)])
    return rows


def print_context(context):
    def get(key, default="?"):
        return context.get(key, default)
    print(f"magpie_bench, {get('date')}, host {get('host_name')}: {get('num_cpus')} CPUs at "
          f"{get('mhz_per_cpu')} MHz, load {', '.join(f'{x:.2f}' for x in get('load_avg', []))}")
    print(f"workers {get('workers')}, compiler {get('compiler')}, oneTBB {get('onetbb')}, "
          f"full run {get('full_run')}")
    if get("library_build_type", "") == "debug":
        print("(Google Benchmark's own library reports a debug build, as Debian ships it; "
              "the code under test is built by this project.)")


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    context, results = load(argv[1])
    if not results:
        print(f"bench_table: no benchmarks in {argv[1]}", file=sys.stderr)
        return 1
    print_context(context)
    workloads = ordered({w for w, _ in results}, WORKLOAD_ORDER)
    by_kind = {}
    for workload in workloads:
        kind = kind_of(results, workload)
        if kind == "time" and workload in LOOP_WORKLOADS:
            kind = "loop"
        by_kind.setdefault(kind, []).append(workload)

    collect = lambda kind, fn: [row for w in by_kind.get(kind, []) for row in fn(results, w)]
    table("Run time", "Median of the repetitions; ratio = peer time / Magpie time (> 1: Magpie "
          "faster). _1w: one worker.",
          ["workload", "scheduler", "median", "min–max", "peer/magpie time"],
          collect("time", time_rows))
    table("Data-parallel loops", "Median of the repetitions; ratio = peer time / Magpie time "
          "(> 1: Magpie faster); speed-up = serial time / time.",
          ["workload", "scheduler", "median", "min–max", "peer/magpie time", "speed-up"],
          collect("loop", loop_rows))
    table("Fork-join figures", "Ts serial, T1 one worker, T2 the configured workers. T1/Ts is "
          "the per-task overhead, Ts/T2 the speed-up over serial, T1/T2 the scaling.",
          ["workload", "scheduler", "Ts", "T1", "T2", "T1/Ts", "Ts/T2", "T1/T2"],
          fork_join_rows(results, workloads))
    table("External submit throughput", "Million tasks per second, median of the repetitions; "
          "ratio = Magpie rate / peer rate (> 1: Magpie faster).",
          ["workload", "scheduler", "Mtasks/s", "min–max", "magpie/peer rate"],
          collect("throughput", throughput_rows))
    table("Wake-up latency (µs, submit to task start)", "Each percentile is the median over the "
          "repetitions of that repetition's percentile; ratio = peer p50 / Magpie p50 (> 1: "
          "Magpie faster).",
          ["workload", "scheduler", "p50", "p50 min–max", "p90", "p99", "max", "peer/magpie p50"],
          collect("latency", latency_rows))
    table("Idle CPU", "Process CPU time over 1 s of idleness after the spin window, in % of one "
          "core (median of the repetitions).",
          ["workload", "scheduler", "cpu % of core", "min–max"],
          collect("idle", idle_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
