#include <cstdio>

#include "sum_lib.hpp"

int main() {
  magpie::config cfg;
  cfg.workers = 2;
  magpie::runtime rt(cfg);
  const long s = sum_to(rt, 1000);
  std::printf("sum_to(1000) = %ld\n", s);
  return s == 500500 ? 0 : 1;
}
