// SPDX-License-Identifier: MIT
// The lock types the storm runs, in the order their locks are numbered.
#include "workload.hpp"

namespace rfutex::tool::torture {

std::vector<std::unique_ptr<workload>> make_workloads() {
  std::vector<std::unique_ptr<workload>> w;
  w.push_back(make_mutex_workload(2));
  w.push_back(make_pi_mutex_workload(2));
  w.push_back(make_queue_workload());
  w.push_back(make_shared_mutex_workload());
  return w;
}

}  // namespace rfutex::tool::torture
