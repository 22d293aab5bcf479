// SPDX-License-Identifier: Apache-2.0
// What the ECS sink's files share.
#pragma once

#include <time.h>

#include <cstdint>
#include <string>

#include "policy/policy.h"

namespace bulwark {

inline uint64_t clock_ns(clockid_t clk)
{
	timespec ts{};
	clock_gettime(clk, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// rule.description of policy rule (or hook entry, or built-in rule) idx:
// what it denies, in a few words.
std::string describe(const policy::Policy &pol, size_t idx);

} // namespace bulwark
