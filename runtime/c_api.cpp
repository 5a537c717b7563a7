// The C API (include/magpie/magpie.h): thin wrappers that turn every C++ exception into a
// magpie_status, so none crosses into C (where unwinding through C frames is undefined).
#include "magpie/magpie.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "c_status.hpp"
#include "magpie/magpie.hpp"

struct magpie_runtime {
  explicit magpie_runtime(magpie::config c) : rt(std::move(c)) {}
  magpie::runtime rt;
};

struct magpie_group {
  magpie_group(magpie::runtime& r, magpie::priority p) : g(r, p) {}
  magpie::task_group g;
};

using magpie::detail::c_error;
using magpie::detail::c_guarded;
using magpie::detail::c_invalid;

namespace {

// What runs on a worker: a C function cannot throw, so nothing reaches on_exception from here.
struct c_task {
  magpie_task_fn fn;
  void* arg;
  void operator()() const { fn(arg); }
};

// A C caller may pass any int as an enum; C++ may not load an enum object holding a value
// outside the enum's range (UBSan: invalid enum load). So the bytes are read as the underlying
// integer, without an enum-typed load, and checked as an integer.
template <class E>
std::underlying_type_t<E> raw_value(const E& e) noexcept {
  std::underlying_type_t<E> v{};
  std::memcpy(&v, &e, sizeof v);
  return v;
}

using priority_value = std::underlying_type_t<magpie_priority>;

bool to_priority(priority_value in, magpie::priority& out) noexcept {
  switch (in) {
    case MAGPIE_PRIORITY_NORMAL:
      out = magpie::priority::normal;
      return true;
    case MAGPIE_PRIORITY_HIGH:
      out = magpie::priority::high;
      return true;
    case MAGPIE_PRIORITY_LOW:
      out = magpie::priority::low;
      return true;
  }
  return false;
}

// Saturates instead of wrapping: a timeout past 2^63 ns (292 years) is "forever".
std::chrono::nanoseconds to_duration(std::uint64_t ns) noexcept {
  constexpr auto most = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::min(ns, most)));
}

constexpr const char* create_with = "magpie_runtime_create_with";

// The C config as the C++ one; an error status (with magpie_last_error set) for what only C
// can get wrong. The C++ constructor checks the values themselves.
magpie_status convert(const magpie_config& in, magpie::config& out) {
  if (in.struct_size != sizeof(magpie_config))
    return c_invalid(create_with,
                     "config.struct_size is not sizeof(magpie_config): call "
                     "magpie_config_init before setting fields");
  switch (raw_value(in.pin)) {
    case MAGPIE_PIN_COMPACT:
      out.pin = magpie::pinning::compact;
      break;
    case MAGPIE_PIN_SCATTER:
      out.pin = magpie::pinning::scatter;
      break;
    case MAGPIE_PIN_NONE:
      out.pin = magpie::pinning::none;
      break;
    default:
      return c_invalid(create_with, "config.pin is not a magpie_pinning value");
  }
  if (in.cpus == nullptr && in.cpu_count != 0)
    return c_invalid(create_with, "config.cpus is NULL but config.cpu_count is not 0");
  if (in.cpus != nullptr) out.cpus.assign(in.cpus, in.cpus + in.cpu_count);
  out.workers = in.workers;
  out.max_workers = in.max_workers;
  out.spin = std::chrono::microseconds(in.spin_us);
  out.max_pending = in.max_pending;
  out.latency_workers = in.latency_workers;
  out.starvation_limit = in.starvation_limit;
  return MAGPIE_OK;
}

// The allocation-free queries: a runtime and an output pointer, never an exception.
template <class T, class Get>
magpie_status query(const char* function, const magpie_runtime* rt, T* out, Get get) noexcept {
  if (rt == nullptr) return c_invalid(function, "rt is NULL");
  if (out == nullptr) return c_invalid(function, "out is NULL");
  *out = get(rt->rt);
  return MAGPIE_OK;
}

// The checks every submit makes; MAGPIE_OK with `p` set when the call may go on.
magpie_status check_submit(const char* function, const magpie_runtime* rt, magpie_task_fn fn,
                           priority_value priority, magpie::priority& p) noexcept {
  if (rt == nullptr) return c_invalid(function, "rt is NULL");
  if (fn == nullptr) return c_invalid(function, "fn is NULL");
  if (!to_priority(priority, p)) return c_invalid(function, "priority is not a magpie_priority");
  return MAGPIE_OK;
}

// submit, try_submit and group_create for the C functions with and without a priority, each
// reporting errors under the name of the function the user called.
magpie_status submit(const char* function, magpie_runtime* rt, magpie_task_fn fn, void* arg,
                     priority_value priority) {
  magpie::priority p{};
  if (const magpie_status s = check_submit(function, rt, fn, priority, p); s != MAGPIE_OK) return s;
  return c_guarded(function, [&] {
    rt->rt.submit(c_task{fn, arg}, p);
    return MAGPIE_OK;
  });
}

magpie_status try_submit(const char* function, magpie_runtime* rt, magpie_task_fn fn, void* arg,
                         priority_value priority) {
  magpie::priority p{};
  if (const magpie_status s = check_submit(function, rt, fn, priority, p); s != MAGPIE_OK) return s;
  return c_guarded(function, [&] {
    if (rt->rt.try_submit(c_task{fn, arg}, p)) return MAGPIE_OK;
    // try_submit does not say why; closed is final, so reading it afterwards is accurate
    // except when shutdown began in between, where either answer is true enough.
    if (rt->rt.closed()) return c_error(MAGPIE_ERROR_CLOSED, function, "the runtime is shut down");
    return c_error(MAGPIE_ERROR_FULL, function, "max_pending tasks are queued");
  });
}

magpie_status group_create(const char* function, magpie_runtime* rt, priority_value priority,
                           magpie_group** out) {
  magpie::priority p{};
  if (rt == nullptr) return c_invalid(function, "rt is NULL");
  if (out == nullptr) return c_invalid(function, "out is NULL");
  if (!to_priority(priority, p)) return c_invalid(function, "priority is not a magpie_priority");
  return c_guarded(function, [&] {
    *out = std::make_unique<magpie_group>(rt->rt, p).release();  // owned by the C caller
    return MAGPIE_OK;
  });
}

}  // namespace

extern "C" {

void magpie_config_init(magpie_config* config) {
  if (config == nullptr) return;
  const magpie::config d;
  *config = magpie_config{};
  config->struct_size = sizeof(magpie_config);
  config->workers = d.workers;
  config->max_workers = d.max_workers;
  config->spin_us = static_cast<std::uint32_t>(d.spin.count());
  config->max_pending = d.max_pending;
  config->pin = MAGPIE_PIN_COMPACT;
  config->latency_workers = d.latency_workers;
  config->starvation_limit = d.starvation_limit;
}

magpie_status magpie_runtime_create_with(const magpie_config* config, magpie_runtime** out) {
  if (config == nullptr) return c_invalid(create_with, "config is NULL");
  if (out == nullptr) return c_invalid(create_with, "out is NULL");
  return c_guarded(create_with, [&] {
    magpie::config c;
    const magpie_status s = convert(*config, c);
    if (s != MAGPIE_OK) return s;
    *out = std::make_unique<magpie_runtime>(std::move(c)).release();  // owned by the C caller
    return MAGPIE_OK;
  });
}

magpie_status magpie_runtime_create(size_t workers, uint32_t spin_us, size_t max_pending,
                                    magpie_runtime** out) {
  if (out == nullptr) return c_invalid("magpie_runtime_create", "out is NULL");
  return c_guarded("magpie_runtime_create", [&] {
    magpie::config c;
    c.workers = workers;
    c.spin = std::chrono::microseconds(spin_us);
    c.max_pending = max_pending;
    *out = std::make_unique<magpie_runtime>(std::move(c)).release();  // owned by the C caller
    return MAGPIE_OK;
  });
}

magpie_status magpie_runtime_destroy(magpie_runtime* rt) {
  // ~runtime drains; from one of its own tasks it hands the rest to a helper thread.
  return c_guarded("magpie_runtime_destroy", [&] {
    std::unique_ptr<magpie_runtime> owned(rt);
    return MAGPIE_OK;
  });
}

magpie_status magpie_runtime_shutdown(magpie_runtime* rt, int cancel) {
  if (rt == nullptr) return c_invalid("magpie_runtime_shutdown", "rt is NULL");
  return c_guarded("magpie_runtime_shutdown", [&] {
    rt->rt.shutdown(cancel != 0 ? magpie::shutdown_mode::cancel : magpie::shutdown_mode::drain);
    return MAGPIE_OK;
  });
}

magpie_status magpie_runtime_wait_idle(magpie_runtime* rt) {
  if (rt == nullptr) return c_invalid("magpie_runtime_wait_idle", "rt is NULL");
  return c_guarded("magpie_runtime_wait_idle", [&] {
    rt->rt.wait_idle();
    return MAGPIE_OK;
  });
}

magpie_status magpie_runtime_set_active_workers(magpie_runtime* rt, size_t n) {
  if (rt == nullptr) return c_invalid("magpie_runtime_set_active_workers", "rt is NULL");
  return c_guarded("magpie_runtime_set_active_workers", [&] {
    rt->rt.set_active_workers(n);
    return MAGPIE_OK;
  });
}

magpie_status magpie_runtime_set_spin(magpie_runtime* rt, uint32_t spin_us) {
  if (rt == nullptr) return c_invalid("magpie_runtime_set_spin", "rt is NULL");
  return c_guarded("magpie_runtime_set_spin", [&] {
    rt->rt.set_spin(std::chrono::microseconds(spin_us));
    return MAGPIE_OK;
  });
}

magpie_status magpie_runtime_worker_count(const magpie_runtime* rt, size_t* out) {
  return query("magpie_runtime_worker_count", rt, out,
               [](const magpie::runtime& r) { return r.worker_count(); });
}

magpie_status magpie_runtime_active_workers(const magpie_runtime* rt, size_t* out) {
  return query("magpie_runtime_active_workers", rt, out,
               [](const magpie::runtime& r) { return r.active_workers(); });
}

magpie_status magpie_runtime_pending(const magpie_runtime* rt, size_t* out) {
  return query("magpie_runtime_pending", rt, out,
               [](const magpie::runtime& r) { return r.pending(); });
}

magpie_status magpie_runtime_running(const magpie_runtime* rt, size_t* out) {
  return query("magpie_runtime_running", rt, out,
               [](const magpie::runtime& r) { return r.running(); });
}

magpie_status magpie_runtime_closed(const magpie_runtime* rt, int* out) {
  return query("magpie_runtime_closed", rt, out,
               [](const magpie::runtime& r) { return r.closed() ? 1 : 0; });
}

magpie_status magpie_submit(magpie_runtime* rt, magpie_task_fn fn, void* arg) {
  return submit("magpie_submit", rt, fn, arg, MAGPIE_PRIORITY_NORMAL);
}

magpie_status magpie_submit_priority(magpie_runtime* rt, magpie_task_fn fn, void* arg,
                                     magpie_priority priority) {
  return submit("magpie_submit_priority", rt, fn, arg, raw_value(priority));
}

magpie_status magpie_try_submit(magpie_runtime* rt, magpie_task_fn fn, void* arg) {
  return try_submit("magpie_try_submit", rt, fn, arg, MAGPIE_PRIORITY_NORMAL);
}

magpie_status magpie_try_submit_priority(magpie_runtime* rt, magpie_task_fn fn, void* arg,
                                         magpie_priority priority) {
  return try_submit("magpie_try_submit_priority", rt, fn, arg, raw_value(priority));
}

magpie_status magpie_submit_for(magpie_runtime* rt, magpie_task_fn fn, void* arg,
                                uint64_t timeout_ns, magpie_priority priority) {
  constexpr const char* function = "magpie_submit_for";
  magpie::priority p{};
  if (const magpie_status s = check_submit(function, rt, fn, raw_value(priority), p);
      s != MAGPIE_OK)
    return s;
  return c_guarded(function, [&] {
    if (rt->rt.submit_for(c_task{fn, arg}, to_duration(timeout_ns), p)) return MAGPIE_OK;
    return c_error(MAGPIE_ERROR_TIMEOUT, function, "no room in the queue (max_pending) in time");
  });
}

magpie_status magpie_group_create(magpie_runtime* rt, magpie_group** out) {
  return group_create("magpie_group_create", rt, MAGPIE_PRIORITY_NORMAL, out);
}

magpie_status magpie_group_create_priority(magpie_runtime* rt, magpie_priority priority,
                                           magpie_group** out) {
  return group_create("magpie_group_create_priority", rt, raw_value(priority), out);
}

magpie_status magpie_group_spawn(magpie_group* g, magpie_task_fn fn, void* arg) {
  if (g == nullptr) return c_invalid("magpie_group_spawn", "g is NULL");
  if (fn == nullptr) return c_invalid("magpie_group_spawn", "fn is NULL");
  return c_guarded("magpie_group_spawn", [&] {
    g->g.spawn(c_task{fn, arg});
    return MAGPIE_OK;
  });
}

magpie_status magpie_group_wait(magpie_group* g) {
  if (g == nullptr) return c_invalid("magpie_group_wait", "g is NULL");
  return c_guarded("magpie_group_wait", [&] {
    g->g.wait();
    return MAGPIE_OK;
  });
}

magpie_status magpie_group_wait_for(magpie_group* g, uint64_t timeout_ns) {
  if (g == nullptr) return c_invalid("magpie_group_wait_for", "g is NULL");
  return c_guarded("magpie_group_wait_for", [&] {
    if (g->g.wait_for(to_duration(timeout_ns))) return MAGPIE_OK;
    return c_error(MAGPIE_ERROR_TIMEOUT, "magpie_group_wait_for", "the group's tasks still run");
  });
}

magpie_status magpie_group_cancel(magpie_group* g) {
  if (g == nullptr) return c_invalid("magpie_group_cancel", "g is NULL");
  g->g.cancel();
  return MAGPIE_OK;
}

magpie_status magpie_group_destroy(magpie_group* g) {
  return c_guarded("magpie_group_destroy", [&] {
    std::unique_ptr<magpie_group> owned(g);  // ~task_group waits
    return MAGPIE_OK;
  });
}

magpie_status magpie_runtime_stats_json(magpie_runtime* rt, char** out) {
  if (rt == nullptr) return c_invalid("magpie_runtime_stats_json", "rt is NULL");
  if (out == nullptr) return c_invalid("magpie_runtime_stats_json", "out is NULL");
  return c_guarded("magpie_runtime_stats_json", [&] {
    // The shutdown report's totals first (what a C caller most often wants), then the whole
    // snapshot as magpie::to_json writes it.
    const magpie::runtime_stats s = rt->rt.stats();
    std::uint64_t ran = 0, discarded = s.discarded_by_shutdown, canceled = 0, exceptions = 0;
    for (const magpie::worker_stats& w : s.workers) {
      ran += w.tasks_run;
      discarded += w.discarded;
      canceled += w.canceled;
      exceptions += w.exceptions;
    }
    const std::string json =
        "{\"workers\":" + std::to_string(s.workers.size()) + ",\"ran\":" + std::to_string(ran) +
        ",\"discarded\":" + std::to_string(discarded) +
        ",\"canceled\":" + std::to_string(canceled) +
        ",\"exceptions\":" + std::to_string(exceptions) + ",\"stats\":" + magpie::to_json(s) + "}";
    auto buf = std::make_unique<char[]>(json.size() + 1);
    std::memcpy(buf.get(), json.c_str(), json.size() + 1);
    *out = buf.release();  // freed by magpie_string_free
    return MAGPIE_OK;
  });
}

void magpie_string_free(char* s) {
  std::unique_ptr<char[]> owned(s);
}

}  // extern "C"
