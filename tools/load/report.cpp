#include "report.hpp"

#include <cstdio>
#include <string>

#include "format.hpp"

namespace bsc::load {
namespace {

const char* latency_kind(RunMode m) {
  switch (m) {
    case RunMode::kEcho:
      return "round_trip";
    case RunMode::kRate:
      return "one_way_from_intended_send";
    case RunMode::kBroadcast:
      return "fanout_send_to_each_receipt";
    case RunMode::kIdle:
      return "heartbeat_round_trip";
    case RunMode::kConnect:
      return "handshake_tcp_to_connect_accept";
  }
  return "?";
}

const char* frames_label(RunMode m) {
  switch (m) {
    case RunMode::kBroadcast:
      return "(broadcast copies delivered)";
    case RunMode::kIdle:
      return "(heartbeat round trips)";
    default:
      return "(forwarded by hub)";
  }
}

double per_s(uint64_t n, double s) { return s > 0 ? double(n) / s : 0; }

// The histogram the headline percentiles come from.
const HistogramData& headline(const Options& o, const RunResult& r) {
  return o.mode == RunMode::kConnect ? r.connect_latency : r.latency;
}

std::string percentiles(const HistogramData& h) {
  return "p50=" + fmt_ns(h.percentile_ns(50)) + " p90=" + fmt_ns(h.percentile_ns(90)) +
         " p99=" + fmt_ns(h.percentile_ns(99)) + " p99.9=" + fmt_ns(h.percentile_ns(99.9)) +
         " max=" + fmt_ns(h.total ? h.max_ns : 0);
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (uint8_t(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += c;
    }
  }
  return o;
}

std::string json_latency(const HistogramData& h) {
  char b[400];
  std::snprintf(b, sizeof b,
                "{\"count\": %llu, \"min\": %.3f, \"mean\": %.3f, \"p50\": %.3f, "
                "\"p90\": %.3f, \"p99\": %.3f, \"p999\": %.3f, \"max\": %.3f}",
                (unsigned long long)h.total, h.total ? double(h.min_ns) / 1e3 : 0.0,
                h.mean_ns() / 1e3, double(h.percentile_ns(50)) / 1e3,
                double(h.percentile_ns(90)) / 1e3, double(h.percentile_ns(99)) / 1e3,
                double(h.percentile_ns(99.9)) / 1e3, h.total ? double(h.max_ns) / 1e3 : 0.0);
  return b;
}

}  // namespace

bool run_ok(const Options& o, const RunResult& r) {
  const Counters& c = r.totals;
  if (o.failover()) {
    // Hubs going away is the test: connections lost and refused are expected. What must
    // hold: every node connected (to some hub) when sending stopped, nothing lost but what
    // was in flight when a hub went, and nothing duplicated, corrupted or misrouted.
    return r.traffic_ran && c.connect_ok == o.nodes &&
           r.on_primary_end + r.on_failover_end == o.nodes && c.lost <= c.inflight_at_loss &&
           c.dup == 0 && c.corrupt == 0 && c.reorder == 0 && c.misrouted == 0;
  }
  bool complete =
      o.mode == RunMode::kConnect ? !r.interrupted || c.connect_ok == o.nodes : r.traffic_ran;
  return complete && c.connect_ok == o.nodes && c.errors() == 0 && c.lost == 0 && c.dup == 0 &&
         c.corrupt == 0 && c.reorder == 0 && c.misrouted == 0;
}

void print_summary(const Options& o, const RunResult& r, bool ok) {
  const Counters& c = r.totals;
  const HistogramData& h = headline(o, r);
  uint64_t frames = frames_of(c, o.mode);
  if (o.mode == RunMode::kConnect) {
    std::printf(
        "mode=connect nodes=%u threads=%u handshakes=%llu handshakes/s=%.0f "
        "all_connected=%.3fs %s failed=%llu errors=%llu\n",
        o.nodes, r.threads, (unsigned long long)c.connect_ok,
        per_s(c.connect_ok, r.all_connected_s), r.all_connected_s, percentiles(h).c_str(),
        (unsigned long long)c.connect_failed(), (unsigned long long)c.errors());
  } else {
    std::printf(
        "mode=%s nodes=%u threads=%u duration=%.1fs frames=%llu msgs/s=%.0f %s %s "
        "lost=%llu dup=%llu corrupt=%llu reorder=%llu errors=%llu\n",
        mode_name(o.mode), o.nodes, r.threads, r.traffic_s, (unsigned long long)frames,
        per_s(r.frames_at_stop, r.traffic_s), frames_label(o.mode), percentiles(h).c_str(),
        (unsigned long long)c.lost, (unsigned long long)c.dup, (unsigned long long)c.corrupt,
        (unsigned long long)c.reorder, (unsigned long long)c.errors());
  }
  std::printf("  latency: %s, %llu samples, mean=%s\n", latency_kind(o.mode),
              (unsigned long long)h.total, fmt_ns(uint64_t(h.mean_ns())).c_str());
  std::printf(
      "  connect: %llu/%u connected in %.3fs, handshake %s; failed: tcp=%llu tls=%llu "
      "upgrade=%llu nak=%llu timeout=%llu closed=%llu; lost connections=%llu; "
      "resumed=%llu\n",
      (unsigned long long)c.connect_ok, o.nodes, r.all_connected_s,
      percentiles(r.connect_latency).c_str(), (unsigned long long)c.fail_tcp,
      (unsigned long long)c.fail_tls, (unsigned long long)c.fail_upgrade,
      (unsigned long long)c.fail_nak, (unsigned long long)c.fail_timeout,
      (unsigned long long)c.fail_closed, (unsigned long long)c.conn_lost,
      (unsigned long long)c.resumed);
  switch (o.mode) {
    case RunMode::kEcho:
      std::printf("  echo: pairs=%u inflight=%u/pair size=%u-%u round_trips=%llu sent=%llu\n",
                  o.nodes / 2, o.effective_inflight(), o.size_min, o.size_max,
                  (unsigned long long)(c.received / 2), (unsigned long long)c.sent);
      break;
    case RunMode::kRate:
      std::printf("  rate: target=%.0f/s achieved=%.0f/s sent=%llu skipped=%llu size=%u-%u\n",
                  o.rate, per_s(r.frames_at_stop, r.traffic_s), (unsigned long long)c.sent,
                  (unsigned long long)c.skipped, o.size_min, o.size_max);
      break;
    case RunMode::kBroadcast:
      std::printf(
          "  broadcast: senders=%u rounds=%llu complete=%llu timeouts=%llu "
          "copies=%llu copies/s=%.0f size=%u-%u\n",
          o.senders, (unsigned long long)c.bc_rounds, (unsigned long long)c.bc_complete,
          (unsigned long long)c.bc_timeouts, (unsigned long long)c.received,
          per_s(r.frames_at_stop, r.traffic_s), o.size_min, o.size_max);
      break;
    case RunMode::kIdle:
      std::printf("  idle: heartbeats sent=%llu answered=%llu interval=%.2fs\n",
                  (unsigned long long)c.hb_sent, (unsigned long long)c.hb_acked,
                  o.heartbeat_interval_s);
      break;
    case RunMode::kConnect:
      break;
  }
  std::printf(
      "  other: misrouted=%llu foreign=%llu unexpected=%llu disconnect clean=%llu "
      "forced=%llu%s%s\n",
      (unsigned long long)c.misrouted, (unsigned long long)c.foreign,
      (unsigned long long)c.unexpected, (unsigned long long)c.disc_clean,
      (unsigned long long)c.disc_forced, r.drained ? "" : " (drain timed out)",
      r.interrupted ? " (interrupted)" : "");
  if (o.failover()) {
    const HistogramData& f = r.failover_latency;
    std::printf(
        "  failover: failovers=%llu returns=%llu on_primary=%llu on_failover=%llu "
        "lost_in_flight=%llu (in flight at loss %llu) reconnects=%llu resumed=%llu full=%llu; "
        "primary lost -> on failover: all=%.3fs per node p50=%s max=%s\n",
        (unsigned long long)c.failovers, (unsigned long long)c.returns,
        (unsigned long long)r.on_primary_end, (unsigned long long)r.on_failover_end,
        (unsigned long long)c.lost, (unsigned long long)c.inflight_at_loss,
        (unsigned long long)c.reconnects, (unsigned long long)c.reconnects_resumed,
        (unsigned long long)(c.reconnects - c.reconnects_resumed), r.failover_all_s,
        fmt_ns(f.percentile_ns(50)).c_str(), fmt_ns(f.total ? f.max_ns : 0).c_str());
  }
  std::printf("result: %s\n", ok ? "OK" : "FAIL");
  std::fflush(stdout);
}

bool write_json(const Options& o, const RunResult& r, bool ok, std::string* error) {
  const Counters& c = r.totals;
  uint64_t frames = frames_of(c, o.mode);
  std::string j = "{\n";
  auto num = [&](const char* k, double v, const char* fmt = "%.0f") {
    char b[64];
    std::snprintf(b, sizeof b, fmt, v);
    j += std::string("  \"") + k + "\": " + b + ",\n";
  };
  j += "  \"tool\": \"bschub-load\",\n";
  j += std::string("  \"mode\": \"") + mode_name(o.mode) + "\",\n";
  j += "  \"uri\": \"" + json_escape(o.uri) + "\",\n";
  num("nodes", o.nodes);
  num("threads", r.threads);
  num("inflight", o.effective_inflight());
  num("size_min", o.size_min);
  num("size_max", o.size_max);
  if (o.mode == RunMode::kRate) num("rate_target", o.rate);
  if (o.mode == RunMode::kBroadcast) num("senders", o.senders);
  num("duration_s", r.traffic_s, "%.3f");
  num("frames", double(frames));
  num("msgs_per_s", per_s(r.frames_at_stop, r.traffic_s), "%.1f");
  j += std::string("  \"latency_kind\": \"") + latency_kind(o.mode) + "\",\n";
  j += "  \"latency_us\": " + json_latency(headline(o, r)) + ",\n";
  num("lost", double(c.lost));
  num("dup", double(c.dup));
  num("corrupt", double(c.corrupt));
  num("reorder", double(c.reorder));
  num("misrouted", double(c.misrouted));
  num("errors", double(c.errors()));
  j += "  \"connect\": {\"connected\": " + std::to_string(c.connect_ok) +
       ", \"failed\": " + std::to_string(c.connect_failed()) +
       ", \"all_connected_s\": " + std::to_string(r.all_connected_s) +
       ", \"handshakes_per_s\": " + std::to_string(per_s(c.connect_ok, r.all_connected_s)) +
       ", \"latency_us\": " + json_latency(r.connect_latency) + "},\n";
  j += "  \"counters\": {";
  bool first = true;
#define BSC_X(name, text)                                                           \
  j += std::string(first ? "" : ", ") + "\"" #name "\": " + std::to_string(c.name); \
  first = false;
  BSC_LOAD_COUNTERS(BSC_X)
#undef BSC_X
  j += "},\n";
  if (o.failover()) {
    const HistogramData& f = r.failover_latency;
    char b[900];
    std::snprintf(
        b, sizeof b,
        "  \"failover\": {\"failover_uri\": \"%s\", \"reconnect_interval_s\": %.3f, "
        "\"failovers\": %llu, \"returns\": %llu, \"on_primary\": %llu, \"on_failover\": %llu, "
        "\"lost_in_flight\": %llu, \"inflight_at_loss\": %llu, \"reconnects\": %llu, "
        "\"resumed\": %llu, \"full\": %llu, \"recover_all_s\": %.6f, "
        "\"recover_p50_s\": %.6f, \"recover_max_s\": %.6f, \"recover_samples\": %llu},\n",
        json_escape(o.failover_uri).c_str(), o.reconnect_interval_s,
        (unsigned long long)c.failovers, (unsigned long long)c.returns,
        (unsigned long long)r.on_primary_end, (unsigned long long)r.on_failover_end,
        (unsigned long long)c.lost, (unsigned long long)c.inflight_at_loss,
        (unsigned long long)c.reconnects, (unsigned long long)c.reconnects_resumed,
        (unsigned long long)(c.reconnects - c.reconnects_resumed), r.failover_all_s,
        double(f.percentile_ns(50)) / 1e9, f.total ? double(f.max_ns) / 1e9 : 0.0,
        (unsigned long long)f.total);
    j += b;
  }
  j += std::string("  \"drained\": ") + (r.drained ? "true" : "false") + ",\n";
  j += std::string("  \"interrupted\": ") + (r.interrupted ? "true" : "false") + ",\n";
  j += std::string("  \"ok\": ") + (ok ? "true" : "false") + "\n}\n";

  FILE* f = std::fopen(o.json_file.c_str(), "w");
  if (!f) {
    *error = "cannot write " + o.json_file;
    return false;
  }
  bool good = std::fwrite(j.data(), 1, j.size(), f) == j.size();
  good = (std::fclose(f) == 0) && good;
  if (!good) *error = "cannot write " + o.json_file;
  return good;
}

}  // namespace bsc::load
