// ConnectionTable: a worker's connections by slot, and its two working lists.
//  - Slots: a connection lives in a slot until its handles are closed; each reuse of a slot
//    bumps its generation, so a ConnRef to a closed connection never finds the next one
//    (core/conn_ref.hpp). Freed slots are reused before the table grows.
//  - connected(): the kConnected connections, for broadcast fan-out (swap-remove: O(1)).
//  - The dirty list: connections with output for this iteration's drain pass, each once.
//
// A template over the connection type (Worker uses Connection; the unit test a fake): Conn
// needs ref(), and the public fields in_dirty_list and connected_index the table keeps.
//
// Threads: [owner] only (checked by assert(owner.current()), core/owner_thread.hpp).
#pragma once
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/conn_ref.hpp"
#include "core/owner_thread.hpp"

namespace bsc {

template <class Conn>
class ConnectionTable {
 public:
  ConnectionTable(uint32_t worker_id, const OwnerThread& owner)
      : worker_id_(worker_id), owner_(owner) {}

  // Stores `make(ref)` (a std::unique_ptr<Conn>) in a free slot under a new generation.
  template <class Make>
  Conn* add(Make&& make) {
    assert(owner_.current());
    uint32_t index;
    if (!free_slots_.empty()) {
      index = free_slots_.back();
      free_slots_.pop_back();
    } else {
      index = uint32_t(slots_.size());
      slots_.emplace_back();
    }
    Slot& slot = slots_[index];
    ++slot.generation;
    slot.conn = make(ConnRef{worker_id_, index, slot.generation});
    return slot.conn.get();
  }

  // The connection a ref names, or nullptr if it closed (generation mismatch).
  Conn* find(ConnRef ref) {
    assert(owner_.current());
    if (ref.worker != worker_id_ || ref.slot >= slots_.size()) return nullptr;
    Slot& s = slots_[ref.slot];
    if (s.generation != ref.generation || !s.conn) return nullptr;
    return s.conn.get();
  }

  // Destroys `c` and frees its slot; a drain pass still holding it skips it. REQUIRES: c
  // has left connected() (it leaves when it stops being kConnected).
  void release(Conn* c) {
    assert(owner_.current());
    uint32_t index = c->ref().slot;
    if (c->in_dirty_list) {
      for (auto& d : dirty_)
        if (d == c) d = nullptr;
    }
    slots_[index].conn.reset();
    free_slots_.push_back(index);
  }

  // Calls f(Conn&) for every connection in the table (shutdown, snapshot).
  template <class F>
  void for_each(F&& f) {
    assert(owner_.current());
    for (auto& slot : slots_)
      if (slot.conn) f(*slot.conn);
  }

  // ---- the dirty list ----
  // True if the list was empty before: the caller makes sure a drain pass runs soon.
  bool mark_dirty(Conn* c) {
    assert(owner_.current());
    if (c->in_dirty_list) return false;
    c->in_dirty_list = true;
    dirty_.push_back(c);
    return dirty_.size() == 1;
  }
  bool has_dirty() const { return !dirty_.empty(); }
  // The drain pass: calls flush(Conn&) once for each dirty connection. A connection marked
  // during the pass waits for the next one. True if none did (nothing left to drain).
  template <class F>
  bool drain_dirty(F&& flush) {
    assert(owner_.current());
    std::vector<Conn*> batch;
    batch.swap(dirty_);
    for (Conn* c : batch) {
      if (!c) continue;
      c->in_dirty_list = false;
      flush(*c);
    }
    batch.clear();
    if (!dirty_.empty()) return false;
    dirty_.swap(batch);  // keep the capacity
    return true;
  }

  // ---- the CONNECTED list ----
  const std::vector<Conn*>& connected() const { return connected_; }
  void add_connected(Conn* c) {
    assert(owner_.current());
    c->connected_index = connected_.size();
    connected_.push_back(c);
  }
  void remove_connected(Conn* c) {
    assert(owner_.current());
    size_t i = c->connected_index;
    if (i >= connected_.size() || connected_[i] != c) return;
    connected_[i] = connected_.back();
    connected_[i]->connected_index = i;
    connected_.pop_back();
    c->connected_index = SIZE_MAX;
  }

 private:
  struct Slot {
    std::unique_ptr<Conn> conn;
    uint32_t generation = 0;
  };

  const uint32_t worker_id_;
  const OwnerThread& owner_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<Conn*> dirty_;
  std::vector<Conn*> connected_;
};

}  // namespace bsc
