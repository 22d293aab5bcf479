// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bulwark's BPF-LSM layer. Every hook first asks whether the current task is
 * inside a confined tree (task storage set by the loader on the first child
 * and copied on every fork); tasks outside it return immediately, so nothing
 * else on the machine is ever affected.
 *
 * Hook prototypes follow Linux 6.1, the oldest kernel we support; CO-RE
 * relocations make the same object load on newer kernels. Two hooks changed
 * arity since (perf_event_open lost its attr by 6.12, bpf gained `kernel` by
 * 7.2); they have a second program each and the loader enables the one that
 * matches the running kernel's BTF, because `ret` is read from the last slot.
 * Every LSM program is declared with BW_LSM, which makes its return value
 * provably 0 or a negative errno (the 6.12+ verifier's rule).
 *
 * Matching never loops over the policy: every lookup is a hash (or LPM) map
 * keyed by what the hook sees, and at most BW_SLOT_RULES rules share a slot.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "bulwark.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EPERM     1
#define MAX_ERRNO 4095

/* Every LSM program returns through here. From 6.12 on the verifier rejects
 * an LSM program unless it can prove the value in [-MAX_ERRNO, 0], and `ret`
 * from an earlier program or an errno read from the rules map is an unknown
 * scalar to it. A value out of range denies with -EPERM: fail closed. The
 * test is asm because clang would otherwise fold the two compares into one
 * unsigned compare on a copy, which proves nothing about the returned
 * register; compared as 64-bit after sign extension, so the bounds hold
 * whatever the codegen (alu32 or not). */
static __always_inline int bw_lsm_ret(int v)
{
	long r = v;

	asm volatile("if %[r] s> 0 goto +1\n\t"
		     "if %[r] s>= -4095 goto +1\n\t"
		     "%[r] = -1\n\t"
		     : [r] "+r"(r));
	return r;
}
_Static_assert(MAX_ERRNO == 4095, "bw_lsm_ret's asm spells MAX_ERRNO out");
_Static_assert(EPERM == 1, "bw_lsm_ret's asm spells -EPERM out");

/* BPF_PROG for LSM hooks: the body's value goes through bw_lsm_ret, so no
 * program can forget it. */
#define BW_LSM(name, args...)                                                                     \
	name(unsigned long long *ctx);                                                            \
	static __always_inline int ____##name(unsigned long long *ctx, ##args);                   \
	int name(unsigned long long *ctx)                                                         \
	{                                                                                         \
		_Pragma("GCC diagnostic push")                                                    \
			_Pragma("GCC diagnostic ignored \"-Wint-conversion\"") return bw_lsm_ret( \
				____##name(___bpf_ctx_cast(args)));                               \
		_Pragma("GCC diagnostic pop")                                                     \
	}                                                                                         \
	static __always_inline int ____##name(unsigned long long *ctx, ##args)

#define ENOMEM             12
#define FMODE_READ         0x1
#define FMODE_WRITE        0x2
#define PROT_EXEC          0x4
#define PTRACE_MODE_ATTACH 0x02
#define AF_UNSPEC          0
#define AF_INET            2
#define SIN6_LEN_RFC2133   24
#define AF_INET6           10
#define AF_PACKET          17
#define SOCK_RAW           3
#define MAX_DEPTH          256

/* `bulwark run` never replaces its policy, so it keeps these per-policy
 * switches as load-time constants: the verifier then skips whole walks a
 * policy does not use (subtrees, patterns, the allow-list), which keeps
 * loading fast. The enforcer sets dynamic_gen and they come from the
 * active generation in `gens` instead, since a reload may turn them on. */
const volatile __u32 dynamic_gen = 0;
const volatile __u32 static_exec_default_deny = 0;
const volatile __u32 static_have_subtrees = 0;
const volatile __u32 static_have_globs = 0;

#define PF_EXITING          0x00000004
#define PF_KTHREAD          0x00200000
#define BPF_FS_MAGIC        0xcafe4a11
#define CGROUP2_SUPER_MAGIC 0x63677270
#define MNT_DETACH          0x00000002

/* Scope, active generation, the supervisor to protect: a map, not rodata,
 * so a reload or a re-adopting enforcer can change them (bulwark.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_config);
} bw_config SEC(".maps");

/* Per-generation settings (exec allow-list on, subtrees/globs present...). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_GENS);
	__type(key, __u32);
	__type(value, struct bw_gen);
} gens SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bw_task);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_MAX_RULES *BW_GENS);
	__type(key, __u32);
	__type(value, struct bw_rule);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_WORD_COUNT *BW_GENS);
	__type(key, __u32);
	__type(value, struct bw_rules);
} word_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_MAX_FAMILIES *BW_GENS);
	__type(key, __u32);
	__type(value, struct bw_rules);
} family_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BW_MAX_PATHS *BW_GENS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bw_path_key);
	__type(value, struct bw_file_match);
} file_paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BW_MAX_INODES *BW_GENS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bw_inode_key);
	__type(value, struct bw_file_match);
} file_inodes SEC(".maps");

/* Directories whose whole subtree a rule covers ("dir/" followed by two stars), by identity. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BW_MAX_INODES *BW_GENS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bw_inode_key);
	__type(value, struct bw_file_match);
} file_subtrees SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_MAX_GLOBS *BW_GENS);
	__type(key, __u32);
	__type(value, struct bw_glob);
} file_globs SEC(".maps");

/* Literal directory a pattern starts in ("/home" for "/home/ * /.ssh") ->
 * the patterns rooted there. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BW_MAX_GLOBS *BW_GENS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bw_path_key);
	__type(value, struct bw_glob_list);
} glob_dirs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096 * BW_GENS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bw_when_exe_key);
	__type(value, __u8);
} when_exe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096 * BW_GENS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bw_when_id_key);
	__type(value, __u8);
} when_uid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096 * BW_GENS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bw_when_id_key);
	__type(value, __u8);
} when_cgroup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096 * BW_GENS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bw_port_key);
	__type(value, struct bw_rules);
} net_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096 * BW_GENS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bw_addr_key);
	__type(value, struct bw_rules);
} net_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BW_RINGBUF_BYTES);
} events SEC(".maps");

/* bpf_d_path builds the name at the end of its buffer and moves it to the
 * front, leaving stale bytes after the NUL; a hash key must be zero past the
 * NUL, so the name is copied again into a zeroed key. All of it is too large
 * for the 512-byte stack. Kernel-side only, hence not in bulwark.h. */
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

struct bw_scratch {
	char raw[BW_PATH_MAX];
	struct bw_path_key key;
	struct bw_when_exe_key exe_key;
	struct glob_state match;
	struct glob_walk walk;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_scratch);
} scratch SEC(".maps");

/* A task in scope whose storage could not be created (memory) still gets
 * the policy, through this stand-in: confinement never depends on an
 * allocation succeeding. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_task);
} fallback_task SEC(".maps");

/* Events the ring buffer could not take: the loader reports them, so a
 * flood cannot silently hide denials. */
__u64 dropped_events = 0;

/* Hits per rule, exact whatever the ring buffer drops (status, metrics). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BW_COUNTERS);
	__type(key, __u32);
	__type(value, struct bw_counter);
} rule_hits SEC(".maps");

/* Syscalls the seccomp listener let continue in audit mode, by thread id:
 * the loader sets the token before answering, LSM records made inside the
 * syscall carry it, and sys_exit reports the syscall done. That is how one
 * attempt seen by both layers becomes one event. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u32);
} syscall_pending SEC(".maps");

/* Set by the loader when no LSM program runs (seccomp layer alone): the
 * tracepoints then copy the confinement mark on fork themselves. */
const volatile __u32 trace_propagates = 0;

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
	/* Set by confined_task() from one read of `config`: every lookup of
	 * this invocation uses this generation. */
	__u32 gen;
	__u32 supervisor;
	__u32 protect;
	__u32 scope;
	__u32 exec_default_deny_gen;
	__u32 have_subtrees_gen;
	__u32 have_globs_gen;
	/* 64-bit so the verifier tracks the constant through the stack. */
	__u64 resolved; /* confined_task() ran: self is its answer */
	struct bw_task *self;
};

static __always_inline bool exec_default_deny(const struct bw_ctx *c)
{
	return dynamic_gen ? c->exec_default_deny_gen != 0 : static_exec_default_deny != 0;
}

static __always_inline bool have_subtrees(const struct bw_ctx *c)
{
	return dynamic_gen ? c->have_subtrees_gen != 0 : static_have_subtrees != 0;
}

static __always_inline bool have_globs(const struct bw_ctx *c)
{
	return dynamic_gen ? c->have_globs_gen != 0 : static_have_globs != 0;
}

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

/* Scopes whose subjects stay subjects wherever they go (see confined_task). */
static __always_inline bool sticky_scope(__u32 scope)
{
	return scope == BW_SCOPE_CGROUP || scope == BW_SCOPE_EXE;
}

/* The single gate of every hook: the current task's record when it is a
 * subject of the loaded scope, else null. Also reads, once, the generation
 * and its settings into c. */
static __always_inline struct bw_task *confined_task(struct bw_ctx *c)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_config *cfg;
	struct bw_gen *g;
	struct bw_task *t;
	__u32 zero = 0, gen;

	/* Hooks that check twice (self-protection, then the policy) ask once. */
	if (c->resolved)
		return c->self;
	c->resolved = 1;
	c->self = 0;
	cfg = bpf_map_lookup_elem(&bw_config, &zero);
	if (!cfg)
		return 0;
	gen = *(volatile __u32 *)&cfg->active_gen & 1;
	g = bpf_map_lookup_elem(&gens, &gen);
	if (!g)
		return 0;
	c->gen = gen;
	c->supervisor = cfg->supervisor_tgid;
	c->protect = cfg->protect;
	c->scope = cfg->scope;
	c->exec_default_deny_gen = g->exec_default_deny;
	c->have_subtrees_gen = g->have_subtrees;
	c->have_globs_gen = g->have_globs;
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
		/* A stale mark (the pid was reused while this storage lived
		 * on: impossible, it dies with the task) would be a hole:
		 * treat it as no record. */
		t = 0;
	if (!(t && t->confined == BW_TASK_STICKY)) {
		if (!in_dynamic_scope(cfg, task))
			return 0;
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
		}
	}
	c->self = t;
	return t;
}

static __always_inline struct bw_scratch *get_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

/* Copies a d_path result into a zero-padded buffer. */
static __always_inline int path_to_key(const struct path *p, struct bw_scratch *sc, char *dst)
{
	if (bpf_d_path((struct path *)p, sc->raw, sizeof(sc->raw)) < 0)
		return -1;
	__builtin_memset(dst, 0, BW_PATH_MAX);
	if (bpf_probe_read_kernel_str(dst, BW_PATH_MAX, sc->raw) < 0)
		return -1;
	return 0;
}

static __always_inline bool exe_matches(__u32 rule, __u32 kind, const struct bw_task *t)
{
	struct bw_scratch *sc;

	if (!t)
		return false;
	sc = get_scratch();
	if (!sc)
		return false;
	sc->exe_key.rule = rule;
	sc->exe_key.kind = kind;
	__builtin_memcpy(sc->exe_key.path, t->exe, BW_PATH_MAX);
	return bpf_map_lookup_elem(&when_exe, &sc->exe_key) != 0;
}

/* Whether a rule's `when:` holds for the current task. */
static __always_inline bool when_holds(__u32 idx, const struct bw_rule *rule, const struct bw_task *self)
{
	struct bw_when_id_key k = {.rule = idx};

	if (rule->flags & BW_RULE_WHEN_UID) {
		k.id = (__u32)bpf_get_current_uid_gid();
		if (!bpf_map_lookup_elem(&when_uid, &k))
			return false;
	}
	if (rule->flags & BW_RULE_WHEN_CGROUP) {
		k.id = bpf_get_current_cgroup_id();
		if (!bpf_map_lookup_elem(&when_cgroup, &k))
			return false;
	}
	if ((rule->flags & BW_RULE_WHEN_EXE) && !exe_matches(idx, 0, self))
		return false;
	if (rule->flags & BW_RULE_WHEN_PARENT_EXE) {
		struct task_struct *task = bpf_get_current_task_btf();
		struct bw_task *parent = bpf_task_storage_get(&tasks, task->real_parent, 0, 0);

		if (!exe_matches(idx, 1, parent))
			return false;
	}
	return true;
}

#define TS_COMPAT         0x0002
#define X32_SYSCALL_BIT   0x40000000
#define AUDIT_ARCH_X86_64 0xc000003e
#define AUDIT_ARCH_I386   0x40000003

/* The syscall `task` is in, from its saved user registers: the number as
 * seccomp saw it (orig_ax) and the six arguments in the order of its ABI. */
static __always_inline void fill_syscall(struct bw_syscall *sc, struct task_struct *task)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u32 status = BPF_CORE_READ(task, thread_info.status);

	sc->nr = (__s32)BPF_CORE_READ(regs, orig_ax);
	sc->ret = BPF_CORE_READ(regs, ax);
	if (status & TS_COMPAT) {
		sc->arch = AUDIT_ARCH_I386;
		sc->args[0] = (__u32)BPF_CORE_READ(regs, bx);
		sc->args[1] = (__u32)BPF_CORE_READ(regs, cx);
		sc->args[2] = (__u32)BPF_CORE_READ(regs, dx);
		sc->args[3] = (__u32)BPF_CORE_READ(regs, si);
		sc->args[4] = (__u32)BPF_CORE_READ(regs, di);
		sc->args[5] = (__u32)BPF_CORE_READ(regs, bp);
	} else {
		sc->arch = AUDIT_ARCH_X86_64;
		sc->args[0] = BPF_CORE_READ(regs, di);
		sc->args[1] = BPF_CORE_READ(regs, si);
		sc->args[2] = BPF_CORE_READ(regs, dx);
		sc->args[3] = BPF_CORE_READ(regs, r10);
		sc->args[4] = BPF_CORE_READ(regs, r8);
		sc->args[5] = BPF_CORE_READ(regs, r9);
	}
}

static __always_inline void count_hit(__u32 rule_idx, bool deny)
{
	/* Rule numbers are absolute (generation * BW_MAX_RULES + index). */
	__u32 k = rule_idx >= BW_RULE_BUILTIN_BASE ? BW_MAX_RULES * BW_GENS + (rule_idx - BW_RULE_BUILTIN_BASE)
						   : rule_idx;
	struct bw_counter *cnt = bpf_map_lookup_elem(&rule_hits, &k);

	if (!cnt)
		return;
	if (deny)
		cnt->deny++;
	else
		cnt->audit++;
}

/* Returns the value the hook must return: -errno when enforcing, 0 when
 * auditing. The event is best effort; the verdict is not. */
static __always_inline int report(struct bw_task *self, __u32 rule_idx, const struct bw_rule *rule,
				  const struct bw_ctx *c)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();
	int ret = -EPERM;
	struct bw_event *e;

	if (rule) {
		if (rule->flags & BW_RULE_AUDIT)
			ret = 0;
		else if (rule->errno_value)
			ret = -(int)rule->errno_value;
	}

	count_hit(rule_idx, ret != 0);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped_events, 1);
		return ret;
	}
	e->kind = BW_KIND_LSM;
	{
		__u32 tid = (__u32)id;
		__u32 *seq = bpf_map_lookup_elem(&syscall_pending, &tid);

		e->seq = seq ? *seq : 0;
	}
	fill_syscall(&e->sc, task);
	e->boot_ns = bpf_ktime_get_boot_ns();
	e->hook = c->hook;
	e->verdict = ret ? BW_VERDICT_DENY : BW_VERDICT_AUDIT;
	e->err = ret;
	e->rule = rule_idx;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->access = c->access;
	e->flags = c->flags;
	e->family = c->family;
	e->type = c->type;
	e->port = c->port;
	e->pad = 0;
	if (c->addr)
		__builtin_memcpy(e->addr, c->addr, 16);
	else
		__builtin_memset(e->addr, 0, 16);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->target[0] = 0;
	if (c->path) {
		if (bpf_d_path((struct path *)c->path, e->target, sizeof(e->target)) < 0)
			e->target[0] = 0;
	} else if (c->name) {
		bpf_probe_read_kernel_str(e->target, sizeof(e->target), c->name);
	}
	__builtin_memcpy(e->exe, self->exe, sizeof(e->exe));
	bpf_ringbuf_submit(e, 0);
	return ret;
}

/* The first enforcing rule of a slot whose `when:` holds denies; an audit
 * rule that holds is reported only if no enforcing one does, so an audit
 * rule can never shadow an enforcing one. */
static __always_inline int eval(struct bw_task *self, const struct bw_rules *rl, const struct bw_ctx *c)
{
	__u32 audit_idx = 0, have_audit = 0;

	for (int i = 0; i < BW_SLOT_RULES; i++) {
		__u32 idx = rl->rule_plus1[i];
		struct bw_rule *rule;

		if (!idx)
			break;
		idx -= 1;
		rule = bpf_map_lookup_elem(&rules, &idx);
		/* A rule index with no slot is a loader bug: deny. */
		if (!rule)
			return report(self, idx, 0, c);
		if (!when_holds(idx, rule, self))
			continue;
		if (!(rule->flags & BW_RULE_AUDIT))
			return report(self, idx, rule, c);
		if (!have_audit) {
			have_audit = 1;
			audit_idx = idx;
		}
	}
	if (have_audit) {
		struct bw_rule *rule = bpf_map_lookup_elem(&rules, &audit_idx);

		return report(self, audit_idx, rule, c);
	}
	return 0;
}

static __always_inline int deny_word(__u32 word, struct bw_ctx *c)
{
	struct bw_task *self = confined_task(c);
	struct bw_rules *rl;

	if (!self)
		return 0;
	word += c->gen * BW_WORD_COUNT;
	rl = bpf_map_lookup_elem(&word_rules, &word);
	if (!rl || !rl->rule_plus1[0])
		return 0;
	return eval(self, rl, c);
}

/* Copy confinement to every new task (threads too) of a confined tree. If the
 * copy cannot be made the fork fails: a child that escaped confinement
 * because memory was short would be a hole. */
SEC("lsm/task_alloc")
int BW_LSM(bw_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	struct bw_task *parent, *child;
	struct bw_ctx c = {};

	if (ret)
		return ret;
	parent = confined_task(&c);
	if (!parent)
		return 0;
	child = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!child)
		return -ENOMEM;
	/* A host-scope subject's child is re-checked like its parent. The
	 * stand-in record (parent's storage could not be made) has 0 here:
	 * the child gets what its parent would have had. */
	child->confined = parent->confined        ? parent->confined
			  : sticky_scope(c.scope) ? BW_TASK_STICKY
						  : BW_TASK_DYNAMIC;
	/* The child's first return (from fork) never entered in its name. */
	child->sys_state = BW_SYS_UNKNOWN;
	__builtin_memcpy(child->exe, parent->exe, sizeof(child->exe));
	return 0;
}

SEC("lsm/bprm_committed_creds")
int BW_LSM(bw_exec_committed, struct linux_binprm *bprm)
{
	struct bw_ctx c = {};
	struct bw_task *self = confined_task(&c);
	struct bw_scratch *sc;

	if (!self)
		return 0;
	sc = get_scratch();
	if (!sc || path_to_key(&bprm->file->f_path, sc, self->exe) < 0)
		__builtin_memset(self->exe, 0, sizeof(self->exe));
	return 0;
}

/* exe scope: a task becomes a subject when it execs the binary (by
 * identity, so a link or bind mount of it counts); its descendants follow
 * through task_alloc. Done at bprm_check, which can fail: without a record
 * the exec is refused rather than run unconfined. The check runs for the
 * binary and each interpreter, so a script run by it is covered too. */
static __always_inline struct bw_task *exe_scope_mark(struct file *file, int *err)
{
	struct bw_config *cfg;
	struct inode *inode = file->f_inode;
	struct bw_task *t;
	__u32 zero = 0;

	*err = 0;
	cfg = bpf_map_lookup_elem(&bw_config, &zero);
	if (!cfg || cfg->scope != BW_SCOPE_EXE)
		return 0;
	if (BPF_CORE_READ(inode, i_ino) != cfg->exe_ino || BPF_CORE_READ(inode, i_sb, s_dev) != cfg->exe_dev)
		return 0;
	t = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		*err = -ENOMEM;
		return 0;
	}
	t->confined = BW_TASK_STICKY;
	return t;
}

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
 * (0..2: an access; -1: the exec allow-list), found by identity. The walk
 * follows the file's own filesystem up to its root before stepping to
 * where that mount is attached, so a bind mount of a subdirectory, or a
 * detached mount from open_tree(), still has its real ancestors checked.
 * It runs as a bpf_loop callback (verified once, whatever the depth), so
 * the dentry and mount travel as plain addresses read with CO-RE. */
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
	if (m && (w->slot < 0 ? m->allow_exec != 0 : m->acc[w->slot & 3].rule_plus1[0] != 0)) {
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
	w.gen = c->gen;
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
 * -1 to ask whether an allow: exec pattern lists it (returns 1). */
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
	sc->raw[BW_PATH_MAX - 1] = c->gen;
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
		bool enforcing = false;

		if (j >= sc->walk.nfound)
			break;
		idx = sc->walk.found[j & (BW_GLOB_CANDIDATES - 1)];
		g = bpf_map_lookup_elem(&file_globs, &idx);
		if (!g)
			continue;
		if (slot < 0 ? !g->m.allow_exec : !g->m.acc[slot & 3].rule_plus1[0])
			continue;
		hit = glob_matches(sc, idx);
		/* Undecided never allows and always counts for a deny. */
		if (!hit || (hit == 2 && slot < 0))
			continue;
		if (slot < 0)
			return 1;
		for (int r = 0; r < BW_SLOT_RULES; r++) {
			__u32 ri = g->m.acc[slot & 3].rule_plus1[r];
			struct bw_rule *rule;

			if (!ri)
				break;
			ri -= 1;
			rule = bpf_map_lookup_elem(&rules, &ri);
			if (!rule || !(rule->flags & BW_RULE_AUDIT))
				enforcing = true;
		}
		if (enforcing) {
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
	struct bw_file_match *m = match_exact(file, c->gen);
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

/* Whether name (NUL-terminated, at most 24 bytes with it) is lit. */
static __always_inline bool name_is(const char *name, const char *lit, int len)
{
	for (int i = 0; i < 24; i++) {
		if (i > len)
			break;
		if (name[i] != lit[i])
			return false;
	}
	return true;
}

/* Self-protection of the scope: a confined task may not open for writing
 * the cgroup v2 files that move tasks (its own pid to another cgroup's
 * cgroup.procs: out of a cgroup scope), kill or freeze a cgroup (the
 * enforcer's, from cgroup.kill), or reshape the tree. */
static __always_inline int protect_scope(struct bw_task *self, struct file *file, __u32 mode, struct bw_ctx *c)
{
	struct dentry *d;
	char name[24] = {};

	if (!c->protect || !(mode & FMODE_WRITE))
		return 0;
	d = file->f_path.dentry;
	if (BPF_CORE_READ(d, d_sb, s_magic) != CGROUP2_SUPER_MAGIC)
		return 0;
	if (bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(d, d_name.name)) < 0)
		return 0;
	/* Killing or freezing a cgroup (the enforcer's) is refused in every
	 * scope. Moving tasks and reshaping the tree only matter where the
	 * scope is a cgroup; under host scope everything is a subject already,
	 * and container runtimes and service managers must keep doing it. */
	if (name_is(name, "cgroup.kill", 11) || name_is(name, "cgroup.freeze", 13) ||
	    (c->scope == BW_SCOPE_CGROUP && (name_is(name, "cgroup.procs", 12) || name_is(name, "cgroup.threads", 14) ||
					     name_is(name, "cgroup.subtree_control", 22)))) {
		c->access = BW_ACC_WRITE;
		return report(self, BW_RULE_PROTECT_SCOPE, 0, c);
	}
	return 0;
}

SEC("lsm/file_open")
int BW_LSM(bw_file_open, struct file *file, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_FILE_OPEN, .path = &file->f_path};
	struct bw_task *self;
	__u32 mode;

	if (ret)
		return ret;
	self = confined_task(&c);
	if (!self)
		return 0;
	mode = file->f_mode;
	c.flags = mode;
	ret = protect_scope(self, file, mode, &c);
	if (ret)
		return ret;
	if (mode & FMODE_READ) {
		c.access = BW_ACC_READ;
		ret = file_check(self, file, 0, &c);
		if (ret)
			return ret;
	}
	if (mode & FMODE_WRITE) {
		c.access = BW_ACC_WRITE;
		return file_check(self, file, 1, &c);
	}
	return 0;
}

static __always_inline int exec_check(struct bw_task *self, struct file *file, struct bw_ctx *c)
{
	struct bw_file_match *m;
	int ret;

	c->access = BW_ACC_EXEC;
	ret = file_check(self, file, 2, c);
	if (ret || !exec_default_deny(c))
		return ret;
	/* Allow-list: the file itself or a directory above it must be listed. */
	m = match_exact(file, c->gen);
	if (m && m->allow_exec)
		return 0;
	bool deep;

	m = match_subtree(file, -1, &deep, c);
	if (m)
		return 0;
	if (glob_check(self, file, -1, c) == 1)
		return 0;
	return report(self, BW_RULE_DEFAULT_EXEC, 0, c);
}

/* Runs for the binary and again for each script interpreter, so "deny exec
 * of /bin/sh" also stops a #!/bin/sh script. */
SEC("lsm/bprm_check_security")
int BW_LSM(bw_bprm_check, struct linux_binprm *bprm, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_BPRM_CHECK, .path = &bprm->file->f_path};
	struct bw_task *self;

	if (ret)
		return ret;
	self = confined_task(&c);
	if (!self) {
		self = exe_scope_mark(bprm->file, &ret);
		if (ret)
			return ret;
		if (!self)
			return 0;
	}
	return exec_check(self, bprm->file, &c);
}

/* Without this, "ld.so /bin/sh" runs a denied binary: it only opens it for
 * reading and maps it executable. Deny rules only: the exec allow-list
 * would have to list every shared library. */
SEC("lsm/mmap_file")
int BW_LSM(bw_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot, unsigned long flags, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_MMAP_EXEC, .access = BW_ACC_EXEC};
	struct bw_task *self;

	if (ret)
		return ret;
	if (!file || !(prot & PROT_EXEC))
		return 0;
	self = confined_task(&c);
	if (!self)
		return 0;
	c.path = &file->f_path;
	c.flags = prot;
	return file_check(self, file, 2, &c);
}

/* `deny: write` is more than opening for writing: truncating, removing,
 * renaming over or away, linking into, chmod and chown change the file or
 * its subtree without an open. Matched by identity and subtree (no path
 * string here: these hooks hand over a dentry, not an opened path). */
static __always_inline int write_check(struct dentry *d, struct vfsmount *mnt, __u32 hook)
{
	struct bw_ctx c = {.hook = hook, .access = BW_ACC_WRITE};
	struct bw_task *self = confined_task(&c);
	struct inode *inode;
	struct bw_file_match *m;
	bool deep;
	int ret;

	if (!self || !d)
		return 0;
	c.name = (const char *)BPF_CORE_READ(d, d_name.name);
	/* The enforcer's pins live on bpffs: removing or renaming one would
	 * drop the last reference to a link and detach the layer. */
	if (c.protect && BPF_CORE_READ(d, d_sb, s_magic) == BPF_FS_MAGIC)
		return report(self, BW_RULE_SELF, 0, &c);
	inode = BPF_CORE_READ(d, d_inode);
	if (inode) {
		struct bw_inode_key k = inode_key(inode);

		k.pad = c.gen;
		m = bpf_map_lookup_elem(&file_inodes, &k);
		if (m && m->acc[1].rule_plus1[0]) {
			ret = eval(self, &m->acc[1], &c);
			if (ret)
				return ret;
		}
	}
	m = match_subtree_at(d, mnt, 1, &deep, &c);
	if (m)
		return eval(self, &m->acc[1], &c);
	if (deep)
		return report(self, BW_RULE_DEPTH, 0, &c);
	return 0;
}

SEC("lsm/path_truncate")
int BW_LSM(bw_path_truncate, const struct path *path, int ret)
{
	if (ret)
		return ret;
	return write_check(path->dentry, path->mnt, BW_HOOK_PATH_TRUNCATE);
}

SEC("lsm/path_unlink")
int BW_LSM(bw_path_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return write_check(dentry, dir->mnt, BW_HOOK_PATH_UNLINK);
}

SEC("lsm/path_rmdir")
int BW_LSM(bw_path_rmdir, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return write_check(dentry, dir->mnt, BW_HOOK_PATH_RMDIR);
}

/* Both ends: moving a protected file away, and replacing it (passwd-style
 * rename over it), or moving something into a protected subtree. */
SEC("lsm/path_rename")
int BW_LSM(bw_path_rename, const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir,
	   struct dentry *new_dentry, unsigned int flags, int ret)
{
	if (ret)
		return ret;
	ret = write_check(old_dentry, old_dir->mnt, BW_HOOK_PATH_RENAME);
	if (ret)
		return ret;
	/* The target may not exist yet: its directory's subtree still counts. */
	if (!BPF_CORE_READ(new_dentry, d_inode))
		return write_check(new_dir->dentry, new_dir->mnt, BW_HOOK_PATH_RENAME);
	return write_check(new_dentry, new_dir->mnt, BW_HOOK_PATH_RENAME);
}

/* A new name inside a protected subtree is a write to it. */
SEC("lsm/path_link")
int BW_LSM(bw_path_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	return write_check(new_dir->dentry, new_dir->mnt, BW_HOOK_PATH_LINK);
}

SEC("lsm/path_chmod")
int BW_LSM(bw_path_chmod, const struct path *path, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return write_check(path->dentry, path->mnt, BW_HOOK_PATH_CHMOD);
}

SEC("lsm/path_chown")
int BW_LSM(bw_path_chown, const struct path *path, __u32 uid, __u32 gid, int ret)
{
	if (ret)
		return ret;
	return write_check(path->dentry, path->mnt, BW_HOOK_PATH_CHOWN);
}

/* Self-protection: a confined task may not mount over or unmount a bpffs,
 * where the enforcer's pins live (enforce mode only). */
static __always_inline int protect_bpffs(struct super_block *sb, struct bw_ctx *c)
{
	struct bw_task *self = confined_task(c);

	if (!self || !c->protect || !sb || BPF_CORE_READ(sb, s_magic) != BPF_FS_MAGIC)
		return 0;
	return report(self, BW_RULE_SELF, 0, c);
}

SEC("lsm/sb_mount")
int BW_LSM(bw_sb_mount, const char *dev_name, const struct path *path, const char *type, unsigned long flags,
	   void *data, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_SB_MOUNT, .flags = flags, .path = path};

	if (ret)
		return ret;
	ret = protect_bpffs(BPF_CORE_READ(path, dentry, d_sb), &c);
	if (ret)
		return ret;
	return deny_word(BW_WORD_MOUNT, &c);
}

/* The new mount API (fsopen/fsmount/open_tree) attaches through here, and
 * move_mount(2) moves existing mounts: neither may put something over a
 * bpffs or carry a bpffs mount away (as sb_mount). */
SEC("lsm/move_mount")
int BW_LSM(bw_move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	/* No .path: bpf_d_path is not allowed in this hook. */
	struct bw_ctx c = {.hook = BW_HOOK_MOVE_MOUNT};

	if (ret)
		return ret;
	ret = protect_bpffs(BPF_CORE_READ(to_path, dentry, d_sb), &c);
	if (ret)
		return ret;
	ret = protect_bpffs(BPF_CORE_READ(from_path, mnt, mnt_sb), &c);
	if (ret)
		return ret;
	return deny_word(BW_WORD_MOUNT, &c);
}

/* Whether the mount of mnt has mounts beneath it. */
static __always_inline bool has_child_mounts(struct vfsmount *mnt)
{
	__u64 m = (__u64)mnt - bpf_core_field_offset(struct mount, mnt);
	__u64 head = m + bpf_core_field_offset(struct mount, mnt_mounts);
	__u64 next = 0;

	bpf_probe_read_kernel(&next, sizeof(next), (void *)head);
	return next != 0 && next != head;
}

/* A lazy unmount (MNT_DETACH) takes the whole tree below the mount with it,
 * and a bpffs anywhere in it loses the enforcer's pins (umount -l /sys).
 * Walking that tree from here would need a bound a deeper tree defeats, so
 * while protect is on a confined task may not lazily unmount any mount that
 * has mounts beneath it. Without MNT_DETACH the kernel itself refuses such
 * a unmount (EBUSY), so nothing else is taken from it. (Mount propagation
 * can carry a lazy unmount to peers whose children this does not see; a
 * confined task's peers are in its own mount namespace's peer groups.) */
SEC("lsm/sb_umount")
int BW_LSM(bw_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_SB_UMOUNT, .flags = flags};
	struct bw_task *self;

	if (ret)
		return ret;
	ret = protect_bpffs(BPF_CORE_READ(mnt, mnt_sb), &c);
	if (ret)
		return ret;
	self = confined_task(&c);
	if (self && c.protect && (flags & MNT_DETACH) && has_child_mounts(mnt))
		return report(self, BW_RULE_SELF, 0, &c);
	return deny_word(BW_WORD_MOUNT, &c);
}

SEC("lsm/sb_remount")
int BW_LSM(bw_sb_remount, struct super_block *sb, void *mnt_opts, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_SB_REMOUNT};

	if (ret)
		return ret;
	return deny_word(BW_WORD_MOUNT, &c);
}

static __always_inline int protect_supervisor(struct task_struct *target, struct bw_ctx *c)
{
	struct bw_task *self = confined_task(c);

	if (!self || !c->supervisor || target->tgid != c->supervisor)
		return 0;
	return report(self, BW_RULE_SUPERVISOR, 0, c);
}

/* Attach-level access only: read-level checks guard /proc fields that ps
 * and top need, and denying them breaks ordinary tools. Always loaded: it
 * also keeps the sandbox off bulwark itself. */
SEC("lsm/ptrace_access_check")
int BW_LSM(bw_ptrace_access, struct task_struct *child, unsigned int mode, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_PTRACE_ACCESS, .flags = mode};

	if (ret)
		return ret;
	if (!(mode & PTRACE_MODE_ATTACH))
		return 0;
	ret = protect_supervisor(child, &c);
	if (ret)
		return ret;
	return deny_word(BW_WORD_PTRACE, &c);
}

SEC("lsm/ptrace_traceme")
int BW_LSM(bw_ptrace_traceme, struct task_struct *parent, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_PTRACE_TRACEME};

	if (ret)
		return ret;
	return deny_word(BW_WORD_PTRACE, &c);
}

SEC("lsm/kernel_module_request")
int BW_LSM(bw_module_request, char *kmod_name, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_MODULE_REQUEST, .name = kmod_name};

	if (ret)
		return ret;
	return deny_word(BW_WORD_KMOD, &c);
}

SEC("lsm/kernel_read_file")
int BW_LSM(bw_read_file, struct file *file, enum kernel_read_file_id id, bool contents, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_READ_FILE, .flags = id};

	if (ret)
		return ret;
	if (file)
		c.path = &file->f_path;
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_MODULE))
		return deny_word(BW_WORD_KMOD, &c);
	if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_KEXEC_IMAGE) ||
	    id == bpf_core_enum_value(enum kernel_read_file_id, READING_KEXEC_INITRAMFS))
		return deny_word(BW_WORD_KEXEC, &c);
	return 0;
}

SEC("lsm/kernel_load_data")
int BW_LSM(bw_load_data, enum kernel_load_data_id id, bool contents, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_LOAD_DATA, .flags = id};

	if (ret)
		return ret;
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_MODULE))
		return deny_word(BW_WORD_KMOD, &c);
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_KEXEC_IMAGE) ||
	    id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_KEXEC_INITRAMFS))
		return deny_word(BW_WORD_KEXEC, &c);
	return 0;
}

/* Self-protection: the commands that reach BPF objects the task did not
 * create (by pin, by id) or detach links. A confined task could otherwise
 * open the enforcer's maps and rewrite the policy, or detach its programs.
 * Creating and using its own objects stays up to the policy (`deny: bpf`). */
static __always_inline int protect_bpf(int cmd, struct bw_ctx *c)
{
	struct bw_task *self = confined_task(c);

	if (!self || !c->protect)
		return 0;
	switch (cmd) {
	case BPF_OBJ_GET:
	case BPF_PROG_GET_FD_BY_ID:
	case BPF_MAP_GET_FD_BY_ID:
	case BPF_LINK_GET_FD_BY_ID:
	case BPF_BTF_GET_FD_BY_ID:
	case BPF_LINK_DETACH:
	case BPF_PROG_DETACH:
		return report(self, BW_RULE_SELF, 0, c);
	}
	return 0;
}

/* 6.1 .. 6.12: bpf(cmd, attr, size). */
SEC("lsm/bpf")
int BW_LSM(bw_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_BPF, .flags = cmd};

	if (ret)
		return ret;
	ret = protect_bpf(cmd, &c);
	if (ret)
		return ret;
	return deny_word(BW_WORD_BPF, &c);
}

/* Newer kernels (7.x; the BTF decides, not the version) add `bool kernel`
 * before ret. Loaded instead of bw_bpf there. */
SEC("lsm/bpf")
int BW_LSM(bw_bpf_v4, int cmd, union bpf_attr *attr, unsigned int size, void *extra, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_BPF, .flags = cmd};

	if (ret)
		return ret;
	ret = protect_bpf(cmd, &c);
	if (ret)
		return ret;
	return deny_word(BW_WORD_BPF, &c);
}

/* Up to 6.x: perf_event_open(attr, type). */
SEC("lsm/perf_event_open")
int BW_LSM(bw_perf, struct perf_event_attr *attr, int type, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_PERF, .flags = type};

	if (ret)
		return ret;
	return deny_word(BW_WORD_PERF, &c);
}

/* 6.12 on: perf_event_open(type); the attr argument is gone. Loaded instead
 * of bw_perf there. */
SEC("lsm/perf_event_open")
int BW_LSM(bw_perf_v1, int type, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_PERF, .flags = type};

	if (ret)
		return ret;
	return deny_word(BW_WORD_PERF, &c);
}

SEC("lsm/key_alloc")
int BW_LSM(bw_key_alloc, struct key *key, const struct cred *cred, unsigned long flags, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_KEY_ALLOC, .flags = flags};

	if (ret)
		return ret;
	return deny_word(BW_WORD_KEYRING, &c);
}

SEC("lsm/userns_create")
int BW_LSM(bw_userns_create, const struct cred *cred, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_USERNS};

	if (ret)
		return ret;
	return deny_word(BW_WORD_USERNS, &c);
}

/* Only real changes: setuid(getuid()) is a no-op programs do routinely. */
SEC("lsm/task_fix_setuid")
int BW_LSM(bw_fix_setuid, struct cred *new, const struct cred *old, int flags, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_SETUID, .flags = flags};

	if (ret)
		return ret;
	if (new->uid.val == old->uid.val &&new->euid.val == old->euid.val &&new->suid.val ==
	    old->suid.val &&new->fsuid.val == old->fsuid.val)
		return 0;
	c.type = new->euid.val;
	return deny_word(BW_WORD_SETUID, &c);
}

SEC("lsm/socket_create")
int BW_LSM(bw_socket_create, int family, int type, int protocol, int kern, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_SOCKET_CREATE, .family = family, .type = type};
	struct bw_task *self;
	struct bw_rules *rl;
	__u32 fam = family;

	if (ret)
		return ret;
	/* Sockets the kernel makes for itself are not the task's doing. */
	if (kern)
		return 0;
	self = confined_task(&c);
	if (!self)
		return 0;
	/* Raw IP and packet sockets; netlink uses SOCK_RAW too but is not a
	 * raw network socket. */
	if (((type & 0xf) == SOCK_RAW && (family == AF_INET || family == AF_INET6)) || family == AF_PACKET) {
		__u32 w = BW_WORD_RAWSOCK + c.gen * BW_WORD_COUNT;

		rl = bpf_map_lookup_elem(&word_rules, &w);
		if (rl && rl->rule_plus1[0]) {
			ret = eval(self, rl, &c);
			if (ret)
				return ret;
		}
	}
	if (fam >= BW_MAX_FAMILIES)
		return 0;
	fam += c.gen * BW_MAX_FAMILIES;
	rl = bpf_map_lookup_elem(&family_rules, &fam);
	if (!rl || !rl->rule_plus1[0])
		return 0;
	return eval(self, rl, &c);
}

static __always_inline bool in_slot(const struct bw_rules *rl, __u32 idx_plus1)
{
	if (!rl)
		return false;
	for (int i = 0; i < BW_SLOT_RULES; i++)
		if (rl->rule_plus1[i] == idx_plus1)
			return true;
	return false;
}

/* connect/bind: rules may name ports, addresses or both; a rule naming both
 * needs both to match. Port and address each cost one lookup. */
static __always_inline int net_check(__u16 op, __u32 hook, struct sockaddr *address, int addrlen)
{
	struct bw_ctx c = {.hook = hook};
	struct bw_addr_key ak = {};
	struct bw_port_key pk = {.op = op};
	struct bw_rules *by_port, *by_addr;
	struct bw_task *self;
	__u16 family;
	__be16 port;

	self = confined_task(&c);
	if (!self)
		return 0;
	family = BPF_CORE_READ(address, sa_family);
	/* bind() takes AF_UNSPEC with INADDR_ANY as AF_INET (__inet_bind). */
	if (op == BW_NET_BIND && family == AF_UNSPEC)
		family = AF_INET;
	if (family == AF_INET && addrlen >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)address;

		port = BPF_CORE_READ(sin, sin_port);
		bpf_probe_read_kernel(ak.addr, 4, &sin->sin_addr);
	} else if (family == AF_INET6 && addrlen >= SIN6_LEN_RFC2133) {
		/* The kernel takes the RFC 2133 length (no scope id), too. */
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)address;

		port = BPF_CORE_READ(sin6, sin6_port);
		bpf_probe_read_kernel(ak.addr, 16, &sin6->sin6_addr);
		/* ::ffff:a.b.c.d is IPv4 on the wire: match it as IPv4. */
		if (ak.addr[0] == 0 && ak.addr[1] == 0 && ak.addr[2] == 0 && ak.addr[3] == 0 && ak.addr[4] == 0 &&
		    ak.addr[5] == 0 && ak.addr[6] == 0 && ak.addr[7] == 0 && ak.addr[8] == 0 && ak.addr[9] == 0 &&
		    ak.addr[10] == 0xff && ak.addr[11] == 0xff) {
			family = AF_INET;
			__builtin_memmove(ak.addr, ak.addr + 12, 4);
			__builtin_memset(ak.addr + 4, 0, 12);
		}
	} else {
		return 0;
	}
	c.family = family;
	c.port = bpf_ntohs(port);
	c.addr = ak.addr;
	pk.port = c.port;
	pk.op = op | c.gen << BW_GEN_SHIFT_OP;
	ak.op = op | c.gen << BW_GEN_SHIFT_OP;
	ak.family = family;
	ak.prefixlen = 32 + (family == AF_INET ? 32 : 128);
	by_port = bpf_map_lookup_elem(&net_ports, &pk);
	by_addr = bpf_map_lookup_elem(&net_addrs, &ak);
	/* As in eval(): enforcing rules first, then the first audit one. */
	__u32 audit_plus1 = 0;
	for (int i = 0; i < BW_SLOT_RULES * 2; i++) {
		__u32 r, idx;
		struct bw_rule *rule;
		bool holds;

		if (i < BW_SLOT_RULES) {
			r = by_port ? by_port->rule_plus1[i & (BW_SLOT_RULES - 1)] : 0;
			if (!r)
				continue;
			idx = r - 1;
			rule = bpf_map_lookup_elem(&rules, &idx);
			holds = rule && (!(rule->flags & BW_RULE_NEEDS_ADDR) || in_slot(by_addr, r));
		} else {
			r = by_addr ? by_addr->rule_plus1[i & (BW_SLOT_RULES - 1)] : 0;
			if (!r)
				continue;
			idx = r - 1;
			rule = bpf_map_lookup_elem(&rules, &idx);
			holds = rule && !(rule->flags & BW_RULE_NEEDS_PORT);
		}
		if (!holds || !when_holds(idx, rule, self))
			continue;
		if (!(rule->flags & BW_RULE_AUDIT))
			return report(self, idx, rule, &c);
		if (!audit_plus1)
			audit_plus1 = r;
	}
	if (audit_plus1) {
		__u32 idx = audit_plus1 - 1;

		return report(self, idx, bpf_map_lookup_elem(&rules, &idx), &c);
	}
	return 0;
}

SEC("lsm/socket_connect")
int BW_LSM(bw_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	return net_check(BW_NET_CONNECT, BW_HOOK_SOCKET_CONNECT, address, addrlen);
}

/* A destination given to sendto/sendmsg (UDP, TCP Fast Open) never passes
 * through socket_connect: the same rules apply here. */
SEC("lsm/socket_sendmsg")
int BW_LSM(bw_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	void *name;
	int namelen;

	if (ret)
		return ret;
	name = BPF_CORE_READ(msg, msg_name);
	namelen = BPF_CORE_READ(msg, msg_namelen);
	if (!name || namelen <= 0)
		return 0;
	return net_check(BW_NET_CONNECT, BW_HOOK_SOCKET_SENDMSG, name, namelen);
}

SEC("lsm/socket_bind")
int BW_LSM(bw_socket_bind, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	return net_check(BW_NET_BIND, BW_HOOK_SOCKET_BIND, address, addrlen);
}

/* `hooks:` escape hatch: deny the hook outright inside the tree. Loaded only
 * when a policy names the hook. */
static __always_inline int escape_ctx(__u32 hook, struct bw_ctx *c)
{
	__u32 n = hook - BW_HOOK_ESCAPE_BASE;
	struct bw_task *self;
	struct bw_rule *rule;
	struct bw_gen *g;
	__u32 idx;

	self = confined_task(c);
	if (!self || n >= BW_ESCAPE_HOOKS)
		return 0;
	idx = c->gen;
	g = bpf_map_lookup_elem(&gens, &idx);
	if (!g)
		return 0;
	idx = g->escape_rule_plus1[n];
	/* The exec allow-list trusts resolved paths; a new root would let the
	 * sandbox make its own "/usr/bin". pivot_root and chroot are
	 * therefore denied whenever the allow-list is on. */
	if (exec_default_deny(c) && (hook == BW_HOOK_ESC_PIVOTROOT || hook == BW_HOOK_ESC_CHROOT) && !idx)
		return report(self, BW_RULE_DEFAULT_EXEC, 0, c);
	if (!idx)
		return 0;
	idx -= 1;
	rule = bpf_map_lookup_elem(&rules, &idx);
	return report(self, idx, rule, c);
}

static __always_inline int escape(__u32 hook)
{
	struct bw_ctx c = {.hook = hook};

	return escape_ctx(hook, &c);
}

SEC("lsm/syslog")
int BW_LSM(bw_esc_syslog, int type, int ret)
{
	return ret ? ret : escape(BW_HOOK_ESC_SYSLOG);
}

SEC("lsm/settime")
int BW_LSM(bw_esc_settime, const struct timespec64 *ts, const struct timezone *tz, int ret)
{
	return ret ? ret : escape(BW_HOOK_ESC_SETTIME);
}

SEC("lsm/sb_pivotroot")
int BW_LSM(bw_esc_pivotroot, const struct path *old_path, const struct path *new_path, int ret)
{
	return ret ? ret : escape(BW_HOOK_ESC_PIVOTROOT);
}

SEC("lsm/path_chroot")
int BW_LSM(bw_esc_chroot, const struct path *path, int ret)
{
	return ret ? ret : escape(BW_HOOK_ESC_CHROOT);
}

SEC("lsm/quotactl")
int BW_LSM(bw_esc_quotactl, int cmds, int type, int id, struct super_block *sb, int ret)
{
	return ret ? ret : escape(BW_HOOK_ESC_QUOTACTL);
}

SEC("lsm/task_setnice")
int BW_LSM(bw_esc_setnice, struct task_struct *p, int nice, int ret)
{
	return ret ? ret : escape(BW_HOOK_ESC_SETNICE);
}

/* Always loaded: the sandbox must not kill bulwark (its death detaches
 * this layer); also the `hooks: task_kill` escape hatch. */
SEC("lsm/task_kill")
int BW_LSM(bw_esc_kill, struct task_struct *p, struct kernel_siginfo *info, int sig, const struct cred *cred, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_ESC_KILL, .flags = sig};

	if (ret)
		return ret;
	/* sig 0 only probes for existence. A task in do_exit runs no code of
	 * its own any more: what it sends then is the kernel's doing, e.g.
	 * the parent-death signal the supervisor asked for itself (which is
	 * how an init that is not pid 1 can still stop a host enforcer). */
	if (sig && !(bpf_get_current_task_btf()->flags & PF_EXITING)) {
		ret = protect_supervisor(p, &c);
		if (ret)
			return ret;
	}
	return escape(BW_HOOK_ESC_KILL);
}

/*
 * seccomp's denials, seen from the syscall tracepoints. These are tracing
 * programs (they load where LSM programs cannot) and they run for every
 * task, so each returns at once for a task outside a confined tree.
 *
 * seccomp's filters run before sys_enter fires: a syscall they refuse with
 * an errno exits without having entered. A confined task's state goes
 * IDLE -> ENTERED at sys_enter and back at sys_exit; an exit from IDLE with
 * an error is a seccomp denial. Those the listener answered are reported by
 * the loader already and recognised there by their rule; the rest come from
 * the `syscalls:` table. Kill actions never return: they show up as the
 * SIGSYS that seccomp forces on the task.
 */
/* A record for the ring buffer, or null, counted, when it is full. */
static __always_inline struct bw_event *reserve_event(void)
{
	struct bw_event *e = bpf_ringbuf_reserve(&events, sizeof(struct bw_event), 0);

	if (!e)
		__sync_fetch_and_add(&dropped_events, 1);
	return e;
}

static __always_inline void fill_common(struct bw_event *e, struct bw_task *self, struct task_struct *task)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->seq = 0;
	e->boot_ns = bpf_ktime_get_boot_ns();
	e->hook = 0;
	e->verdict = BW_VERDICT_DENY;
	e->rule = 0;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->access = 0;
	e->flags = 0;
	e->family = 0;
	e->type = 0;
	e->port = 0;
	e->pad = 0;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->target[0] = 0;
	__builtin_memcpy(e->exe, self->exe, sizeof(e->exe));
}

SEC("tp_btf/sys_enter")
int BPF_PROG(bw_sys_enter, struct pt_regs *regs, long nr)
{
	struct bw_ctx c = {};
	struct bw_task *self = confined_task(&c);

	if (self)
		self->sys_state = BW_SYS_ENTERED;
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(bw_sys_exit, struct pt_regs *regs, long ret)
{
	struct bw_ctx c = {};
	struct bw_task *self = confined_task(&c);
	struct task_struct *task;
	struct bw_event *e;
	__u32 tid, state, *seq;

	if (!self)
		return 0;
	state = self->sys_state;
	self->sys_state = BW_SYS_IDLE;
	tid = (__u32)bpf_get_current_pid_tgid();
	seq = bpf_map_lookup_elem(&syscall_pending, &tid);
	if (seq) {
		__u32 token = *seq;

		bpf_map_delete_elem(&syscall_pending, &tid);
		task = bpf_get_current_task_btf();
		e = reserve_event();
		if (!e)
			return 0;
		fill_common(e, self, task);
		e->kind = BW_KIND_SYSCALL_DONE;
		e->seq = token;
		e->verdict = BW_VERDICT_AUDIT;
		fill_syscall(&e->sc, task);
		e->sc.ret = ret;
		bpf_ringbuf_submit(e, 0);
		return 0;
	}
	/* -4095..-1 is an errno; ret_from_fork and the first exit of a newly
	 * marked task are UNKNOWN; a tracer-skipped call has nr -1. */
	if (state != BW_SYS_IDLE || ret >= 0 || ret < -4095)
		return 0;
	task = bpf_get_current_task_btf();
	if ((long)BPF_CORE_READ(regs, orig_ax) < 0)
		return 0;
	e = reserve_event();
	if (!e)
		return 0;
	fill_common(e, self, task);
	e->kind = BW_KIND_SECCOMP_ERRNO;
	e->err = (__s32)ret;
	fill_syscall(&e->sc, task);
	e->sc.ret = ret;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#define SIGSYS            31
#define SYS_SECCOMP       1
#define SECCOMP_MODE_DEAD 3

/* seccomp's kill actions mark the task dead, then force SIGSYS with
 * si_code SYS_SECCOMP on it. Only that pairing counts: a task may send
 * itself a SIGSYS with that code, but cannot set its own seccomp mode. */
SEC("tp_btf/signal_generate")
int BPF_PROG(bw_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *t, int group, int result)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_task *self;
	struct bw_event *e;

	struct bw_ctx c = {};

	if (sig != SIGSYS || t != task || BPF_CORE_READ(info, si_code) != SYS_SECCOMP)
		return 0;
	self = confined_task(&c);
	if (!self || BPF_CORE_READ(task, seccomp.mode) != SECCOMP_MODE_DEAD)
		return 0;
	e = reserve_event();
	if (!e)
		return 0;
	fill_common(e, self, task);
	e->kind = BW_KIND_SECCOMP_KILL;
	e->err = 0;
	e->flags = sig;
	fill_syscall(&e->sc, task);
	/* The siginfo names the syscall and ABI exactly as seccomp saw them. */
	e->sc.nr = BPF_CORE_READ(info, _sifields._sigsys._syscall);
	e->sc.arch = BPF_CORE_READ(info, _sifields._sigsys._arch);
	e->sc.ret = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* With no LSM program loaded, nothing else copies the mark to new tasks.
 * sched_process_fork fires before the child first runs. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(bw_trace_fork, struct task_struct *parent, struct task_struct *child)
{
	struct bw_task *p, *c;
	struct bw_ctx bc = {};

	if (!trace_propagates)
		return 0;
	p = confined_task(&bc);
	if (!p)
		return 0;
	c = bpf_task_storage_get(&tasks, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return 0;
	c->confined = p->confined ? p->confined : BW_TASK_DYNAMIC;
	c->sys_state = BW_SYS_UNKNOWN;
	__builtin_memcpy(c->exe, p->exe, sizeof(c->exe));
	return 0;
}
