/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one definition of everything the BPF programs and the loader exchange:
 * event records, map keys and values, limits. Included by bulwark.bpf.c (after
 * vmlinux.h) and by the C++ loader (after <linux/types.h>), so it may only use
 * the fixed-width kernel types both sides have.
 */
#ifndef BULWARK_H
#define BULWARK_H

/* Path keys are fixed-size so they can be hash-map keys. A kernel path longer
 * than this cannot equal any policy path (the policy checker rejects longer
 * ones), so a too-long path is a miss, not a hole. */
#define BW_PATH_MAX 256
#define BW_COMM_LEN 16
/* Rule numbers per generation slot; the last BW_BUILTIN_SLOTS of each count
 * the built-in rules' hits, so a policy has BW_MAX_RULES - BW_BUILTIN_SLOTS. */
#define BW_MAX_RULES     16384
#define BW_BUILTIN_SLOTS 16
#define BW_MAX_PATHS     65536
#define BW_MAX_INODES    65536
/* About 24 000 records: 50 ms of a 500 000/s burst while the loader is off
 * the CPU. Measured with bench/events_bench.cc on a busy 2-core host: 256 KiB
 * lost half of such a burst, 4 MiB 16%, 16 MiB nothing. */
#define BW_RINGBUF_BYTES (16 * 1024 * 1024)

/* Access bits, shared by file rules and the maps the loader fills. */
#define BW_ACC_READ  1u
#define BW_ACC_WRITE 2u
#define BW_ACC_EXEC  4u

/* Which hook raised an event. Names, categories and event fields live in one
 * table, policy/catalog.cc's hooks(). */
enum bw_hook {
	BW_HOOK_FILE_OPEN = 1,
	BW_HOOK_BPRM_CHECK = 2,
	BW_HOOK_SB_MOUNT = 3,
	BW_HOOK_MOVE_MOUNT = 4,
	BW_HOOK_SB_UMOUNT = 5,
	BW_HOOK_SB_REMOUNT = 6,
	BW_HOOK_MMAP_EXEC = 7,
	BW_HOOK_PTRACE_ACCESS = 8,
	BW_HOOK_PTRACE_TRACEME = 9,
	BW_HOOK_MODULE_REQUEST = 10,
	BW_HOOK_READ_FILE = 11,
	BW_HOOK_LOAD_DATA = 12,
	BW_HOOK_BPF = 13,
	BW_HOOK_PERF = 14,
	BW_HOOK_KEY_ALLOC = 15,
	BW_HOOK_USERNS = 16,
	BW_HOOK_SETUID = 17,
	BW_HOOK_SOCKET_CREATE = 18,
	BW_HOOK_SOCKET_CONNECT = 19,
	BW_HOOK_SOCKET_BIND = 20,
	BW_HOOK_SOCKET_SENDMSG = 21,
	BW_HOOK_PATH_TRUNCATE = 22,
	BW_HOOK_PATH_UNLINK = 23,
	BW_HOOK_PATH_RMDIR = 24,
	BW_HOOK_PATH_RENAME = 25,
	BW_HOOK_PATH_LINK = 26,
	BW_HOOK_PATH_CHMOD = 27,
	BW_HOOK_PATH_CHOWN = 28,
	/* Never in an event: they carry confinement across fork and exec. */
	BW_HOOK_TASK_ALLOC = 29,
	BW_HOOK_EXEC_COMMITTED = 30,
	/* Not a hook of its own: the first hook a subject reaches after its
	 * supervisor or the engine died, whichever it was (lib/rules.h). */
	BW_HOOK_SUPERVISOR_GONE = 31,
	/* `hooks:` escape hatch: slot (hook - BW_HOOK_ESCAPE_BASE) of
	 * escape_rule_plus1. Names in policy/catalog.cc's hook table. */
	BW_HOOK_ESCAPE_BASE = 32,
	BW_HOOK_ESC_SYSLOG = BW_HOOK_ESCAPE_BASE,
	BW_HOOK_ESC_SETTIME = 33,
	BW_HOOK_ESC_PIVOTROOT = 34,
	BW_HOOK_ESC_CHROOT = 35,
	BW_HOOK_ESC_QUOTACTL = 36,
	BW_HOOK_ESC_SETNICE = 37,
	BW_HOOK_ESC_KILL = 38,
	BW_HOOK_ESCAPE_END,
	/* Self-protection only: no confined task may weaken a supervisor. */
	BW_HOOK_SETRLIMIT = 40,
	BW_HOOK_SETSCHED = 41,
	BW_HOOK_SETIOPRIO = 42,
	BW_HOOK_END,
};

/* High-level words the LSM layer enforces through word_rules, in the order
 * the loader fills them (see word_index() in loader/lsm.cc). File words and
 * socket families/ports/addresses have maps of their own. */
enum bw_word {
	BW_WORD_MOUNT,
	BW_WORD_PTRACE,
	BW_WORD_KMOD,
	BW_WORD_BPF,
	BW_WORD_PERF,
	BW_WORD_KEXEC,
	BW_WORD_KEYRING,
	BW_WORD_USERNS,
	BW_WORD_SETUID,
	BW_WORD_RAWSOCK,
	BW_WORD_COUNT,
};

#define BW_ESCAPE_HOOKS 8
#ifdef __cplusplus
static_assert(BW_HOOK_ESCAPE_END - BW_HOOK_ESCAPE_BASE <= BW_ESCAPE_HOOKS, "an escape hook without a slot");
#else
_Static_assert(BW_HOOK_ESCAPE_END - BW_HOOK_ESCAPE_BASE <= BW_ESCAPE_HOOKS, "an escape hook without a slot");
#endif

enum bw_verdict {
	BW_VERDICT_DENY = 1,  /* blocked */
	BW_VERDICT_AUDIT = 2, /* would have been blocked; audit mode let it through */
};

/* Per-rule flags in struct bw_rule. */
#define BW_RULE_AUDIT           (1u << 0)
#define BW_RULE_WHEN_EXE        (1u << 1)
#define BW_RULE_WHEN_PARENT_EXE (1u << 2)
#define BW_RULE_WHEN_UID        (1u << 3)
#define BW_RULE_WHEN_CGROUP     (1u << 4)
#define BW_RULE_NEEDS_PORT      (1u << 5) /* connect/bind: port must match too */
#define BW_RULE_NEEDS_ADDR      (1u << 6) /* connect/bind: address must match too */

/* Rule indexes of built-in denials, for events. */
#define BW_RULE_DEFAULT_EXEC  0xfffffff0u /* exec allow-list's default */
#define BW_RULE_SUPERVISOR    0xfffffff1u /* signal or ptrace aimed at bulwark */
#define BW_RULE_DEPTH         0xfffffff2u /* path deeper than a subtree walk reaches */
#define BW_RULE_GLOB_LIMIT    0xfffffff3u /* a '*' match too long to decide */
#define BW_RULE_SELF          0xfffffff4u /* a confined task reaching for the enforcer's BPF objects or pins */
#define BW_RULE_PROTECT_SCOPE 0xfffffff5u /* a confined task writing cgroup.procs/kill/... (leaving its scope) */
#define BW_RULE_GONE          0xfffffff6u /* a subject whose supervisor or engine died: killed */
#define BW_RULE_DEFAULT_READ  0xfffffff7u /* read allow-list's default */
#define BW_RULE_DEFAULT_WRITE 0xfffffff8u /* write allow-list's default */
#define BW_RULE_BUILTIN_END   0xfffffff9u /* one past the last; ids and descriptions: policy/catalog.cc */

/* One slot per policy rule, indexed by rule number. */
struct bw_rule {
	__u32 flags;
	__u32 errno_value; /* positive errno returned on deny */
};

/* Up to this many rules may share one match slot (a word, a file access, a
 * port...): evaluation cost is bounded by it, never by the policy's size. */
#define BW_SLOT_RULES 4
struct bw_rules {
	__u32 rule_plus1[BW_SLOT_RULES]; /* 0 = empty */
};

/* Value of the file maps: rules per access, plus allow-list entries. */
struct bw_file_match {
	struct bw_rules acc[3]; /* index: 0 read, 1 write, 2 exec */
	__u32 allow;            /* BW_ACC_* that allow rules list this for */
	__u32 pad;
};

/* `*` patterns (a star matches within one path component). They are found
 * through the literal directory they start in, so only patterns rooted at
 * one of the opened file's ancestors are ever tried. */
#define BW_MAX_GLOBS 256
struct bw_glob {
	char pat[BW_PATH_MAX];
	struct bw_file_match m;
};

struct bw_glob_list {
	__u32 idx_plus1[BW_SLOT_RULES];
};

/* A file's identity, resolved by the loader: a hard link or a bind mount of
 * a protected file is still that file. */
struct bw_inode_key {
	__u64 ino;
	__u32 dev; /* kernel-internal dev_t (MAJOR << 20 | MINOR) */
	__u32 pad;
};

struct bw_path_key {
	char path[BW_PATH_MAX];
};

/* `when:` sets, keyed by rule. kind: 0 exe, 1 parent_exe. */
struct bw_when_exe_key {
	__u32 rule;
	__u32 kind;
	char path[BW_PATH_MAX];
};

struct bw_when_id_key {
	__u32 rule;
	__u32 pad;
	__u64 id; /* uid, or cgroup id */
};

#define BW_NET_CONNECT 0
#define BW_NET_BIND    1

struct bw_port_key {
	__u16 op;   /* BW_NET_* */
	__u16 port; /* host order */
};

/* LPM trie key: op, family, then the address; prefixlen counts the 32 bits
 * of op+family too. */
struct bw_addr_key {
	__u32 prefixlen;
	__u16 op;
	__u16 family;
	__u8 addr[16];
};

#define BW_MAX_FAMILIES 64

/* Task-storage value: present only on tasks inside a confined tree. The
 * executable is recorded when an exec commits, zero-padded so it can be
 * part of a hash key. */
struct bw_task {
	__u32 confined;
	/* Engine sandboxes: which one (0: the object's own policy, config) and
	 * the epoch it had when this task was marked; a supervisor's mark
	 * names the sandbox it supervises. */
	__u32 sandbox;
	__u32 epoch;
	__u32 gone_reported; /* the supervisor-gone event was sent */
	char exe[BW_PATH_MAX];
};

/* What a ring-buffer record reports. */
enum bw_kind {
	BW_KIND_LSM = 0,          /* an LSM hook denied (or audited) an access */
	BW_KIND_SECCOMP_KILL = 2, /* seccomp killed a confined task (SIGSYS with SYS_SECCOMP) */
};

/* The syscall a record happened in, read from the task's registers: lets the
 * loader name it, and ask what the other layer would have said. */
struct bw_syscall {
	__u32 arch; /* AUDIT_ARCH_X86_64 or AUDIT_ARCH_I386; x32 has nr's 0x40000000 bit */
	__s32 nr;   /* -1: not in a syscall (e.g. a page fault) */
	__u64 args[6];
	__s64 ret; /* the return value register when the record was made */
};

/* Per-rule hit counters, indexed by absolute rule number; a slot's
 * built-in rules count at its last BW_BUILTIN_SLOTS numbers. Exact even
 * when events are lost. One shared array (atomic adds): per-CPU values
 * would cost one allocation per entry, too many for an engine's slots. */
#define BW_RULE_BUILTIN_BASE 0xfffffff0u
#ifdef __cplusplus
static_assert(BW_RULE_BUILTIN_END - BW_RULE_BUILTIN_BASE <= BW_BUILTIN_SLOTS, "a built-in rule without a counter");
#else
_Static_assert(BW_RULE_BUILTIN_END - BW_RULE_BUILTIN_BASE <= BW_BUILTIN_SLOTS, "a built-in rule without a counter");
#endif
#define BW_COUNTERS (BW_MAX_RULES * 2)
struct bw_counter {
	__u64 deny;
	__u64 audit;
};

/* No holes: ring-buffer memory is not zeroed, and every byte is written. */
struct bw_event {
	__u32 kind;    /* enum bw_kind */
	__u32 hook;    /* enum bw_hook */
	__u64 boot_ns; /* bpf_ktime_get_boot_ns(); loader converts to wall time */
	__u32 verdict; /* enum bw_verdict */
	__s32 err;     /* negative errno returned to the task (0 in audit) */
	__u32 rule;    /* rule index, or a built-in BW_RULE_* */
	__u32 pid;     /* tgid */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 access;  /* BW_ACC_* that matched, file hooks only */
	__u32 flags;   /* hook-specific: mount flags, ptrace mode, read-file id... */
	__u32 family;  /* socket hooks */
	__u32 type;    /* socket type */
	__u32 sandbox; /* the subject's engine sandbox (0: the object's own policy) */
	__u32 pad2;
	__u16 port; /* connect/bind, host order */
	__u16 pad;
	__u8 addr[16];
	char comm[BW_COMM_LEN];
	char target[BW_PATH_MAX]; /* resolved path, mount target, module name */
	char exe[BW_PATH_MAX];    /* running executable, resolved */
	struct bw_syscall sc;
};

/* --- Scopes, rule generations, self-protection --------------------------
 *
 * Rule data is double-buffered so a policy can be replaced while hooks run:
 * every policy map holds two generations side by side, and `config` names
 * the active one. A hook reads active_gen once and uses that generation for
 * every lookup of its invocation, so it never mixes two policies. How a key
 * carries its generation:
 *   rules, word_rules, family_rules, file_globs: index + gen * <map size>
 *     (rule numbers stored in slots are absolute, so eval() needs no gen);
 *   file_paths, glob_dirs: path[BW_PATH_MAX - 1] = gen (a stored path is at
 *     most BW_PATH_MAX - 1 bytes with its NUL, so that byte is free);
 *   file_inodes, file_subtrees: bw_inode_key.pad = gen;
 *   when_*: keyed by absolute rule number;
 *   net_ports, net_addrs: op | gen << 8.
 */
#define BW_GENS         2
#define BW_GEN_SHIFT_OP 8
#define BW_MAGIC        0x6b727762u /* "bwrk" */
/* 2: bw_config.scope_path; 3: engine sandboxes, slots; 4: engine scopes;
 * 5: read/write allow-lists (bw_gen.default_deny, bw_file_match.allow) */
#define BW_LAYOUT_VERSION 5u

/* The engine runs many policies through one program set: policy p's two
 * generations are slots p * BW_GENS + gen of every map above ("gen" in a
 * key is the slot), and a path key's last byte and a port key's op high
 * byte hold the slot, hence at most 127 policies. Policy 0 is the object's
 * own (config.active_gen): `run` without an engine and `enforce`. Map
 * sizes above are for one policy; the engine scales its arrays. */
#define BW_MAX_POLICIES  127
#define BW_MAX_SANDBOXES 1024

/* Who holds a pinned set (bw_config.role). */
enum bw_role {
	BW_ROLE_ENFORCER = 0,
	BW_ROLE_ENGINE = 1,
	BW_ROLE_RUN = 2, /* one `bulwark run` without an engine: its own sandbox 1, pinned while it lives */
};

/* A `bulwark run` hosted by the engine: its subjects' marks name it, by id
 * and epoch, so an id reused later adopts none of its tasks. */
enum bw_sandbox_state {
	BW_SANDBOX_FREE = 0,
	BW_SANDBOX_LIVE = 1,
	BW_SANDBOX_GONE = 2, /* its supervisor died: its subjects are killed at their next hook */
	/* An engine scope whose enforcer stopped cleanly: its subjects run on
	 * unconfined, as under a stopped standalone enforcer. The id stays the
	 * scope's (threads keep marks user space cannot clear) until an
	 * enforcer for the same path takes it over. */
	BW_SANDBOX_RELEASED = 3,
};

/* An engine scope (`bulwark enforce` under the engine): a task that is in
 * the cgroup with this id (or below it), or runs the executable with this
 * identity, becomes a subject of the sandbox the key maps to. */
enum bw_scope_key_kind {
	BW_SCOPE_KEY_CGROUP = 1,
	BW_SCOPE_KEY_EXE = 2,
};
struct bw_scope_key {
	__u32 kind; /* enum bw_scope_key_kind */
	__u32 dev;  /* exe: kernel dev_t; cgroup: 0 */
	__u64 id;   /* cgroup id, or the executable's inode number */
};

/* How deep in the cgroup tree an engine cgroup scope may sit: the levels a
 * hook looks up, each one hash lookup. */
#define BW_MAX_SCOPE_LEVEL 16

struct bw_sandbox {
	__u32 epoch;
	__u32 state; /* enum bw_sandbox_state */
	__u32 policy;
	__u32 supervisor_tgid;
};

enum bw_scope {
	BW_SCOPE_RUN = 0,    /* tasks marked by the loader, and their descendants */
	BW_SCOPE_CGROUP = 1, /* every task in a cgroup v2 subtree (and, once seen there, wherever it goes) */
	BW_SCOPE_EXE = 2,    /* tasks running one executable (every thread), and their descendants */
	BW_SCOPE_HOST = 3,   /* everything but the enforcer, pid 1 and kernel threads */
};

/* bw_task.confined */
#define BW_TASK_STICKY     1 /* marked (run, exe, seen in a cgroup scope): stays confined */
#define BW_TASK_DYNAMIC    2 /* created by the host scope: re-checked on every hook */
#define BW_TASK_SUPERVISOR 3 /* the enforcer's own thread group leader (set by the enforcer): never a subject */

/* The one `config` entry. Written whole by the loader; between a reload's
 * writes only active_gen changes (0 <-> 1, a single byte), so a hook never
 * sees a torn value. The enforcer also rewrites it (same active_gen) when
 * the scope's path comes to name another file or cgroup (package upgrade,
 * service restart): exe_ino/exe_dev or cgroup_id then change. */
struct bw_config {
	__u32 magic;           /* BW_MAGIC: a pinned map is ours */
	__u32 version;         /* BW_LAYOUT_VERSION */
	__u32 active_gen;      /* 0 or 1 */
	__u32 scope;           /* enum bw_scope */
	__u32 supervisor_tgid; /* bulwark run / the enforcer: confined tasks may not signal or trace it */
	__u32 protect;         /* 1: deny confined tasks bulwark's BPF objects and bpffs (enforce mode) */
	__u32 cgroup_level;    /* BW_SCOPE_CGROUP: depth of the cgroup below the root */
	__u32 exe_dev;         /* BW_SCOPE_EXE: kernel dev_t of the executable */
	__u32 engine_gone;     /* set by the kernel when the supervisor exits: its sandboxes are gone */
	__u32 role;            /* enum bw_role */
	/* Engine scopes present: the deepest cgroup scope's level (0: none)
	 * and how many exe scopes, so tasks outside pay nothing without any. */
	__u32 engine_cgroup_level;
	__u32 engine_exe_scopes;
	__u64 cgroup_id; /* BW_SCOPE_CGROUP: its id (the directory's inode number) */
	__u64 exe_ino;   /* BW_SCOPE_EXE */
	/* The scope as given ("/svc.slice/x.service", "/usr/sbin/nginx"): what a
	 * re-adopting enforcer compares, and what the ids are re-resolved from. */
	char scope_path[BW_PATH_MAX];
};

/* bw_gen.default_deny: the BW_ACC_* bits whose default is deny (an
 * allow-list), and whether those defaults only report (policy mode: audit). */
#define BW_DEFAULT_AUDIT (1u << 8)

/* Per-generation settings, `gens[gen]`. */
struct bw_gen {
	__u32 default_deny;
	__u32 have_subtrees;
	__u32 have_globs;
	__u32 nrules;                             /* rules + hooks of the policy in this generation */
	__u32 escape_rule_plus1[BW_ESCAPE_HOOKS]; /* absolute rule numbers */
	__u64 policy_hash;                        /* FNV-1a of the policy file's text */
	__u64 loaded_ns;                          /* CLOCK_REALTIME when this generation was filled */
	char policy_path[BW_PATH_MAX];            /* so status/restart can name rules */
};

#endif /* BULWARK_H */
