/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * File matchers, cheapest first: the exact file (identity, then resolved
 * path), the nearest covered directory above it (subtree), then `*`
 * patterns (glob). The walks run in bpf_loop callbacks with their state in
 * the per-CPU scratch value: see glob_step before changing them, the 6.1,
 * 6.12 and 7.x verifiers each have to converge on them.
 */
#ifndef BW_LIB_MATCH_H
#define BW_LIB_MATCH_H

#include "lib/rules.h"

static __always_inline struct bw_inode_key inode_key(struct inode *inode)
{
	struct bw_inode_key k = {};

	k.ino = BPF_CORE_READ(inode, i_ino);
	k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	return k;
}

/* Rules for this exact file: identity first (it survives hard links, bind
 * mounts, chroot and /proc/<pid>/root), then the resolved path (it catches a
 * file that replaced the protected one after load, as passwd does). */
static __always_inline struct bw_file_match *match_exact(struct file *file, __u32 gen)
{
	struct bw_inode_key ikey = inode_key(file->f_inode);
	struct bw_file_match *m;
	struct bw_scratch *sc;

	ikey.pad = gen;
	m = bpf_map_lookup_elem(&file_inodes, &ikey);
	if (m)
		return m;
	sc = get_scratch();
	if (!sc || path_to_key(&file->f_path, sc, sc->key.path) < 0)
		return 0;
	sc->key.path[BW_PATH_MAX - 1] = gen;
	return bpf_map_lookup_elem(&file_paths, &sc->key);
}

/* The nearest directory above the file whose subtree rule covers `slot`
 * (0..2: an access's deny rules; -BW_ACC_*: that access's allow-list),
 * found by identity. The walk follows the file's own filesystem up to its
 * root before stepping to where that mount is attached, so a bind mount of
 * a subdirectory, or a detached mount from open_tree(), still has its real
 * ancestors checked. It runs as a bpf_loop callback (verified once,
 * whatever the depth), so the dentry and mount travel as plain addresses
 * read with CO-RE. */
struct subtree_walk {
	__u64 dentry;
	__u64 mnt;
	__s32 slot;
	__u32 gen;
	__u32 done;
	__u32 found;
	struct bw_inode_key key; /* of the directory found */
};

static long subtree_step(__u32 i, void *ctx)
{
	struct subtree_walk *w = ctx;
	struct dentry *d = (struct dentry *)w->dentry;
	struct mount *mnt = (struct mount *)w->mnt;
	struct dentry *parent;
	struct mount *up;
	struct bw_inode_key k = {};
	struct bw_file_match *m;

	k.ino = BPF_CORE_READ(d, d_inode, i_ino);
	k.dev = BPF_CORE_READ(d, d_inode, i_sb, s_dev);
	k.pad = w->gen;
	m = bpf_map_lookup_elem(&file_subtrees, &k);
	if (m && (w->slot < 0 ? (m->allow & -w->slot) != 0 : m->acc[w->slot & 3].rule_plus1[0] != 0)) {
		/* Callbacks hand back scalars; the caller looks it up again. */
		w->key = k;
		w->found = 1;
		w->done = 1;
		return 1;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (parent && parent != d) {
		w->dentry = (__u64)parent;
		return 0;
	}
	up = BPF_CORE_READ(mnt, mnt_parent);
	if (!up || up == mnt) {
		w->done = 1; /* the top of the mount tree, or a detached mount */
		return 1;
	}
	w->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
	w->mnt = (__u64)up;
	return 0;
}

/* Sets *exhausted when the path is deeper than the walk goes: the caller
 * fails closed then. */
static __always_inline struct bw_file_match *match_subtree_at(struct dentry *dentry, struct vfsmount *vmnt, int slot,
							      bool *exhausted, const struct bw_ctx *c)
{
	struct subtree_walk w = {};

	*exhausted = false;
	if (!have_subtrees(c))
		return 0;
	w.gen = c->slot;
	w.dentry = (__u64)dentry;
	w.mnt = (__u64)container_of(vmnt, struct mount, mnt);
	w.slot = slot;
	bpf_loop(MAX_DEPTH, subtree_step, &w, 0);
	if (!w.done)
		*exhausted = true;
	if (!w.found)
		return 0;
	return bpf_map_lookup_elem(&file_subtrees, &w.key);
}

static __always_inline struct bw_file_match *match_subtree(struct file *file, int slot, bool *exhausted,
							   const struct bw_ctx *c)
{
	return match_subtree_at(BPF_CORE_READ(file, f_path.dentry), BPF_CORE_READ(file, f_path.mnt), slot, exhausted,
				c);
}

/* Glob matching runs in bpf_loop callbacks: the path sits in scratch.key,
 * the pattern in file_globs[glob]; both are looked up again in each step
 * because callbacks only get scalars through their context. Everything a
 * step carries to the next lives in the per-CPU scratch value, not on the
 * stack: newer verifiers (7.x) check a callback until its states converge,
 * and a counter kept on the stack is a new constant, so a new state, at
 * every step (1M instructions for bprm_check on 7.2). Loaded from a map
 * value it is an unknown scalar and the first state covers them all. */
static long glob_step(__u32 i, void *ctx)
{
	struct bw_scratch *sc = get_scratch();
	struct glob_state *st;
	struct bw_glob *g;
	char pc, c;

	if (!sc)
		return 1; /* undecided: the caller fails closed */
	st = &sc->match;
	g = bpf_map_lookup_elem(&file_globs, &st->glob);
	if (!g)
		return 1;
	pc = g->pat[st->p & (BW_PATH_MAX - 1)];
	c = sc->key.path[st->s & (BW_PATH_MAX - 1)];
	if (pc == '*') {
		st->star_p = st->p + 1;
		st->star_s = st->s;
		st->p++;
		return 0;
	}
	if (pc && pc == c) {
		st->p++;
		st->s++;
		return 0;
	}
	if (!pc && !c) {
		st->matched = 1;
		st->done = 1;
		return 1;
	}
	/* Let the last '*' eat one more character, never a '/'. */
	c = sc->key.path[st->star_s & (BW_PATH_MAX - 1)];
	if (st->star_p >= 0 && c && c != '/') {
		st->star_s++;
		st->s = st->star_s;
		st->p = st->star_p;
		return 0;
	}
	st->done = 1;
	return 1;
}

/* 1: matches, 0: does not, 2: undecided within the step budget (star
 * backtracking is quadratic in the worst case). */
static __always_inline int glob_matches(struct bw_scratch *sc, __u32 glob)
{
	__builtin_memset(&sc->match, 0, sizeof(sc->match));
	sc->match.glob = glob;
	sc->match.star_p = -1;
	bpf_loop(8 * BW_PATH_MAX, glob_step, 0, 0);
	if (!sc->match.done)
		return 2;
	return sc->match.matched;
}

/* Walks the path in scratch.key one character at a time (bpf_loop's index
 * is the position), keeping the part already seen in scratch.raw
 * (zero-padded): at each '/', raw is exactly the ancestor directory's key,
 * so the patterns rooted there are one lookup. */
static __always_inline void glob_collect(struct glob_walk *w, const char *dir)
{
	struct bw_glob_list *gl = bpf_map_lookup_elem(&glob_dirs, dir);

	if (!gl)
		return;
	for (int j = 0; j < BW_SLOT_RULES; j++) {
		__u32 n = w->nfound;

		if (!gl->idx_plus1[j])
			break;
		if (n >= BW_GLOB_CANDIDATES) {
			w->overflow = 1;
			break;
		}
		w->found[n & (BW_GLOB_CANDIDATES - 1)] = gl->idx_plus1[j] - 1;
		w->nfound = n + 1;
	}
}

static long glob_walk_step(__u32 pos, void *ctx)
{
	struct bw_scratch *sc = get_scratch();
	char c;

	if (!sc || pos >= BW_PATH_MAX - 1)
		return 1;
	/* Else clang drops the mask below as redundant with the test above,
	 * which it made on a copy: the verifier then sees an unbounded index. */
	barrier_var(pos);
	pos &= BW_PATH_MAX - 1;
	c = sc->key.path[pos];
	if (!c)
		return 1;
	if (c == '/') {
		/* Patterns rooted at "/" are keyed "/". */
		if (pos == 0)
			sc->raw[0] = '/';
		glob_collect(&sc->walk, sc->raw);
	}
	sc->raw[pos] = c;
	return 0;
}

/* Rules from `*` patterns matching the file: slot 0..2 for an access, or
 * -BW_ACC_* to ask whether an allow pattern lists it for that access
 * (returns 1). */
static __always_inline int glob_check(struct bw_task *self, struct file *file, int slot, struct bw_ctx *c)
{
	struct bw_scratch *sc;

	if (!have_globs(c))
		return 0;
	sc = get_scratch();
	if (!sc || path_to_key(&file->f_path, sc, sc->key.path) < 0)
		return 0;
	__builtin_memset(sc->raw, 0, sizeof(sc->raw));
	__builtin_memset(&sc->walk, 0, sizeof(sc->walk));
	/* The walk never writes the last byte: it carries the generation. */
	sc->raw[BW_PATH_MAX - 1] = c->slot;
	bpf_loop(BW_PATH_MAX, glob_walk_step, 0, 0);
	if (sc->walk.overflow)
		return slot < 0 ? 0 : report(self, BW_RULE_GLOB_LIMIT, 0, c);
	/* The first matching pattern (in policy order) that has an enforcing
	 * rule for this access decides; failing that, the first one with any
	 * rule. Choosing before evaluating keeps the verifier's work small. */
	__u32 chosen = 0, fallback = 0;
	for (int j = 0; j < BW_GLOB_CANDIDATES; j++) {
		__u32 idx;
		struct bw_glob *g;
		int hit;

		if (j >= sc->walk.nfound)
			break;
		idx = sc->walk.found[j & (BW_GLOB_CANDIDATES - 1)];
		g = bpf_map_lookup_elem(&file_globs, &idx);
		if (!g)
			continue;
		if (slot < 0 ? !(g->m.allow & -slot) : !g->m.acc[slot & 3].rule_plus1[0])
			continue;
		hit = glob_matches(sc, idx);
		/* Undecided never allows and always counts for a deny. */
		if (!hit || (hit == 2 && slot < 0))
			continue;
		if (slot < 0)
			return 1;
		if (slot_enforces(&g->m.acc[slot & 3])) {
			chosen = idx + 1;
			break;
		}
		if (!fallback)
			fallback = idx + 1;
	}
	if (!chosen)
		chosen = fallback;
	if (!chosen || slot < 0)
		return 0;
	chosen -= 1;
	struct bw_glob *g = bpf_map_lookup_elem(&file_globs, &chosen);
	if (!g)
		return 0;
	return eval(self, &g->m.acc[slot & 3], c);
}

static __always_inline int file_check(struct bw_task *self, struct file *file, int slot, struct bw_ctx *c)
{
	struct bw_file_match *m = match_exact(file, c->slot);
	int ret;

	if (m && m->acc[slot].rule_plus1[0]) {
		ret = eval(self, &m->acc[slot], c);
		if (ret)
			return ret;
	}
	bool deep;

	m = match_subtree(file, slot, &deep, c);
	if (m) {
		ret = eval(self, &m->acc[slot & 3], c);
		if (ret)
			return ret;
	} else if (deep) {
		return report(self, BW_RULE_DEPTH, 0, c);
	}
	return glob_check(self, file, slot, c);
}

/* Under an allow-list for acc (BW_ACC_*), the file itself, a directory
 * above it or a pattern must be listed; else the default denies. */
static __always_inline int default_check(struct bw_task *self, struct file *file, __u32 acc, struct bw_ctx *c)
{
	struct bw_file_match *m;
	bool deep;

	if (!(default_deny(c) & acc))
		return 0;
	m = match_exact(file, c->slot);
	if (m && (m->allow & acc))
		return 0;
	if (match_subtree(file, -(int)acc, &deep, c))
		return 0;
	if (glob_check(self, file, -(int)acc, c) == 1)
		return 0;
	return report_default(self, acc, c);
}
#endif /* BW_LIB_MATCH_H */
