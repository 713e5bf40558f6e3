#include "util/log.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>

namespace bsc::log {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
static thread_local int t_worker = -1;

void set_thread_worker(int worker_id) { t_worker = worker_id; }

bool parse_level(const char* text, Level* out) {
  static const struct { const char* name; Level level; } kLevels[] = {
      {"debug", Level::kDebug}, {"info", Level::kInfo}, {"warn", Level::kWarn},
      {"error", Level::kError}, {"off", Level::kOff}};
  for (const auto& l : kLevels) {
    if (std::strcmp(text, l.name) == 0) {
      *out = l.level;
      return true;
    }
  }
  return false;
}

void write(Level level, const char* event, const char* fmt, ...) {
  static const char* kNames[] = {"debug", "info", "warn", "error", "off"};
  char line[1024];
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc;
  gmtime_r(&ts.tv_sec, &utc);
  int n = std::snprintf(line, sizeof line,
                        "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s worker=%d event=%s ",
                        utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                        utc.tm_min, utc.tm_sec, ts.tv_nsec / 1000000,
                        kNames[static_cast<int>(level)], t_worker, event);
  va_list ap;
  va_start(ap, fmt);
  int m = std::vsnprintf(line + n, sizeof line - size_t(n) - 1, fmt, ap);
  va_end(ap);
  size_t len = size_t(n) + (m < 0 ? 0 : std::min(size_t(m), sizeof line - size_t(n) - 2));
  line[len++] = '\n';
  ssize_t ignored = ::write(2, line, len);
  (void)ignored;
}

}  // namespace bsc::log
