/* The C API from a C99 program, built by a C toolchain only (pkg-config, or a C-only CMake
 * project): 1000 tasks through a group, the count checked. */
#include <magpie/magpie.h>

#include <stdio.h>

static void add_one(void* arg) {
  /* Tasks of one group run concurrently: count with a GCC/Clang atomic builtin. */
  __atomic_fetch_add((int*)arg, 1, __ATOMIC_RELAXED);
}

int main(void) {
  magpie_runtime* rt = NULL;
  magpie_group* g = NULL;
  int n = 0;
  int i;
  if (magpie_runtime_create(2, 50, 0, &rt) != MAGPIE_OK) return 1;
  if (magpie_group_create(rt, &g) != MAGPIE_OK) return 1;
  for (i = 0; i < 1000; ++i)
    if (magpie_group_spawn(g, add_one, &n) != MAGPIE_OK) return 1;
  if (magpie_group_wait(g) != MAGPIE_OK) return 1;
  magpie_group_destroy(g);
  magpie_runtime_destroy(rt);
  printf("C consumer ran %d tasks\n", n);
  return n == 1000 ? 0 : 1;
}
