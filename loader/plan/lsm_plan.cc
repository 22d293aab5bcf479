// SPDX-License-Identifier: Apache-2.0
#include "loader/plan/lsm_plan.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "loader/kernel/fd.h"
#include "policy/catalog.h"

namespace bulwark {

// What the parser checks and what the maps hold must agree.
static_assert(policy::AccessRead == BW_ACC_READ && policy::AccessWrite == BW_ACC_WRITE &&
		      policy::AccessExec == BW_ACC_EXEC,
	      "policy::Access and BW_ACC_* are the same bits");
static_assert(policy::kMaxPathLength + 1 == BW_PATH_MAX, "a policy path and its NUL fill a path key exactly");

namespace {

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
		{"mount", BW_WORD_MOUNT},         {"ptrace", BW_WORD_PTRACE},
		{"kernel-modules", BW_WORD_KMOD}, {"bpf", BW_WORD_BPF},
		{"perf", BW_WORD_PERF},           {"kexec", BW_WORD_KEXEC},
		{"keyring", BW_WORD_KEYRING},     {"user-namespaces", BW_WORD_USERNS},
		{"setuid", BW_WORD_SETUID},       {"raw-sockets", BW_WORD_RAWSOCK},
	};
	auto it = idx.find(w);
	return it == idx.end() ? -1 : it->second;
}

// How a file rule marks a map entry: an allow sets the accesses it lists, a
// deny adds the rule to the slot of each access it denies.
struct FileMerge {
	const policy::Rule &r;
	size_t rule;

	void operator()(bw_file_match &m, const std::string &what) const
	{
		if (r.verb == policy::Verb::Allow) {
			m.allow |= r.access;
			return;
		}
		for (int bit = 0; bit < 3; bit++)
			if (r.access & (1u << bit))
				slot_add(m.acc[bit], rule, what);
	}
};

// A '*' pattern is stored whole and indexed by the literal directory it
// starts in, resolved like exact paths are: "/bin/*sh" is looked for under
// /usr/bin, where the kernel will report the files.
void add_glob(LsmPlan &plan, const std::string &pattern, const FileMerge &merge)
{
	size_t star = pattern.find('*');
	size_t slash = pattern.rfind('/', star);
	std::string dir = slash == 0 ? "/" : pattern.substr(0, slash);
	std::string rest = pattern.substr(slash); // "/..." with the stars
	char resolved[PATH_MAX];
	if (realpath(dir.c_str(), resolved))
		dir = resolved;
	std::string full = (dir == "/" ? "" : dir) + rest;
	if (full.size() >= BW_PATH_MAX)
		throw Error("lsm: rule '" + merge.r.id + "': " + pattern + " resolves to a pattern longer than " +
			    std::to_string(BW_PATH_MAX - 1) + " bytes");
	auto it = std::find_if(plan.globs.begin(), plan.globs.end(), [&](const auto &g) { return g.first == full; });
	if (it == plan.globs.end()) {
		if (plan.globs.size() >= BW_MAX_GLOBS)
			throw Error("lsm: more than " + std::to_string(BW_MAX_GLOBS) + " '*' patterns");
		plan.globs.push_back({full, bw_file_match{}});
		it = plan.globs.end() - 1;
		bw_glob_list &gl = plan.glob_dirs[dir];
		auto idx = static_cast<__u32>(it - plan.globs.begin() + 1);
		bool placed = false;
		for (auto &v : gl.idx_plus1)
			if (!v) {
				v = idx;
				placed = true;
				break;
			}
		if (!placed)
			throw Error("lsm: more than " + std::to_string(BW_SLOT_RULES) + " '*' patterns start in " +
				    dir);
	}
	merge(it->second, pattern);
	plan.entries.push_back({"glob:" + full, merge.r.access, merge.rule});
}

// A rule's `when:` conditions: flags on its record, keys in the when maps.
void add_when(LsmPlan &plan, const policy::Rule &r, __u32 key, bw_rule &val)
{
	auto add_exe = [&](const policy::PathSpec &p, __u32 kind) {
		bw_when_exe_key k{};
		k.rule = key;
		k.kind = kind;
		char resolved[PATH_MAX];
		// Task exes are recorded as resolved paths.
		std::string path = realpath(p.path.c_str(), resolved) ? resolved : p.path;
		std::memcpy(k.path, path.data(), std::min(path.size(), sizeof(k.path) - 1));
		plan.when_exe.push_back(k);
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
		plan.when_uid.push_back({key, 0, uid});
	}
	for (const auto &cg : r.when.cgroup) {
		val.flags |= BW_RULE_WHEN_CGROUP;
		// On cgroup v2 the directory's inode number is the cgroup id.
		std::string dir = "/sys/fs/cgroup" + cg;
		struct stat st;
		if (stat(dir.c_str(), &st) != 0)
			throw Error("lsm: rule '" + r.id + "': cgroup " + cg + " cannot match (" + dir + ")", errno);
		plan.when_cgroup.push_back({key, 0, st.st_ino});
	}
}

// Per-rule record: mode, errno, which `when:` conditions apply.
void plan_rules(LsmPlan &plan, const policy::Policy &policy)
{
	for (size_t i = 0; i < policy.rules.size(); i++) {
		const auto &r = policy.rules[i];
		bw_rule val{};
		val.flags = r.mode == policy::Mode::Audit ? BW_RULE_AUDIT : 0;
		val.errno_value = EPERM;
		if (!r.ports.empty() && !r.addresses.empty())
			val.flags |= BW_RULE_NEEDS_PORT | BW_RULE_NEEDS_ADDR;
		add_when(plan, r, static_cast<__u32>(i), val);
		plan.rules.push_back(val);
	}
}

// `hooks:` entries: their records follow the rules', and each escape slot
// answers with the first entry naming its hook.
void plan_hooks(LsmPlan &plan, const policy::Policy &policy)
{
	const auto &esc = policy::lsm_escape_hooks();
	for (size_t h = 0; h < policy.hooks.size(); h++) {
		bw_rule val{};
		val.flags = policy.hooks[h].mode == policy::Mode::Audit ? BW_RULE_AUDIT : 0;
		val.errno_value = static_cast<__u32>(policy.hooks[h].errno_value);
		plan.rules.push_back(val);
		bool known = false;
		for (size_t i = 0; i < esc.size() && i < BW_ESCAPE_HOOKS; i++) {
			if (policy.hooks[h].hook != esc[i])
				continue;
			known = true;
			if (!plan.escape_rule_plus1[i])
				plan.escape_rule_plus1[i] = static_cast<uint32_t>(policy.rules.size() + h + 1);
		}
		if (!known)
			throw Error("lsm: unknown hook '" + policy.hooks[h].hook + "'");
	}
}

void plan_needs(LsmPlan &plan, const policy::Policy &policy)
{
	plan.needs.default_deny = policy.defaults.deny_access();
	// The defaults are the policy's own rules: its mode is theirs.
	plan.default_deny = plan.needs.default_deny;
	if (plan.default_deny && policy.mode == policy::Mode::Audit)
		plan.default_deny |= BW_DEFAULT_AUDIT;
	for (const auto &r : policy.rules) {
		for (const auto &w : r.words)
			plan.needs.words.insert(w);
		if (r.kind == policy::RuleKind::File && r.verb == policy::Verb::Deny)
			plan.needs.file_access |= r.access;
	}
	for (const auto &h : policy.hooks)
		plan.needs.escape_hooks.insert(h.hook);
}

struct Prefix {
	bw_addr_key key;
	bw_rules rules;
};

// What the network maps collect before they are laid out: ports by
// (op, port), address prefixes in rule order.
struct NetPlan {
	std::map<std::pair<int, int>, bw_rules> ports;
	std::vector<Prefix> prefixes;
};

void add_net(NetPlan &net, const policy::Rule &r, size_t rule, const std::string &w)
{
	int op = w == "connect" ? BW_NET_CONNECT : BW_NET_BIND;
	for (const auto &pr : r.ports)
		for (unsigned p = pr.lo; p <= pr.hi; p++)
			slot_add(net.ports[{op, static_cast<int>(p)}], rule, w + " port " + std::to_string(p));
	for (const auto &a : r.addresses) {
		Prefix px{};
		px.key.op = static_cast<__u16>(op);
		px.key.family = static_cast<__u16>(a.family);
		px.key.prefixlen = static_cast<__u32>(32 + a.prefix);
		std::memcpy(px.key.addr, a.bytes.data(), 16);
		slot_add(px.rules, rule, w + " address " + a.text);
		net.prefixes.push_back(px);
	}
}

bool contains(const bw_addr_key &outer, const bw_addr_key &inner)
{
	if (outer.op != inner.op || outer.family != inner.family || outer.prefixlen > inner.prefixlen)
		return false;
	unsigned bits = outer.prefixlen - 32;
	for (unsigned b = 0; b < bits; b++) {
		unsigned mask = 0x80u >> (b % 8);
		if ((outer.addr[b / 8] & mask) != (inner.addr[b / 8] & mask))
			return false;
	}
	return true;
}

void lay_out_net(LsmPlan &plan, const NetPlan &net)
{
	for (const auto &[op_port, rl] : net.ports) {
		bw_port_key k{static_cast<__u16>(op_port.first), static_cast<__u16>(op_port.second)};
		plan.ports.push_back({k, rl});
	}
	// An LPM trie returns only the longest matching prefix, so each prefix
	// carries the rules of every shorter prefix that contains it.
	for (const auto &inner : net.prefixes) {
		bw_rules merged = inner.rules;
		for (const auto &outer : net.prefixes)
			if (&outer != &inner && contains(outer.key, inner.key))
				for (__u32 r : outer.rules.rule_plus1)
					if (r)
						slot_add(merged, r - 1, "an address prefix");
		plan.addrs.push_back({inner.key, merged});
	}
}

// Words, socket families, ports, addresses.
void plan_actions(LsmPlan &plan, const policy::Policy &policy)
{
	NetPlan net;
	for (size_t i = 0; i < policy.rules.size(); i++) {
		const auto &r = policy.rules[i];
		if (r.verb != policy::Verb::Deny || r.kind != policy::RuleKind::Action)
			continue;
		for (const auto &w : r.words) {
			int wi = word_index(w);
			if (wi >= 0)
				slot_add(plan.words[wi], i, "'" + w + "'");
			if (w == "socket")
				for (int f : r.families) {
					if (f < 0 || f >= BW_MAX_FAMILIES)
						throw Error("lsm: rule '" + r.id + "': family " + std::to_string(f) +
							    " out of range");
					slot_add(plan.families[f], i, "socket family " + std::to_string(f));
				}
			if (w == "connect" || w == "bind")
				add_net(net, r, i, w);
		}
	}
	lay_out_net(plan, net);
}

// A subtree by the directory's identity.
void add_subtree(LsmPlan &plan, const policy::PathSpec &p, const FileMerge &merge)
{
	char resolved[PATH_MAX];
	struct stat st;
	if (!realpath(p.path.c_str(), resolved) || stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode)) {
		// Allowing what is not there allows nothing; denying it would
		// silently protect nothing.
		if (merge.r.verb == policy::Verb::Allow) {
			plan.warnings.push_back("lsm: rule '" + merge.r.id + "': " + p.path +
						"/** does not exist here; it allows nothing");
			return;
		}
		throw Error("lsm: rule '" + merge.r.id + "': " + p.path +
			    "/** cannot match: not an existing directory when the policy loads");
	}
	merge(plan.subtrees[{kdev(st.st_dev), st.st_ino}], p.path + "/**");
	plan.entries.push_back({"subtree:" + std::string(resolved), merge.r.access, merge.rule});
}

// An exact path by the path as written, by what it resolves to and by
// identity.
void add_exact(LsmPlan &plan, const policy::PathSpec &p, const FileMerge &merge)
{
	const unsigned access = merge.r.access;
	char resolved[PATH_MAX];
	bool exists = realpath(p.path.c_str(), resolved) != nullptr;
	merge(plan.paths[p.path], p.path);
	plan.entries.push_back({"path:" + p.path, access, merge.rule});
	// The kernel reports resolved paths, so /bin/sh must be stored as what
	// it resolves to now (/usr/bin/dash).
	if (exists && p.path != resolved) {
		if (strlen(resolved) >= BW_PATH_MAX)
			throw Error("lsm: " + p.path + " resolves to a path longer than " +
				    std::to_string(BW_PATH_MAX - 1) + " bytes: " + resolved);
		merge(plan.paths[resolved], resolved);
		plan.entries.push_back({std::string("path:") + resolved, access, merge.rule});
	}
	struct stat st;
	if (exists && stat(resolved, &st) == 0) {
		merge(plan.inodes[{kdev(st.st_dev), st.st_ino}], p.path);
		plan.entries.push_back({"inode:" + std::to_string(major(st.st_dev)) + ":" +
						std::to_string(minor(st.st_dev)) + ":" + std::to_string(st.st_ino),
					access, merge.rule});
	}
}

void plan_files(LsmPlan &plan, const policy::Policy &policy)
{
	for (size_t i = 0; i < policy.rules.size(); i++) {
		const auto &r = policy.rules[i];
		if (r.kind != policy::RuleKind::File)
			continue;
		const FileMerge merge{r, i};
		for (const auto &p : r.paths) {
			if (p.kind == policy::PathKind::Glob)
				add_glob(plan, p.path, merge);
			else if (p.kind == policy::PathKind::Subtree)
				add_subtree(plan, p, merge);
			else
				add_exact(plan, p, merge);
		}
	}
}

// The hook tries at most 16 patterns per file: those rooted at its
// ancestors. Refuse a policy where some directory's chain has more, rather
// than let the BPF side fail closed on every such open.
void check_glob_chains(const LsmPlan &plan)
{
	for (const auto &[dir, gl] : plan.glob_dirs) {
		size_t total = 0;
		for (const auto &[other, ol] : plan.glob_dirs) {
			bool ancestor = other == dir || other == "/" ||
					(dir.size() > other.size() && dir.compare(0, other.size(), other) == 0 &&
					 dir[other.size()] == '/');
			if (ancestor)
				for (__u32 v : ol.idx_plus1)
					total += v != 0;
		}
		if (total > BW_SLOT_RULES * 4)
			throw Error("lsm: " + std::to_string(total) + " '*' patterns apply under " + dir +
				    "; at most " + std::to_string(BW_SLOT_RULES * 4) + " may share a path");
	}
}

// "major:minor:inode" of a (kernel dev, ino) key.
std::string dev_ino_text(const std::pair<uint32_t, uint64_t> &id)
{
	return std::to_string(id.first >> 20) + ":" + std::to_string(id.first & 0xfffff) + ":" +
	       std::to_string(id.second);
}

} // namespace

LsmPlan plan_lsm(const policy::Policy &policy)
{
	size_t nrules = policy.rules.size() + policy.hooks.size();
	// The last numbers of each slot count the built-in rules (bulwark.h).
	if (nrules > BW_MAX_RULES - BW_BUILTIN_SLOTS)
		throw Error("lsm: policy has " + std::to_string(nrules) + " rules and hooks, the limit is " +
			    std::to_string(BW_MAX_RULES - BW_BUILTIN_SLOTS));
	LsmPlan plan;
	plan_rules(plan, policy);
	plan_hooks(plan, policy);
	plan_needs(plan, policy);
	plan_actions(plan, policy);
	plan_files(plan, policy);
	check_glob_chains(plan);
	return plan;
}

static std::string rules_text(const bw_rules &rl, const policy::Policy &policy)
{
	std::string out;
	for (uint32_t r : rl.rule_plus1)
		if (r) {
			if (!out.empty())
				out += ",";
			out += policy::rule_id_for(policy, r - 1);
		}
	return out;
}

std::string LsmPlan::dump(const policy::Policy &policy) const
{
	static const char *word_names[BW_WORD_COUNT] = {"mount", "ptrace",  "kernel-modules",  "bpf",    "perf",
							"kexec", "keyring", "user-namespaces", "setuid", "raw-sockets"};
	std::ostringstream o;
	o << "# LSM maps for policy " << policy.name << "\n";
	o << "rules:\n";
	for (size_t i = 0; i < rules.size(); i++)
		o << "  [" << i << "] " << policy::rule_id_for(policy, i) << " flags=0x" << std::hex << rules[i].flags
		  << std::dec << " errno=" << rules[i].errno_value << "\n";
	static const char *acc[3] = {"read", "write", "exec"};
	for (int a = 0; a < 3; a++)
		o << acc[a] << "_default_deny: "
		  << (default_deny & (1u << a) ? (default_deny & BW_DEFAULT_AUDIT ? "audit" : "yes") : "no") << "\n";
	for (const auto &[w, rl] : words)
		o << "word_rules[" << (w < BW_WORD_COUNT ? word_names[w] : "?") << "] = " << rules_text(rl, policy)
		  << "\n";
	for (const auto &[f, rl] : families)
		o << "family_rules[" << f << "] = " << rules_text(rl, policy) << "\n";
	for (const auto &[k, rl] : ports)
		o << "net_ports[" << (k.op == BW_NET_CONNECT ? "connect" : "bind") << " " << k.port
		  << "] = " << rules_text(rl, policy) << "\n";
	for (const auto &[k, rl] : addrs) {
		char buf[INET6_ADDRSTRLEN] = "";
		inet_ntop(k.family, k.addr, buf, sizeof(buf));
		o << "net_addrs[" << (k.op == BW_NET_CONNECT ? "connect" : "bind") << " " << buf << "/"
		  << (k.prefixlen - 32) << "] = " << rules_text(rl, policy) << "\n";
	}
	auto file = [&](const char *map, const std::string &key, const bw_file_match &m) {
		o << map << "[" << key << "] =";
		for (int a = 0; a < 3; a++)
			if (m.acc[a].rule_plus1[0])
				o << " " << acc[a] << ":" << rules_text(m.acc[a], policy);
		for (int a = 0; a < 3; a++)
			if (m.allow & (1u << a))
				o << " allow-" << acc[a];
		o << "\n";
	};
	for (const auto &[p, m] : paths)
		file("file_paths", p, m);
	for (const auto &[id, m] : inodes)
		file("file_inodes", dev_ino_text(id), m);
	for (const auto &[id, m] : subtrees)
		file("file_subtrees", dev_ino_text(id), m);
	for (const auto &[pat, m] : globs)
		file("file_globs", pat, m);
	for (const auto &k : when_exe)
		o << "when_exe[" << policy::rule_id_for(policy, k.rule) << " " << (k.kind ? "parent_exe" : "exe") << " "
		  << k.path << "]\n";
	for (const auto &k : when_uid)
		o << "when_uid[" << policy::rule_id_for(policy, k.rule) << " " << k.id << "]\n";
	for (const auto &k : when_cgroup)
		o << "when_cgroup[" << policy::rule_id_for(policy, k.rule) << " " << k.id << "]\n";
	for (size_t i = 0; i < BW_ESCAPE_HOOKS; i++)
		if (escape_rule_plus1[i])
			o << "escape[" << policy::lsm_escape_hooks()[i]
			  << "] = " << policy::rule_id_for(policy, escape_rule_plus1[i] - 1) << "\n";
	return o.str();
}

} // namespace bulwark
