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
  EXPECT(strcmp(magpie_strerror((magpie_status)999), "unknown status") == 0);
}

static void test_create_errors(void) {
  magpie_runtime* rt = NULL;
  EXPECT(magpie_runtime_create(2, 50, 0, NULL) == MAGPIE_ERROR_INVALID_ARGUMENT);
  /* spin above one second: the C++ config check names it; here it is a status */
  EXPECT(magpie_runtime_create(2, 2000000, 0, &rt) == MAGPIE_ERROR_INVALID_ARGUMENT);
  EXPECT(rt == NULL);
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
  EXPECT(magpie_try_submit(rt, mark, (void*)1) == MAGPIE_ERROR_CLOSED);
  EXPECT(magpie_group_spawn(grp, mark, (void*)1) == MAGPIE_ERROR_CLOSED);
  EXPECT(marks[1] == 0);
  EXPECT(magpie_runtime_stats_json(rt, &json) == MAGPIE_OK);
  EXPECT(json != NULL && strstr(json, "\"ran\":2,") != NULL);
  magpie_string_free(json);
  EXPECT(magpie_group_destroy(grp) == MAGPIE_OK);
  EXPECT(magpie_runtime_destroy(rt) == MAGPIE_OK);
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
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return EXIT_FAILURE;
  }
  printf("c_api: all checks passed\n");
  return EXIT_SUCCESS;
}
