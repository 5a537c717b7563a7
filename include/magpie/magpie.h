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
  MAGPIE_ERROR_MISUSE = 5,  /* e.g. waiting on a group from one of its own tasks (would hang) */
  MAGPIE_ERROR_SYSTEM = 6,  /* the OS refused (threads, CPU binding) */
  MAGPIE_ERROR_INTERNAL = 7 /* anything else; a bug: please report it */
} magpie_status;

typedef struct magpie_runtime magpie_runtime;
typedef struct magpie_group magpie_group;
/* A task: called once with the arg given at submit/spawn. */
typedef void (*magpie_task_fn)(void* arg);

/* A static, human-readable name for `status` ("unknown status" for values not listed). */
MAGPIE_API const char* magpie_strerror(magpie_status status);

/* Starts a runtime. workers: 0 = one per CPU this process may use. spin_us: how long an idle
 * worker looks for work before it sleeps (0..1000000). max_pending: bound on queued tasks from
 * outside threads, 0 = none. On success *out is the handle; on failure *out is untouched. */
MAGPIE_API magpie_status magpie_runtime_create(size_t workers, uint32_t spin_us, size_t max_pending,
                                               magpie_runtime** out);
/* Runs every accepted task, stops the workers and frees the runtime. Blocks. NULL is a no-op.
 * From one of the runtime's own tasks it returns at once and a helper thread finishes. */
MAGPIE_API magpie_status magpie_runtime_destroy(magpie_runtime* rt);
/* Stops accepting tasks, then runs (cancel = 0) or discards (cancel != 0) every queued task and
 * stops the workers; the handle stays valid (submits now fail with MAGPIE_ERROR_CLOSED) until
 * magpie_runtime_destroy. Idempotent. Blocks. MAGPIE_ERROR_MISUSE from one of its own tasks. */
MAGPIE_API magpie_status magpie_runtime_shutdown(magpie_runtime* rt, int cancel);
MAGPIE_API magpie_status magpie_runtime_worker_count(const magpie_runtime* rt, size_t* out);

/* Queues fn(arg). Blocks while max_pending tasks are queued (never on the runtime's workers). */
MAGPIE_API magpie_status magpie_submit(magpie_runtime* rt, magpie_task_fn fn, void* arg);
/* Like magpie_submit but never blocks: MAGPIE_ERROR_FULL when max_pending tasks are queued. */
MAGPIE_API magpie_status magpie_try_submit(magpie_runtime* rt, magpie_task_fn fn, void* arg);

/* A fork-join group on `rt`; must be destroyed before `rt`. */
MAGPIE_API magpie_status magpie_group_create(magpie_runtime* rt, magpie_group** out);
MAGPIE_API magpie_status magpie_group_spawn(magpie_group* g, magpie_task_fn fn, void* arg);
/* Returns once every task spawned into g ran (or was skipped by cancel). On a worker it runs
 * other tasks meanwhile. */
MAGPIE_API magpie_status magpie_group_wait(magpie_group* g);
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
