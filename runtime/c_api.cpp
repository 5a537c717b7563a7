// The C API (include/magpie/magpie.h): thin wrappers that turn every C++ exception into a
// magpie_status, so none crosses into C (where unwinding through C frames is undefined).
#include "magpie/magpie.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "magpie/magpie.hpp"
#include "runtime_core.hpp"

struct magpie_runtime {
  explicit magpie_runtime(magpie::config c) : rt(std::move(c)) {}
  magpie::runtime rt;
};

struct magpie_group {
  explicit magpie_group(magpie::runtime& r) : g(r) {}
  magpie::task_group g;
};

namespace {

// Most specific first: invalid_argument and runtime_closed derive from logic_error and
// runtime_error.
template <class F>
magpie_status guarded(F&& f) noexcept {
  try {
    return f();
  } catch (const magpie::runtime_closed&) {
    return MAGPIE_ERROR_CLOSED;
  } catch (const std::invalid_argument&) {
    return MAGPIE_ERROR_INVALID_ARGUMENT;
  } catch (const std::bad_alloc&) {
    return MAGPIE_ERROR_NO_MEMORY;
  } catch (const std::system_error&) {
    return MAGPIE_ERROR_SYSTEM;
  } catch (const std::logic_error&) {
    return MAGPIE_ERROR_MISUSE;
  } catch (...) {
    return MAGPIE_ERROR_INTERNAL;
  }
}

// What runs on a worker: a C function cannot throw, so nothing reaches on_exception from here.
struct c_task {
  magpie_task_fn fn;
  void* arg;
  void operator()() const { fn(arg); }
};

}  // namespace

extern "C" {

const char* magpie_strerror(magpie_status status) {
  switch (status) {
    case MAGPIE_OK:
      return "success";
    case MAGPIE_ERROR_INVALID_ARGUMENT:
      return "invalid argument (a null handle, function or output pointer, or a bad value)";
    case MAGPIE_ERROR_CLOSED:
      return "the runtime is shut down";
    case MAGPIE_ERROR_FULL:
      return "the runtime's queue is full (max_pending tasks are waiting)";
    case MAGPIE_ERROR_NO_MEMORY:
      return "out of memory";
    case MAGPIE_ERROR_MISUSE:
      return "misuse (e.g. waiting on a group from one of its own tasks)";
    case MAGPIE_ERROR_SYSTEM:
      return "the operating system refused (threads or CPU binding)";
    case MAGPIE_ERROR_INTERNAL:
      return "internal error";
  }
  return "unknown status";
}

magpie_status magpie_runtime_create(size_t workers, uint32_t spin_us, size_t max_pending,
                                    magpie_runtime** out) {
  if (out == nullptr) return MAGPIE_ERROR_INVALID_ARGUMENT;
  return guarded([&] {
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
  return guarded([&] {
    std::unique_ptr<magpie_runtime> owned(rt);
    return MAGPIE_OK;
  });
}

magpie_status magpie_runtime_shutdown(magpie_runtime* rt, int cancel) {
  if (rt == nullptr) return MAGPIE_ERROR_INVALID_ARGUMENT;
  return guarded([&] {
    rt->rt.shutdown(cancel != 0 ? magpie::shutdown_mode::cancel : magpie::shutdown_mode::drain);
    return MAGPIE_OK;
  });
}

magpie_status magpie_runtime_worker_count(const magpie_runtime* rt, size_t* out) {
  if (rt == nullptr || out == nullptr) return MAGPIE_ERROR_INVALID_ARGUMENT;
  *out = rt->rt.worker_count();
  return MAGPIE_OK;
}

magpie_status magpie_submit(magpie_runtime* rt, magpie_task_fn fn, void* arg) {
  if (rt == nullptr || fn == nullptr) return MAGPIE_ERROR_INVALID_ARGUMENT;
  return guarded([&] {
    rt->rt.submit(c_task{fn, arg});
    return MAGPIE_OK;
  });
}

magpie_status magpie_try_submit(magpie_runtime* rt, magpie_task_fn fn, void* arg) {
  if (rt == nullptr || fn == nullptr) return MAGPIE_ERROR_INVALID_ARGUMENT;
  return guarded([&] {
    if (rt->rt.try_submit(c_task{fn, arg})) return MAGPIE_OK;
    // try_submit does not say why; closed is final, so reading it afterwards is accurate
    // except when shutdown began in between, where either answer is true enough.
    return rt->rt.core().closed() ? MAGPIE_ERROR_CLOSED : MAGPIE_ERROR_FULL;
  });
}

magpie_status magpie_group_create(magpie_runtime* rt, magpie_group** out) {
  if (rt == nullptr || out == nullptr) return MAGPIE_ERROR_INVALID_ARGUMENT;
  return guarded([&] {
    *out = std::make_unique<magpie_group>(rt->rt).release();  // owned by the C caller
    return MAGPIE_OK;
  });
}

magpie_status magpie_group_spawn(magpie_group* g, magpie_task_fn fn, void* arg) {
  if (g == nullptr || fn == nullptr) return MAGPIE_ERROR_INVALID_ARGUMENT;
  return guarded([&] {
    g->g.spawn(c_task{fn, arg});
    return MAGPIE_OK;
  });
}

magpie_status magpie_group_wait(magpie_group* g) {
  if (g == nullptr) return MAGPIE_ERROR_INVALID_ARGUMENT;
  return guarded([&] {
    g->g.wait();
    return MAGPIE_OK;
  });
}

magpie_status magpie_group_cancel(magpie_group* g) {
  if (g == nullptr) return MAGPIE_ERROR_INVALID_ARGUMENT;
  g->g.cancel();
  return MAGPIE_OK;
}

magpie_status magpie_group_destroy(magpie_group* g) {
  return guarded([&] {
    std::unique_ptr<magpie_group> owned(g);  // ~task_group waits
    return MAGPIE_OK;
  });
}

magpie_status magpie_runtime_stats_json(magpie_runtime* rt, char** out) {
  if (rt == nullptr || out == nullptr) return MAGPIE_ERROR_INVALID_ARGUMENT;
  return guarded([&] {
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
