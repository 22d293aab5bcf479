// SPDX-License-Identifier: Apache-2.0
// The seccomp layer: a policy compiled to a libseccomp filter.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policy/policy.h"

struct seccomp_data;
struct sock_filter;

typedef void *scmp_filter_ctx;

namespace bulwark::seccomp {

// How a denied syscall is acted on. Notify hands it to the loader, which
// writes the event and answers with the rule's errno (or lets it continue in
// audit mode); if the loader is gone the kernel fails the call with ENOSYS,
// so the filter still denies. Errno is for filters loaded without a
// supervisor.
enum class DenyAction { Notify, Errno };

// Syscalls a high-level rule word maps to in this layer.
const std::vector<std::string> &mount_syscalls();

// One argument check of a routed syscall: (arg[index] & mask) == value.
struct ArgMatch {
	unsigned index;
	uint64_t mask;
	uint64_t value;
};

// A syscall routed to the supervisor on behalf of a policy rule.
struct SyscallRule {
	std::string syscall;
	int nr = -1;
	size_t rule = 0;            // index into Policy::rules
	std::vector<ArgMatch> args; // all must hold; empty = any call
	bool audit = false;
	bool matches(const uint64_t args[6]) const;
};

class Filter {
public:
	// Throws std::runtime_error("seccomp: ...") when libseccomp refuses
	// anything: a filter that is only partly built is never returned.
	Filter(const policy::Policy &policy, DenyAction action);
	~Filter();
	Filter(const Filter &) = delete;
	Filter &operator=(const Filter &) = delete;
	Filter(Filter &&other) noexcept;
	Filter &operator=(Filter &&) = delete;

	std::string pfc() const;
	// Raw classic BPF, as seccomp(2) takes it: the rule-word filter, and
	// the syscall-table filter stacked under it (-ENOENT if the policy has
	// no table). Return 0 or -errno.
	int export_bpf(int fd) const;
	int export_table_bpf(int fd) const;
	bool has_table() const { return table_ != nullptr; }
	// Loads into the calling thread (sets no_new_privs first). Returns 0 or
	// -errno. Async-signal-safe enough for a forked child: the program is
	// made in the constructor. With a syscall table and a supervisor, one
	// program (the kernel takes one listener per filter chain, so two
	// stacked filters could not both notify): the table's, whose every
	// allow goes on to the words' program and whose every other verdict
	// but a kill is handed to the listener, which answers as the table
	// says (errno, or continue and report for log). Nothing runs on the
	// syscall path for tasks outside the sandbox to see these denials.
	int load() const;
	// The listener fd after load(), or -errno. Only a filter that routes
	// something to the supervisor has one.
	int notify_fd() const;
	bool has_listener() const { return notify_ && (!rules_.empty() || table_); }
	// The one program load() installs when there is a table (empty else).
	const std::vector<sock_filter> &combined() const { return combined_; }

	const std::vector<SyscallRule> &rules() const { return rules_; }
	// The rule a routed call was denied by, or -1: the first enforcing
	// routed rule whose argument checks hold, else the first audit one, so
	// an audit rule never shadows an enforcing one.
	long rule_for(int nr, const uint64_t args[6]) const;
	// The same for a call made through another ABI the policy opted in:
	// matched by name, since numbers differ between ABIs.
	long rule_for(uint32_t arch, int nr, const uint64_t args[6]) const;

	// What the kernel answers for a syscall (SECCOMP_RET_* with data),
	// computed by running the exported programs: both stacked filters, or
	// one of them (the table answers ALLOW when the policy has none).
	uint32_t verdict(const seccomp_data &d) const;
	uint32_t table_verdict(const seccomp_data &d) const;
	uint32_t words_verdict(const seccomp_data &d) const;
	// The `syscalls:` entry (index into Policy::syscalls) that gave the
	// table's verdict `ret` for d, or -1 when the default action or the
	// foreign-ABI rule did.
	long entry_for(const seccomp_data &d, uint32_t ret) const;

private:
	void add_word_rules(const policy::Policy &policy, DenyAction action);
	void route(const std::string &name, size_t rule, std::vector<ArgMatch> args, uint32_t act);

	static std::string pfc_of(scmp_filter_ctx ctx);
	void release() noexcept;

	scmp_filter_ctx ctx_ = nullptr;   // rule words (+ the listener)
	scmp_filter_ctx table_ = nullptr; // syscalls: entries and the default action
	std::vector<SyscallRule> rules_;
	bool audit_ = false; // mode of the rule being added
	bool x86_ = false;   // the policy opted the i386 ABI in
	std::vector<policy::SyscallEntry> entries_;
	// Exported programs, made on first use by verdict().
	mutable std::vector<std::vector<sock_filter>> progs_; // [0] words, [1] table
	void export_progs() const;
	bool notify_ = false;
	std::vector<sock_filter> combined_;
	mutable int listener_ = -ENOENT;
	void combine();
};

// Syscall name for a native syscall number ("nr:<n>" when unknown).
std::string syscall_name(int nr);
// The same for a seccomp_data.arch token, and the ABI's name.
std::string syscall_name(uint32_t arch, int nr);
const char *arch_name(uint32_t arch);

} // namespace bulwark::seccomp
