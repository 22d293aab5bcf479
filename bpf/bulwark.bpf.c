// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bulwark's BPF-LSM layer. Every hook first asks whether the current task is
 * inside a confined tree (task storage set by the loader on the first child
 * and copied on every fork); tasks outside it return immediately, so nothing
 * else on the machine is ever affected.
 *
 * Hook prototypes follow Linux 6.1, the oldest kernel we support; CO-RE
 * relocations make the same object load on newer kernels.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bulwark.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EPERM 1
#define ENOMEM 12
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define PROT_EXEC 0x4
#define MINORBITS 20

/* Filled by the loader before load. */
const volatile __u32 mount_rule_plus1 = 0;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bw_task);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_MAX_RULES);
	__type(key, __u32);
	__type(value, struct bw_rule);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BW_MAX_PATHS);
	__type(key, struct bw_path_key);
	__type(value, struct bw_file_match);
} file_paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BW_MAX_INODES);
	__type(key, struct bw_inode_key);
	__type(value, struct bw_file_match);
} file_inodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BW_RINGBUF_BYTES);
} events SEC(".maps");

/* bpf_d_path builds the name at the end of its buffer and moves it to the
 * front, leaving stale bytes after the NUL; a hash key must be zero past the
 * NUL, so the name is copied again into a zeroed key. Both are too large for
 * the 512-byte stack. Kernel-side only, hence not in bulwark.h. */
struct bw_scratch {
	char raw[BW_PATH_MAX];
	struct bw_path_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_scratch);
} scratch SEC(".maps");

/* Events the ring buffer could not take: the loader reports them, so a
 * flood cannot silently hide denials. */
__u64 dropped_events = 0;

static __always_inline struct bw_task *confined_task(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return bpf_task_storage_get(&tasks, task, 0, 0);
}

/* Returns the value the hook must return: -errno when enforcing, 0 when
 * auditing. The event is best effort; the verdict is not. */
static __always_inline int report(struct bw_task *self, __u32 hook, __u32 rule_idx,
				  __u32 access, __u32 flags, const struct path *target)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_rule *rule = bpf_map_lookup_elem(&rules, &rule_idx);
	__u64 id = bpf_get_current_pid_tgid();
	int ret = -EPERM;
	struct bw_event *e;

	/* A rule index with no slot is a loader bug: deny rather than guess. */
	if (rule) {
		if (rule->flags & BW_RULE_AUDIT)
			ret = 0;
		else if (rule->errno_value)
			ret = -(int)rule->errno_value;
	}

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped_events, 1);
		return ret;
	}
	e->boot_ns = bpf_ktime_get_boot_ns();
	e->hook = hook;
	e->verdict = ret ? BW_VERDICT_DENY : BW_VERDICT_AUDIT;
	e->err = ret;
	e->rule = rule_idx;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->access = access;
	e->flags = flags;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->target[0] = 0;
	if (target && bpf_d_path((struct path *)target, e->target, sizeof(e->target)) < 0)
		e->target[0] = 0;
	__builtin_memcpy(e->exe, self->exe, sizeof(e->exe));
	bpf_ringbuf_submit(e, 0);
	return ret;
}

/* Copy confinement to every new task (threads too) of a confined tree. If the
 * copy cannot be made the fork fails: a child that escaped confinement
 * because memory was short would be a hole. */
SEC("lsm/task_alloc")
int BPF_PROG(bw_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	struct bw_task *parent, *child;

	if (ret)
		return ret;
	parent = confined_task();
	if (!parent)
		return 0;
	child = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!child)
		return -ENOMEM;
	child->confined = parent->confined;
	__builtin_memcpy(child->exe, parent->exe, sizeof(child->exe));
	return 0;
}

SEC("lsm/bprm_committed_creds")
int BPF_PROG(bw_exec_committed, struct linux_binprm *bprm)
{
	struct bw_task *self = confined_task();

	if (!self)
		return 0;
	if (bpf_d_path((struct path *)&bprm->file->f_path, self->exe, sizeof(self->exe)) < 0)
		self->exe[0] = 0;
	return 0;
}

static __always_inline struct bw_file_match *match_file(struct file *file)
{
	struct bw_inode_key ikey = {};
	struct bw_file_match *m;
	struct bw_scratch *sc;
	struct inode *inode = file->f_inode;
	__u32 zero = 0;
	dev_t dev;

	/* Identity first: it survives hard links, bind mounts, chroot and
	 * /proc/<pid>/root, which a path string does not. */
	ikey.ino = inode->i_ino;
	dev = inode->i_sb->s_dev;
	ikey.dev = dev;
	m = bpf_map_lookup_elem(&file_inodes, &ikey);
	if (m)
		return m;

	/* The path catches a file that replaced the protected one after the
	 * policy was loaded (passwd renames a new /etc/shadow into place). */
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return 0;
	if (bpf_d_path((struct path *)&file->f_path, sc->raw, sizeof(sc->raw)) < 0)
		return 0;
	__builtin_memset(sc->key.path, 0, sizeof(sc->key.path));
	if (bpf_probe_read_kernel_str(sc->key.path, sizeof(sc->key.path), sc->raw) < 0)
		return 0;
	return bpf_map_lookup_elem(&file_paths, &sc->key);
}

SEC("lsm/file_open")
int BPF_PROG(bw_file_open, struct file *file, int ret)
{
	struct bw_task *self;
	struct bw_file_match *m;
	__u32 mode;

	if (ret)
		return ret;
	self = confined_task();
	if (!self)
		return 0;
	m = match_file(file);
	if (!m)
		return 0;
	mode = file->f_mode;
	if ((mode & FMODE_READ) && m->rule_plus1[0])
		return report(self, BW_HOOK_FILE_OPEN, m->rule_plus1[0] - 1, BW_ACC_READ, mode,
			      &file->f_path);
	if ((mode & FMODE_WRITE) && m->rule_plus1[1])
		return report(self, BW_HOOK_FILE_OPEN, m->rule_plus1[1] - 1, BW_ACC_WRITE, mode,
			      &file->f_path);
	return 0;
}

/* Runs for the binary and again for each script interpreter, so "deny exec
 * of /bin/sh" also stops a #!/bin/sh script. */
SEC("lsm/bprm_check_security")
int BPF_PROG(bw_bprm_check, struct linux_binprm *bprm, int ret)
{
	struct bw_task *self;
	struct bw_file_match *m;

	if (ret)
		return ret;
	self = confined_task();
	if (!self)
		return 0;
	m = match_file(bprm->file);
	if (!m || !m->rule_plus1[2])
		return 0;
	return report(self, BW_HOOK_BPRM_CHECK, m->rule_plus1[2] - 1, BW_ACC_EXEC, 0,
		      &bprm->file->f_path);
}

/* Without this, "ld.so /bin/sh" runs a denied binary: it only opens it for
 * reading and maps it executable. */
SEC("lsm/mmap_file")
int BPF_PROG(bw_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	struct bw_task *self;
	struct bw_file_match *m;

	if (ret)
		return ret;
	if (!file || !(prot & PROT_EXEC))
		return 0;
	self = confined_task();
	if (!self)
		return 0;
	m = match_file(file);
	if (!m || !m->rule_plus1[2])
		return 0;
	return report(self, BW_HOOK_MMAP_EXEC, m->rule_plus1[2] - 1, BW_ACC_EXEC, prot,
		      &file->f_path);
}

static __always_inline int deny_mount(__u32 hook, __u32 flags, const struct path *target)
{
	struct bw_task *self = confined_task();

	if (!self || !mount_rule_plus1)
		return 0;
	return report(self, hook, mount_rule_plus1 - 1, 0, flags, target);
}

SEC("lsm/sb_mount")
int BPF_PROG(bw_sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	if (ret)
		return ret;
	return deny_mount(BW_HOOK_SB_MOUNT, flags, path);
}

/* The new mount API (fsopen/fsmount/open_tree) attaches through here. */
SEC("lsm/move_mount")
int BPF_PROG(bw_move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	if (ret)
		return ret;
	return deny_mount(BW_HOOK_MOVE_MOUNT, 0, 0);
}

SEC("lsm/sb_umount")
int BPF_PROG(bw_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	if (ret)
		return ret;
	return deny_mount(BW_HOOK_SB_UMOUNT, flags, 0);
}

SEC("lsm/sb_remount")
int BPF_PROG(bw_sb_remount, struct super_block *sb, void *mnt_opts, int ret)
{
	if (ret)
		return ret;
	return deny_mount(BW_HOOK_SB_REMOUNT, 0, 0);
}
