/* Magpie's C API: a runtime and task groups behind opaque handles, for C programs and for
 * languages that bind to C. C99. Every function returns a magpie_status; none lets a C++
 * exception out. Handles are thread-safe as their C++ counterparts are (submit and spawn from
 * any thread; destroy a handle only once nothing else uses it). */
#ifndef MAGPIE_MAGPIE_H
#define MAGPIE_MAGPIE_H

#include <stddef.h>
#include <stdint.h>

#include "magpie/export.hpp"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum magpie_status {
  MAGPIE_OK = 0,
  MAGPIE_ERROR_INVALID_ARGUMENT = 1, /* a null handle, function or output pointer; a bad value */
  MAGPIE_ERROR_CLOSED = 2,           /* the runtime is shut down */
  MAGPIE_ERROR_FULL = 3,             /* try_submit: max_pending tasks are queued */
  MAGPIE_ERROR_NO_MEMORY = 4,
  MAGPIE_ERROR_MISUSE = 5,   /* e.g. waiting on a group from one of its own tasks (would hang) */
  MAGPIE_ERROR_SYSTEM = 6,   /* the OS refused (threads, CPU binding) */
  MAGPIE_ERROR_INTERNAL = 7, /* anything else; a bug: please report it */
  MAGPIE_ERROR_TIMEOUT = 8   /* magpie_submit_for: no room by then; magpie_group_wait_for */
} magpie_status;

/* The lane a task is queued in (docs/latency.md): workers run high first, then normal, then
 * low, and each lower lane still gets a turn within config.starvation_limit dispatches.
 * NORMAL is 0, so a zeroed value is the default lane. */
typedef enum magpie_priority {
  MAGPIE_PRIORITY_NORMAL = 0,
  MAGPIE_PRIORITY_HIGH = 1,
  MAGPIE_PRIORITY_LOW = 2
} magpie_priority;

/* How workers are placed on processing units (magpie::pinning, docs/topology.md). */
typedef enum magpie_pinning {
  MAGPIE_PIN_COMPACT = 0, /* worker i on the i-th allowed PU in topology order (the default) */
  MAGPIE_PIN_SCATTER = 1, /* spread across packages, NUMA nodes, then cores */
  MAGPIE_PIN_NONE = 2     /* no binding: the OS places the threads */
} magpie_pinning;

/* A runtime's configuration (magpie::config); fill it with magpie_config_init, then change
 * fields. Every field means what the C++ field of the same name does. */
typedef struct magpie_config {
  size_t struct_size;     /* sizeof(magpie_config), set by magpie_config_init */
  size_t workers;         /* 0 = one per CPU this process may use */
  size_t max_workers;     /* threads started (0 = workers); set_active_workers grows up to it */
  uint32_t spin_us;       /* how long an idle worker looks for work before it sleeps */
  size_t max_pending;     /* bound on queued tasks from outside threads, 0 = none */
  magpie_pinning pin;     /* ignored when cpus is set */
  const unsigned* cpus;   /* explicit OS PU indexes, worker i on cpus[i % cpu_count]; or NULL */
  size_t cpu_count;       /* entries in cpus */
  size_t latency_workers; /* workers that never sleep while the runtime is open */
  size_t starvation_limit;
} magpie_config;

typedef struct magpie_runtime magpie_runtime;
typedef struct magpie_group magpie_group;
/* A task: called once with the arg given at submit/spawn. */
typedef void (*magpie_task_fn)(void* arg);

/* A static, human-readable name for `status` ("unknown status" for values not listed). */
MAGPIE_API const char* magpie_strerror(magpie_status status);
/* What the last call on this thread that failed was told, naming the function and the
 * argument or field (e.g. "magpie_runtime_create_with: config.max_workers: 1 is below the
 * worker count 2"); "" if none failed yet. Valid until this thread's next failing call. */
MAGPIE_API const char* magpie_last_error(void);

/* Sets every field of *config to its default (magpie::config's): 0 workers (one per CPU),
 * spin 50 us, compact pinning, starvation_limit 32. No-op on NULL. */
MAGPIE_API void magpie_config_init(magpie_config* config);

/* Starts a runtime. workers: 0 = one per CPU this process may use. spin_us: how long an idle
 * worker looks for work before it sleeps (0..1000000). max_pending: bound on queued tasks from
 * outside threads, 0 = none. On success *out is the handle; on failure *out is untouched. */
MAGPIE_API magpie_status magpie_runtime_create(size_t workers, uint32_t spin_us, size_t max_pending,
                                               magpie_runtime** out);
/* Starts a runtime configured by *config (filled by magpie_config_init first; its struct_size
 * must be sizeof(magpie_config)). Bad values give MAGPIE_ERROR_INVALID_ARGUMENT, and
 * magpie_last_error names the field. *out as for magpie_runtime_create. */
MAGPIE_API magpie_status magpie_runtime_create_with(const magpie_config* config,
                                                    magpie_runtime** out);
/* Runs every accepted task, stops the workers and frees the runtime. Blocks. NULL is a no-op.
 * From one of the runtime's own tasks it returns at once and a helper thread finishes. */
MAGPIE_API magpie_status magpie_runtime_destroy(magpie_runtime* rt);
/* Stops accepting tasks, then runs (cancel = 0) or discards (cancel != 0) every queued task and
 * stops the workers; the handle stays valid (submits now fail with MAGPIE_ERROR_CLOSED) until
 * magpie_runtime_destroy. Idempotent. Blocks. MAGPIE_ERROR_MISUSE from one of its own tasks. */
MAGPIE_API magpie_status magpie_runtime_shutdown(magpie_runtime* rt, int cancel);
/* Worker threads started (config.max_workers), active or not. */
MAGPIE_API magpie_status magpie_runtime_worker_count(const magpie_runtime* rt, size_t* out);
/* Lets only workers 0..n-1 take work; the others finish their own queued tasks and sleep.
 * n in [1, worker count], else MAGPIE_ERROR_INVALID_ARGUMENT. */
MAGPIE_API magpie_status magpie_runtime_set_active_workers(magpie_runtime* rt, size_t n);
/* The n of the last magpie_runtime_set_active_workers (config.workers at first). */
MAGPIE_API magpie_status magpie_runtime_active_workers(const magpie_runtime* rt, size_t* out);
/* Changes config.spin while the runtime runs (0..1000000 us). */
MAGPIE_API magpie_status magpie_runtime_set_spin(magpie_runtime* rt, uint32_t spin_us);
/* Cheap counters: neither allocates nor locks. Approximate while tasks run; exact when idle.
 * pending: tasks accepted and not started. running: tasks running now. */
MAGPIE_API magpie_status magpie_runtime_pending(const magpie_runtime* rt, size_t* out);
MAGPIE_API magpie_status magpie_runtime_running(const magpie_runtime* rt, size_t* out);
/* *out = 1 once shutdown has begun (submits then fail with MAGPIE_ERROR_CLOSED), else 0. */
MAGPIE_API magpie_status magpie_runtime_closed(const magpie_runtime* rt, int* out);
/* Blocks until every task accepted so far, and every task they submit or spawn, has finished;
 * the runtime stays open. MAGPIE_ERROR_MISUSE from one of its own tasks (it would hang). */
MAGPIE_API magpie_status magpie_runtime_wait_idle(magpie_runtime* rt);

/* Queues fn(arg). Blocks while max_pending tasks are queued (never on the runtime's workers). */
MAGPIE_API magpie_status magpie_submit(magpie_runtime* rt, magpie_task_fn fn, void* arg);
/* Like magpie_submit but never blocks: MAGPIE_ERROR_FULL when max_pending tasks are queued. */
MAGPIE_API magpie_status magpie_try_submit(magpie_runtime* rt, magpie_task_fn fn, void* arg);
/* magpie_submit and magpie_try_submit with the task queued in lane `priority`. */
MAGPIE_API magpie_status magpie_submit_priority(magpie_runtime* rt, magpie_task_fn fn, void* arg,
                                                magpie_priority priority);
MAGPIE_API magpie_status magpie_try_submit_priority(magpie_runtime* rt, magpie_task_fn fn,
                                                    void* arg, magpie_priority priority);
/* Like magpie_submit_priority, but waits at most timeout_ns for room (max_pending):
 * MAGPIE_ERROR_TIMEOUT if there was none by then, and fn is not queued. Never waits on one of
 * the runtime's workers. */
MAGPIE_API magpie_status magpie_submit_for(magpie_runtime* rt, magpie_task_fn fn, void* arg,
                                           uint64_t timeout_ns, magpie_priority priority);

/* A fork-join group on `rt`; must be destroyed before `rt`. */
MAGPIE_API magpie_status magpie_group_create(magpie_runtime* rt, magpie_group** out);
/* A group whose tasks are queued in lane `priority`. */
MAGPIE_API magpie_status magpie_group_create_priority(magpie_runtime* rt, magpie_priority priority,
                                                      magpie_group** out);
MAGPIE_API magpie_status magpie_group_spawn(magpie_group* g, magpie_task_fn fn, void* arg);
/* Returns once every task spawned into g ran (or was skipped by cancel). On a worker it runs
 * other tasks meanwhile. */
MAGPIE_API magpie_status magpie_group_wait(magpie_group* g);
/* Like magpie_group_wait, but gives up after timeout_ns: MAGPIE_ERROR_TIMEOUT if some of g's
 * tasks have not finished by then (they go on; wait again later). */
MAGPIE_API magpie_status magpie_group_wait_for(magpie_group* g, uint64_t timeout_ns);
/* Tasks of g that have not started are skipped. */
MAGPIE_API magpie_status magpie_group_cancel(magpie_group* g);
/* Waits for g's tasks, then frees it. NULL is a no-op. */
MAGPIE_API magpie_status magpie_group_destroy(magpie_group* g);

/* The runtime's counters as a JSON object, in a string the caller frees with
 * magpie_string_free: {"workers":N,"ran":..,"discarded":..,"canceled":..,"exceptions":..,
 * "stats":{...}}, where "stats" is the whole snapshot as magpie::to_json writes it (per-worker
 * counters, queue depths, per-lane latency histograms). Readers must ignore unknown keys. */
MAGPIE_API magpie_status magpie_runtime_stats_json(magpie_runtime* rt, char** out);
MAGPIE_API void magpie_string_free(char* s);

#ifdef __cplusplus
}
#endif

#endif /* MAGPIE_MAGPIE_H */
