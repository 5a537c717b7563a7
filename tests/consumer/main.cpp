#include <magpie/magpie.hpp>

#include <atomic>
#include <cstdio>

int main() {
  magpie::config cfg;
  cfg.workers = 2;
  magpie::runtime rt(cfg);
  std::atomic<int> n{0};
  magpie::task_group g(rt);
  for (int i = 0; i < 1000; ++i)
    g.spawn([&n] { n.fetch_add(1); });
  g.wait();
  std::printf("consumer ran %d tasks\n", n.load());
  return n.load() == 1000 ? 0 : 1;
}
