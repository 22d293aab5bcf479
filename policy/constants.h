// SPDX-License-Identifier: Apache-2.0
//
// Named flag values a policy may write instead of numbers in `syscalls:`
// argument conditions (and, for AF_*, in `families:`). Values are the
// kernel's, since seccomp compares raw syscall arguments, not libc's view.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace bulwark::policy {

struct NamedConstant {
	const char *name; // as in the kernel/libc headers: "CLONE_NEWUSER"
	uint64_t value;
};

// CLONE_*, AF_*, SOCK_*, O_*, PROT_*, MAP_*, PR_*.
const std::vector<NamedConstant> &named_constants();

// Exact, case-sensitive match on the full name ("O_CREAT").
std::optional<uint64_t> find_constant(std::string_view name);

// Highest address family number the parser accepts (AF_MCTP).
inline constexpr int kMaxAddressFamily = 45;

// An address family by its AF_* name without the prefix, any case
// ("inet6", "netlink", "decnet").
std::optional<int> find_address_family(std::string_view name);

} // namespace bulwark::policy
