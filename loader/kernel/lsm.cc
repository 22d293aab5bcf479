// SPDX-License-Identifier: Apache-2.0
#include "loader/kernel/lsm.h"
#include "loader/kernel/probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <linux/membarrier.h>
#include <linux/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

extern "C" {
#include "bulwark.h"
}
#include "bulwark.skel.h"
#include "policy/catalog.h"
#include <bpf/btf.h>

namespace bulwark {

const char *hook_name(uint32_t hook)
{
	const policy::HookInfo *h = policy::find_hook(hook);
	return h ? h->name : "unknown";
}

std::string LsmLayer::lsm_inactive_reason()
{
	return lsm_kernel_reason();
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	if (getenv("BULWARK_LIBBPF_QUIET") && level == LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, args);
}

const btf *vmlinux_btf()
{
	// Parsed once: doctor and explain ask about every hook, and each parse
	// reads several MiB. Kept for the life of the process.
	static btf *vmlinux = btf__load_vmlinux_btf();
	return vmlinux;
}

// Number of parameters of an LSM hook in the running kernel's BTF, or -1.
int hook_arity(const std::string &hook)
{
	const btf *vmlinux = vmlinux_btf();
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

// The LSM hook a program attaches to ("" for the tracepoints).
std::string prog_hook(const bpf_program *prog)
{
	std::string sec = bpf_program__section_name(prog);
	return sec.rfind("lsm/", 0) == 0 ? sec.substr(4) : "";
}

} // namespace

bool hook_needed(const std::string &hook, const LsmNeeds &n)
{
	// Confinement follows fork and exec, and the supervisor is guarded,
	// whatever the policy says.
	static const char *const always[] = {"task_alloc", "bprm_committed_creds", "task_kill", "ptrace_access_check"};
	if (n.all)
		return true;
	for (const char *a : always)
		if (hook == a)
			return true;
	// Each word's hooks are the catalog's; file words count for deny rules
	// only (file_access), an `allow: exec` list through exec_allow_list.
	auto used = [&](const policy::WordInfo &w) {
		std::string_view name = w.name;
		if (name == "read")
			return (n.file_access & BW_ACC_READ) != 0;
		if (name == "write")
			return (n.file_access & BW_ACC_WRITE) != 0;
		if (name == "exec")
			return (n.file_access & BW_ACC_EXEC) != 0;
		return n.words.count(w.name) > 0;
	};
	for (const auto &w : policy::words())
		if (used(w))
			for (const char *h : w.hooks)
				if (hook == h)
					return true;
	// The exec allow-list trusts resolved paths: a new root (pivot_root,
	// chroot) would let the sandbox forge them.
	if (n.exec_allow_list && (hook == "bprm_check_security" || hook == "sb_pivotroot" || hook == "path_chroot"))
		return true;
	return n.escape_hooks.count(hook) > 0;
}

namespace {

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
		bool load = opts.lsm && hook_needed(prog_hook(prog), needs);
		// --allow-degraded: hooks this kernel lacks are left out, said
		// at start-up.
		std::string sec = bpf_program__section_name(prog);
		if (sec.rfind("lsm/", 0) == 0 && needs.skip_hooks.count(sec.substr(4)))
			load = false;
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
			needed |= opts.lsm && hook_needed(hook, needs) && !needs.skip_hooks.count(hook);
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

namespace {

// bpffs names: "map_<name>" for every map, "link_<program>" for every link.
std::string pin_name(const std::string &map_name)
{
	std::string n = "map_" + map_name;
	for (char &c : n)
		if (c == '.')
			c = '_';
	return n;
}

int *map_slot(LsmMaps &m, const std::string &name)
{
	struct {
		const char *n;
		int LsmMaps::*f;
	} t[] = {{"bw_config", &LsmMaps::config},
		 {"gens", &LsmMaps::gens},
		 {"rules", &LsmMaps::rules},
		 {"word_rules", &LsmMaps::word_rules},
		 {"family_rules", &LsmMaps::family_rules},
		 {"file_paths", &LsmMaps::file_paths},
		 {"file_inodes", &LsmMaps::file_inodes},
		 {"file_subtrees", &LsmMaps::file_subtrees},
		 {"file_globs", &LsmMaps::file_globs},
		 {"glob_dirs", &LsmMaps::glob_dirs},
		 {"when_exe", &LsmMaps::when_exe},
		 {"when_uid", &LsmMaps::when_uid},
		 {"when_cgroup", &LsmMaps::when_cgroup},
		 {"net_ports", &LsmMaps::net_ports},
		 {"net_addrs", &LsmMaps::net_addrs},
		 {"tasks", &LsmMaps::tasks},
		 {"events", &LsmMaps::events},
		 {"rule_hits", &LsmMaps::rule_hits}};
	for (auto &e : t)
		if (name == e.n)
			return &(m.*(e.f));
	// The skeleton's .bss map is named "<object>.bss" (truncated).
	if (name.size() >= 4 && name.compare(name.size() - 4, 4, ".bss") == 0)
		return &m.bss;
	return nullptr;
}

LsmMaps maps_of(bulwark_bpf *skel)
{
	LsmMaps m;
	bpf_map *map;
	bpf_object__for_each_map(map, skel->obj)
	{
		if (int *slot = map_slot(m, bpf_map__name(map)))
			*slot = bpf_map__fd(map);
	}
	return m;
}

// Offset of dropped_events in the .bss value, for reading it through a pin.
size_t dropped_offset()
{
	using Bss = std::remove_pointer_t<decltype(bulwark_bpf::bss)>;
	return offsetof(Bss, dropped_events);
}

template <typename Key> void delete_where(int fd, const std::function<bool(const Key &)> &pred, const char *what)
{
	std::vector<Key> doomed;
	Key k{}, next{};
	const void *prev = nullptr;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (pred(next))
			doomed.push_back(next);
		k = next;
		prev = &k;
	}
	for (const auto &d : doomed)
		if (bpf_map_delete_elem(fd, &d) && errno != ENOENT)
			throw Error(std::string("lsm: failed to clear an old entry of the ") + what + " map", errno);
}

void clear_generation(const LsmMaps &m, uint32_t gen)
{
	bw_rules empty{};
	for (uint32_t w = 0; w < BW_WORD_COUNT; w++) {
		__u32 k = gen * BW_WORD_COUNT + w;
		update(m.word_rules, &k, &empty, "the word map");
	}
	for (uint32_t f = 0; f < BW_MAX_FAMILIES; f++) {
		__u32 k = gen * BW_MAX_FAMILIES + f;
		update(m.family_rules, &k, &empty, "the family map");
	}
	bw_glob g{};
	for (uint32_t i = 0; i < BW_MAX_GLOBS; i++) {
		__u32 k = gen * BW_MAX_GLOBS + i;
		update(m.file_globs, &k, &g, "the glob map");
	}
	auto rule_gen = [](uint32_t rule) { return rule / BW_MAX_RULES; };
	delete_where<bw_path_key>(
		m.file_paths, [&](const bw_path_key &k) { return (uint8_t)k.path[BW_PATH_MAX - 1] == gen; }, "path");
	delete_where<bw_path_key>(
		m.glob_dirs, [&](const bw_path_key &k) { return (uint8_t)k.path[BW_PATH_MAX - 1] == gen; },
		"glob directory");
	delete_where<bw_inode_key>(
		m.file_inodes, [&](const bw_inode_key &k) { return k.pad == gen; }, "inode");
	delete_where<bw_inode_key>(
		m.file_subtrees, [&](const bw_inode_key &k) { return k.pad == gen; }, "subtree");
	delete_where<bw_when_exe_key>(
		m.when_exe, [&](const bw_when_exe_key &k) { return rule_gen(k.rule) == gen; }, "when: exe");
	delete_where<bw_when_id_key>(
		m.when_uid, [&](const bw_when_id_key &k) { return rule_gen(k.rule) == gen; }, "when: uid");
	delete_where<bw_when_id_key>(
		m.when_cgroup, [&](const bw_when_id_key &k) { return rule_gen(k.rule) == gen; }, "when: cgroup");
	delete_where<bw_port_key>(
		m.net_ports, [&](const bw_port_key &k) { return (k.op >> BW_GEN_SHIFT_OP) == gen; }, "port");
	delete_where<bw_addr_key>(
		m.net_addrs, [&](const bw_addr_key &k) { return (k.op >> BW_GEN_SHIFT_OP) == gen; }, "address");
}

// Rule numbers in slots are absolute: generation gen's rules live at
// gen * BW_MAX_RULES + index.
bw_rules shift(bw_rules rl, uint32_t gen)
{
	for (auto &r : rl.rule_plus1)
		if (r)
			r += gen * BW_MAX_RULES;
	return rl;
}

bw_file_match shift(bw_file_match m, uint32_t gen)
{
	for (auto &a : m.acc)
		a = shift(a, gen);
	return m;
}

} // namespace

std::map<uint32_t, std::pair<uint64_t, uint64_t>> read_counters(int fd, uint32_t gen, size_t n)
{
	std::map<uint32_t, std::pair<uint64_t, uint64_t>> out;
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0 || fd < 0)
		return out;
	std::vector<bw_counter> vals(static_cast<size_t>(ncpu));
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
		read(gen * BW_MAX_RULES + k, k);
	for (__u32 b = 0; b < BW_COUNTERS - BW_MAX_RULES * BW_GENS; b++)
		read(BW_MAX_RULES * BW_GENS + b, BW_RULE_BUILTIN_BASE + b);
	return out;
}

// A generation's hit counters start at zero for the policy written into it.
void zero_counters(int fd, uint32_t gen, size_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0 || fd < 0)
		return;
	std::vector<bw_counter> zero(static_cast<size_t>(ncpu));
	for (__u32 k = 0; k < n && k < BW_MAX_RULES; k++) {
		__u32 slot = gen * BW_MAX_RULES + k;
		update(fd, &slot, zero.data(), "the rule counters");
	}
}

uint64_t read_dropped(int bss_fd)
{
	if (bss_fd < 0)
		return 0;
	bpf_map_info info{};
	__u32 len = sizeof(info);
	if (bpf_obj_get_info_by_fd(bss_fd, &info, &len) || info.value_size < dropped_offset() + sizeof(uint64_t))
		return 0;
	std::vector<char> v(info.value_size);
	__u32 zero = 0;
	if (bpf_map_lookup_elem(bss_fd, &zero, v.data()))
		return 0;
	uint64_t n;
	std::memcpy(&n, v.data() + dropped_offset(), sizeof(n));
	return n;
}

uint64_t fnv1a(const std::string &text)
{
	uint64_t h = 1469598103934665603ull;
	for (unsigned char c : text) {
		h ^= c;
		h *= 1099511628211ull;
	}
	return h;
}

void write_generation(const LsmMaps &m, const LsmPlan &plan, uint32_t gen, const std::string &policy_path,
		      uint64_t policy_hash)
{
	if (gen >= BW_GENS)
		throw Error("lsm: generation " + std::to_string(gen) + " out of range");
	clear_generation(m, gen);
	{
		bw_gen old{};
		if (bpf_map_lookup_elem(m.gens, &gen, &old) == 0)
			zero_counters(m.rule_hits, gen, std::max<size_t>(old.nrules, plan.rules.size()));
	}
	const uint32_t rbase = gen * BW_MAX_RULES;
	for (size_t i = 0; i < plan.rules.size(); i++) {
		__u32 k = static_cast<__u32>(rbase + i);
		update(m.rules, &k, &plan.rules[i], "the rules map");
	}
	__u8 one = 1;
	for (auto k : plan.when_exe) {
		k.rule += rbase;
		update(m.when_exe, &k, &one, "the when: exe map");
	}
	for (auto k : plan.when_uid) {
		k.rule += rbase;
		update(m.when_uid, &k, &one, "the when: uid map");
	}
	for (auto k : plan.when_cgroup) {
		k.rule += rbase;
		update(m.when_cgroup, &k, &one, "the when: cgroup map");
	}
	for (const auto &[w, rl] : plan.words) {
		__u32 k = gen * BW_WORD_COUNT + static_cast<__u32>(w);
		bw_rules v = shift(rl, gen);
		update(m.word_rules, &k, &v, "the word map");
	}
	for (const auto &[f, rl] : plan.families) {
		__u32 k = gen * BW_MAX_FAMILIES + static_cast<__u32>(f);
		bw_rules v = shift(rl, gen);
		update(m.family_rules, &k, &v, "the family map");
	}
	for (auto [k, rl] : plan.ports) {
		k.op = static_cast<__u16>(k.op | gen << BW_GEN_SHIFT_OP);
		bw_rules v = shift(rl, gen);
		update(m.net_ports, &k, &v, "the port map");
	}
	for (auto [k, rl] : plan.addrs) {
		k.op = static_cast<__u16>(k.op | gen << BW_GEN_SHIFT_OP);
		bw_rules v = shift(rl, gen);
		update(m.net_addrs, &k, &v, "the address map");
	}
	for (const auto &[path, match] : plan.paths) {
		bw_path_key key{};
		std::memcpy(key.path, path.data(), std::min(path.size(), sizeof(key.path) - 1));
		key.path[BW_PATH_MAX - 1] = static_cast<char>(gen);
		bw_file_match v = shift(match, gen);
		update(m.file_paths, &key, &v, "the path map with " + path);
	}
	for (const auto &[id, match] : plan.inodes) {
		bw_inode_key key{id.second, id.first, gen};
		bw_file_match v = shift(match, gen);
		update(m.file_inodes, &key, &v, "the inode map");
	}
	for (size_t i = 0; i < plan.globs.size(); i++) {
		__u32 k = static_cast<__u32>(gen * BW_MAX_GLOBS + i);
		bw_glob g{};
		std::memcpy(g.pat, plan.globs[i].first.data(), std::min(plan.globs[i].first.size(), sizeof(g.pat) - 1));
		g.m = shift(plan.globs[i].second, gen);
		update(m.file_globs, &k, &g, "the glob map");
	}
	for (auto [dir, gl] : plan.glob_dirs) {
		bw_path_key key{};
		std::memcpy(key.path, dir.data(), std::min(dir.size(), sizeof(key.path) - 1));
		key.path[BW_PATH_MAX - 1] = static_cast<char>(gen);
		for (auto &v : gl.idx_plus1)
			if (v)
				v += gen * BW_MAX_GLOBS;
		update(m.glob_dirs, &key, &gl, "the glob directory map");
	}
	for (const auto &[id, match] : plan.subtrees) {
		bw_inode_key key{id.second, id.first, gen};
		bw_file_match v = shift(match, gen);
		update(m.file_subtrees, &key, &v, "the subtree map");
	}
	bw_gen g{};
	g.exec_default_deny = plan.exec_default_deny ? 1 : 0;
	g.have_subtrees = plan.subtrees.empty() ? 0 : 1;
	g.have_globs = plan.globs.empty() ? 0 : 1;
	g.nrules = static_cast<__u32>(plan.rules.size());
	for (size_t i = 0; i < BW_ESCAPE_HOOKS; i++)
		g.escape_rule_plus1[i] = plan.escape_rule_plus1[i] ? plan.escape_rule_plus1[i] + gen * BW_MAX_RULES : 0;
	g.policy_hash = policy_hash;
	timespec ts{};
	clock_gettime(CLOCK_REALTIME, &ts);
	g.loaded_ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
	std::memcpy(g.policy_path, policy_path.data(), std::min(policy_path.size(), sizeof(g.policy_path) - 1));
	update(m.gens, &gen, &g, "the generation map");
}

void activate_generation(const LsmMaps &m, uint32_t gen)
{
	bw_config cfg = m.read_config();
	cfg.active_gen = gen;
	__u32 zero = 0;
	update(m.config, &zero, &cfg, "the config map (generation switch)");
	// Non-sleepable LSM programs run inside rcu_read_lock(); a global
	// membarrier is a synchronize_rcu(), so when it returns no invocation
	// that read the old generation is still running, and the caller may
	// rewrite it.
	// On one CPU the kernel skips that wait (returning to user space is a
	// quiescent state without preemption, not with it): wait anyway.
	if (sysconf(_SC_NPROCESSORS_ONLN) <= 1)
		usleep(100 * 1000);
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0) {
		int err = errno;
		// Without it (nohz_full kernels refuse it), wait far longer than
		// any hook runs.
		std::fprintf(stderr,
			     "enforce: membarrier(GLOBAL) failed (%s); waiting 200 ms for running hooks instead\n",
			     std::strerror(err));
		usleep(200 * 1000);
	}
}

uint32_t replace_policy(const LsmMaps &m, const policy::Policy &policy, const std::string &policy_path,
			uint64_t policy_hash)
{
	LsmPlan plan = plan_lsm(policy);
	for (const auto &w : plan.warnings)
		std::fprintf(stderr, "%s\n", w.c_str());
	bw_config cfg = m.read_config();
	uint32_t next = (cfg.active_gen & 1) ^ 1;
	write_generation(m, plan, next, policy_path, policy_hash);
	activate_generation(m, next);
	return next;
}

bw_config LsmMaps::read_config() const
{
	bw_config cfg{};
	__u32 zero = 0;
	if (bpf_map_lookup_elem(config, &zero, &cfg))
		throw Error("lsm: failed to read the config map", errno);
	return cfg;
}

bw_gen LsmMaps::read_gen(uint32_t gen) const
{
	bw_gen g{};
	if (bpf_map_lookup_elem(gens, &gen, &g))
		throw Error("lsm: failed to read generation " + std::to_string(gen), errno);
	return g;
}

LsmMaps LsmMaps::open_pinned(const std::string &dir)
{
	LsmMaps m;
	DIR *d = opendir(dir.c_str());
	if (!d)
		throw Error("enforce: cannot open pin directory " + dir, errno);
	std::vector<std::string> names;
	while (dirent *e = readdir(d))
		if (std::strncmp(e->d_name, "map_", 4) == 0)
			names.push_back(e->d_name);
	closedir(d);
	for (const auto &n : names) {
		std::string map = n.substr(4);
		// Pins replaced '.' by '_': "bulwark_bss" is the .bss map.
		if (map.size() >= 4 && map.compare(map.size() - 4, 4, "_bss") == 0)
			map = map.substr(0, map.size() - 4) + ".bss";
		int *slot = map_slot(m, map);
		if (!slot)
			continue;
		int fd = bpf_obj_get((dir + "/" + n).c_str());
		if (fd < 0)
			throw Error("enforce: bpf_obj_get(" + dir + "/" + n + ")", errno);
		m.owned.emplace_back(fd);
		*slot = fd;
	}
	for (int fd : {m.config, m.gens, m.rules, m.word_rules, m.family_rules, m.file_paths, m.file_inodes,
		       m.file_subtrees, m.file_globs, m.glob_dirs, m.when_exe, m.when_uid, m.when_cgroup, m.net_ports,
		       m.net_addrs, m.tasks, m.events})
		if (fd < 0)
			throw Error("enforce: " + dir + " does not hold a complete bulwark pin set (a map is missing)");
	bw_config cfg = m.read_config();
	if (cfg.magic != BW_MAGIC || cfg.version != BW_LAYOUT_VERSION)
		throw Error("enforce: " + dir +
			    " holds BPF maps that are not bulwark's (or of another layout version)");
	return m;
}

std::vector<std::string> unpin_all(const std::string &dir)
{
	std::vector<std::string> removed;
	DIR *d = opendir(dir.c_str());
	if (!d) {
		if (errno == ENOENT)
			return removed;
		throw Error("enforce: cannot open pin directory " + dir, errno);
	}
	std::vector<std::string> names;
	while (dirent *e = readdir(d))
		if (std::strncmp(e->d_name, "map_", 4) == 0 || std::strncmp(e->d_name, "link_", 5) == 0)
			names.push_back(e->d_name);
	closedir(d);
	// Links first: each detaches when its pin (the last reference, once
	// no enforcer holds it) goes.
	std::sort(names.begin(), names.end(), [](const std::string &a, const std::string &b) {
		bool la = a[0] == 'l', lb = b[0] == 'l';
		return la != lb ? la : a < b;
	});
	for (const auto &n : names) {
		if (unlink((dir + "/" + n).c_str()) != 0)
			throw Error("enforce: unlink " + dir + "/" + n, errno);
		removed.push_back(n);
	}
	if (rmdir(dir.c_str()) != 0 && errno != ENOENT)
		throw Error("enforce: rmdir " + dir + " (something other than bulwark's pins is in it?)", errno);
	return removed;
}

LsmLayer::LsmLayer(const policy::Policy &policy, EventFn on_event, BpfOptions opts, const LsmEnforce *enforce)
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
	std::string pin_dir = enforce ? enforce->pin_dir : "";
	bool created_dir = false;
	try {
		LsmNeeds needs = plan_.needs;
		// Enforce mode attaches every LSM program, so a reload never needs
		// a re-attach: any policy's hooks are already in place. It has no
		// seccomp layer, so none of the syscall tracepoints.
		if (enforce) {
			needs.all = true;
			needs.skip_hooks = enforce->skip_hooks;
			opts_.lsm = true;
			opts_.trace = false;
		}
		select_programs(skel_, needs, opts_);
		skel_->rodata->trace_propagates = opts_.lsm ? 0 : 1;
		if (opts_.ringbuf_bytes && bpf_map__set_max_entries(skel_->maps.events, opts_.ringbuf_bytes))
			throw Error("lsm: ring buffer size " + std::to_string(opts_.ringbuf_bytes) +
					    " refused (a power of two, at least a page)",
				    errno);
		skel_->rodata->dynamic_gen = enforce ? 1 : 0;
		skel_->rodata->static_exec_default_deny = plan_.exec_default_deny ? 1 : 0;
		skel_->rodata->static_have_subtrees = plan_.subtrees.empty() ? 0 : 1;
		skel_->rodata->static_have_globs = plan_.globs.empty() ? 0 : 1;
		int err = bulwark_bpf__load(skel_);
		if (err)
			throw Error("lsm: failed to load BPF programs", -err);
		maps_ = maps_of(skel_);
		bw_config cfg{};
		cfg.magic = BW_MAGIC;
		cfg.version = BW_LAYOUT_VERSION;
		cfg.active_gen = 0;
		cfg.supervisor_tgid = static_cast<__u32>(getpid());
		if (enforce) {
			cfg.scope = enforce->scope.kind;
			cfg.protect = 1;
			cfg.cgroup_id = enforce->scope.cgroup_id;
			cfg.cgroup_level = enforce->scope.cgroup_level;
			cfg.exe_dev = enforce->scope.exe_dev;
			cfg.exe_ino = enforce->scope.exe_ino;
			std::memcpy(cfg.scope_path, enforce->scope.path.data(),
				    std::min(enforce->scope.path.size(), sizeof(cfg.scope_path) - 1));
		}
		write_generation(maps_, plan_, 0, enforce ? enforce->policy_path : "",
				 enforce ? enforce->policy_hash : 0);
		__u32 zero = 0;
		update(maps_.config, &zero, &cfg, "the config map");
		open_ring();
		if (!pin_dir.empty()) {
			if (mkdir(pin_dir.c_str(), 0700) == 0)
				created_dir = true;
			else if (errno != EEXIST)
				throw Error("enforce: mkdir " + pin_dir, errno);
		}
		attach_all(pin_dir);
		if (!pin_dir.empty()) {
			// Maps after links, the config map last: its pin is what a
			// restarted enforcer takes as "a complete set is in force",
			// so an enforcer killed while attaching leaves none.
			std::vector<bpf_map *> order;
			bpf_map *map, *config = nullptr;
			bpf_object__for_each_map(map, skel_->obj)
			{
				if (pin_name(bpf_map__name(map)) == "map_bw_config")
					config = map;
				else
					order.push_back(map);
			}
			if (config)
				order.push_back(config);
			for (bpf_map *m : order) {
				std::string path = pin_dir + "/" + pin_name(bpf_map__name(m));
				if (bpf_map__pin(m, path.c_str()))
					throw Error("enforce: failed to pin map " + path, errno);
				my_pins_.push_back(path);
			}
		}
		pinned_ = !pin_dir.empty();
	} catch (...) {
		if (rb_)
			ring_buffer__free(rb_);
		rb_ = nullptr;
		bulwark_bpf__destroy(skel_);
		skel_ = nullptr;
		// Nothing half-applied: a pin left behind would keep programs
		// attached after this failure.
		// Only what this run pinned: the directory may hold another
		// set (the caller's lock keeps enforcers apart; this is the
		// second line).
		for (const auto &p : my_pins_)
			unlink(p.c_str());
		my_pins_.clear();
		if (created_dir)
			rmdir(pin_dir.c_str());
		throw;
	}
}

LsmLayer::LsmLayer(const std::string &pin_dir, EventFn on_event) : on_event_(std::move(on_event))
{
	libbpf_set_print(quiet_print);
	maps_ = LsmMaps::open_pinned(pin_dir);
	open_ring();
	pinned_ = true;
	// The new enforcer is the one confined tasks must leave alone.
	bw_config cfg = maps_.read_config();
	cfg.supervisor_tgid = static_cast<__u32>(getpid());
	__u32 zero = 0;
	update(maps_.config, &zero, &cfg, "the config map (supervisor)");
	DIR *d = opendir(pin_dir.c_str());
	if (d) {
		while (dirent *e = readdir(d))
			attached_ += std::strncmp(e->d_name, "link_", 5) == 0;
		closedir(d);
	}
	if (!attached_) {
		ring_buffer__free(rb_);
		rb_ = nullptr;
		throw Error("enforce: " + pin_dir + " holds bulwark's maps but no pinned links: nothing is attached");
	}
}

void LsmLayer::open_ring()
{
	rb_ = ring_buffer__new(
		maps_.events,
		[](void *ctx, void *data, size_t size) -> int {
			auto *self = static_cast<LsmLayer *>(ctx);
			if (size >= sizeof(bw_event))
				self->on_event_(*static_cast<const bw_event *>(data));
			// A negative return stops libbpf after this record; the
			// rest stay queued for the next pass.
			return ++self->consumed_ >= self->budget_ ? -E2BIG : 0;
		},
		this, nullptr);
	if (!rb_)
		throw Error("lsm: failed to create ring buffer reader", errno);
}

LsmLayer::~LsmLayer()
{
	if (rb_)
		ring_buffer__free(rb_);
	// Destroying the skeleton closes the links: every program detaches,
	// unless a pin holds it.
	if (skel_)
		bulwark_bpf__destroy(skel_);
}

void LsmLayer::attach_all(const std::string &pin_dir)
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
		if (!pin_dir.empty()) {
			std::string path = pin_dir + "/link_" + bpf_program__name(prog);
			if (bpf_link__pin(link, path.c_str()))
				throw Error("enforce: failed to pin link " + path, errno);
			my_pins_.push_back(path);
		}
		attached_++;
	}
}

bool LsmLayer::confine(pid_t pid)
{
	Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
	if (!pidfd)
		throw Error("lsm: pidfd_open(" + std::to_string(pid) + ")", errno);
	bw_task val{};
	val.confined = BW_TASK_STICKY;
	// It is inside a syscall right now (waiting to be released).
	val.sys_state = BW_SYS_UNKNOWN;
	// Task storage is keyed by pidfd from user space.
	int key = pidfd.get();
	if (bpf_map_update_elem(maps_.tasks, &key, &val, BPF_NOEXIST)) {
		if (errno == EEXIST)
			return false;
		throw Error("lsm: failed to mark pid " + std::to_string(pid) + " as confined", errno);
	}
	return true;
}

int LsmLayer::poll_fd() const
{
	return ring_buffer__epoll_fd(rb_);
}

int LsmLayer::consume(size_t budget)
{
	consumed_ = 0;
	budget_ = budget ? budget : SIZE_MAX;
	int n = ring_buffer__consume(rb_);
	return n == -E2BIG ? static_cast<int>(consumed_) : n;
}

uint64_t LsmLayer::dropped() const
{
	if (skel_)
		return skel_->bss->dropped_events;
	return read_dropped(maps_.bss);
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
	return read_counters(maps_.rule_hits, 0, n);
}

} // namespace bulwark

namespace bulwark {

bool have_vmlinux_btf()
{
	return vmlinux_btf() != nullptr;
}

bool hook_exists(const std::string &hook)
{
	return hook_arity(hook) >= 0;
}

std::vector<std::string> hooks_needed(const LsmNeeds &needs)
{
	std::set<std::string> hooks;
	libbpf_print_fn_t old = libbpf_set_print(nullptr);
	bulwark_bpf *skel = bulwark_bpf__open();
	libbpf_set_print(old);
	if (!skel)
		throw Error("lsm: failed to open BPF object", errno);
	// The arity-specific variants are chosen in select_programs(); here
	// every program the policy needs counts, by hook name.
	bpf_program *prog;
	bpf_object__for_each_program(prog, skel->obj)
	{
		std::string hook = prog_hook(prog);
		if (!hook.empty() && hook_needed(hook, needs))
			hooks.insert(hook);
	}
	bulwark_bpf__destroy(skel);
	return {hooks.begin(), hooks.end()};
}

std::vector<LsmHookState> lsm_hook_states()
{
	LsmNeeds all;
	all.all = true;
	std::vector<LsmHookState> out;
	for (const auto &h : hooks_needed(all)) {
		LsmHookState st{h, hook_arity(h), false};
		bool has_variants = false;
		for (const auto &v : kVariants)
			if (h == v.hook) {
				has_variants = true;
				st.usable |= st.kernel_args == v.arity;
			}
		if (!has_variants)
			st.usable = st.kernel_args >= 0;
		out.push_back(st);
	}
	return out;
}

} // namespace bulwark
