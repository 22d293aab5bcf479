/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a policy is made of, as the LSM hooks read it: the rule maps (two
 * generations side by side, bulwark.h), the per-CPU scratch space and the
 * per-rule hit counters. Only the LSM object has them.
 */
#ifndef BW_LIB_POLICY_H
#define BW_LIB_POLICY_H

#include "lib/maps.h"

/* `bulwark run` never replaces its policy, so it keeps these per-policy
 * switches as load-time constants: the verifier then skips whole walks a
 * policy does not use (subtrees, patterns, the allow-list), which keeps
 * loading fast. The enforcer sets dynamic_gen and they come from the
 * active generation in `gens` instead, since a reload may turn them on. */
const volatile __u32 dynamic_gen = 0;
const volatile __u32 static_default_deny = 0; /* as bw_gen.default_deny */
const volatile __u32 static_have_subtrees = 0;
const volatile __u32 static_have_globs = 0;

BW_ARRAY(rules, BW_MAX_RULES *BW_GENS, struct bw_rule);
BW_ARRAY(word_rules, BW_WORD_COUNT *BW_GENS, struct bw_rules);
BW_ARRAY(family_rules, BW_MAX_FAMILIES *BW_GENS, struct bw_rules);
BW_HASH(file_paths, BW_MAX_PATHS *BW_GENS, struct bw_path_key, struct bw_file_match);
BW_HASH(file_inodes, BW_MAX_INODES *BW_GENS, struct bw_inode_key, struct bw_file_match);
/* Directories whose whole subtree a rule covers ("dir/" followed by two stars), by identity. */
BW_HASH(file_subtrees, BW_MAX_INODES *BW_GENS, struct bw_inode_key, struct bw_file_match);
BW_ARRAY(file_globs, BW_MAX_GLOBS *BW_GENS, struct bw_glob);
/* Literal directory a pattern starts in ("/home" for "/home/ * /.ssh") ->
 * the patterns rooted there. */
BW_HASH(glob_dirs, BW_MAX_GLOBS *BW_GENS, struct bw_path_key, struct bw_glob_list);
BW_HASH(when_exe, 4096 * BW_GENS, struct bw_when_exe_key, __u8);
BW_HASH(when_uid, 4096 * BW_GENS, struct bw_when_id_key, __u8);
BW_HASH(when_cgroup, 4096 * BW_GENS, struct bw_when_id_key, __u8);
BW_HASH(net_ports, 4096 * BW_GENS, struct bw_port_key, struct bw_rules);
BW_MAP(net_addrs, BPF_MAP_TYPE_LPM_TRIE, 4096 * BW_GENS, BPF_F_NO_PREALLOC, struct bw_addr_key, struct bw_rules);

/* Where a glob match (glob_step) and a walk for candidate patterns
 * (glob_walk_step) are; see glob_step for why they are not on the stack. */
struct glob_state {
	__u32 glob;
	__u32 p, s;   /* positions in pattern and path */
	__s32 star_p; /* pattern position after the last '*', or -1 */
	__u32 star_s; /* path position that '*' resumes from */
	__u32 matched;
	__u32 done; /* decided: matched or definitely not */
};

#define BW_GLOB_CANDIDATES (BW_SLOT_RULES * 4)
struct glob_walk {
	__u32 found[BW_GLOB_CANDIDATES];
	__u32 nfound;
	__u32 overflow; /* more candidates than found[] holds: fail closed */
};

/* bpf_d_path builds the name at the end of its buffer and moves it to the
 * front, leaving stale bytes after the NUL; a hash key must be zero past the
 * NUL, so the name is copied again into a zeroed key. All of it is too large
 * for the 512-byte stack. Kernel-side only, hence not in bulwark.h. */
struct bw_scratch {
	char raw[BW_PATH_MAX];
	struct bw_path_key key;
	struct bw_when_exe_key exe_key;
	struct glob_state match;
	struct glob_walk walk;
};

BW_MAP(scratch, BPF_MAP_TYPE_PERCPU_ARRAY, 1, 0, __u32, struct bw_scratch);

/* Hits per rule, exact whatever the ring buffer drops (status, metrics). */
BW_ARRAY(rule_hits, BW_COUNTERS, struct bw_counter);

static __always_inline struct bw_scratch *get_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

#endif /* BW_LIB_POLICY_H */
