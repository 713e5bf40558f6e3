// FUZZ_CHECK(cond): a property every input must keep. It traps (not assert: the fuzz build
// may define NDEBUG), so libFuzzer reports the input as a crash and saves it.
#pragma once

#define FUZZ_CHECK(cond)           \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)
