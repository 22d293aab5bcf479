// SPDX-License-Identifier: Apache-2.0
// Rule generations: writing a plan into the maps (two generations side by
// side, bulwark.h), switching between them, the per-rule counters, and the
// map fds themselves, from a skeleton or from pins.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <type_traits>

#include "loader/kernel/objects.h"

extern "C" {
#include "bulwark.h"
}
#include "bulwark.skel.h"

namespace bulwark {

void update(int fd, const void *key, const void *val, const std::string &what)
{
	if (bpf_map_update_elem(fd, key, val, BPF_ANY))
		throw Error("lsm: failed to fill " + what, errno);
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
		 {"rule_hits", &LsmMaps::rule_hits},
		 {"sandboxes", &LsmMaps::sandboxes},
		 {"policy_gen", &LsmMaps::policy_gen},
		 {"supervisors", &LsmMaps::supervisors},
		 {"scope_keys", &LsmMaps::scope_keys}};
	for (auto &e : t)
		if (name == e.n)
			return &(m.*(e.f));
	// The skeleton's .bss map is named "<object>.bss" (truncated).
	if (name.size() >= 4 && name.compare(name.size() - 4, 4, ".bss") == 0)
		return &m.bss;
	return nullptr;
}

void add_maps(LsmMaps &m, bpf_object *obj)
{
	bpf_map *map;
	bpf_object__for_each_map(map, obj)
	{
		int *slot = map_slot(m, bpf_map__name(map));
		if (slot && *slot < 0)
			*slot = bpf_map__fd(map);
	}
}

namespace {

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

std::map<uint32_t, std::pair<uint64_t, uint64_t>> read_counters(int fd, uint32_t slot, size_t n)
{
	std::map<uint32_t, std::pair<uint64_t, uint64_t>> out;
	if (fd < 0)
		return out;
	auto read = [&](__u32 k, uint32_t rule) {
		bw_counter v{};
		if (bpf_map_lookup_elem(fd, &k, &v) == 0 && (v.deny || v.audit))
			out[rule] = {v.deny, v.audit};
	};
	const __u32 base = slot * BW_MAX_RULES;
	for (__u32 k = 0; k < n && k < BW_MAX_RULES - BW_BUILTIN_SLOTS; k++)
		read(base + k, k);
	for (__u32 b = 0; b < BW_BUILTIN_SLOTS; b++)
		read(base + BW_MAX_RULES - BW_BUILTIN_SLOTS + b, BW_RULE_BUILTIN_BASE + b);
	return out;
}

// A slot's hit counters start at zero for the policy written into it.
void zero_counters(int fd, uint32_t slot, size_t n)
{
	if (fd < 0)
		return;
	bw_counter zero{};
	for (__u32 k = 0; k < n && k < BW_MAX_RULES - BW_BUILTIN_SLOTS; k++) {
		__u32 i = slot * BW_MAX_RULES + k;
		update(fd, &i, &zero, "the rule counters");
	}
	for (__u32 b = 0; b < BW_BUILTIN_SLOTS; b++) {
		__u32 i = slot * BW_MAX_RULES + BW_MAX_RULES - BW_BUILTIN_SLOTS + b;
		update(fd, &i, &zero, "the rule counters");
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

namespace {

// Rules and their `when:` sets, at absolute rule numbers.
void write_rules(const LsmMaps &m, const LsmPlan &plan, uint32_t gen)
{
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
}

// Words, socket families, ports and addresses.
void write_slots(const LsmMaps &m, const LsmPlan &plan, uint32_t gen)
{
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
}

// A path key carries its generation in its last byte.
bw_path_key path_key(const std::string &path, uint32_t gen)
{
	bw_path_key key{};
	std::memcpy(key.path, path.data(), std::min(path.size(), sizeof(key.path) - 1));
	key.path[BW_PATH_MAX - 1] = static_cast<char>(gen);
	return key;
}

// Exact paths and files, subtrees, and `*` patterns with their directories.
void write_files(const LsmMaps &m, const LsmPlan &plan, uint32_t gen)
{
	for (const auto &[path, match] : plan.paths) {
		bw_path_key key = path_key(path, gen);
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
		bw_path_key key = path_key(dir, gen);
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
}

// The generation's settings, written last: a hook reads them first.
void write_settings(const LsmMaps &m, const LsmPlan &plan, uint32_t gen, const std::string &policy_path,
		    uint64_t policy_hash)
{
	bw_gen g{};
	g.default_deny = plan.default_deny;
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

} // namespace

void write_generation(const LsmMaps &m, const LsmPlan &plan, uint32_t gen, const std::string &policy_path,
		      uint64_t policy_hash)
{
	if (gen >= BW_GENS * BW_MAX_POLICIES)
		throw Error("lsm: generation slot " + std::to_string(gen) + " out of range");
	clear_generation(m, gen);
	bw_gen old{};
	if (bpf_map_lookup_elem(m.gens, &gen, &old) == 0)
		zero_counters(m.rule_hits, gen, std::max<size_t>(old.nrules, plan.rules.size()));
	write_rules(m, plan, gen);
	write_slots(m, plan, gen);
	write_files(m, plan, gen);
	write_settings(m, plan, gen, policy_path, policy_hash);
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

} // namespace bulwark
