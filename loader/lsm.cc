// SPDX-License-Identifier: Apache-2.0
#include "loader/lsm.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

extern "C" {
#include "bulwark.h"
}
#include "bulwark.skel.h"
#include "policy/catalog.h"
#include <bpf/btf.h>

namespace bulwark {

const char *hook_name(uint32_t hook)
{
	switch (hook) {
	case BW_HOOK_FILE_OPEN: return "file_open";
	case BW_HOOK_BPRM_CHECK: return "bprm_check_security";
	case BW_HOOK_SB_MOUNT: return "sb_mount";
	case BW_HOOK_MOVE_MOUNT: return "move_mount";
	case BW_HOOK_SB_UMOUNT: return "sb_umount";
	case BW_HOOK_SB_REMOUNT: return "sb_remount";
	case BW_HOOK_MMAP_EXEC: return "mmap_file";
	case BW_HOOK_PTRACE_ACCESS: return "ptrace_access_check";
	case BW_HOOK_PTRACE_TRACEME: return "ptrace_traceme";
	case BW_HOOK_MODULE_REQUEST: return "kernel_module_request";
	case BW_HOOK_READ_FILE: return "kernel_read_file";
	case BW_HOOK_LOAD_DATA: return "kernel_load_data";
	case BW_HOOK_BPF: return "bpf";
	case BW_HOOK_PERF: return "perf_event_open";
	case BW_HOOK_KEY_ALLOC: return "key_alloc";
	case BW_HOOK_USERNS: return "userns_create";
	case BW_HOOK_SETUID: return "task_fix_setuid";
	case BW_HOOK_SOCKET_CREATE: return "socket_create";
	case BW_HOOK_SOCKET_CONNECT: return "socket_connect";
	case BW_HOOK_SOCKET_BIND: return "socket_bind";
	case BW_HOOK_SOCKET_SENDMSG: return "socket_sendmsg";
	case BW_HOOK_PATH_TRUNCATE: return "path_truncate";
	case BW_HOOK_PATH_UNLINK: return "path_unlink";
	case BW_HOOK_PATH_RMDIR: return "path_rmdir";
	case BW_HOOK_PATH_RENAME: return "path_rename";
	case BW_HOOK_PATH_LINK: return "path_link";
	case BW_HOOK_PATH_CHMOD: return "path_chmod";
	case BW_HOOK_PATH_CHOWN: return "path_chown";
	}
	const auto &esc = policy::lsm_escape_hooks();
	if (hook >= BW_HOOK_ESCAPE_BASE && hook - BW_HOOK_ESCAPE_BASE < esc.size())
		return esc[hook - BW_HOOK_ESCAPE_BASE];
	return "unknown";
}

std::string LsmLayer::lsm_inactive_reason()
{
	const char *file = "/sys/kernel/security/lsm";
	std::ifstream in(file);
	std::string list;
	if (!in || !std::getline(in, list))
		return std::string("lsm: cannot read ") + file +
		       " (securityfs not mounted or no LSM support); BPF LSM state unknown";
	std::stringstream ss(list);
	std::string item;
	while (std::getline(ss, item, ','))
		if (item == "bpf")
			return "";
	return "lsm: BPF LSM is not active on this kernel (lsm=" + list + "); boot with lsm=" + list +
	       ",bpf (see vagrant/) or run with --layers seccomp";
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	if (getenv("BULWARK_LIBBPF_QUIET") && level == LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, args);
}

// Number of parameters of an LSM hook in the running kernel's BTF, or -1.
int hook_arity(const std::string &hook)
{
	btf *vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return -1;
	int arity = -1;
	int id = btf__find_by_name_kind(vmlinux, ("bpf_lsm_" + hook).c_str(), BTF_KIND_FUNC);
	if (id > 0) {
		const btf_type *fn = btf__type_by_id(vmlinux, id);
		const btf_type *proto = fn ? btf__type_by_id(vmlinux, fn->type) : nullptr;
		if (proto && btf_is_func_proto(proto))
			arity = btf_vlen(proto);
	}
	btf__free(vmlinux);
	return arity;
}

namespace {

// Hooks whose prototype changed after 6.1 have one program per prototype;
// `ret` sits after the last argument, so the wrong one would read garbage.
struct Variant {
	const char *hook;
	const char *prog;
	int arity;
};
const Variant kVariants[] = {
	{"bpf", "bw_bpf", 3},
	{"bpf", "bw_bpf_v4", 4},
	{"perf_event_open", "bw_perf", 2},
	{"perf_event_open", "bw_perf_v1", 1},
};

bool is_trace_prog(const std::string &name)
{
	return name == "bw_sys_enter" || name == "bw_sys_exit" || name == "bw_signal_generate" ||
	       name == "bw_trace_fork";
}

bool prog_needed(const std::string &name, const LsmNeeds &n)
{
	if (is_trace_prog(name))
		return false; // chosen by BpfOptions, not by the policy
	if (n.all || name == "bw_task_alloc" || name == "bw_exec_committed" || name == "bw_esc_kill" ||
	    name == "bw_ptrace_access")
		return true;
	auto word = [&](const char *w) { return n.words.count(w) > 0; };
	if (name == "bw_file_open")
		return n.file_access & (BW_ACC_READ | BW_ACC_WRITE);
	if (name.rfind("bw_path_", 0) == 0)
		return n.file_access & BW_ACC_WRITE;
	if (name == "bw_bprm_check")
		return (n.file_access & BW_ACC_EXEC) || n.exec_allow_list;
	if (name == "bw_mmap_file")
		return n.file_access & BW_ACC_EXEC;
	if (name.rfind("bw_sb_", 0) == 0 || name == "bw_move_mount")
		return word("mount");
	if (name.rfind("bw_ptrace", 0) == 0)
		return word("ptrace");
	if (name == "bw_module_request")
		return word("kernel-modules");
	if (name == "bw_read_file" || name == "bw_load_data")
		return word("kernel-modules") || word("kexec");
	if (name.rfind("bw_bpf", 0) == 0)
		return word("bpf");
	if (name.rfind("bw_perf", 0) == 0)
		return word("perf");
	if (name == "bw_key_alloc")
		return word("keyring");
	if (name == "bw_userns_create")
		return word("user-namespaces");
	if (name == "bw_fix_setuid")
		return word("setuid");
	if (name == "bw_socket_create")
		return word("socket") || word("raw-sockets");
	if (name == "bw_socket_connect" || name == "bw_socket_sendmsg")
		return word("connect");
	if (name == "bw_socket_bind")
		return word("bind");
	if ((name == "bw_esc_chroot" || name == "bw_esc_pivotroot") && n.exec_allow_list)
		return true;
	if (name.rfind("bw_esc_", 0) == 0) {
		const auto &hooks = policy::lsm_escape_hooks();
		static const char *progs[] = {"bw_esc_syslog", "bw_esc_settime", "bw_esc_pivotroot",
					      "bw_esc_chroot", "bw_esc_quotactl", "bw_esc_setnice",
					      "bw_esc_kill"};
		for (size_t i = 0; i < hooks.size() && i < sizeof(progs) / sizeof(progs[0]); i++)
			if (name == progs[i])
				return n.escape_hooks.count(hooks[i]) > 0;
	}
	return false;
}

// Sets autoload on every program: the variant matching this kernel, and
// only what the policy needs.
void select_programs(bulwark_bpf *skel, const LsmNeeds &needs, const BpfOptions &opts)
{
	std::map<std::string, int> arity;
	bpf_program *prog;
	bpf_object__for_each_program(prog, skel->obj)
	{
		std::string name = bpf_program__name(prog);
		if (is_trace_prog(name)) {
			bpf_program__set_autoload(prog, opts.trace);
			continue;
		}
		bool load = opts.lsm && prog_needed(name, needs);
		for (const auto &v : kVariants) {
			if (name != v.prog)
				continue;
			if (!arity.count(v.hook))
				arity[v.hook] = hook_arity(v.hook);
			load = load && arity[v.hook] == v.arity;
		}
		bpf_program__set_autoload(prog, load);
	}
	// A needed hook whose every variant was ruled out (an arity this
	// build does not know) would leave its words unenforced: refuse.
	for (const char *hook : {"bpf", "perf_event_open"}) {
		bool needed = false, loaded = false;
		for (const auto &v : kVariants) {
			if (std::string(v.hook) != hook)
				continue;
			bpf_program *p = bpf_object__find_program_by_name(skel->obj, v.prog);
			needed |= opts.lsm && prog_needed(v.prog, needs);
			loaded |= p && bpf_program__autoload(p);
		}
		if (needed && !loaded)
			throw Error(std::string("lsm: this kernel's ") + hook + " hook has " +
				    std::to_string(arity[hook]) + " arguments; no program here matches it");
	}
}

void update(int fd, const void *key, const void *val, const std::string &what)
{
	if (bpf_map_update_elem(fd, key, val, BPF_ANY))
		throw Error("lsm: failed to fill " + what, errno);
}

} // namespace

std::string LsmLayer::load_probe()
{
	std::string reason = lsm_inactive_reason();
	if (!reason.empty())
		return reason;
	libbpf_print_fn_t old = libbpf_set_print(nullptr);
	bulwark_bpf *skel = bulwark_bpf__open();
	int err = errno;
	if (skel) {
		LsmNeeds all;
		all.all = true;
		try {
			select_programs(skel, all, BpfOptions{});
		} catch (const Error &e) {
			libbpf_set_print(old);
			bulwark_bpf__destroy(skel);
			return e.what();
		}
		err = -bulwark_bpf__load(skel);
	}
	libbpf_set_print(old);
	if (!skel || err) {
		if (skel)
			bulwark_bpf__destroy(skel);
		return std::string("lsm: loading BPF LSM programs failed: ") + std::strerror(err) +
		       " (this kernel lists bpf in its LSMs but refuses the programs)";
	}
	bulwark_bpf__destroy(skel);
	return "";
}

LsmLayer::LsmLayer(const policy::Policy &policy, EventFn on_event, BpfOptions opts)
	: on_event_(std::move(on_event)), opts_(opts), plan_(plan_lsm(policy))
{
	libbpf_set_print(quiet_print);
	if (opts_.lsm) {
		std::string reason = lsm_inactive_reason();
		if (!reason.empty())
			throw Error(reason);
	}
	skel_ = bulwark_bpf__open();
	if (!skel_)
		throw Error("lsm: failed to open BPF object", errno);
	try {
		select_programs(skel_, plan_.needs, opts_);
		skel_->rodata->trace_propagates = opts_.lsm ? 0 : 1;
		if (opts_.ringbuf_bytes && bpf_map__set_max_entries(skel_->maps.events, opts_.ringbuf_bytes))
			throw Error("lsm: ring buffer size " + std::to_string(opts_.ringbuf_bytes) +
					    " refused (a power of two, at least a page)",
				    errno);
		skel_->rodata->exec_default_deny = plan_.exec_default_deny ? 1 : 0;
		skel_->rodata->have_subtrees = plan_.subtrees.empty() ? 0 : 1;
		skel_->rodata->have_globs = plan_.globs.empty() ? 0 : 1;
		skel_->rodata->supervisor_tgid = static_cast<__u32>(getpid());
		for (size_t i = 0; i < BW_ESCAPE_HOOKS; i++)
			skel_->rodata->escape_rule_plus1[i] = plan_.escape_rule_plus1[i];
		int err = bulwark_bpf__load(skel_);
		if (err)
			throw Error("lsm: failed to load BPF programs", -err);
		fill_maps(plan_);
		rb_ = ring_buffer__new(
			bpf_map__fd(skel_->maps.events),
			[](void *ctx, void *data, size_t size) -> int {
				if (size < sizeof(bw_event))
					return 0;
				static_cast<LsmLayer *>(ctx)->on_event_(*static_cast<const bw_event *>(data));
				return 0;
			},
			this, nullptr);
		if (!rb_)
			throw Error("lsm: failed to create ring buffer reader", errno);
		attach_all();
	} catch (...) {
		if (rb_)
			ring_buffer__free(rb_);
		rb_ = nullptr;
		bulwark_bpf__destroy(skel_);
		skel_ = nullptr;
		throw;
	}
}

LsmLayer::~LsmLayer()
{
	if (rb_)
		ring_buffer__free(rb_);
	// Destroying the skeleton closes the links: every program detaches.
	if (skel_)
		bulwark_bpf__destroy(skel_);
}

void LsmLayer::attach_all()
{
	bpf_program *prog;
	bpf_object__for_each_program(prog, skel_->obj)
	{
		if (!bpf_program__autoload(prog))
			continue;
		bpf_link *link = bpf_program__attach(prog);
		if (!link)
			throw Error(std::string("lsm: failed to attach ") + bpf_program__section_name(prog), errno);
		// Owned by the skeleton's link array so destroy() detaches it.
		for (int i = 0; i < skel_->skeleton->prog_cnt; i++)
			if (*skel_->skeleton->progs[i].prog == prog)
				*skel_->skeleton->progs[i].link = link;
		attached_++;
	}
}

void LsmLayer::fill_maps(const LsmPlan &plan)
{
	int fd = bpf_map__fd(skel_->maps.rules);
	for (size_t i = 0; i < plan.rules.size(); i++) {
		__u32 k = static_cast<__u32>(i);
		update(fd, &k, &plan.rules[i], "the rules map");
	}
	__u8 one = 1;
	for (const auto &k : plan.when_exe)
		update(bpf_map__fd(skel_->maps.when_exe), &k, &one, "the when: exe map");
	for (const auto &k : plan.when_uid)
		update(bpf_map__fd(skel_->maps.when_uid), &k, &one, "the when: uid map");
	for (const auto &k : plan.when_cgroup)
		update(bpf_map__fd(skel_->maps.when_cgroup), &k, &one, "the when: cgroup map");
	for (const auto &[w, rl] : plan.words)
		update(bpf_map__fd(skel_->maps.word_rules), &w, &rl, "the word map");
	for (const auto &[f, rl] : plan.families)
		update(bpf_map__fd(skel_->maps.family_rules), &f, &rl, "the family map");
	for (const auto &[k, rl] : plan.ports)
		update(bpf_map__fd(skel_->maps.net_ports), &k, &rl, "the port map");
	for (const auto &[k, rl] : plan.addrs)
		update(bpf_map__fd(skel_->maps.net_addrs), &k, &rl, "the address map");
	for (const auto &[path, match] : plan.paths) {
		bw_path_key key{};
		std::memcpy(key.path, path.data(), std::min(path.size(), sizeof(key.path) - 1));
		update(bpf_map__fd(skel_->maps.file_paths), &key, &match, "the path map with " + path);
	}
	for (const auto &[id, match] : plan.inodes) {
		bw_inode_key key{id.second, id.first, 0};
		update(bpf_map__fd(skel_->maps.file_inodes), &key, &match, "the inode map");
	}
	for (size_t i = 0; i < plan.globs.size(); i++) {
		__u32 k = static_cast<__u32>(i);
		bw_glob g{};
		std::memcpy(g.pat, plan.globs[i].first.data(), std::min(plan.globs[i].first.size(), sizeof(g.pat) - 1));
		g.m = plan.globs[i].second;
		update(bpf_map__fd(skel_->maps.file_globs), &k, &g, "the glob map");
	}
	for (const auto &[dir, gl] : plan.glob_dirs) {
		bw_path_key key{};
		std::memcpy(key.path, dir.data(), std::min(dir.size(), sizeof(key.path) - 1));
		update(bpf_map__fd(skel_->maps.glob_dirs), &key, &gl, "the glob directory map");
	}
	for (const auto &[id, match] : plan.subtrees) {
		bw_inode_key key{id.second, id.first, 0};
		update(bpf_map__fd(skel_->maps.file_subtrees), &key, &match, "the subtree map");
	}
}

void LsmLayer::confine(pid_t pid)
{
	Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
	if (!pidfd)
		throw Error("lsm: pidfd_open(" + std::to_string(pid) + ")", errno);
	bw_task val{};
	val.confined = 1;
	// It is inside a syscall right now (waiting to be released).
	val.sys_state = BW_SYS_UNKNOWN;
	// Task storage is keyed by pidfd from user space.
	int key = pidfd.get();
	if (bpf_map_update_elem(bpf_map__fd(skel_->maps.tasks), &key, &val, BPF_NOEXIST))
		throw Error("lsm: failed to mark pid " + std::to_string(pid) + " as confined", errno);
}

int LsmLayer::poll_fd() const
{
	return ring_buffer__epoll_fd(rb_);
}

int LsmLayer::consume()
{
	return ring_buffer__consume(rb_);
}

uint64_t LsmLayer::dropped() const
{
	return __atomic_load_n(&skel_->bss->dropped_events, __ATOMIC_RELAXED);
}

bool LsmLayer::mark_pending(uint32_t tid, uint32_t seq)
{
	return bpf_map_update_elem(bpf_map__fd(skel_->maps.syscall_pending), &tid, &seq, BPF_ANY) == 0;
}

void LsmLayer::clear_pending(uint32_t tid)
{
	bpf_map_delete_elem(bpf_map__fd(skel_->maps.syscall_pending), &tid);
}

std::map<uint32_t, std::pair<uint64_t, uint64_t>> LsmLayer::counters(size_t n) const
{
	std::map<uint32_t, std::pair<uint64_t, uint64_t>> out;
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return out;
	std::vector<bw_counter> vals(static_cast<size_t>(ncpu));
	int fd = bpf_map__fd(skel_->maps.rule_hits);
	auto read = [&](__u32 slot, uint32_t rule) {
		if (bpf_map_lookup_elem(fd, &slot, vals.data()))
			return;
		std::pair<uint64_t, uint64_t> sum{};
		for (const auto &v : vals) {
			sum.first += v.deny;
			sum.second += v.audit;
		}
		if (sum.first || sum.second)
			out[rule] = sum;
	};
	for (__u32 k = 0; k < n && k < BW_MAX_RULES; k++)
		read(k, k);
	for (__u32 b = 0; b < BW_COUNTERS - BW_MAX_RULES; b++)
		read(BW_MAX_RULES + b, BW_RULE_BUILTIN_BASE + b);
	return out;
}

} // namespace bulwark

