#!/usr/bin/env python3
"""Runs the benchmark suite: every (workload, scheduler) in a child process of its own,
interleaved at random across schedulers, round after round, then writes the results.

Usage (tools/run-benchmarks calls it after the build):
  tools/bench_suite.py --bench BINARY [--bench BINARY ...] --out DIR [--full]
                       [--repetitions N] [--only W,...] [--schedulers S,...]
                       [--workers N] [--sweep] [--min-time S] [--seed N] [--build-dir DIR]

One child per run, rather than one process for all: schedulers' thread pools never overlap
(an idle oneTBB arena or a libgomp team still spinning would steal cycles from the next
scheduler), and the child's peak resident memory (getrusage of the child, ru_maxrss) is that
scheduler's on that workload alone: runtime, its threads' stacks and the workload's data.

Writes DIR/results.json (every run and the summary, with machine, compiler, flags, versions,
date), DIR/table.md, DIR/*.png (tools/bench_charts.py), DIR/samples/ (latency samples) and
DIR/logs/ (each child's stderr). Exit status 1 when any run failed: a wrong result, a crash,
a hang past the time limit.
Python 3 standard library only (the charts need python3-matplotlib).
"""

import argparse
import datetime
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_table  # noqa: E402  (beside this file)

# The workload families, in table order; "<family>_1w" is the same workload on one worker.
FAMILIES = ["fib", "fib_coro", "skynet", "skynet_coro", "nqueens", "matmul", "pfor_sum", "pfor_fsum", "pfor_fsum_range",
            "pfor_tiny", "pfor_skewed",
            "submit_1p", "submit_2p", "strand_post_1s1p", "strand_post_64s2p", "semaphore_flood",
            "semaphore_flood_unlimited", "wakeup_parked", "wakeup_spinning", "priority_flood",
            "idle"]
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
NOT_COUNTERS = {"name", "family_index", "per_family_instance_index", "run_name", "run_type",
                "repetitions", "repetition_index", "threads", "iterations", "real_time",
                "cpu_time", "time_unit", "error_occurred", "error_message", "label"}


def family_of(workload):
    return workload[:-3] if workload.endswith("_1w") else workload


# Variants run only when named with --schedulers (they answer one question, not the suite's):
# magpie_random_steal is Magpie with random victim order, to price near-to-far stealing.
OPT_IN = {"magpie_random_steal", "magpie_caller", "magpie_joins"}


def discover(binaries):
    """{(workload, scheduler): binary}, and the schedulers listed as unavailable."""
    tests, unavailable = {}, {}
    for binary in binaries:
        out = subprocess.run([binary, "--benchmark_list_tests"], check=True,
                             capture_output=True, text=True).stdout
        for line in out.split():
            parts = line.split("/")
            if parts[0] == "unavailable":
                unavailable[parts[1]] = binary
            elif len(parts) >= 2:
                tests[(parts[0], parts[1])] = binary
    return tests, unavailable


def parse_list(text, valid, what):
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in valid]
    if bad:
        sys.exit(f"bench_suite: unknown {what} {', '.join(bad)}; known: {', '.join(valid)}")
    return names


def metrics_of(entry):
    out = {"time_s": entry["real_time"] * UNIT_SECONDS[entry.get("time_unit", "ns")]}
    for key, value in entry.items():
        if key not in NOT_COUNTERS and isinstance(value, (int, float)):
            out[key] = float(value)
    return out


def fmt_clock(seconds):
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


class Runner:
    def __init__(self, args, out):
        self.args = args
        self.out = out
        self.failures = []
        self.context = {}  # Google Benchmark's context of the first run of each binary

    def run(self, item, round_index):
        """Runs one (workload, scheduler, workers) in a child; returns its run record."""
        workload, scheduler, workers, binary = item
        tag = f"{workload}_{scheduler}_w{workers}_r{round_index}"
        samples = os.path.join(self.out, "samples", tag + ".txt")
        env = dict(os.environ, MAGPIE_BENCH_WORKERS=str(workers),
                   MAGPIE_BENCH_FULL="1" if self.args.full else "0",
                   MAGPIE_BENCH_SAMPLES=samples)
        cmd = [binary, f"--benchmark_filter=^{re.escape(workload)}/{re.escape(scheduler)}/",
               f"--benchmark_min_time={self.args.min_time}", "--benchmark_format=json"]
        log_path = os.path.join(self.out, "logs", tag + ".txt")
        started = time.monotonic()
        with open(log_path + ".json", "w") as stdout, open(log_path, "w") as stderr:
            child = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, env=env)
            while True:
                pid, status, usage = os.wait4(child.pid, os.WNOHANG)
                if pid != 0:
                    break
                if time.monotonic() - started > self.args.timeout:
                    child.send_signal(signal.SIGKILL)
                    pid, status, usage = os.wait4(child.pid, 0)
                    status = -1
                    break
                time.sleep(0.02)
            child.returncode = 0  # reaped here; keeps Popen from waiting on it again
        record = {"workload": workload, "scheduler": scheduler, "workers": workers,
                  "round": round_index, "wall_s": round(time.monotonic() - started, 3),
                  # Linux reports ru_maxrss in KiB.
                  "max_rss_kib": usage.ru_maxrss, "ok": False}
        with open(log_path + ".json") as f:
            text = f.read()
        os.remove(log_path + ".json")
        try:
            data = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError:
            data = {}
        if binary not in self.context and data.get("context"):
            self.context[binary] = data["context"]
        entries = data.get("benchmarks", [])
        error = None
        if status == -1:
            error = f"killed after {self.args.timeout} s (a hang?)"
        elif not entries:
            error = f"no result (exit status {os.waitstatus_to_exitcode(status)})"
        elif entries[0].get("error_occurred"):
            error = entries[0].get("error_message", "error")
        elif os.waitstatus_to_exitcode(status) != 0:
            error = f"exit status {os.waitstatus_to_exitcode(status)}"
        if error is None:
            record["ok"] = True
            record["metrics"] = metrics_of(entries[0])
            if os.path.exists(samples):
                record["samples"] = os.path.relpath(samples, self.out)
        else:
            record["error"] = error
            with open(log_path) as f:
                detail = [line.strip() for line in f if "FAILED" in line]
            self.failures.append(f"{workload}/{scheduler} (workers {workers}, round "
                                 f"{round_index}): {error}" +
                                 ("".join("\n    " + d for d in detail)))
            print(f"\nFAILED: {self.failures[-1]}\n  log: {log_path}\n", file=sys.stderr,
                  flush=True)
        return record


def shell(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def machine_context(args):
    """What docs/benchmarks.md has to name next to every figure."""
    cache = {}
    cache_path = os.path.join(args.build_dir, "CMakeCache.txt") if args.build_dir else ""
    if cache_path and os.path.exists(cache_path):
        with open(cache_path) as f:
            for line in f:
                m = re.match(r"^([A-Za-z_]+):[A-Z]+=(.*)$", line.rstrip("\n"))
                if m:
                    cache[m.group(1)] = m.group(2)
    cxx = cache.get("CMAKE_CXX_COMPILER", "c++")
    packages = {}
    for p in ["libtbb-dev", "libboost-dev", "libbenchmark-dev", "libhwloc-dev",
              "libconcurrentqueue-dev", "libomp-14-dev", "gcc-12", "clang-19", "libomp-19-dev"]:
        packages[p] = shell(f"dpkg-query -W -f='${{Version}}' {p} 2>/dev/null") or "missing"
    # Peers built from a source checkout (tools/run-benchmarks --peer-src): where, and which
    # commit when the checkout is a git work tree.
    peers = {}
    for key, value in sorted(cache.items()):
        m = re.match(r"^MAGPIE_PEER_([A-Z]+)_DIR$", key)
        if m and value:
            peers[m.group(1).lower()] = {
                "dir": value,
                "commit": shell(f"git -C '{value}' describe --tags --always 2>/dev/null") or "unknown"}
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": shell("lscpu | sed -n 's/^Model name: *//p' | head -1"),
        "cores_online": os.cpu_count(),
        "kernel": f"{platform.system()} {platform.release()}",
        "compiler": shell(f"{cxx} --version | head -1"),
        "flags": " ".join(x for x in [cache.get("CMAKE_CXX_FLAGS", ""),
                                      cache.get("CMAKE_CXX_FLAGS_RELEASE", "-O3 -DNDEBUG"),
                                      "-std=c++20"] if x),
        "build_type": cache.get("CMAKE_BUILD_TYPE", "?"),
        "magpie_commit": shell("git describe --always --dirty 2>/dev/null") or "unknown",
        "packages": packages,
        "peers": peers,
    }


def summarize(runs):
    """Median, min, max of every metric and of the peak RSS, per (workers, workload, scheduler)."""
    groups = {}
    for r in runs:
        groups.setdefault((r["workers"], r["workload"], r["scheduler"]), []).append(r)
    out = []
    for (workers, workload, scheduler), rs in sorted(groups.items()):
        ok = [r for r in rs if r["ok"]]
        entry = {"workers": workers, "workload": workload, "scheduler": scheduler,
                 "runs": len(rs), "failed": len(rs) - len(ok), "metrics": {}}
        names = sorted({k for r in ok for k in r["metrics"]})
        for name in names:
            values = [r["metrics"][name] for r in ok if name in r["metrics"]]
            entry["metrics"][name] = {"median": statistics.median(values), "min": min(values),
                                      "max": max(values), "n": len(values)}
        rss = [r["max_rss_kib"] for r in ok]
        if rss:
            entry["max_rss_kib"] = {"median": statistics.median(rss), "max": max(rss)}
        errors = sorted({r["error"] for r in rs if not r["ok"]})
        if errors:
            entry["errors"] = errors
        out.append(entry)
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", action="append", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--repetitions", type=int)
    parser.add_argument("--only", default="")
    parser.add_argument("--schedulers", default="")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--min-time", type=float)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--build-dir", default="")
    parser.add_argument("--command", default="")
    args = parser.parse_args(argv[1:])
    if args.repetitions is None:
        args.repetitions = 10 if args.full else 3
    if args.min_time is None:
        args.min_time = 0.5 if args.full else 0.1
    if args.seed is None:
        args.seed = random.randrange(1 << 30)

    tests, unavailable = discover(args.bench)
    workloads_known = sorted({w for w, _ in tests})
    families = [f for f in FAMILIES if f in {family_of(w) for w in workloads_known}]
    schedulers_known = sorted({s for _, s in tests if s != "serial"} | set(unavailable))
    only = parse_list(args.only, families, "workload") if args.only else families
    chosen = (parse_list(args.schedulers, schedulers_known + ["serial"], "scheduler")
              if args.schedulers else [s for s in schedulers_known if s not in OPT_IN])
    worker_counts = list(range(1, args.workers + 1)) if args.sweep else [args.workers]

    # The serial floor runs with every selection: T1/Ts and speed-ups are read against it.
    plan = []
    for (workload, scheduler), binary in sorted(tests.items()):
        if family_of(workload) not in only:
            continue
        if scheduler != "serial" and scheduler not in chosen:
            continue
        if workload.endswith("_1w") and worker_counts == [1]:
            continue  # the same run as the workload itself
        # Serial and one-worker runs do not depend on the worker count: once, at the largest.
        fixed = scheduler == "serial" or workload.endswith("_1w")
        for workers in ([worker_counts[-1]] if fixed else worker_counts):
            plan.append((workload, scheduler, workers, binary))
    if not plan:
        sys.exit("bench_suite: nothing to run for this selection")

    out = args.out
    os.makedirs(os.path.join(out, "samples"), exist_ok=True)
    os.makedirs(os.path.join(out, "logs"), exist_ok=True)
    total = len(plan) * args.repetitions
    print(f"bench_suite: {len(plan)} runs x {args.repetitions} rounds = {total} child "
          f"processes; workers {', '.join(map(str, worker_counts))}; "
          f"{'full' if args.full else 'quick'} mode; seed {args.seed}", flush=True)

    runner = Runner(args, out)
    runs = []
    started = time.monotonic()
    done = 0
    for round_index in range(1, args.repetitions + 1):
        order = list(plan)
        random.Random(args.seed + round_index).shuffle(order)  # interleaved across schedulers
        for item in order:
            workload, scheduler, workers, _ = item
            elapsed = time.monotonic() - started
            left = "" if done == 0 else f", ~{fmt_clock(elapsed / done * (total - done))} left"
            print(f"[{done + 1:>4}/{total}] {fmt_clock(elapsed)}{left}  round "
                  f"{round_index}/{args.repetitions}  {workload}/{scheduler} "
                  f"(workers {workers}) ...", end="", flush=True)
            record = runner.run(item, round_index)
            runs.append(record)
            done += 1
            print(" " + (bench_table.run_summary(record) if record["ok"] else "FAILED"),
                  flush=True)

    results = {
        "context": {**machine_context(args),
                    "binaries": {os.path.basename(b): c for b, c in runner.context.items()}},
        "settings": {"mode": "full" if args.full else "quick", "rounds": args.repetitions,
                     "min_time_s": args.min_time, "workers": worker_counts,
                     "sweep": args.sweep, "seed": args.seed, "command": args.command,
                     "workloads": only, "schedulers": chosen,
                     "unavailable": {s: "not in this build" for s in unavailable},
                     "elapsed_s": round(time.monotonic() - started, 1)},
        "runs": runs,
        "summary": summarize(runs),
        "failures": runner.failures,
    }
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)

    table = bench_table.render(results)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(table)
    print("\n" + table)

    try:
        import bench_charts
        for path in bench_charts.draw(results, out):
            print(f"chart: {path}")
    except ImportError as e:
        print(f"bench_suite: no charts ({e}); tools/ensure-deps python3-matplotlib installs "
              "what they need", file=sys.stderr)

    if runner.failures:
        print(f"\nbench_suite: {len(runner.failures)} run(s) FAILED:", file=sys.stderr)
        for failure in runner.failures:
            print("  " + failure, file=sys.stderr)
    print(f"\nresults: {os.path.abspath(out)}")
    return 1 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
