#include "format.hpp"

#include <cstdio>

namespace bsc::load {

std::string fmt_ns(uint64_t ns) {
  char buf[32];
  double us = double(ns) / 1e3;
  if (us < 10)
    std::snprintf(buf, sizeof buf, "%.1fus", us);
  else if (us < 1000)
    std::snprintf(buf, sizeof buf, "%.0fus", us);
  else if (us < 1e6)
    std::snprintf(buf, sizeof buf, "%.2fms", us / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.2fs", us / 1e6);
  return buf;
}

}  // namespace bsc::load
