// SPDX-License-Identifier: Apache-2.0
#include "seccomp/filter.h"

#include <linux/sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "policy/catalog.h"
#include "seccomp/cbpf.h"
#include "seccomp/syscalls.h"

namespace bulwark::seccomp {

const std::vector<std::string> &mount_syscalls()
{
	static const std::vector<std::string> names = [] {
		std::vector<std::string> v;
		for (const char *s : policy::find_word("mount")->syscalls)
			v.push_back(s);
		return v;
	}();
	return names;
}

namespace {

struct FileCloser {
	void operator()(FILE *f) const { fclose(f); }
};

// What libseccomp exports for ctx (PFC text or raw BPF), read back by
// `read`: libseccomp only writes to file descriptors.
template <typename Read>
auto read_export(scmp_filter_ctx ctx, int (*export_fn)(scmp_filter_ctx, int), const char *what, Read read)
{
	std::unique_ptr<FILE, FileCloser> f(tmpfile());
	if (!f)
		throw std::runtime_error(std::string("seccomp: tmpfile: ") + std::strerror(errno));
	int rc = export_fn(ctx, fileno(f.get()));
	if (rc < 0)
		throw std::runtime_error(scmp_error(what, rc));
	return read(f.get());
}

} // namespace

bool SyscallRule::matches(const uint64_t a[6]) const
{
	for (const auto &m : args)
		if ((a[m.index] & m.mask) != m.value)
			return false;
	return true;
}

void Filter::route(const std::string &name, size_t rule, std::vector<ArgMatch> args, uint32_t act)
{
	int nr = seccomp_syscall_resolve_name(name.c_str());
	if (nr == __NR_SCMP_ERROR)
		throw std::runtime_error("seccomp: libseccomp does not know syscall " + name);
	// Not an x86_64 call (setuid32...): it only matters where i386 is in.
	if (nr < 0 && !x86_)
		return;
	std::vector<scmp_arg_cmp> cmps;
	for (const auto &a : args)
		cmps.push_back(SCMP_CMP(a.index, SCMP_CMP_MASKED_EQ, a.mask, a.value));
	int rc = seccomp_rule_add_array(ctx_, act, nr, static_cast<unsigned>(cmps.size()), cmps.data());
	// Two rules routing the same call the same way is not an error: the
	// first one in the policy is the one reported.
	if (rc < 0 && rc != -EEXIST)
		throw std::runtime_error(scmp_error("add rule for " + name, rc));
	rules_.push_back({name, nr, rule, std::move(args), act != SCMP_ACT_NOTIFY ? false : audit_});
}

void Filter::add_word_rules(const policy::Policy &policy, DenyAction action)
{
	const uint64_t all = ~0ull;
	for (size_t i = 0; i < policy.rules.size(); i++) {
		const auto &r = policy.rules[i];
		// A `when:` names context (executable, parent, uid, cgroup) a
		// filter cannot see; enforcing the rule here regardless would deny
		// it to every process. `check` warns that such rules are LSM-only.
		if (r.kind != policy::RuleKind::Action || r.verb != policy::Verb::Deny || !r.when.empty())
			continue;
		uint32_t act;
		audit_ = r.mode == policy::Mode::Audit;
		if (action == DenyAction::Notify)
			act = SCMP_ACT_NOTIFY;
		else if (r.mode == policy::Mode::Audit)
			act = SCMP_ACT_LOG;
		else
			act = SCMP_ACT_ERRNO(EPERM);
		for (const auto &word : r.words) {
			const policy::WordInfo *w = policy::find_word(word);
			if (!w)
				throw std::runtime_error("seccomp: unknown rule word " + word);
			if (word == "socket") {
				for (int fam : r.families)
					route("socket", i, {{0, all, static_cast<uint64_t>(fam)}}, act);
			} else if (word == "raw-sockets") {
				// The type argument carries SOCK_NONBLOCK/CLOEXEC in
				// its high bits; the socket type is the low nibble.
				route("socket", i, {{0, all, AF_INET}, {1, 0xf, SOCK_RAW}}, act);
				route("socket", i, {{0, all, AF_INET6}, {1, 0xf, SOCK_RAW}}, act);
				route("socket", i, {{0, all, AF_PACKET}}, act);
			} else if (word == "user-namespaces") {
				route("unshare", i, {{0, CLONE_NEWUSER, CLONE_NEWUSER}}, act);
				route("clone", i, {{0, CLONE_NEWUSER, CLONE_NEWUSER}}, act);
				// clone3's flags live in a struct seccomp cannot read.
				// Failing it with ENOSYS makes libc fall back to clone,
				// whose flags we can check. Not reported: libc tries
				// clone3 on every fork.
				int nr = seccomp_syscall_resolve_name("clone3");
				int rc = seccomp_rule_add(ctx_, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
				if (rc < 0 && rc != -EEXIST)
					throw std::runtime_error(scmp_error("add rule for clone3", rc));
			} else {
				for (const char *sc : w->syscalls)
					route(sc, i, {}, act);
			}
		}
	}
}

// A context with the settings both filters share.
static scmp_filter_ctx new_context(uint32_t def, const policy::Policy &policy)
{
	scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		throw std::runtime_error("seccomp: seccomp_init failed");
	try {
		int rc;
		// A syscall made through another ABI (i386 int 0x80, x32) would
		// not match the x86_64 numbers, so unless the policy opts that ABI
		// in, it must not run at all.
		if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0)
			throw std::runtime_error(scmp_error("set bad-arch action", rc));
		if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) < 0)
			throw std::runtime_error(scmp_error("set no_new_privs", rc));
		// Binary tree: lookup cost stays logarithmic in the number of
		// syscalls with rules.
		if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
			throw std::runtime_error(scmp_error("set optimize level 2", rc));
		add_architectures(ctx, policy);
	} catch (...) {
		seccomp_release(ctx);
		throw;
	}
	return ctx;
}

Filter::Filter(const policy::Policy &policy, DenyAction action)
{
	// Two stacked filters when the policy has a syscall table: the kernel
	// runs both and applies the stricter verdict. One filter would not do:
	// libseccomp lets an unconditional `allow` entry replace a word's
	// argument-checked rule for the same syscall (Docker's profile allows
	// socket outright; `deny: raw-sockets` must still stop SOCK_RAW).
	for (const auto &a : policy.architectures)
		x86_ |= a == "x86";
	entries_ = policy.syscalls;
	notify_ = action == DenyAction::Notify;
	ctx_ = new_context(SCMP_ACT_ALLOW, policy);
	try {
		add_word_rules(policy, action);
		if (!policy.syscalls.empty() || default_action(policy) != SCMP_ACT_ALLOW) {
			table_ = new_context(default_action(policy), policy);
			add_syscall_entries(table_, policy);
		}
		if (notify_ && table_)
			combine();
	} catch (...) {
		release();
		throw;
	}
}

void Filter::release() noexcept
{
	if (ctx_)
		seccomp_release(ctx_);
	if (table_)
		seccomp_release(table_);
}

Filter::~Filter()
{
	release();
}

Filter::Filter(Filter &&other) noexcept
    : ctx_(other.ctx_), table_(other.table_), rules_(std::move(other.rules_)), audit_(other.audit_), x86_(other.x86_),
      entries_(std::move(other.entries_)), progs_(std::move(other.progs_)), notify_(other.notify_),
      combined_(std::move(other.combined_)), listener_(other.listener_)
{
	other.ctx_ = nullptr;
	other.table_ = nullptr;
}

std::string Filter::pfc() const
{
	if (!table_)
		return pfc_of(ctx_);
	return "# filter 1 of 2: the policy's syscall table\n" + pfc_of(table_) +
	       "# filter 2 of 2: rule words (the kernel applies the stricter verdict)\n" + pfc_of(ctx_);
}

std::string Filter::pfc_of(scmp_filter_ctx ctx)
{
	return read_export(ctx, seccomp_export_pfc, "export PFC", [](FILE *f) {
		std::string out;
		rewind(f);
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			out.append(buf, n);
		return out;
	});
}

int Filter::export_bpf(int fd) const
{
	return seccomp_export_bpf(ctx_, fd);
}

int Filter::export_table_bpf(int fd) const
{
	return table_ ? seccomp_export_bpf(table_, fd) : -ENOENT;
}

void Filter::combine()
{
	export_progs();
	const auto &words = progs_[0], &table = progs_[1];
	const size_t n = table.size();
	combined_.clear();
	for (size_t i = 0; i < n; i++) {
		sock_filter ins = table[i];
		if (BPF_CLASS(ins.code) == BPF_RET) {
			if (BPF_RVAL(ins.code) != BPF_K)
				throw std::runtime_error(
					"seccomp: the table's program returns a register; cannot combine");
			uint32_t act = ins.k & SECCOMP_RET_ACTION_FULL;
			// A same-length replacement: the table's own jumps keep
			// their targets; the words' program follows it.
			if (act == SECCOMP_RET_ALLOW)
				ins = sock_filter{static_cast<__u16>(BPF_JMP | BPF_JA), 0, 0,
						  static_cast<__u32>(n - i - 1)};
			else if (act != SECCOMP_RET_KILL_PROCESS && act != SECCOMP_RET_KILL_THREAD)
				ins.k = SECCOMP_RET_USER_NOTIF;
		}
		combined_.push_back(ins);
	}
	combined_.insert(combined_.end(), words.begin(), words.end());
	if (combined_.size() > BPF_MAXINSNS)
		throw std::runtime_error("seccomp: the policy's filter is " + std::to_string(combined_.size()) +
					 " instructions, the kernel takes " + std::to_string(BPF_MAXINSNS));
}

int Filter::load() const
{
	if (combined_.empty())
		return seccomp_load(ctx_);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	sock_fprog prog{static_cast<unsigned short>(combined_.size()), const_cast<sock_filter *>(combined_.data())};
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		return -errno;
	listener_ = static_cast<int>(fd);
	return 0;
}

int Filter::notify_fd() const
{
	return combined_.empty() ? seccomp_notify_fd(ctx_) : listener_;
}

// The first enforcing rule that `matches`, else the first audit one.
template <typename Match> static long first_rule(const std::vector<SyscallRule> &rules, Match matches)
{
	long audit = -1;
	for (const auto &r : rules) {
		if (!matches(r))
			continue;
		if (!r.audit)
			return static_cast<long>(r.rule);
		if (audit < 0)
			audit = static_cast<long>(r.rule);
	}
	return audit;
}

long Filter::rule_for(int nr, const uint64_t args[6]) const
{
	return first_rule(rules_, [&](const SyscallRule &r) { return r.nr == nr && r.matches(args); });
}

long Filter::rule_for(uint32_t arch, int nr, const uint64_t args[6]) const
{
	if (arch == SCMP_ARCH_X86_64 && !(nr & 0x40000000))
		return rule_for(nr, args);
	std::string name = syscall_name(arch, nr);
	// i386 multiplexes socket() through socketcall, whose arguments are
	// behind a pointer: libseccomp routes every socketcall(SYS_SOCKET) that
	// any socket rule might match, and the first such rule answers for it.
	bool socketcall = name == "socketcall";
	if (socketcall)
		name = "socket";
	return first_rule(rules_,
			  [&](const SyscallRule &r) { return r.syscall == name && (socketcall || r.matches(args)); });
}

void Filter::export_progs() const
{
	if (!progs_.empty())
		return;
	std::vector<std::vector<sock_filter>> out;
	for (scmp_filter_ctx c : {ctx_, table_}) {
		if (!c) {
			out.emplace_back();
			continue;
		}
		out.push_back(
			read_export(c, seccomp_export_bpf, "export BPF", [](FILE *f) { return read_bpf(fileno(f)); }));
	}
	progs_ = std::move(out);
}

uint32_t Filter::words_verdict(const seccomp_data &d) const
{
	export_progs();
	return run_cbpf(progs_[0], d);
}

uint32_t Filter::table_verdict(const seccomp_data &d) const
{
	export_progs();
	return progs_[1].empty() ? SECCOMP_RET_ALLOW : run_cbpf(progs_[1], d);
}

uint32_t Filter::verdict(const seccomp_data &d) const
{
	export_progs();
	FilterStack stack{progs_[0]};
	if (!progs_[1].empty())
		stack.push_back(progs_[1]);
	return run_cbpf(stack, d);
}

static bool arg_holds(const policy::ArgCondition &c, uint64_t v)
{
	using O = policy::ArgOp;
	switch (c.op) {
	case O::Eq:
		return v == c.value;
	case O::Ne:
		return v != c.value;
	case O::Lt:
		return v < c.value;
	case O::Le:
		return v <= c.value;
	case O::Gt:
		return v > c.value;
	case O::Ge:
		return v >= c.value;
	case O::MaskedEq:
		return (v & c.mask) == c.value;
	}
	return false;
}

long Filter::entry_for(const seccomp_data &d, uint32_t ret) const
{
	std::string name = syscall_name(d.arch, d.nr);
	for (size_t i = 0; i < entries_.size(); i++) {
		const auto &e = entries_[i];
		// Audited entries that would stop the call were compiled to LOG.
		bool logs = e.mode == policy::Mode::Audit && e.action.kind != policy::SyscallActionKind::Allow;
		uint32_t want = logs ? SECCOMP_RET_LOG : scmp_action(e.action);
		if (want != ret)
			continue;
		bool named = false;
		for (const auto &n : e.names)
			named |= n == name;
		if (!named)
			continue;
		bool holds = true;
		for (const auto &c : e.args)
			holds &= c.index < 6 && arg_holds(c, d.args[c.index]);
		if (holds)
			return static_cast<long>(i);
	}
	return -1;
}

const char *arch_name(uint32_t arch)
{
	switch (arch) {
	case SCMP_ARCH_X86_64:
		return "x86_64";
	case SCMP_ARCH_X86:
		return "x86";
	}
	return "unknown";
}

std::string syscall_name(uint32_t arch, int nr)
{
	// x32 calls carry the x86_64 token with bit 30 set in the number.
	uint32_t a = arch == SCMP_ARCH_X86_64 && (nr & 0x40000000) ? SCMP_ARCH_X32 : arch;
	char *name = seccomp_syscall_resolve_num_arch(a, nr);
	if (!name)
		return "nr:" + std::to_string(nr);
	std::string s(name);
	free(name);
	return s;
}

std::string syscall_name(int nr)
{
	return syscall_name(SCMP_ARCH_X86_64, nr);
}

} // namespace bulwark::seccomp
