// SPDX-License-Identifier: Apache-2.0
// What a policy puts into the BPF-LSM layer, computed without the kernel:
// the map contents and which programs are needed. `run` loads it; `compile`
// prints it.
#pragma once

#include <linux/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include "bulwark.h"
}
#include "policy/policy.h"

namespace bulwark {

// What the loader put into the file maps, for logs and `compile`.
struct LsmFileEntry {
	std::string key; // "path:/usr/bin/dash", "inode:8:1:1234", "subtree:/srv"
	unsigned access; // BW_ACC_*
	size_t rule;
};

// Which programs a policy needs; the others are not loaded.
struct LsmNeeds {
	std::set<std::string> words;
	unsigned file_access = 0;
	unsigned default_deny = 0; // BW_ACC_* under an allow-list
	std::set<std::string> escape_hooks;
	bool all = false;                 // load everything (the probe, enforce mode)
	bool supervisor_exit = false;     // and the supervisor-exit tracepoint (sandboxes that fail closed)
	std::set<std::string> skip_hooks; // never load these (absent from this kernel, --allow-degraded)
};

struct LsmPlan {
	std::vector<bw_rule> rules; // policy rules, then hooks: entries
	std::vector<bw_when_exe_key> when_exe;
	std::vector<bw_when_id_key> when_uid, when_cgroup;
	std::map<int, bw_rules> words, families;
	std::vector<std::pair<bw_port_key, bw_rules>> ports;
	std::vector<std::pair<bw_addr_key, bw_rules>> addrs; // prefixes carry their containers' rules
	std::map<std::string, bw_file_match> paths;
	std::map<std::pair<uint32_t, uint64_t>, bw_file_match> inodes, subtrees; // (kernel dev, ino)
	std::vector<std::pair<std::string, bw_file_match>> globs;                // index = file_globs slot
	std::map<std::string, bw_glob_list> glob_dirs;
	uint32_t default_deny = 0; // bw_gen.default_deny: BW_ACC_* bits, BW_DEFAULT_AUDIT
	std::array<uint32_t, BW_ESCAPE_HOOKS> escape_rule_plus1{};
	LsmNeeds needs;
	std::vector<LsmFileEntry> entries;
	std::vector<std::string> warnings; // "lsm: ..." lines worth showing the user

	std::string dump(const policy::Policy &policy) const;
};

// Resolves paths (realpath, stat) and cgroups on this machine. Throws
// Error("lsm: ...") for what cannot match or does not fit the BPF side.
LsmPlan plan_lsm(const policy::Policy &policy);

} // namespace bulwark
