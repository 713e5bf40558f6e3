// The hub's HubFunction: BasicHubFunction over the real Worker and Connection, compiled once
// here (core/hub_function.hpp declares it extern).
#include "core/hub_function_impl.hpp"

#include "core/connection.hpp"
#include "core/worker.hpp"

namespace bsc {

template class BasicHubFunction<Worker, Connection>;

}  // namespace bsc
