#!/usr/bin/env python3
"""Markdown tables from a results.json of tools/bench_suite.py, ready to paste into
docs/benchmarks.md.

Usage: tools/bench_table.py results/<date-time>/results.json

Every figure is the median over the rounds (one child process each); the spread is the
min-max over the rounds. Ratios compare medians and read "> 1: Magpie is better" everywhere.
A scheduler that cannot express a workload (no member for it in its adapter) shows "n/a".
Python 3 standard library only.
"""

import json
import math
import sys

FORK_JOIN = ["fib", "fib_coro", "skynet", "skynet_coro", "nqueens"]
LOOPS = ["pfor_sum", "pfor_fsum", "pfor_fsum_range", "pfor_tiny", "pfor_skewed", "matmul"]
THROUGHPUT = ["submit_1p", "submit_2p", "strand_post_1s1p", "strand_post_64s2p", "semaphore_flood",
              "semaphore_flood_unlimited"]
WAKEUP = ["wakeup_spinning", "wakeup_parked"]
PRIORITY = ["priority_flood"]
IDLE = ["idle"]
# Magpie's other settings (perf/adapters/magpie_tuned.cpp) only offer submit: they appear in
# the submit, latency and idle tables, and are not n/a rows everywhere else.
SUBMIT_ONLY_TABLES = set(THROUGHPUT + WAKEUP + PRIORITY + IDLE)
# Variants that exist for some tables only: no n/a rows for them elsewhere.
VARIANT_TABLES = {"openmp_dynamic": set(LOOPS)}
SCHEDULER_ORDER = ["magpie", "magpie_spin0", "magpie_spin1ms", "magpie_latency", "tbb", "libfork",
                   "tmc", "taskflow", "openmp", "openmp_dynamic", "llvm_openmp", "asio",
                   "plain_pool", "serial"]


def num(x):
    """Three significant digits, never in exponent form (1010, 41.8, 0.00491)."""
    if x is None:
        return "n/a"
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    return f"{x:.{max(0, 2 - math.floor(math.log10(abs(x))))}f}"


def fmt_time(seconds):
    """The time in the largest unit that keeps it >= 1, and that unit's scale and name."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{num(seconds / scale)} {unit}", scale, unit
    return f"{num(seconds / 1e-9)} ns", 1e-9, "ns"


def ratio(top, bottom):
    if top is None or bottom is None or bottom == 0:
        return "n/a"
    r = top / bottom
    return f"{r:.2f}" if r >= 0.1 else num(r)


def run_summary(record):
    """One line for the progress display."""
    m = record.get("metrics", {})
    rss = f", {record['max_rss_kib'] / 1024:.1f} MiB"
    if "p99_us" in m:
        return f"p50 {num(m['p50_us'])} µs, p99 {num(m['p99_us'])} µs{rss}"
    if "cpu_pct_of_core" in m:
        return f"{num(m['cpu_pct_of_core'])} % of a core{rss}"
    if "items_per_second" in m:
        return f"{num(m['items_per_second'] / 1e6)} Mtasks/s{rss}"
    return f"{fmt_time(m['time_s'])[0]}{rss}"


class Results:
    def __init__(self, results, workers):
        self.settings = results["settings"]
        self.workers = workers
        self.by_key = {}
        for s in results["summary"]:
            self.by_key[(s["workers"], s["workload"], s["scheduler"])] = s
        self.present = {(w, s) for (_, w, s) in self.by_key}
        chosen = self.settings.get("schedulers", [])
        self.schedulers = sorted(set(chosen) | {s for _, s in self.present},
                                 key=lambda n: (SCHEDULER_ORDER.index(n)
                                                if n in SCHEDULER_ORDER else 99, n))

    def entry(self, workload, scheduler):
        # Serial and one-worker runs were made once, at the largest worker count.
        for w in (self.workers, max(self.settings["workers"])):
            e = self.by_key.get((w, workload, scheduler))
            if e is not None:
                return e
        return None

    def stat(self, workload, scheduler, metric, which="median"):
        e = self.entry(workload, scheduler)
        if e is None or metric not in e["metrics"]:
            return None
        return e["metrics"][metric][which]

    def rows(self, workload, build, serial=False):
        """One row per scheduler chosen: build(entry) for those that ran, n/a for the others."""
        if not any(w == workload for w, _ in self.present):
            return []
        out = []
        for s in self.schedulers:
            if s == "serial" and not serial:
                continue
            e = self.entry(workload, s)
            if e is None:
                if s == "serial" or (s.startswith("magpie_") and
                                     workload not in SUBMIT_ONLY_TABLES):
                    continue
                if workload not in VARIANT_TABLES.get(s, {workload}):
                    continue
                unbuilt = s in self.settings.get("unavailable", {})
                out.append([workload, s, "n/a (not built)" if unbuilt else "n/a"])
            elif e["failed"] and not e["metrics"]:
                out.append([workload, s, "FAILED: " + "; ".join(e.get("errors", []))])
            else:
                row = [workload, s] + build(e, s)
                if e["failed"]:
                    row[2] += f" ({e['failed']} FAILED)"
                out.append(row)
        return out


def spread(e, metric, scale=1.0):
    m = e["metrics"].get(metric)
    if m is None:
        return "—"
    return f"{num(m['min'] / scale)}–{num(m['max'] / scale)}"


def rss(e):
    r = e.get("max_rss_kib")
    return f"{r['median'] / 1024:.1f}" if r else "—"


def table(out, title, note, header, rows):
    if not rows:
        return
    out.append(f"\n### {title}\n")
    if note:
        out.append(f"{note}\n")
    rows = [row + [""] * (len(header) - len(row)) for row in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    out.append(line(header))
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out.extend(line(row) for row in rows)


def time_tables(out, r, workloads, title, loops):
    def build(e, s):
        st = e["metrics"]["time_s"]
        text, scale, unit = fmt_time(st["median"])
        base = r.stat(e["workload"], "magpie", "time_s")
        row = [text, f"{spread(e, 'time_s', scale)} {unit}",
               "base" if s == "magpie" else ("—" if s == "serial" else ratio(st["median"], base))]
        if loops:
            ts = r.stat(e["workload"], "serial", "time_s")
            row.append("—" if s == "serial" else ratio(ts, st["median"]))
        return row + [rss(e)]
    rows = [row for w in workloads for row in r.rows(w, build, serial=True)]
    header = ["workload", "scheduler", "median", "min–max", "peer/magpie time"]
    if loops:
        header.append("speed-up Ts/T")
    table(out, title, "Median over the rounds; ratio = peer time / Magpie time (> 1: Magpie "
          "faster); max RSS = peak resident memory of the child process, MiB; n/a: the "
          "scheduler has no idiomatic way to express the workload.",
          header + ["max RSS"], rows)


def fork_join_table(out, r):
    if r.workers == 1:
        rows = [[w, s, fmt_time(ts)[0], fmt_time(t1)[0], ratio(t1, ts)] for w in FORK_JOIN
                for s in r.schedulers if s != "serial"
                for ts, t1 in [(r.stat(w, "serial", "time_s"), r.stat(w, s, "time_s"))]
                if ts is not None and t1 is not None]
        table(out, "Fork-join: serial floor and overhead", "Ts serial (no scheduler), T1 one "
              "worker; T1/Ts is the per-task overhead.",
              ["workload", "scheduler", "Ts", "T1", "T1/Ts"], rows)
        return
    rows = []
    for w in FORK_JOIN:
        ts = r.stat(w, "serial", "time_s")
        for s in r.schedulers:
            if s == "serial":
                continue
            t1 = r.stat(w + "_1w", s, "time_s")
            t2 = r.stat(w, s, "time_s")
            if t1 is None and t2 is None:
                continue

            def fmt(t):
                return fmt_time(t)[0] if t is not None else "n/a"
            rows.append([w, s, fmt(ts), fmt(t1), fmt(t2), ratio(t1, ts), ratio(ts, t2),
                         ratio(t1, t2)])
    table(out, "Fork-join: serial floor, overhead and speed-up",
          f"Ts serial (no scheduler), T1 one worker, T{r.workers} {r.workers} workers. T1/Ts is "
          f"the per-task overhead, Ts/T{r.workers} the speed-up over serial, T1/T{r.workers} "
          "the scaling.",
          ["workload", "scheduler", "Ts", "T1", f"T{r.workers}", "T1/Ts", f"Ts/T{r.workers}",
           f"T1/T{r.workers}"], rows)


def throughput_table(out, r):
    def build(e, s):
        st = e["metrics"]["items_per_second"]
        base = r.stat(e["workload"], "magpie", "items_per_second")
        return [num(st["median"] / 1e6), spread(e, "items_per_second", 1e6),
                "base" if s == "magpie" else ratio(base, st["median"]), rss(e)]
    table(out, "External submit throughput", "Million tasks per second from 1 or 2 threads "
          "that are not workers; ratio = Magpie rate / peer rate (> 1: Magpie faster).",
          ["workload", "scheduler", "Mtasks/s", "min–max", "magpie/peer rate", "max RSS"],
          [row for w in THROUGHPUT for row in r.rows(w, build)])


def latency_table(out, r, workloads, title, note, key, extra=None):
    def build(e, s):
        m = {k: r.stat(e["workload"], s, k) for k in ("p50_us", "p90_us", "p99_us", "max_us")}
        base = r.stat(e["workload"], "magpie", key)
        row = [num(m["p50_us"]), num(m["p90_us"]), num(m["p99_us"]), num(m["max_us"]),
               spread(e, key), "base" if s == "magpie" else ratio(m[key], base)]
        if extra:
            row.append(extra(e))
        return row + [rss(e)]
    name = key[:3]
    header = ["workload", "scheduler", "p50", "p90", "p99", "max", f"{name} min–max",
              f"peer/magpie {name}"] + (["lane"] if extra else []) + ["max RSS"]
    table(out, title, note, header, [row for w in workloads for row in r.rows(w, build)])


def idle_table(out, r):
    def build(e, s):
        return [num(e["metrics"]["cpu_pct_of_core"]["median"]), spread(e, "cpu_pct_of_core"),
                rss(e)]
    table(out, "Idle CPU", "Process CPU time over 1 s of idleness, 200 ms after the last task, "
          "in % of one core. magpie: spin 50 µs (the default); magpie_spin0 / magpie_spin1ms: "
          "spin 0 / 1 ms; magpie_latency: one worker always searching.",
          ["workload", "scheduler", "cpu % of core", "min–max", "max RSS"],
          [row for w in IDLE for row in r.rows(w, build)])


def sweep_table(out, r_all, results):
    counts = results["settings"]["workers"]
    rows = []
    for w in FORK_JOIN + LOOPS:
        r = r_all[counts[-1]]
        ts = r.stat(w, "serial", "time_s")
        for s in r.schedulers:
            times = [r_all[n].by_key.get((n, w, s)) for n in counts]
            if s == "serial" or all(t is None for t in times):
                continue
            cells = []
            for t in times:
                med = t["metrics"]["time_s"]["median"] if t and "time_s" in t["metrics"] else None
                cells.append("n/a" if med is None else
                             f"{fmt_time(med)[0]} ({ratio(ts, med)}×)")
            rows.append([w, s] + cells)
    table(out, "Worker sweep", "Median time at each worker count, and in brackets the speed-up "
          "over the serial floor Ts/T. More workers than cores measures the OS scheduler.",
          ["workload", "scheduler"] + [f"{n} worker{'s' if n > 1 else ''}" for n in counts],
          rows)


def header(out, results):
    c, s = results["context"], results["settings"]
    binaries = c.get("binaries", {})
    ctx = next(iter(binaries.values()), {})
    omp = ", ".join(sorted({b.get("openmp", "?") for b in binaries.values()}))
    out.append(f"- date: {c['date']}, Magpie {c['magpie_commit']}")
    out.append(f"- machine: {c['cpu']}, {c['cores_online']} cores online, {c['kernel']}")
    out.append(f"- compiler: {c['compiler']}, `{c['flags']}` (CMake {c['build_type']})")
    out.append(f"- peers: oneTBB {ctx.get('onetbb', '?')}, Boost {ctx.get('boost', '?')}, "
               f"OpenMP: {omp}; packages: " +
               ", ".join(f"{k} {v}" for k, v in c["packages"].items()))
    if c.get("peers"):
        out.append("- peers from source: " + ", ".join(
            f"{k} {v['commit']} ({v['dir']})" for k, v in sorted(c["peers"].items())))
    out.append(f"- mode: {s['mode']}, {s['rounds']} rounds (one child process per run, "
               f"interleaved at random, seed {s['seed']}), --benchmark_min_time "
               f"{s['min_time_s']} s, workers {', '.join(map(str, s['workers']))}, "
               f"{s['elapsed_s']:.0f} s in all")
    if s.get("command"):
        out.append(f"- command: `{s['command']}`")


def render(results):
    out = []
    header(out, results)
    counts = results["settings"]["workers"]
    r_all = {n: Results(results, n) for n in counts}
    r = r_all[counts[-1]]
    time_tables(out, r, [x for w in FORK_JOIN for x in (w, w + "_1w")], "Fork-join run time",
                loops=False)
    fork_join_table(out, r)
    time_tables(out, r, LOOPS, "Data-parallel loops", loops=True)
    throughput_table(out, r)
    latency_table(out, r, WAKEUP, "Wake-up latency (µs, submit to task start)",
                  "spinning: 20 µs gaps between submits (inside the spin window); parked: 1 ms "
                  "gaps. Each percentile is the median over the rounds; ratio = peer p50 / "
                  "Magpie p50 (> 1: Magpie faster).", "p50_us")
    latency_table(out, r, PRIORITY, "Urgent task behind a flood (µs, submit to start)",
                  "The normal lane is kept ~200 tasks of 10 µs deep; lane = where the urgent "
                  "task went: `high` (Magpie priority::high, oneTBB a task_arena of "
                  "priority::high) or `FIFO` (no priorities: behind the flood). Ratio = peer p99 "
                  "/ Magpie p99.", "p99_us",
                  extra=lambda e: "high" if e["metrics"].get("high_lane", {}).get("median")
                  else "FIFO")
    idle_table(out, r)
    if len(counts) > 1:
        sweep_table(out, r_all, results)
    if results.get("failures"):
        out.append("\n### FAILED runs\n")
        out.extend(f"- {f}" for f in results["failures"])
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if len(argv) != 2 or argv[1].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        print(render(json.load(f)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
