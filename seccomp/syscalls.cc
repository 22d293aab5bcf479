// SPDX-License-Identifier: Apache-2.0
#include "seccomp/syscalls.h"

#include <seccomp.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace bulwark::seccomp {

std::string scmp_error(const std::string &what, int rc)
{
	return "seccomp: " + what + ": " + std::strerror(-rc);
}

namespace {

struct ArchName {
	const char *name;
	uint32_t token;
};

// Only the ABIs an x86_64 kernel can run; anything else would be dead weight
// in the filter (its AUDIT_ARCH never reaches it).
constexpr ArchName kArches[] = {
	{"x86_64", SCMP_ARCH_X86_64},
	{"x86", SCMP_ARCH_X86},
	{"x32", SCMP_ARCH_X32},
};

int cmp_op(policy::ArgOp op)
{
	switch (op) {
	case policy::ArgOp::Eq:
		return SCMP_CMP_EQ;
	case policy::ArgOp::Ne:
		return SCMP_CMP_NE;
	case policy::ArgOp::Lt:
		return SCMP_CMP_LT;
	case policy::ArgOp::Le:
		return SCMP_CMP_LE;
	case policy::ArgOp::Gt:
		return SCMP_CMP_GT;
	case policy::ArgOp::Ge:
		return SCMP_CMP_GE;
	case policy::ArgOp::MaskedEq:
		return SCMP_CMP_MASKED_EQ;
	}
	throw std::runtime_error("seccomp: unknown argument operator");
}

// The actions an entry may resolve to, with audit mode folded in: an audited
// entry that would stop the call only logs it.
uint32_t entry_action(const policy::SyscallEntry &e)
{
	if (e.mode == policy::Mode::Audit && e.action.kind != policy::SyscallActionKind::Allow)
		return SCMP_ACT_LOG;
	return scmp_action(e.action);
}

// libseccomp numbers the socket and SysV IPC calls -101..-299 where an ABI
// has no direct entry point; on x86 it reaches them through socketcall(2) and
// ipc(2), elsewhere such a number means the call does not exist.
bool exists_on(uint32_t arch, const std::string &name)
{
	int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
	if (nr >= 0)
		return true;
	return arch == SCMP_ARCH_X86 && nr <= -101 && nr >= -299;
}

} // namespace

uint32_t scmp_action(const policy::SyscallAction &a)
{
	switch (a.kind) {
	case policy::SyscallActionKind::Allow:
		return SCMP_ACT_ALLOW;
	case policy::SyscallActionKind::Errno:
		// The kernel carries the errno in 16 bits (SECCOMP_RET_DATA) and
		// only values up to MAX_ERRNO come back as a failure.
		if (a.errno_value <= 0 || a.errno_value > 4095)
			throw std::runtime_error("seccomp: errno " + std::to_string(a.errno_value) +
						 " out of range 1..4095");
		return SCMP_ACT_ERRNO(static_cast<uint32_t>(a.errno_value));
	case policy::SyscallActionKind::KillProcess:
		return SCMP_ACT_KILL_PROCESS;
	case policy::SyscallActionKind::KillThread:
		return SCMP_ACT_KILL_THREAD;
	case policy::SyscallActionKind::Log:
		return SCMP_ACT_LOG;
	case policy::SyscallActionKind::Trap:
		return SCMP_ACT_TRAP;
	}
	throw std::runtime_error("seccomp: unknown syscall action");
}

uint32_t default_action(const policy::Policy &policy)
{
	if (!policy.defaults.syscalls_set)
		return SCMP_ACT_ALLOW;
	// A policy in audit mode must not break the workload it is being tried
	// on: an allow-list default only logs what it would have stopped.
	if (policy.mode == policy::Mode::Audit && policy.defaults.syscalls.kind != policy::SyscallActionKind::Allow)
		return SCMP_ACT_LOG;
	return scmp_action(policy.defaults.syscalls);
}

void add_architectures(scmp_filter_ctx ctx, const policy::Policy &policy)
{
	for (const auto &name : policy.architectures) {
		const ArchName *found = nullptr;
		for (const auto &a : kArches)
			if (name == a.name)
				found = &a;
		if (!found)
			throw std::runtime_error("seccomp: unsupported architecture " + name +
						 " (supported: x86_64, x86, x32)");
		int rc = seccomp_arch_add(ctx, found->token);
		// The native architecture is in every new filter already.
		if (rc < 0 && rc != -EEXIST)
			throw std::runtime_error(scmp_error("add architecture " + name, rc));
	}
}

void add_syscall_entries(scmp_filter_ctx ctx, const policy::Policy &policy)
{
	std::vector<uint32_t> arches;
	for (const auto &a : kArches)
		if (seccomp_arch_exist(ctx, a.token) == 0)
			arches.push_back(a.token);
	if (arches.empty())
		arches.push_back(SCMP_ARCH_NATIVE);

	const uint32_t def = default_action(policy);
	for (const auto &e : policy.syscalls) {
		const uint32_t act = entry_action(e);
		// libseccomp refuses rules that repeat the default, and they
		// would change nothing anyway.
		if (act == def)
			continue;

		std::vector<scmp_arg_cmp> cmps;
		for (const auto &c : e.args) {
			if (c.index > 5)
				throw std::runtime_error("seccomp: argument index " + std::to_string(c.index) +
							 " out of range 0..5");
			if (c.op == policy::ArgOp::MaskedEq)
				cmps.push_back(SCMP_CMP(c.index, SCMP_CMP_MASKED_EQ, c.mask, c.value));
			else
				cmps.push_back(SCMP_CMP(c.index, static_cast<scmp_compare>(cmp_op(c.op)), c.value));
		}

		for (const auto &name : e.names) {
			// Names are per ABI (socketcall only exists on x86, arch_prctl
			// has a different number on each). The native lookup yields a
			// pseudo number for names the native ABI lacks, which
			// libseccomp translates per architecture and quietly skips
			// where it does not exist; only a name no ABI in the filter
			// has would leave the entry doing nothing.
			bool somewhere = false;
			for (uint32_t arch : arches)
				if (exists_on(arch, name))
					somewhere = true;
			if (!somewhere)
				throw std::runtime_error("seccomp: syscall " + name +
							 " does not exist on any architecture in the filter");
			int nr = seccomp_syscall_resolve_name(name.c_str());
			int rc = seccomp_rule_add_array(ctx, act, nr, static_cast<unsigned>(cmps.size()), cmps.data());
			// -EEXIST: the same call with the same conditions already has
			// a different action (a rule word, or an earlier entry).
			// Which one wins would be an accident of ordering.
			if (rc == -EEXIST)
				throw std::runtime_error(
					"seccomp: syscall " + name +
					": conflicts with an earlier rule for the same call and arguments");
			if (rc < 0)
				throw std::runtime_error(scmp_error("add rule for syscall " + name, rc));
		}
	}
}

} // namespace bulwark::seccomp
