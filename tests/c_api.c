/* The C API, compiled as C99: every function, its errors, and tasks that really run. Exits
 * non-zero (and says which check) on the first failure. */
#include "magpie/magpie.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* The text of the last failure on this thread names the call and what was wrong. */
static int last_error_has(const char* part) {
  if (strstr(magpie_last_error(), part) != NULL) return 1;
  fprintf(stderr, "magpie_last_error() is \"%s\", expected it to contain \"%s\"\n",
          magpie_last_error(), part);
  return 0;
}

/* Holds a worker inside a task until opened, so a test can fill the queue behind it. */
typedef struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int entered;
  int open;
} gate;

static void gate_init(gate* g) {
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->cv, NULL);
  g->entered = 0;
  g->open = 0;
}

static void gate_pass(void* arg) {
  gate* g = (gate*)arg;
  pthread_mutex_lock(&g->mu);
  g->entered = 1;
  pthread_cond_broadcast(&g->cv);
  while (!g->open)
    pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

static void gate_wait_entered(gate* g) {
  pthread_mutex_lock(&g->mu);
  while (!g->entered)
    pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

static void gate_release(gate* g) {
  pthread_mutex_lock(&g->mu);
  g->open = 1;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

static void gate_destroy(gate* g) {
  pthread_cond_destroy(&g->cv);
  pthread_mutex_destroy(&g->mu);
}

/* Each task marks its own slot: no two tasks write the same byte, and wait/destroy order the
 * writes before the checks. */
#define TASKS 1000
static unsigned char marks[TASKS];

static void mark(void* arg) {
  ++marks[(size_t)arg];
}

static int all_marked_once(void) {
  size_t i;
  for (i = 0; i < TASKS; ++i) {
    if (marks[i] != 1) return 0;
  }
  return 1;
}

static void test_strerror(void) {
  EXPECT(strcmp(magpie_strerror(MAGPIE_OK), "success") == 0);
  EXPECT(strstr(magpie_strerror(MAGPIE_ERROR_INVALID_ARGUMENT), "invalid argument") != NULL);
  EXPECT(strstr(magpie_strerror(MAGPIE_ERROR_CLOSED), "shut down") != NULL);
  EXPECT(strstr(magpie_strerror(MAGPIE_ERROR_FULL), "full") != NULL);
  EXPECT(strstr(magpie_strerror(MAGPIE_ERROR_NO_MEMORY), "memory") != NULL);
  EXPECT(strstr(magpie_strerror(MAGPIE_ERROR_MISUSE), "misuse") != NULL);
  EXPECT(strstr(magpie_strerror(MAGPIE_ERROR_SYSTEM), "operating system") != NULL);
  EXPECT(strstr(magpie_strerror(MAGPIE_ERROR_INTERNAL), "internal") != NULL);
  EXPECT(strstr(magpie_strerror(MAGPIE_ERROR_TIMEOUT), "timed out") != NULL);
  EXPECT(strcmp(magpie_strerror((magpie_status)999), "unknown status") == 0);
}

static void test_create_errors(void) {
  magpie_runtime* rt = NULL;
  EXPECT(magpie_runtime_create(2, 50, 0, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(strcmp(magpie_last_error(), "magpie_runtime_create: out is NULL") == 0);
  /* spin above one second: the C++ config check names it; here it is a status */
  EXPECT(magpie_runtime_create(2, 2000000, 0, &rt) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(rt == NULL);
  EXPECT(strstr(magpie_last_error(), "magpie_runtime_create: config.spin") != NULL);
  EXPECT(magpie_runtime_create(5000, 50, 0, &rt) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(rt == NULL);
  EXPECT(magpie_runtime_destroy(NULL) == MAGPIE_OK);
}

static void test_submit_and_destroy_drains(void) {
  magpie_runtime* rt = NULL;
  size_t n = 0;
  size_t i;
  memset(marks, 0, sizeof marks);
  EXPECT(magpie_runtime_create(2, 50, 0, &rt) == MAGPIE_OK);
  EXPECT(magpie_runtime_worker_count(rt, &n) == MAGPIE_OK && n == 2);
  EXPECT(magpie_runtime_worker_count(NULL, &n) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_runtime_worker_count(rt, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_submit(rt, NULL, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_submit(NULL, mark, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_try_submit(rt, NULL, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_try_submit(NULL, mark, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  for (i = 0; i < TASKS; ++i) {
    if (i % 2 == 0) {
      EXPECT(magpie_submit(rt, mark, (void*)i) == MAGPIE_OK);
    } else {
      EXPECT(magpie_try_submit(rt, mark, (void*)i) == MAGPIE_OK);
    }
  }
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK); /* drains: every task ran */
  EXPECT(all_marked_once());
}

static void test_try_submit_full(void) {
  magpie_runtime* rt = NULL;
  gate g;
  gate_init(&g);
  EXPECT(magpie_runtime_create(1, 0, 1, &rt) == MAGPIE_OK);
  EXPECT(magpie_submit(rt, gate_pass, &g) == MAGPIE_OK);
  gate_wait_entered(&g); /* the only worker is held; the queue holds at most one task */
  EXPECT(magpie_try_submit(rt, mark, (void*)0) == MAGPIE_OK);
  EXPECT(magpie_try_submit(rt, mark, (void*)1) == MAGPIE_ERROR_FULL);
  EXPECT(last_error_has("magpie_try_submit: max_pending tasks are queued"));
  gate_release(&g);
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
  gate_destroy(&g);
}

static void test_groups(void) {
  magpie_runtime* rt = NULL;
  magpie_group* grp = NULL;
  size_t i;
  memset(marks, 0, sizeof marks);
  EXPECT(magpie_runtime_create(3, 50, 0, &rt) == MAGPIE_OK);
  EXPECT(magpie_group_create(NULL, &grp) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_group_create(rt, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_group_create(rt, &grp) == MAGPIE_OK);
  EXPECT(magpie_group_spawn(grp, NULL, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_group_spawn(NULL, mark, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_group_wait(NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_group_cancel(NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  for (i = 0; i < TASKS; ++i)
    EXPECT(magpie_group_spawn(grp, mark, (void*)i) == MAGPIE_OK);
  EXPECT(magpie_group_wait(grp) == MAGPIE_OK);
  EXPECT(all_marked_once());
  EXPECT(magpie_group_destroy(grp) == MAGPIE_OK);
  EXPECT(magpie_group_destroy(NULL) == MAGPIE_OK);
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
}

static void test_group_cancel(void) {
  magpie_runtime* rt = NULL;
  magpie_group* grp = NULL;
  gate g;
  size_t i;
  char* json = NULL;
  gate_init(&g);
  memset(marks, 0, sizeof marks);
  EXPECT(magpie_runtime_create(1, 50, 0, &rt) == MAGPIE_OK);
  EXPECT(magpie_group_create(rt, &grp) == MAGPIE_OK);
  EXPECT(magpie_group_spawn(grp, gate_pass, &g) == MAGPIE_OK);
  gate_wait_entered(&g);
  for (i = 0; i < 10; ++i)
    EXPECT(magpie_group_spawn(grp, mark, (void*)i) == MAGPIE_OK);
  EXPECT(magpie_group_cancel(grp) == MAGPIE_OK);
  gate_release(&g);
  EXPECT(magpie_group_wait(grp) == MAGPIE_OK);
  for (i = 0; i < 10; ++i)
    EXPECT(marks[i] == 0);
  EXPECT(magpie_group_destroy(grp) == MAGPIE_OK);
  EXPECT(magpie_runtime_stats_json(rt, &json) == MAGPIE_OK);
  {
    const char* totals =
        "{\"workers\":1,\"ran\":1,\"discarded\":0,\"canceled\":10,\"exceptions\":0,\"stats\":{";
    EXPECT(json != NULL && strncmp(json, totals, strlen(totals)) == 0);
    EXPECT(json != NULL && strstr(json, "\"latency\"") != NULL);
    EXPECT(json != NULL && strstr(json, "\"semaphore_waiting\":0,\"strand_queued\":0,") != NULL);
  }
  magpie_string_free(json);
  magpie_string_free(NULL);
  EXPECT(magpie_runtime_stats_json(NULL, &json) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_runtime_stats_json(rt, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
  gate_destroy(&g);
}

/* A task that waits on its own group: an error status, not a hang. */
typedef struct self_wait {
  magpie_group* grp;
  magpie_status status;
} self_wait;

static void wait_on_own_group(void* arg) {
  self_wait* s = (self_wait*)arg;
  s->status = magpie_group_wait(s->grp);
}

static void test_misuse(void) {
  magpie_runtime* rt = NULL;
  self_wait s;
  EXPECT(magpie_runtime_create(2, 50, 0, &rt) == MAGPIE_OK);
  EXPECT(magpie_group_create(rt, &s.grp) == MAGPIE_OK);
  s.status = MAGPIE_OK;
  EXPECT(magpie_group_spawn(s.grp, wait_on_own_group, &s) == MAGPIE_OK);
  EXPECT(magpie_group_wait(s.grp) == MAGPIE_OK);
  EXPECT(s.status == MAGPIE_ERROR_MISUSE);
  EXPECT(magpie_group_destroy(s.grp) == MAGPIE_OK);
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
}

typedef struct self_shutdown {
  magpie_runtime* rt;
  magpie_status status;
} self_shutdown;

static void shut_down_own_runtime(void* arg) {
  self_shutdown* s = (self_shutdown*)arg;
  s->status = magpie_runtime_shutdown(s->rt, 0);
}

static void test_shutdown_and_closed(void) {
  magpie_runtime* rt = NULL;
  magpie_group* grp = NULL;
  self_shutdown s;
  char* json = NULL;
  memset(marks, 0, sizeof marks);
  EXPECT(magpie_runtime_shutdown(NULL, 0) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_runtime_create(1, 50, 0, &rt) == MAGPIE_OK);
  EXPECT(magpie_group_create(rt, &grp) == MAGPIE_OK);
  /* from one of its own tasks: a worker cannot join itself */
  s.rt = rt;
  s.status = MAGPIE_OK;
  EXPECT(magpie_group_spawn(grp, shut_down_own_runtime, &s) == MAGPIE_OK);
  EXPECT(magpie_group_wait(grp) == MAGPIE_OK);
  EXPECT(s.status == MAGPIE_ERROR_MISUSE);
  EXPECT(magpie_submit(rt, mark, (void*)0) == MAGPIE_OK);
  EXPECT(magpie_runtime_shutdown(rt, 0) == MAGPIE_OK); /* drains */
  EXPECT(marks[0] == 1);
  EXPECT(magpie_runtime_shutdown(rt, 1) == MAGPIE_OK); /* idempotent */
  EXPECT(magpie_submit(rt, mark, (void*)1) == MAGPIE_ERROR_CLOSED);
  EXPECT(last_error_has("magpie_submit: magpie::runtime::submit: runtime is shut down"));
  EXPECT(magpie_try_submit(rt, mark, (void*)1) == MAGPIE_ERROR_CLOSED);
  EXPECT(magpie_group_spawn(grp, mark, (void*)1) == MAGPIE_ERROR_CLOSED);
  EXPECT(marks[1] == 0);
  EXPECT(magpie_runtime_stats_json(rt, &json) == MAGPIE_OK);
  EXPECT(json != NULL && strstr(json, "\"ran\":2,") != NULL);
  magpie_string_free(json);
  EXPECT(magpie_group_destroy(grp) == MAGPIE_OK);
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
}

/* How many times `part` occurs in `s`. */
static size_t occurrences(const char* s, const char* part) {
  size_t n = 0;
  while ((s = strstr(s, part)) != NULL) {
    ++n;
    s += strlen(part);
  }
  return n;
}

static void test_config(void) {
  magpie_config c;
  magpie_runtime* rt = NULL;
  size_t n = 0;
  magpie_config_init(NULL); /* no-op */
  magpie_config_init(&c);
  EXPECT(c.struct_size == sizeof(magpie_config));
  EXPECT(c.workers == 0 && c.max_workers == 0 && c.spin_us == 50 && c.max_pending == 0);
  EXPECT(c.pin == MAGPIE_PIN_COMPACT && c.cpus == NULL && c.cpu_count == 0);
  EXPECT(c.latency_workers == 0 && c.starvation_limit == 32);

  EXPECT(magpie_runtime_create_with(NULL, &rt) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(last_error_has("magpie_runtime_create_with: config is NULL"));
  EXPECT(magpie_runtime_create_with(&c, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  c.struct_size = 0;
  EXPECT(magpie_runtime_create_with(&c, &rt) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(last_error_has("config.struct_size"));
  magpie_config_init(&c);
  c.pin = (magpie_pinning)7;
  EXPECT(magpie_runtime_create_with(&c, &rt) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(last_error_has("config.pin"));
  magpie_config_init(&c);
  c.cpu_count = 1;
  EXPECT(magpie_runtime_create_with(&c, &rt) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(last_error_has("config.cpus is NULL"));
  /* values the C++ side checks: the message names the field */
  magpie_config_init(&c);
  c.workers = 2;
  c.max_workers = 1;
  EXPECT(magpie_runtime_create_with(&c, &rt) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(last_error_has("config.max_workers: 1 is below the worker count 2"));
  c.max_workers = 0;
  c.starvation_limit = 1;
  EXPECT(magpie_runtime_create_with(&c, &rt) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(last_error_has("config.starvation_limit"));
  c.starvation_limit = 32;
  c.latency_workers = 3;
  EXPECT(magpie_runtime_create_with(&c, &rt) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(last_error_has("config.latency_workers"));
  c.latency_workers = 0;
  {
    const unsigned no_such_cpu[1] = {1000000u};
    c.cpus = no_such_cpu;
    c.cpu_count = 1;
    EXPECT(magpie_runtime_create_with(&c, &rt) == MAGPIE_ERROR_INVALID_ARGUMENT);
    EXPECT(last_error_has("config.cpus: CPU 1000000"));
  }
  EXPECT(rt == NULL);
  /* a good config: every field reaches the runtime */
  magpie_config_init(&c);
  c.workers = 2;
  c.max_pending = 1;
  EXPECT(magpie_runtime_create_with(&c, &rt) == MAGPIE_OK);
  EXPECT(magpie_runtime_worker_count(rt, &n) == MAGPIE_OK && n == 2);
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
}

/* Pinning: explicit CPUs and none, as the stats' per-worker "cpu" fields show. */
static void test_pinning(void) {
  magpie_config c;
  magpie_runtime* rt = NULL;
  char* json = NULL;
  const unsigned cpu0[1] = {0u};
  magpie_config_init(&c);
  c.workers = 2;
  c.pin = MAGPIE_PIN_NONE;
  EXPECT(magpie_runtime_create_with(&c, &rt) == MAGPIE_OK);
  EXPECT(magpie_runtime_stats_json(rt, &json) == MAGPIE_OK);
  EXPECT(json != NULL && occurrences(json, "\"cpu\":-1,") == 2);
  magpie_string_free(json);
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
  c.cpus = cpu0; /* overrides pin */
  c.cpu_count = 1;
  EXPECT(magpie_runtime_create_with(&c, &rt) == MAGPIE_OK);
  EXPECT(magpie_runtime_stats_json(rt, &json) == MAGPIE_OK);
  EXPECT(json != NULL && occurrences(json, "\"cpu\":0,") == 2);
  magpie_string_free(json);
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
  c.cpus = NULL;
  c.cpu_count = 0;
  c.pin = MAGPIE_PIN_SCATTER;
  EXPECT(magpie_runtime_create_with(&c, &rt) == MAGPIE_OK);
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
}

/* Each task appends its number; one worker runs them, and destroy orders the writes before
 * the checks. */
static int order[9];
static size_t order_len = 0;

static void record_order(void* arg) {
  order[order_len++] = (int)(size_t)arg;
}

static void test_priority(void) {
  magpie_config c;
  magpie_runtime* rt = NULL;
  magpie_group* urgent = NULL;
  gate g;
  size_t i;
  static const int expected[9] = {0, 1, 2, 10, 11, 12, 20, 21, 22};
  gate_init(&g);
  magpie_config_init(&c);
  c.workers = 1;
  c.starvation_limit = (size_t)1 << 20; /* no fair turn within these few dispatches */
  EXPECT(magpie_runtime_create_with(&c, &rt) == MAGPIE_OK);
  EXPECT(magpie_submit(rt, gate_pass, &g) == MAGPIE_OK);
  gate_wait_entered(&g); /* the only worker is busy: everything below queues up */
  EXPECT(magpie_submit_priority(rt, record_order, NULL, (magpie_priority)9) ==
         MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(last_error_has("magpie_submit_priority: priority is not"));
  EXPECT(magpie_try_submit_priority(rt, record_order, NULL, (magpie_priority)9) ==
         MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_group_create_priority(rt, (magpie_priority)9, &urgent) ==
         MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_group_create_priority(rt, MAGPIE_PRIORITY_HIGH, &urgent) == MAGPIE_OK);
  for (i = 0; i < 3; ++i) {
    EXPECT(magpie_submit_priority(rt, record_order, (void*)(20 + i), MAGPIE_PRIORITY_LOW) ==
           MAGPIE_OK);
    EXPECT(magpie_try_submit_priority(rt, record_order, (void*)(10 + i), MAGPIE_PRIORITY_NORMAL) ==
           MAGPIE_OK);
    if (i < 2) {
      EXPECT(magpie_submit_for(rt, record_order, (void*)i, 1000000000u, MAGPIE_PRIORITY_HIGH) ==
             MAGPIE_OK);
    } else {
      EXPECT(magpie_group_spawn(urgent, record_order, (void*)i) == MAGPIE_OK);
    }
  }
  gate_release(&g);
  EXPECT(magpie_group_wait(urgent) == MAGPIE_OK);
  EXPECT(magpie_group_destroy(urgent) == MAGPIE_OK);
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
  EXPECT(order_len == 9 && memcmp(order, expected, sizeof expected) == 0);
  gate_destroy(&g);
}

/* submit_for and group_wait_for give up at their deadline, and succeed once there is room. */
static void test_deadlines(void) {
  magpie_runtime* rt = NULL;
  magpie_group* grp = NULL;
  gate g;
  gate_init(&g);
  memset(marks, 0, sizeof marks);
  EXPECT(magpie_runtime_create(1, 0, 1, &rt) == MAGPIE_OK);
  EXPECT(magpie_group_create(rt, &grp) == MAGPIE_OK);
  EXPECT(magpie_group_spawn(grp, gate_pass, &g) == MAGPIE_OK);
  gate_wait_entered(&g); /* the only worker is held; the queue holds at most one task */
  EXPECT(magpie_submit_for(NULL, mark, NULL, 0, MAGPIE_PRIORITY_NORMAL) ==
         MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_submit_for(rt, NULL, NULL, 0, MAGPIE_PRIORITY_NORMAL) ==
         MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_submit_for(rt, mark, (void*)0, 0, MAGPIE_PRIORITY_NORMAL) == MAGPIE_OK);
  EXPECT(magpie_submit_for(rt, mark, (void*)1, 1000000u, MAGPIE_PRIORITY_NORMAL) ==
         MAGPIE_ERROR_TIMEOUT);
  EXPECT(last_error_has("magpie_submit_for: no room"));
  EXPECT(magpie_group_wait_for(NULL, 0) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_group_wait_for(grp, 1000000u) == MAGPIE_ERROR_TIMEOUT);
  EXPECT(last_error_has("magpie_group_wait_for"));
  gate_release(&g);
  EXPECT(magpie_group_wait_for(grp, UINT64_MAX) == MAGPIE_OK); /* "forever" saturates */
  /* room again once the worker runs the queued task: waits for it, however long */
  EXPECT(magpie_submit_for(rt, mark, (void*)2, UINT64_MAX, MAGPIE_PRIORITY_LOW) == MAGPIE_OK);
  EXPECT(magpie_runtime_wait_idle(rt) == MAGPIE_OK);
  EXPECT(marks[0] == 1 && marks[1] == 0 && marks[2] == 1);
  EXPECT(magpie_group_destroy(grp) == MAGPIE_OK);
  EXPECT(magpie_runtime_shutdown(rt, 0) == MAGPIE_OK);
  EXPECT(magpie_submit_for(rt, mark, (void*)3, 0, MAGPIE_PRIORITY_NORMAL) == MAGPIE_ERROR_CLOSED);
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
  gate_destroy(&g);
}

/* Active workers, beyond the starting count up to max_workers. */
static void test_active_workers(void) {
  magpie_config c;
  magpie_runtime* rt = NULL;
  size_t n = 0;
  size_t i;
  memset(marks, 0, sizeof marks);
  magpie_config_init(&c);
  c.workers = 1;
  c.max_workers = 3;
  c.pin = MAGPIE_PIN_NONE;
  EXPECT(magpie_runtime_create_with(&c, &rt) == MAGPIE_OK);
  EXPECT(magpie_runtime_worker_count(rt, &n) == MAGPIE_OK && n == 3);
  EXPECT(magpie_runtime_active_workers(rt, &n) == MAGPIE_OK && n == 1);
  EXPECT(magpie_runtime_active_workers(NULL, &n) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_runtime_active_workers(rt, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_runtime_set_active_workers(NULL, 1) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_runtime_set_active_workers(rt, 0) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(last_error_has("magpie::runtime::set_active_workers: 0 is outside [1, 3]"));
  EXPECT(magpie_runtime_set_active_workers(rt, 4) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_runtime_set_active_workers(rt, 3) == MAGPIE_OK);
  EXPECT(magpie_runtime_active_workers(rt, &n) == MAGPIE_OK && n == 3);
  EXPECT(magpie_runtime_set_spin(NULL, 0) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_runtime_set_spin(rt, 2000000) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(last_error_has("set_spin"));
  EXPECT(magpie_runtime_set_spin(rt, 0) == MAGPIE_OK);
  for (i = 0; i < TASKS; ++i)
    EXPECT(magpie_submit(rt, mark, (void*)i) == MAGPIE_OK);
  EXPECT(magpie_runtime_set_active_workers(rt, 2) == MAGPIE_OK);
  EXPECT(magpie_runtime_wait_idle(rt) == MAGPIE_OK);
  EXPECT(all_marked_once());
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
}

/* pending, running and closed: cheap reads of the runtime's state. */
static void test_counters(void) {
  magpie_runtime* rt = NULL;
  gate g;
  size_t n = 99;
  int closed = -1;
  size_t i;
  gate_init(&g);
  memset(marks, 0, sizeof marks);
  EXPECT(magpie_runtime_create(1, 50, 0, &rt) == MAGPIE_OK);
  EXPECT(magpie_runtime_pending(rt, &n) == MAGPIE_OK && n == 0);
  EXPECT(magpie_runtime_running(rt, &n) == MAGPIE_OK && n == 0);
  EXPECT(magpie_runtime_pending(NULL, &n) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_runtime_running(rt, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(last_error_has("magpie_runtime_running: out is NULL"));
  EXPECT(magpie_runtime_closed(rt, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_submit(rt, gate_pass, &g) == MAGPIE_OK);
  gate_wait_entered(&g); /* the only worker is inside the task: what follows stays queued */
  for (i = 0; i < 5; ++i)
    EXPECT(magpie_submit(rt, mark, (void*)i) == MAGPIE_OK);
  EXPECT(magpie_runtime_running(rt, &n) == MAGPIE_OK && n == 1);
  EXPECT(magpie_runtime_pending(rt, &n) == MAGPIE_OK && n == 5);
  gate_release(&g);
  EXPECT(magpie_runtime_wait_idle(NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(magpie_runtime_wait_idle(rt) == MAGPIE_OK);
  for (i = 0; i < 5; ++i)
    EXPECT(marks[i] == 1);
  EXPECT(magpie_runtime_pending(rt, &n) == MAGPIE_OK && n == 0);
  EXPECT(magpie_runtime_running(rt, &n) == MAGPIE_OK && n == 0);
  EXPECT(magpie_runtime_closed(rt, &closed) == MAGPIE_OK && closed == 0);
  EXPECT(magpie_runtime_shutdown(rt, 0) == MAGPIE_OK);
  EXPECT(magpie_runtime_closed(rt, &closed) == MAGPIE_OK && closed == 1);
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
  gate_destroy(&g);
}

/* wait_idle from one of the runtime's own tasks would wait for itself: an error. */
static magpie_runtime* idle_rt = NULL;
static magpie_status idle_status = MAGPIE_OK;

static void wait_idle_inside(void* arg) {
  (void)arg;
  idle_status = magpie_runtime_wait_idle(idle_rt);
}

static void test_wait_idle_misuse(void) {
  EXPECT(magpie_runtime_create(1, 50, 0, &idle_rt) == MAGPIE_OK);
  EXPECT(magpie_submit(idle_rt, wait_idle_inside, NULL) == MAGPIE_OK);
  EXPECT(magpie_runtime_wait_idle(idle_rt) == MAGPIE_OK);
  EXPECT(idle_status == MAGPIE_ERROR_MISUSE);
  EXPECT(magpie_runtime_destroy(idle_rt) == MAGPIE_OK);
}

int main(void) {
  test_strerror();
  test_create_errors();
  test_submit_and_destroy_drains();
  test_try_submit_full();
  test_groups();
  test_group_cancel();
  test_misuse();
  test_shutdown_and_closed();
  test_config();
  test_pinning();
  test_priority();
  test_deadlines();
  test_active_workers();
  test_counters();
  test_wait_idle_misuse();
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return EXIT_FAILURE;
  }
  printf("c_api: all checks passed\n");
  return EXIT_SUCCESS;
}
