// The final summary: human-readable lines on stdout, the same data as one JSON object in
// --json FILE, and the verdict that gives the exit code. Threads: main thread, after run().
#pragma once
#include <string>

#include "options.hpp"
#include "runner.hpp"

namespace bsc::load {

// True if the run completed with no lost/duplicate/corrupt/reordered/misrouted message
// and no connection error.
bool run_ok(const Options& opt, const RunResult& r);

void print_summary(const Options& opt, const RunResult& r, bool ok);

// False (and *error set) if the file cannot be written.
bool write_json(const Options& opt, const RunResult& r, bool ok, std::string* error);

}  // namespace bsc::load
