/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Mounts: the `mount` word, and keeping confined tasks off the bpffs that
 * holds the enforcer's pins.
 */
#ifndef BW_HOOKS_MOUNTS_H
#define BW_HOOKS_MOUNTS_H

#include "lib/lsm.h"
#include "lib/match.h"

/* Self-protection: a confined task may not mount over or unmount a bpffs,
 * where the enforcer's pins live (enforce mode only). */
static __always_inline int protect_bpffs(struct super_block *sb, struct bw_ctx *c)
{
	struct bw_task *self = confined_task(c);

	if (!self || !c->protect || !sb || BPF_CORE_READ(sb, s_magic) != BPF_FS_MAGIC)
		return 0;
	return report(self, BW_RULE_SELF, 0, c);
}

/* A mount touching sb: kept off bpffs, then the `mount` word. */
static __always_inline int mount_check(struct super_block *sb, struct bw_ctx *c)
{
	int ret = protect_bpffs(sb, c);

	return ret ? ret : deny_word(BW_WORD_MOUNT, c);
}

SEC("lsm/sb_mount")
int BW_LSM(bw_sb_mount, const char *dev_name, const struct path *path, const char *type, unsigned long flags,
	   void *data, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_SB_MOUNT, .flags = flags, .path = path};

	return ret ? ret : mount_check(BPF_CORE_READ(path, dentry, d_sb), &c);
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
	return mount_check(BPF_CORE_READ(from_path, mnt, mnt_sb), &c);
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

#endif /* BW_HOOKS_MOUNTS_H */
