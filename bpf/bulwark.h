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
#define BW_MAX_RULES 1024
#define BW_MAX_PATHS 16384
#define BW_MAX_INODES 16384
#define BW_RINGBUF_BYTES (256 * 1024)

/* Access bits, shared by file rules and the maps the loader fills. */
#define BW_ACC_READ 1u
#define BW_ACC_WRITE 2u
#define BW_ACC_EXEC 4u

/* Which hook raised an event. Names live in the loader (hook_name()). */
enum bw_hook {
	BW_HOOK_FILE_OPEN = 1,
	BW_HOOK_BPRM_CHECK = 2,
	BW_HOOK_SB_MOUNT = 3,
	BW_HOOK_MOVE_MOUNT = 4,
	BW_HOOK_SB_UMOUNT = 5,
	BW_HOOK_SB_REMOUNT = 6,
	BW_HOOK_MMAP_EXEC = 7,
};

enum bw_verdict {
	BW_VERDICT_DENY = 1,  /* blocked */
	BW_VERDICT_AUDIT = 2, /* would have been blocked; audit mode let it through */
};

/* Per-rule flags in struct bw_rule. */
#define BW_RULE_AUDIT 1u

/* One slot per policy rule, indexed by rule number. */
struct bw_rule {
	__u32 flags;
	__u32 errno_value; /* positive errno returned on deny */
};

/* Value of both file maps: which accesses are denied and by which rules.
 * One rule per access bit keeps the record small and tells the event which
 * rule fired. rule_plus1 == 0 means "no rule for this access". */
struct bw_file_match {
	__u32 rule_plus1[3]; /* index: 0 read, 1 write, 2 exec */
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

/* Task-storage value: present only on tasks inside a confined tree. The
 * executable is recorded when an exec commits, so every event can name it
 * without chasing task->mm from an arbitrary hook. */
struct bw_task {
	__u32 confined;
	__u32 pad;
	char exe[BW_PATH_MAX];
};

struct bw_event {
	__u64 boot_ns; /* bpf_ktime_get_boot_ns(); loader converts to wall time */
	__u32 hook;    /* enum bw_hook */
	__u32 verdict; /* enum bw_verdict */
	__s32 err;     /* negative errno returned to the task (0 in audit) */
	__u32 rule;    /* rule index */
	__u32 pid;     /* tgid */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 access;  /* BW_ACC_* that matched, file hooks only */
	__u32 flags;   /* mount flags, mount hooks only */
	char comm[BW_COMM_LEN];
	char target[BW_PATH_MAX]; /* resolved path, or mount target */
	char exe[BW_PATH_MAX];    /* running executable, resolved */
};

#endif /* BULWARK_H */
