// SPDX-License-Identifier: Apache-2.0
// What learn mode records of a call's arguments, shared by the recorder and
// the writer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bulwark::learn {

// CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET:
// the clone flags that make namespaces; the rest are how threads are made.
inline constexpr uint64_t kNamespaceFlags = 0x7e020000ull;
inline constexpr uint64_t kCloneNewUser = 0x10000000ull;

struct Watch {
	const char *syscall;
	unsigned index;
	uint64_t mask; // what of the argument is recorded and checked
};

const std::vector<Watch> &watched_args();

// "inet6" for AF_INET6; "" for a number no AF_ name has.
std::string family_name(int family);

// At most this many distinct values of a watched argument become argument
// checks; more, and the call is allowed whatever the argument.
inline constexpr size_t kMaxArgValues = 8;

} // namespace bulwark::learn
