/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The confinement gate every program asks first: is the current task a
 * subject of the loaded scope? Tasks outside it return at once, so nothing
 * else on the machine is affected. Also how the mark follows fork.
 */
#ifndef BW_LIB_SCOPE_H
#define BW_LIB_SCOPE_H

#include "lib/maps.h"

/* What a report carries besides the rule; filled by the hook. */
struct bw_ctx {
	__u32 hook;
	__u32 access;
	__u32 flags;
	__u32 family;
	__u32 type;
	__u16 port;
	const __u8 *addr;        /* 16 bytes, or null */
	const struct path *path; /* resolved into target, or null */
	const char *name;        /* kernel string copied into target, or null */
	/* Set by confined_task() from one read of `config` (and the subject's
	 * sandbox): every lookup of this invocation uses this slot. */
	__u32 slot;
	__u32 supervisor;     /* config's: the engine, enforcer or run supervisor */
	__u32 own_supervisor; /* the subject's sandbox's, under an engine */
	__u32 protect;
	__u32 scope;
	__u32 default_deny_gen;
	__u32 have_subtrees_gen;
	__u32 have_globs_gen;
	/* 64-bit so the verifier tracks the constant through the stack. */
	__u64 resolved; /* confined_task() ran: self is its answer */
	struct bw_task *self;
};

/* Dynamic scopes: whether the current task is a subject right now. The
 * enforcer (supervisor_tgid) is never one, in any scope: see confined_task(). */
static __always_inline bool in_dynamic_scope(const struct bw_config *cfg, struct task_struct *task)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (cfg->scope == BW_SCOPE_CGROUP)
		return bpf_get_current_ancestor_cgroup_id(cfg->cgroup_level) == cfg->cgroup_id;
	if (cfg->scope == BW_SCOPE_EXE) {
		/* Every thread of a process running the binary, whenever it was
		 * started and however (the pidfd marking at enforcer start only
		 * reaches thread group leaders). Compared by identity, from the
		 * values in config the enforcer follows across upgrades.
		 * Kernel threads have no mm. */
		struct mm_struct *mm = task->mm;
		struct inode *inode;
		struct bw_task *lt;

		if (!mm)
			return false;
		inode = BPF_CORE_READ(mm, exe_file, f_inode);
		if (inode && BPF_CORE_READ(inode, i_ino) == cfg->exe_ino &&
		    BPF_CORE_READ(inode, i_sb, s_dev) == cfg->exe_dev)
			return true;
		/* A thread of a process marked while it ran the binary the path
		 * named then (before an upgrade moved the scope to the new
		 * file), that had not yet been through a hook itself. */
		lt = bpf_task_storage_get(&tasks, task->group_leader, 0, 0);
		return lt && lt->confined == BW_TASK_STICKY;
	}
	if (cfg->scope == BW_SCOPE_HOST)
		/* The enforcer and init stay free, so a bad policy cannot take
		 * away the means to remove it. */
		return tgid != cfg->supervisor_tgid && tgid != 1 && !(task->flags & PF_KTHREAD);
	return false;
}

/* The engine's scopes: the sandbox whose cgroup the current task is in
 * (the deepest, when scopes nest) or whose executable it runs; 0 for none.
 * Without engine scopes this reads two config words. */
static __always_inline __u32 engine_scope(const struct bw_config *cfg, struct task_struct *task)
{
	struct bw_scope_key k = {};
	__u32 levels = cfg->engine_cgroup_level, *sb;

	if (cfg->role != BW_ROLE_ENGINE)
		return 0;
	if (levels) {
		k.kind = BW_SCOPE_KEY_CGROUP;
		for (int i = 0; i < BW_MAX_SCOPE_LEVEL; i++) {
			int level = (int)levels - i;

			if (level < 1)
				break;
			k.id = bpf_get_current_ancestor_cgroup_id(level);
			if (!k.id)
				continue; /* the task sits higher up than this level */
			sb = bpf_map_lookup_elem(&scope_keys, &k);
			if (sb)
				return *sb;
		}
	}
	if (cfg->engine_exe_scopes && task->mm) {
		struct inode *inode = BPF_CORE_READ(task, mm, exe_file, f_inode);

		if (!inode)
			return 0;
		k.kind = BW_SCOPE_KEY_EXE;
		k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
		k.id = BPF_CORE_READ(inode, i_ino);
		sb = bpf_map_lookup_elem(&scope_keys, &k);
		if (sb)
			return *sb;
	}
	return 0;
}

/* Makes t a subject of engine sandbox id, as it is now; false when that
 * sandbox is released or free: no subject then. A scope whose enforcer
 * died stays gone until one takes it over, so what enters it meanwhile is
 * a subject and bw_gate() kills it. */
static __always_inline bool join_sandbox(struct bw_task *t, __u32 id)
{
	struct bw_sandbox *sb = bpf_map_lookup_elem(&sandboxes, &id);

	if (!sb || (sb->state != BW_SANDBOX_LIVE && sb->state != BW_SANDBOX_GONE))
		return false;
	t->confined = BW_TASK_STICKY;
	t->sandbox = id;
	t->epoch = sb->epoch;
	return true;
}

/* Scopes whose subjects stay subjects wherever they go (see confined_task). */
static __always_inline bool sticky_scope(__u32 scope)
{
	return scope == BW_SCOPE_CGROUP || scope == BW_SCOPE_EXE;
}

/* Which generation slot the subject t reads, and whose supervisor guards
 * it: config's policy, or its engine sandbox's. */
static __always_inline bool subject_slot(const struct bw_config *cfg, const struct bw_task *t, struct bw_ctx *c)
{
	__u32 policy = 0, gen = *(volatile __u32 *)&cfg->active_gen & 1, id = t->sandbox;
	struct bw_sandbox *sb;
	__u32 *pg;
	struct bw_gen *g;

	c->own_supervisor = 0;
	if (id) {
		sb = bpf_map_lookup_elem(&sandboxes, &id);
		if (!sb || sb->state == BW_SANDBOX_RELEASED)
			return false;
		policy = sb->policy;
		c->own_supervisor = sb->supervisor_tgid;
		pg = bpf_map_lookup_elem(&policy_gen, &policy);
		gen = pg ? *(volatile __u32 *)pg & 1 : 0;
	}
	c->slot = policy * BW_GENS + gen;
	g = bpf_map_lookup_elem(&gens, &c->slot);
	if (!g)
		return false;
	c->default_deny_gen = g->default_deny;
	c->have_subtrees_gen = g->have_subtrees;
	c->have_globs_gen = g->have_globs;
	return true;
}

/* The single gate of every hook: the current task's record when it is a
 * subject of the loaded scope or of an engine sandbox, else null. Also
 * reads, once, the slot and its settings into c. */
static __always_inline struct bw_task *confined_task(struct bw_ctx *c)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_config *cfg;
	struct bw_task *t;
	__u32 zero = 0;

	/* Hooks that check twice (self-protection, then the policy) ask once. */
	if (c->resolved)
		return c->self;
	c->resolved = 1;
	c->self = 0;
	cfg = bpf_map_lookup_elem(&bw_config, &zero);
	if (!cfg)
		return 0;
	c->supervisor = cfg->supervisor_tgid;
	c->protect = cfg->protect;
	c->scope = cfg->scope;
	t = bpf_task_storage_get(&tasks, task, 0, 0);
	/* The enforcer is no subject of any scope, even moved into its scoped
	 * cgroup: it must stay able to reload and unload. By tgid and by the
	 * mark the enforcer put on its leader's task storage, which dies with
	 * it: a later process that reuses a dead pinned enforcer's pid is not
	 * exempt. */
	if (cfg->supervisor_tgid && (bpf_get_current_pid_tgid() >> 32) == cfg->supervisor_tgid) {
		struct bw_task *lt = bpf_task_storage_get(&tasks, task->group_leader, 0, 0);

		if (lt && lt->confined == BW_TASK_SUPERVISOR)
			return 0;
		if (cfg->scope == BW_SCOPE_HOST)
			return 0;
	}
	if (t && t->confined == BW_TASK_SUPERVISOR)
		/* An engine's client supervisor, or a stale mark (the pid was
		 * reused while this storage lived on: impossible, it dies with
		 * the task): no subject. */
		return 0;
	if (!(t && t->confined == BW_TASK_STICKY)) {
		__u32 scoped = 0;

		if (!in_dynamic_scope(cfg, task)) {
			scoped = engine_scope(cfg, task);
			if (!scoped)
				return 0;
		}
		if (!t) {
			t = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
			/* A subject of a cgroup scope stays one: otherwise it
			 * could write its pid to another cgroup's cgroup.procs
			 * (an open this hook sees) and walk out of the policy.
			 * Moved out by the admin, it stays confined: fail closed.
			 * Likewise an exe-scope subject that execs something
			 * else, as when bprm_check marks it. */
			if (t)
				t->confined = sticky_scope(cfg->scope) ? BW_TASK_STICKY : BW_TASK_DYNAMIC;
			else
				t = bpf_map_lookup_elem(&fallback_task, &zero);
			if (!t)
				return 0;
		}
		/* An engine scope's subject stays one, like a cgroup scope's. */
		if (scoped && !join_sandbox(t, scoped))
			return 0;
	}
	if (!subject_slot(cfg, t, c))
		return 0;
	c->self = t;
	return t;
}

/* Gives a new task (a thread too) its parent's confinement. A host-scope
 * subject's child is re-checked like its parent. The stand-in record
 * (parent's storage could not be made) has 0 here: the child gets what its
 * parent would have had. Null when the child's storage cannot be made. */
static __always_inline struct bw_task *mark_child(struct task_struct *child, const struct bw_task *parent,
						  const struct bw_ctx *c)
{
	struct bw_task *t = bpf_task_storage_get(&tasks, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!t)
		return 0;
	t->confined = parent->confined ? parent->confined : sticky_scope(c->scope) ? BW_TASK_STICKY : BW_TASK_DYNAMIC;
	t->sandbox = parent->sandbox;
	t->epoch = parent->epoch;
	t->gone_reported = 0;
	__builtin_memcpy(t->exe, parent->exe, sizeof(t->exe));
	return t;
}

#endif /* BW_LIB_SCOPE_H */
