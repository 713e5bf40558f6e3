// Levelled logging: one logfmt line per event on stderr, each carrying the worker id.
// Threads: any thread may log; each line is written with one write() so lines never mix.
#pragma once
#include <atomic>
#include <cstdarg>

namespace bsc::log {

enum class Level : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

extern std::atomic<int> g_level;
// Set by each worker thread at start so every line names the worker (-1: main thread).
void set_thread_worker(int worker_id);
bool parse_level(const char* text, Level* out);

// Writes `ts=.. level=.. worker=.. event=<event> <printf-formatted fields>`.
void write(Level level, const char* event, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace bsc::log

// The level is checked before the arguments are evaluated (Redis serverLog habit).
#define BSC_LOG(level, event, ...)                                                   \
  do {                                                                               \
    if (static_cast<int>(level) >= ::bsc::log::g_level.load(std::memory_order_relaxed)) \
      ::bsc::log::write(level, event, __VA_ARGS__);                                  \
  } while (0)
#define LOG_DEBUG(event, ...) BSC_LOG(::bsc::log::Level::kDebug, event, __VA_ARGS__)
#define LOG_INFO(event, ...) BSC_LOG(::bsc::log::Level::kInfo, event, __VA_ARGS__)
#define LOG_WARN(event, ...) BSC_LOG(::bsc::log::Level::kWarn, event, __VA_ARGS__)
#define LOG_ERROR(event, ...) BSC_LOG(::bsc::log::Level::kError, event, __VA_ARGS__)
