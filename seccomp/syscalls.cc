// SPDX-License-Identifier: Apache-2.0
// Placeholder until the escape hatch lands: refuses any policy that uses it,
// so nothing is silently ignored.
#include "seccomp/syscalls.h"

#include <seccomp.h>

#include <stdexcept>

namespace bulwark::seccomp {

uint32_t scmp_action(const policy::SyscallAction &a)
{
	if (a.kind == policy::SyscallActionKind::Allow)
		return SCMP_ACT_ALLOW;
	throw std::runtime_error("seccomp: syscall actions other than allow are not implemented yet");
}

uint32_t default_action(const policy::Policy &policy)
{
	if (policy.defaults.syscalls_set)
		return scmp_action(policy.defaults.syscalls);
	return SCMP_ACT_ALLOW;
}

void add_architectures(scmp_filter_ctx, const policy::Policy &policy)
{
	if (policy.architectures.size() > 1)
		throw std::runtime_error("seccomp: architectures: is not implemented yet");
}

void add_syscall_entries(scmp_filter_ctx, const policy::Policy &policy)
{
	if (!policy.syscalls.empty())
		throw std::runtime_error("seccomp: syscalls: entries are not implemented yet");
}

} // namespace bulwark::seccomp
