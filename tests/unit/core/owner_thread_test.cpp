// OwnerThread: the [owner] check of a worker's parts.
#include <doctest/doctest.h>

#include <thread>

#include "core/owner_thread.hpp"

using namespace bsc;

TEST_CASE("OwnerThread: only the bound thread is the owner; before binding, any is") {
  OwnerThread owner;
  bool other = false;
  std::thread([&] { other = owner.current(); }).join();
  CHECK(other);  // [startup]: no loop thread yet
  owner.bind();
  CHECK(owner.current());
  std::thread([&] { other = owner.current(); }).join();
  CHECK_FALSE(other);
  std::thread([&] {
    owner.bind();  // the loop is handed over (Worker::run, the destructor)
    other = owner.current();
  }).join();
  CHECK(other);
  CHECK_FALSE(owner.current());
}
