// SPDX-License-Identifier: Apache-2.0
// The seccomp escape hatch and filter-wide settings: `syscalls:` entries,
// `default: {syscalls: ...}` and `architectures:`.
#pragma once

#include <cstdint>
#include <string>

#include "policy/policy.h"

typedef void *scmp_filter_ctx;

namespace bulwark::seccomp {

// "seccomp: <what>: <strerror>" for a libseccomp return code (-errno).
std::string scmp_error(const std::string &what, int rc);

// libseccomp action for a policy action.
uint32_t scmp_action(const policy::SyscallAction &a);

// The filter's default action: Allow unless `default: {syscalls: ...}` says
// otherwise.
uint32_t default_action(const policy::Policy &policy);

// Adds every architecture the policy opts into (the native one is always
// there). Throws std::runtime_error("seccomp: ...") on failure.
void add_architectures(scmp_filter_ctx ctx, const policy::Policy &policy);

// Adds every `syscalls:` entry, with its argument conditions, on every
// architecture in the filter. Throws std::runtime_error("seccomp: ...").
void add_syscall_entries(scmp_filter_ctx ctx, const policy::Policy &policy);

} // namespace bulwark::seccomp
