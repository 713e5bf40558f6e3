// Worker::sweep: how an operator's action or a certificate reload reaches connected nodes
// (core/sweep.hpp). Like the snapshot, the check runs on the worker's own loop, so
// connections stay [owner]-only; the cost (one walk over the slots) is paid per action.
#include <chrono>

#include "core/connection.hpp"
#include "core/worker.hpp"
#include "util/log.hpp"

namespace bsc {

long Worker::sweep(const Sweep& sweep, int timeout_ms) {
  auto job = std::make_shared<SweepJob>();
  job->sweep = sweep;
  std::unique_lock<std::mutex> lock(sweep_mu_);
  sweep_jobs_.push_back(job);
  lock.unlock();
  uv_async_send(&sweep_async_);
  lock.lock();
  if (!sweep_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return job->done; }))
    return -1;
  return job->closed;
}

void Worker::on_sweep(uv_async_t* h) {
  auto* w = static_cast<Worker*>(h->data);
  std::vector<std::shared_ptr<SweepJob>> jobs;
  {
    std::lock_guard<std::mutex> lock(w->sweep_mu_);
    jobs.swap(w->sweep_jobs_);
  }
  for (auto& job : jobs) {
    long closed = w->stopping_ ? 0 : w->apply_sweep(job->sweep);
    std::lock_guard<std::mutex> lock(w->sweep_mu_);
    job->closed = closed;
    job->done = true;
  }
  w->sweep_cv_.notify_all();
}

long Worker::apply_sweep(const Sweep& sweep) {
  // Checked first, closed after: closing changes the table being walked.
  std::vector<std::pair<Connection*, std::string>> leaving;
  table_.for_each([&](Connection& c) {
    if (c.state() == NodeState::kClosing || c.state() == NodeState::kTls) return;
    SweepTarget t;
    t.routable = c.routable();
    if (t.routable) {
      t.vmac = &c.vmac();
      t.uuid = &c.uuid();
    }
    t.identity = c.peer_identity();
    std::string why = sweep.check(t);
    if (!why.empty()) leaving.emplace_back(&c, std::move(why));
  });
  for (auto& [c, why] : leaving) {
    LOG_WARN("node_removed", "peer=%s vmac=%s cause=%s reason=\"%s\"", c->peer().c_str(),
             c->routable() ? c->vmac().to_string().c_str() : "-",
             sweep.cause == Sweep::Cause::kAdmin    ? "admin"
             : sweep.cause == Sweep::Cause::kDenied ? "denied"
                                                    : "revoked",
             why.c_str());
    c->set_last_error(why.c_str());
    switch (sweep.cause) {
      case Sweep::Cause::kAdmin:
        bump(stats_.admin_disconnects);
        if (c->state() == NodeState::kConnected) {
          hub_.start_disconnect(*c);  // the Std's way: Disconnect-Request, then its ACK
          mark_dirty(c);
        } else {
          c->close(ws_close::kNormal, why.c_str());
        }
        break;
      case Sweep::Cause::kDenied:
        bump(stats_.denied_disconnects);
        c->close(ws_close::kPolicyViolation, why.c_str(),
                 uint16_t(bacnet::ErrorCode::kAccessDenied));
        break;
      case Sweep::Cause::kRevoked:
        bump(stats_.revoked_disconnects);
        c->close(ws_close::kPolicyViolation, why.c_str(),
                 uint16_t(bacnet::ErrorCode::kTlsClientCertificateRevoked));
        break;
    }
  }
  return long(leaving.size());
}

}  // namespace bsc
