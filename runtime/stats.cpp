#include "magpie/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "runtime_core.hpp"

namespace magpie {

std::uint64_t latency_histogram::percentile_ns(double q) const {
  if (!(q > 0.0 && q <= 1.0)) {
    throw std::invalid_argument(
        "magpie::latency_histogram::percentile_ns: q must be in (0, 1], got " + std::to_string(q));
  }
  if (count == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count)));
  std::uint64_t seen = 0;
  for (const bucket& b : buckets) {
    seen += b.count;
    if (seen >= rank) return std::min(b.upper_ns, max_ns);
  }
  return max_ns;  // counts and max read at slightly different moments
}

namespace {

// Exact decimal seconds from integer nanoseconds ("0.000125", "3"): no float rounding, so the
// same edge always prints the same label.
std::string seconds(std::uint64_t ns) {
  std::string s = std::to_string(ns / 1'000'000'000);
  std::uint64_t frac = ns % 1'000'000'000;
  if (frac == 0) return s;
  char digits[10];
  std::snprintf(digits, sizeof digits, "%09llu", static_cast<unsigned long long>(frac));
  std::string f(digits);
  f.erase(f.find_last_not_of('0') + 1);
  return s + "." + f;
}

// --- JSON ---

class json_object {
 public:
  explicit json_object(std::string& out) : out_(out) { out_ += '{'; }
  ~json_object() { out_ += '}'; }
  json_object(const json_object&) = delete;
  json_object& operator=(const json_object&) = delete;

  std::string& key(const char* k) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += k;
    out_ += "\":";
    return out_;
  }
  void field(const char* k, std::uint64_t v) { key(k) += std::to_string(v); }
  void field(const char* k, int v) { key(k) += std::to_string(v); }
  void field(const char* k, bool v) { key(k) += v ? "true" : "false"; }

 private:
  std::string& out_;
  bool first_ = true;
};

void latency_json(std::string& out, const latency_histogram& h) {
  json_object o(out);
  o.field("count", h.count);
  o.field("sum_ns", h.sum_ns);
  o.field("max_ns", h.max_ns);
  o.field("p50_ns", h.percentile_ns(0.5));
  o.field("p90_ns", h.percentile_ns(0.9));
  o.field("p99_ns", h.percentile_ns(0.99));
  o.key("buckets") += '[';
  for (std::size_t i = 0; i < h.buckets.size(); ++i) {
    if (i != 0) out += ',';
    json_object b(out);
    b.field("upper_ns", h.buckets[i].upper_ns);
    b.field("count", h.buckets[i].count);
  }
  out += ']';
}

// --- Prometheus ---

bool valid_metric_name(std::string_view n) {
  const auto first = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  };
  const auto rest = [&first](char c) { return first(c) || (c >= '0' && c <= '9'); };
  return !n.empty() && first(n[0]) && std::all_of(n.begin() + 1, n.end(), rest);
}

// Fixed histogram edges (1-2-5 steps from 100 ns to 10 s), so every scrape has the same series
// whatever latencies occurred.
constexpr std::uint64_t latency_edges_ns[] = {
    100,         200,           500,           1'000,         2'000,
    5'000,       10'000,        20'000,        50'000,        100'000,
    200'000,     500'000,       1'000'000,     2'000'000,     5'000'000,
    10'000'000,  20'000'000,    50'000'000,    100'000'000,   200'000'000,
    500'000'000, 1'000'000'000, 2'000'000'000, 5'000'000'000, 10'000'000'000};

class prometheus_writer {
 public:
  prometheus_writer(std::string& out, std::string_view prefix) : out_(out), prefix_(prefix) {}

  void family(const char* name, const char* type, const char* help) {
    name_ = std::string(prefix_) + "_" + name;
    out_ += "# HELP " + name_ + " " + help + "\n# TYPE " + name_ + " " + type + "\n";
  }
  // One sample of the current family; `suffix` for a histogram's _bucket/_sum/_count.
  void sample(const std::string& labels, const std::string& value, const char* suffix = "") {
    out_ += name_ + suffix;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += " " + value + "\n";
  }

 private:
  std::string& out_;
  std::string_view prefix_;
  std::string name_;
};

std::string worker_label(std::size_t i) {
  return "worker=\"" + std::to_string(i) + "\"";
}

std::string lane_label(std::size_t lane) {
  return "lane=\"" + std::string(detail::lane_names[lane]) + "\"";
}

// Counters, one sample per worker.
void worker_counter_families(prometheus_writer& p, const std::vector<worker_stats>& ws) {
  const auto per_worker = [&](const char* name, const char* help,
                              std::uint64_t worker_stats::*field) {
    p.family(name, "counter", help);
    for (std::size_t i = 0; i < ws.size(); ++i)
      p.sample(worker_label(i), std::to_string(ws[i].*field));
  };
  per_worker("tasks_run_total", "Tasks run by the worker.", &worker_stats::tasks_run);
  per_worker("tasks_spawned_total", "Tasks the worker submitted or spawned into its own deques.",
             &worker_stats::spawned);
  per_worker("tasks_stolen_total", "Tasks the worker took from other workers' deques.",
             &worker_stats::stolen);
  per_worker("steal_attempts_total", "Steals the worker tried on deques that looked non-empty.",
             &worker_stats::steal_attempts);
  per_worker("tasks_injected_total", "Tasks the worker took from the injector.",
             &worker_stats::injected);
  per_worker("parks_total", "Times the worker slept in the kernel.", &worker_stats::parks);
  per_worker("wakeups_total", "Times the worker was woken from a park.", &worker_stats::wakeups);
  per_worker("tasks_discarded_total", "Tasks dropped by shutdown(cancel).",
             &worker_stats::discarded);
  per_worker("tasks_canceled_total", "Tasks skipped because their group was canceled.",
             &worker_stats::canceled);
  per_worker("task_exceptions_total", "Detached tasks that threw.", &worker_stats::exceptions);
  p.family("steals_by_distance_total", "counter",
           "Steals by distance to the victim (near: the same NUMA node).");
  for (std::size_t i = 0; i < ws.size(); ++i) {
    p.sample(worker_label(i) + ",distance=\"near\"", std::to_string(ws[i].steals_near));
    p.sample(worker_label(i) + ",distance=\"far\"", std::to_string(ws[i].steals_far));
  }
  p.family("busy_seconds_total", "counter",
           "Time the worker spent neither searching for work nor parked.");
  for (std::size_t i = 0; i < ws.size(); ++i)
    p.sample(worker_label(i), seconds(ws[i].busy_ns));
}

// Gauges, one sample per worker.
void worker_gauge_families(prometheus_writer& p, const std::vector<worker_stats>& ws) {
  const auto flag = [&](const char* name, const char* help, bool worker_stats::*field) {
    p.family(name, "gauge", help);
    for (std::size_t i = 0; i < ws.size(); ++i)
      p.sample(worker_label(i), ws[i].*field ? "1" : "0");
  };
  flag("worker_active", "1 if the worker is below set_active_workers' count.",
       &worker_stats::active);
  flag("worker_asleep", "1 if the worker is sleeping in the kernel.", &worker_stats::asleep);
  flag("worker_stalled",
       "1 if the worker has run its current task longer than config.stall_threshold.",
       &worker_stats::stalled);
  p.family("worker_current_task_seconds", "gauge",
           "How long the worker's current task has run (with stall detection on; else 0).");
  for (std::size_t i = 0; i < ws.size(); ++i)
    p.sample(worker_label(i), seconds(ws[i].current_task_ns));
}

// One lane's histogram: cumulative buckets at the fixed edges, +Inf, sum and count. A bucket of
// ours counts under the first edge at or above its (exclusive) upper edge, so each cumulative
// count is exact for that edge up to our bucket width (25 %).
void latency_samples(prometheus_writer& p, const std::string& lane, const latency_histogram& h) {
  std::size_t next = 0;
  std::uint64_t cumulative = 0;
  for (const std::uint64_t edge : latency_edges_ns) {
    while (next < h.buckets.size() && h.buckets[next].upper_ns <= edge)
      cumulative += h.buckets[next++].count;
    p.sample(lane + ",le=\"" + seconds(edge) + "\"", std::to_string(cumulative), "_bucket");
  }
  p.sample(lane + ",le=\"+Inf\"", std::to_string(h.count), "_bucket");
  p.sample(lane, seconds(h.sum_ns), "_sum");
  p.sample(lane, std::to_string(h.count), "_count");
}

}  // namespace

std::string to_json(const runtime_stats& s) {
  std::string out;
  {
    json_object root(out);
    root.key("workers") += '[';
    for (std::size_t i = 0; i < s.workers.size(); ++i) {
      const worker_stats& w = s.workers[i];
      if (i != 0) out += ',';
      json_object o(out);
      o.field("index", static_cast<std::uint64_t>(i));
      o.field("cpu", w.cpu);
      o.field("active", w.active);
      o.field("asleep", w.asleep);
      o.field("tasks_run", w.tasks_run);
      o.field("spawned", w.spawned);
      o.field("stolen", w.stolen);
      o.field("steal_attempts", w.steal_attempts);
      o.field("steals_near", w.steals_near);
      o.field("steals_far", w.steals_far);
      o.field("injected", w.injected);
      o.field("parks", w.parks);
      o.field("wakeups", w.wakeups);
      o.field("busy_ns", w.busy_ns);
      o.field("discarded", w.discarded);
      o.field("canceled", w.canceled);
      o.field("exceptions", w.exceptions);
      o.field("stalled", w.stalled);
      o.field("current_task_ns", w.current_task_ns);
    }
    out += ']';
    {
      json_object q(root.key("queued"));
      for (std::size_t lane = 0; lane < detail::lane_count; ++lane)
        q.field(detail::lane_names[lane], s.queued[lane]);
    }
    root.field("pending", s.pending);
    root.field("discarded_by_shutdown", s.discarded_by_shutdown);
    root.field("semaphore_waiting", s.semaphore_waiting);
    root.field("strand_queued", s.strand_queued);
    json_object lat(root.key("latency"));
    for (std::size_t lane = 0; lane < detail::lane_count; ++lane)
      latency_json(lat.key(detail::lane_names[lane]), s.latency[lane]);
  }
  return out;
}

std::string to_prometheus(const runtime_stats& s, std::string_view prefix) {
  if (!valid_metric_name(prefix)) {
    throw std::invalid_argument("magpie::to_prometheus: prefix \"" + std::string(prefix) +
                                "\" is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
  }
  std::string out;
  prometheus_writer p(out, prefix);
  worker_counter_families(p, s.workers);
  worker_gauge_families(p, s.workers);
  p.family("queued_tasks", "gauge", "Tasks queued and not started, per priority lane.");
  for (std::size_t lane = 0; lane < detail::lane_count; ++lane)
    p.sample(lane_label(lane), std::to_string(s.queued[lane]));
  p.family("pending_tasks", "gauge", "External tasks queued in the injector and not yet taken.");
  p.sample("", std::to_string(s.pending));
  p.family("tasks_discarded_by_shutdown_total", "counter",
           "Tasks dropped by the thread that called shutdown_for, past its deadline, rather than "
           "by a worker.");
  p.sample("", std::to_string(s.discarded_by_shutdown));
  p.family("semaphore_waiting_tasks", "gauge",
           "Tasks and coroutines waiting in the runtime's semaphores for units.");
  p.sample("", std::to_string(s.semaphore_waiting));
  p.family("strand_queued_tasks", "gauge",
           "Tasks and coroutines submitted to the runtime's strands and not yet finished.");
  p.sample("", std::to_string(s.strand_queued));
  p.family("task_start_latency_seconds", "histogram",
           "Submit-to-start latency of detached tasks, per priority lane.");
  for (std::size_t lane = 0; lane < detail::lane_count; ++lane)
    latency_samples(p, lane_label(lane), s.latency[lane]);
  return out;
}

}  // namespace magpie

// --- The snapshot: summed from every worker's counters and histograms ---

namespace magpie::detail {
namespace {

// Ticks to nanoseconds at the rate measured for this snapshot.
struct to_ns {
  double ns_per_tick;
  std::uint64_t operator()(std::uint64_t ticks) const noexcept {
    return static_cast<std::uint64_t>(static_cast<double>(ticks) * ns_per_tick + 0.5);
  }
};

using worker_list = std::vector<std::unique_ptr<worker>>;

// One lane's latency histogram, merged bucket by bucket over the workers.
latency_histogram lane_latency(const worker_list& workers, unsigned lane, to_ns ns) {
  latency_histogram h;
  for (std::size_t b = 0; b < latency_recorder::bucket_count; ++b) {
    std::uint64_t n = 0;
    for (const auto& w : workers)
      n += w->counters.latency[lane].count(b);
    if (n != 0) h.buckets.push_back({ns(latency_recorder::upper_edge(b)), n});
    h.count += n;
  }
  std::uint64_t max_ticks = 0;
  std::uint64_t sum_ticks = 0;
  for (const auto& w : workers) {
    max_ticks = std::max(max_ticks, w->counters.latency[lane].max());
    sum_ticks += w->counters.latency[lane].sum();
  }
  h.sum_ns = ns(sum_ticks);
  h.max_ns = ns(max_ticks);
  return h;
}

// One worker's counters. relaxed: a snapshot of single-writer counters; each value is recent,
// not a consistent cut.
worker_stats worker_snapshot(const worker& w, std::uint64_t now, to_ns ns) {
  const worker_counters& c = w.counters;
  const auto get = [](const std::atomic<std::uint64_t>& v) {
    return v.load(std::memory_order_relaxed);
  };
  worker_stats s;
  s.cpu = w.bound_cpu;
  s.tasks_run = get(c.ran);
  s.stolen = get(c.stolen);
  s.injected = get(c.injected);
  s.parks = get(c.parks);
  s.discarded = get(c.discarded);
  s.canceled = get(c.canceled);
  s.exceptions = get(c.exceptions);
  s.spawned = get(w.spawned);
  s.steal_attempts = get(c.steal_attempts);
  s.wakeups = get(c.wakeups);
  s.busy_ns = ns(c.doing.busy_ticks(now));
  s.steals_near = get(c.steals_near);
  s.steals_far = get(c.steals_far);
  s.asleep = c.asleep.load(std::memory_order_relaxed);
  return s;
}

}  // namespace

runtime_stats runtime_core::stats() const {
  runtime_stats out;
  const to_ns ns{ticks_.ns_per_tick()};
  std::uint64_t in_injector = 0;
  for (unsigned lane = 0; lane < lane_count; ++lane) {
    out.latency[lane] = lane_latency(workers_, lane, ns);
    in_injector += inj.size_approx(lane);
    out.queued[lane] = inj.size_approx(lane);
    for (const auto& w : workers_)
      out.queued[lane] += w->queued(lane);
  }
  out.pending = cfg_.max_pending != 0 ? inj.pending() : in_injector;
  // relaxed: a single writer (the shutdown thread); a snapshot wants a recent value.
  out.discarded_by_shutdown = discarded_by_shutdown_.load(std::memory_order_relaxed);
  // relaxed: a statistic. Held tasks (semaphores, strands) dropped outside the queues.
  out.discarded_by_shutdown += discarded_held_.load(std::memory_order_relaxed);
  out.semaphore_waiting = holders.sum(held_source::kind::semaphore);
  out.strand_queued = holders.sum(held_source::kind::strand);
  const std::uint64_t now = clock_ticks();
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    worker_stats s = worker_snapshot(*workers_[i], now, ns);
    s.active = i < idle.active();
    if (monitor_) {
      const stall_monitor::view v = monitor_->look(i);
      s.stalled = v.stalled;
      s.current_task_ns = v.running_ns;
    }
    out.workers.push_back(s);
  }
  return out;
}

}  // namespace magpie::detail
