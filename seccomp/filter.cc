// SPDX-License-Identifier: Apache-2.0
#include "seccomp/filter.h"

#include <seccomp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace bulwark::seccomp {

const std::vector<std::string> &mount_syscalls()
{
	// Both the classic call and every step of the new mount API: a filter
	// that only knew mount(2) would let fsopen/fsmount/move_mount through.
	static const std::vector<std::string> names = {
		"mount",   "umount2",   "fsopen",    "fsconfig",      "fsmount",
		"fspick",  "move_mount", "open_tree", "mount_setattr",
	};
	return names;
}

static std::string scmp_error(const std::string &what, int rc)
{
	return "seccomp: " + what + ": " + std::strerror(-rc);
}

Filter::Filter(const policy::Policy &policy, DenyAction action)
{
	ctx_ = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx_)
		throw std::runtime_error("seccomp: seccomp_init failed");
	try {
		int rc;
		// A syscall made through another ABI (i386 int 0x80, x32) would
		// not match the x86_64 numbers below, so it must not run at all.
		if ((rc = seccomp_attr_set(ctx_, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0)
			throw std::runtime_error(scmp_error("set bad-arch action", rc));
		if ((rc = seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_NNP, 1)) < 0)
			throw std::runtime_error(scmp_error("set no_new_privs", rc));
		// Binary tree: lookup cost stays logarithmic in the number of
		// syscalls with rules.
		if ((rc = seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
			throw std::runtime_error(scmp_error("set optimize level 2", rc));

		for (size_t i = 0; i < policy.rules.size(); i++) {
			const auto &r = policy.rules[i];
			if (r.kind != policy::RuleKind::Mount)
				continue;
			for (const auto &name : mount_syscalls()) {
				int nr = seccomp_syscall_resolve_name(name.c_str());
				if (nr == __NR_SCMP_ERROR)
					throw std::runtime_error("seccomp: libseccomp does not know syscall " + name);
				if (by_nr_.count(nr))
					continue; // two mount rules: the first one reports
				uint32_t act;
				if (action == DenyAction::Notify)
					act = SCMP_ACT_NOTIFY;
				else if (r.mode == policy::Mode::Audit)
					act = SCMP_ACT_LOG;
				else
					act = SCMP_ACT_ERRNO(EPERM);
				if ((rc = seccomp_rule_add(ctx_, act, nr, 0)) < 0)
					throw std::runtime_error(scmp_error("add rule for " + name, rc));
				by_nr_[nr] = rules_.size();
				rules_.push_back({name, nr, i});
			}
		}
	} catch (...) {
		seccomp_release(ctx_);
		throw;
	}
}

Filter::~Filter()
{
	if (ctx_)
		seccomp_release(ctx_);
}

Filter::Filter(Filter &&other) noexcept
	: ctx_(other.ctx_), rules_(std::move(other.rules_)), by_nr_(std::move(other.by_nr_))
{
	other.ctx_ = nullptr;
}

std::string Filter::pfc() const
{
	FILE *f = tmpfile();
	if (!f)
		throw std::runtime_error(std::string("seccomp: tmpfile: ") + std::strerror(errno));
	int rc = seccomp_export_pfc(ctx_, fileno(f));
	if (rc < 0) {
		fclose(f);
		throw std::runtime_error(scmp_error("export PFC", rc));
	}
	std::string out;
	rewind(f);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		out.append(buf, n);
	fclose(f);
	return out;
}

int Filter::load() const
{
	return seccomp_load(ctx_);
}

int Filter::notify_fd() const
{
	return seccomp_notify_fd(ctx_);
}

long Filter::rule_for(int nr) const
{
	auto it = by_nr_.find(nr);
	return it == by_nr_.end() ? -1 : static_cast<long>(rules_[it->second].rule);
}

std::string syscall_name(int nr)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	if (!name)
		return "nr:" + std::to_string(nr);
	std::string s(name);
	free(name);
	return s;
}

} // namespace bulwark::seccomp
