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

// What a policy needs from the LSM layer; programs nobody needs are not
// loaded, so an unused hook costs nothing.
struct Needs {
	std::set<std::string> words;
	unsigned file_access = 0;
	bool exec_allow_list = false;
	std::set<std::string> escape_hooks;
	bool all = false; // load everything (probe)
};

bool prog_needed(const std::string &name, const Needs &n)
{
	if (n.all || name == "bw_task_alloc" || name == "bw_exec_committed")
		return true;
	auto word = [&](const char *w) { return n.words.count(w) > 0; };
	if (name == "bw_file_open")
		return n.file_access & (BW_ACC_READ | BW_ACC_WRITE);
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
	if (name == "bw_socket_connect")
		return word("connect");
	if (name == "bw_socket_bind")
		return word("bind");
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
void select_programs(bulwark_bpf *skel, const Needs &needs)
{
	std::map<std::string, int> arity;
	bpf_program *prog;
	bpf_object__for_each_program(prog, skel->obj)
	{
		std::string name = bpf_program__name(prog);
		bool load = prog_needed(name, needs);
		for (const auto &v : kVariants) {
			if (name != v.prog)
				continue;
			if (!arity.count(v.hook))
				arity[v.hook] = hook_arity(v.hook);
			load = load && arity[v.hook] == v.arity;
		}
		bpf_program__set_autoload(prog, load);
	}
}

Needs needs_of(const policy::Policy &policy)
{
	Needs n;
	for (const auto &r : policy.rules) {
		for (const auto &w : r.words)
			n.words.insert(w);
		if (r.kind == policy::RuleKind::File && r.verb == policy::Verb::Deny)
			n.file_access |= r.access;
	}
	n.exec_allow_list = policy.defaults.exec_deny;
	for (const auto &h : policy.hooks)
		n.escape_hooks.insert(h.hook);
	return n;
}

uint32_t kdev(dev_t d)
{
	// The kernel's internal dev_t, as in inode->i_sb->s_dev.
	return (major(d) << 20) | minor(d);
}

// Adds rule (0-based) to a slot, refusing a fifth: the BPF side looks at
// BW_SLOT_RULES rules per slot and no more.
void slot_add(bw_rules &slot, size_t rule, const std::string &what)
{
	__u32 v = static_cast<__u32>(rule + 1);
	for (auto &r : slot.rule_plus1) {
		if (r == v)
			return;
		if (!r) {
			r = v;
			return;
		}
	}
	throw Error("lsm: more than " + std::to_string(BW_SLOT_RULES) + " rules apply to " + what +
		    "; merge them (the BPF side checks at most " + std::to_string(BW_SLOT_RULES) + ")");
}

int word_index(const std::string &w)
{
	static const std::map<std::string, int> idx = {
		{"mount", BW_WORD_MOUNT},   {"ptrace", BW_WORD_PTRACE},
		{"kernel-modules", BW_WORD_KMOD}, {"bpf", BW_WORD_BPF},
		{"perf", BW_WORD_PERF},     {"kexec", BW_WORD_KEXEC},
		{"keyring", BW_WORD_KEYRING}, {"user-namespaces", BW_WORD_USERNS},
		{"setuid", BW_WORD_SETUID}, {"raw-sockets", BW_WORD_RAWSOCK},
	};
	auto it = idx.find(w);
	return it == idx.end() ? -1 : it->second;
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
		Needs all;
		all.all = true;
		select_programs(skel, all);
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

LsmLayer::LsmLayer(const policy::Policy &policy, EventFn on_event) : on_event_(std::move(on_event))
{
	libbpf_set_print(quiet_print);
	std::string reason = lsm_inactive_reason();
	if (!reason.empty())
		throw Error(reason);
	skel_ = bulwark_bpf__open();
	if (!skel_)
		throw Error("lsm: failed to open BPF object", errno);
	try {
		select_programs(skel_, needs_of(policy));
		skel_->rodata->exec_default_deny = policy.defaults.exec_deny ? 1 : 0;
		const auto &esc = policy::lsm_escape_hooks();
		for (size_t h = 0; h < policy.hooks.size(); h++)
			for (size_t i = 0; i < esc.size() && i < BW_ESCAPE_HOOKS; i++)
				if (policy.hooks[h].hook == esc[i] && !skel_->rodata->escape_rule_plus1[i])
					skel_->rodata->escape_rule_plus1[i] =
						static_cast<__u32>(policy.rules.size() + h + 1);
		int err = bulwark_bpf__load(skel_);
		if (err)
			throw Error("lsm: failed to load BPF programs", -err);
		fill_maps(policy);
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

void LsmLayer::fill_maps(const policy::Policy &policy)
{
	size_t nrules = policy.rules.size() + policy.hooks.size();
	if (nrules > BW_MAX_RULES)
		throw Error("lsm: policy has " + std::to_string(nrules) + " rules and hooks, the limit is " +
			    std::to_string(BW_MAX_RULES));

	// Per-rule record: mode, errno, which `when:` conditions apply.
	int rules_fd = bpf_map__fd(skel_->maps.rules);
	int exe_fd = bpf_map__fd(skel_->maps.when_exe);
	int uid_fd = bpf_map__fd(skel_->maps.when_uid);
	int cg_fd = bpf_map__fd(skel_->maps.when_cgroup);
	for (size_t i = 0; i < policy.rules.size(); i++) {
		const auto &r = policy.rules[i];
		__u32 key = static_cast<__u32>(i);
		bw_rule val{};
		val.flags = r.mode == policy::Mode::Audit ? BW_RULE_AUDIT : 0;
		val.errno_value = EPERM;
		if (!r.ports.empty() && !r.addresses.empty())
			val.flags |= BW_RULE_NEEDS_PORT | BW_RULE_NEEDS_ADDR;
		auto add_exe = [&](const policy::PathSpec &p, __u32 kind) {
			bw_when_exe_key k{};
			k.rule = key;
			k.kind = kind;
			char resolved[PATH_MAX];
			// Task exes are recorded as resolved paths.
			std::string path = realpath(p.path.c_str(), resolved) ? resolved : p.path;
			std::memcpy(k.path, path.data(), std::min(path.size(), sizeof(k.path) - 1));
			__u8 one = 1;
			update(exe_fd, &k, &one, "the when: exe map");
		};
		for (const auto &p : r.when.exe) {
			val.flags |= BW_RULE_WHEN_EXE;
			add_exe(p, 0);
		}
		for (const auto &p : r.when.parent_exe) {
			val.flags |= BW_RULE_WHEN_PARENT_EXE;
			add_exe(p, 1);
		}
		for (uint32_t uid : r.when.uid) {
			val.flags |= BW_RULE_WHEN_UID;
			bw_when_id_key k{key, 0, uid};
			__u8 one = 1;
			update(uid_fd, &k, &one, "the when: uid map");
		}
		for (const auto &cg : r.when.cgroup) {
			val.flags |= BW_RULE_WHEN_CGROUP;
			// On cgroup v2 the directory's inode number is the cgroup id.
			std::string dir = "/sys/fs/cgroup" + cg;
			struct stat st;
			if (stat(dir.c_str(), &st) != 0)
				throw Error("lsm: rule '" + r.id + "': cgroup " + cg + " cannot match (" + dir + ")", errno);
			bw_when_id_key k{key, 0, st.st_ino};
			__u8 one = 1;
			update(cg_fd, &k, &one, "the when: cgroup map");
		}
		update(rules_fd, &key, &val, "the rules map");
	}
	for (size_t h = 0; h < policy.hooks.size(); h++) {
		__u32 key = static_cast<__u32>(policy.rules.size() + h);
		bw_rule val{};
		val.flags = policy.hooks[h].mode == policy::Mode::Audit ? BW_RULE_AUDIT : 0;
		val.errno_value = static_cast<__u32>(policy.hooks[h].errno_value);
		update(rules_fd, &key, &val, "the rules map");
	}

	// Words, socket families, ports, addresses.
	std::map<int, bw_rules> words, families;
	std::map<std::pair<int, int>, bw_rules> ports;
	struct Prefix {
		bw_addr_key key;
		bw_rules rules;
	};
	std::vector<Prefix> prefixes;
	for (size_t i = 0; i < policy.rules.size(); i++) {
		const auto &r = policy.rules[i];
		if (r.verb != policy::Verb::Deny || r.kind != policy::RuleKind::Action)
			continue;
		for (const auto &w : r.words) {
			int wi = word_index(w);
			if (wi >= 0)
				slot_add(words[wi], i, "'" + w + "'");
			if (w == "socket")
				for (int f : r.families) {
					if (f < 0 || f >= BW_MAX_FAMILIES)
						throw Error("lsm: rule '" + r.id + "': family " + std::to_string(f) +
							    " out of range");
					slot_add(families[f], i, "socket family " + std::to_string(f));
				}
			if (w == "connect" || w == "bind") {
				int op = w == "connect" ? BW_NET_CONNECT : BW_NET_BIND;
				for (const auto &pr : r.ports)
					for (unsigned p = pr.lo; p <= pr.hi; p++)
						slot_add(ports[{op, static_cast<int>(p)}], i,
							 w + " port " + std::to_string(p));
				for (const auto &a : r.addresses) {
					Prefix px{};
					px.key.op = static_cast<__u16>(op);
					px.key.family = static_cast<__u16>(a.family);
					px.key.prefixlen = static_cast<__u32>(32 + a.prefix);
					std::memcpy(px.key.addr, a.bytes.data(), 16);
					slot_add(px.rules, i, w + " address " + a.text);
					prefixes.push_back(px);
				}
			}
		}
	}
	for (const auto &[w, rl] : words) {
		__u32 k = static_cast<__u32>(w);
		update(bpf_map__fd(skel_->maps.word_rules), &k, &rl, "the word map");
	}
	for (const auto &[f, rl] : families) {
		__u32 k = static_cast<__u32>(f);
		update(bpf_map__fd(skel_->maps.family_rules), &k, &rl, "the family map");
	}
	for (const auto &[op_port, rl] : ports) {
		bw_port_key k{static_cast<__u16>(op_port.first), static_cast<__u16>(op_port.second)};
		update(bpf_map__fd(skel_->maps.net_ports), &k, &rl, "the port map");
	}
	// An LPM trie returns only the longest matching prefix, so each prefix
	// carries the rules of every shorter prefix that contains it.
	auto contains = [](const bw_addr_key &outer, const bw_addr_key &inner) {
		if (outer.op != inner.op || outer.family != inner.family || outer.prefixlen > inner.prefixlen)
			return false;
		unsigned bits = outer.prefixlen - 32;
		for (unsigned b = 0; b < bits; b++) {
			unsigned mask = 0x80u >> (b % 8);
			if ((outer.addr[b / 8] & mask) != (inner.addr[b / 8] & mask))
				return false;
		}
		return true;
	};
	for (auto &inner : prefixes) {
		bw_rules merged = inner.rules;
		for (const auto &outer : prefixes)
			if (&outer != &inner && contains(outer.key, inner.key))
				for (__u32 r : outer.rules.rule_plus1)
					if (r)
						slot_add(merged, r - 1, "an address prefix");
		update(bpf_map__fd(skel_->maps.net_addrs), &inner.key, &merged, "the address map");
	}

	// Files: exact paths by identity and by resolved path; subtrees by the
	// directory's identity.
	std::map<std::string, bw_file_match> paths;
	std::map<std::pair<uint32_t, uint64_t>, bw_file_match> inodes, subtrees;
	for (size_t i = 0; i < policy.rules.size(); i++) {
		const auto &r = policy.rules[i];
		if (r.kind != policy::RuleKind::File)
			continue;
		bool allow = r.verb == policy::Verb::Allow;
		auto merge = [&](bw_file_match &m, const std::string &what) {
			if (allow) {
				m.allow_exec = 1;
				return;
			}
			for (int bit = 0; bit < 3; bit++)
				if (r.access & (1u << bit))
					slot_add(m.acc[bit], i, what);
		};
		for (const auto &p : r.paths) {
			if (p.kind == policy::PathKind::Glob)
				throw Error("lsm: rule '" + r.id + "': '" + p.path +
					    "': '*' patterns are not enforced by the LSM layer yet; refusing to "
					    "run without them");
			char resolved[PATH_MAX];
			bool exists = realpath(p.path.c_str(), resolved) != nullptr;
			struct stat st;
			if (p.kind == policy::PathKind::Subtree) {
				if (!exists || stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode))
					throw Error("lsm: rule '" + r.id + "': " + p.path +
						    "/** cannot match: not an existing directory when the policy loads");
				merge(subtrees[{kdev(st.st_dev), st.st_ino}], p.path + "/**");
				entries_.push_back({"subtree:" + std::string(resolved), r.access, i});
				continue;
			}
			merge(paths[p.path], p.path);
			entries_.push_back({"path:" + p.path, r.access, i});
			// The kernel reports resolved paths, so /bin/sh must be
			// stored as what it resolves to now (/usr/bin/dash).
			if (exists && p.path != resolved) {
				if (strlen(resolved) >= BW_PATH_MAX)
					throw Error("lsm: " + p.path + " resolves to a path longer than " +
						    std::to_string(BW_PATH_MAX - 1) + " bytes: " + resolved);
				merge(paths[resolved], resolved);
				entries_.push_back({std::string("path:") + resolved, r.access, i});
			}
			if (exists && stat(resolved, &st) == 0) {
				merge(inodes[{kdev(st.st_dev), st.st_ino}], p.path);
				entries_.push_back({"inode:" + std::to_string(major(st.st_dev)) + ":" +
							    std::to_string(minor(st.st_dev)) + ":" +
							    std::to_string(st.st_ino),
						    r.access, i});
			}
		}
	}
	int paths_fd = bpf_map__fd(skel_->maps.file_paths);
	for (const auto &[path, match] : paths) {
		bw_path_key key{};
		std::memcpy(key.path, path.data(), std::min(path.size(), sizeof(key.path) - 1));
		update(paths_fd, &key, &match, "the path map with " + path);
	}
	for (auto *m : {&inodes, &subtrees}) {
		int fd = bpf_map__fd(m == &inodes ? skel_->maps.file_inodes : skel_->maps.file_subtrees);
		for (const auto &[id, match] : *m) {
			bw_inode_key key{};
			key.dev = id.first;
			key.ino = id.second;
			update(fd, &key, &match, "the inode map");
		}
	}
}

void LsmLayer::confine(pid_t pid)
{
	Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
	if (!pidfd)
		throw Error("lsm: pidfd_open(" + std::to_string(pid) + ")", errno);
	bw_task val{};
	val.confined = 1;
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
	return skel_->bss->dropped_events;
}

} // namespace bulwark
