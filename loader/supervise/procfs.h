// SPDX-License-Identifier: Apache-2.0
// What /proc says about processes, for the loader's bookkeeping.
#pragma once

#include <sys/types.h>

#include <set>
#include <vector>

namespace bulwark {

// The pids whose parent is in `parents`, from /proc/*/stat.
std::vector<pid_t> children_of(const std::set<pid_t> &parents);

} // namespace bulwark
