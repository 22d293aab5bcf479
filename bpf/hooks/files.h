/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Files and exec: opening, executing and mapping executable, and the path
 * hooks that change a file without opening it (`deny: write`). Also where
 * an exe scope marks its subjects and where a task's executable is
 * recorded for `when: exe`.
 */
#ifndef BW_HOOKS_FILES_H
#define BW_HOOKS_FILES_H

#include "lib/lsm.h"
#include "lib/match.h"

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
static __always_inline struct bw_task *exe_scope_mark(struct file *file, int *err, struct bw_ctx *c)
{
	struct bw_config *cfg;
	struct inode *inode = file->f_inode;
	struct bw_scope_key k = {.kind = BW_SCOPE_KEY_EXE};
	struct bw_task *t;
	__u32 zero = 0, *scoped = 0;

	*err = 0;
	cfg = bpf_map_lookup_elem(&bw_config, &zero);
	if (!cfg)
		return 0;
	k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	k.id = BPF_CORE_READ(inode, i_ino);
	if (cfg->role == BW_ROLE_ENGINE && cfg->engine_exe_scopes) {
		/* An engine exe scope: the subject of its sandbox. */
		scoped = bpf_map_lookup_elem(&scope_keys, &k);
		if (!scoped)
			return 0;
	} else if (cfg->scope != BW_SCOPE_EXE || k.id != cfg->exe_ino || k.dev != cfg->exe_dev) {
		return 0;
	}
	t = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		*err = -ENOMEM;
		return 0;
	}
	if (t->confined == BW_TASK_SUPERVISOR)
		return 0;
	if (!scoped)
		t->confined = BW_TASK_STICKY;
	else if (!join_sandbox(t, *scoped))
		return 0;
	/* The slot confined_task() would have read, had the task been one. */
	if (!subject_slot(cfg, t, c))
		return 0;
	c->self = t;
	return t;
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
	/* Under an engine (run scope, protected) a sandbox has no business
	 * with any cgroup file: memory.max or cpu.max on a supervisor's
	 * cgroup would stop it as surely as a signal. */
	if ((c->scope == BW_SCOPE_RUN) || name_is(name, "cgroup.kill", 11) || name_is(name, "cgroup.freeze", 13) ||
	    (c->scope == BW_SCOPE_CGROUP && (name_is(name, "cgroup.procs", 12) || name_is(name, "cgroup.threads", 14) ||
					     name_is(name, "cgroup.subtree_control", 22)))) {
		c->access = BW_ACC_WRITE;
		return report(self, BW_RULE_PROTECT_SCOPE, 0, c);
	}
	return 0;
}

#define PROC_SUPER_MAGIC 0x9fa0

/* Writing a supervisor's /proc/<pid>/ files (oom_score_adj, oom_adj,
 * coredump_filter, attr/...): its OOM score set so it dies first is a way
 * to stop it. /proc/<pid>/mem is ptrace_access_check's. */
static __always_inline int protect_proc(struct bw_task *self, struct file *file, __u32 mode, struct bw_ctx *c)
{
	struct inode *inode;
	struct proc_inode *pi;
	struct pid *pid;
	__u32 nr;

	if (!(mode & FMODE_WRITE))
		return 0;
	inode = file->f_inode;
	if (BPF_CORE_READ(inode, i_sb, s_magic) != PROC_SUPER_MAGIC)
		return 0;
	pi = (struct proc_inode *)((void *)inode - bpf_core_field_offset(struct proc_inode, vfs_inode));
	pid = BPF_CORE_READ(pi, pid);
	if (!pid)
		return 0;
	nr = BPF_CORE_READ(pid, numbers[0].nr);
	if (!protected_tgid(nr, c))
		return 0;
	c->access = BW_ACC_WRITE;
	return report(self, BW_RULE_SUPERVISOR, 0, c);
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
	ret = protect_proc(self, file, mode, &c);
	if (ret)
		return ret;
	if (mode & FMODE_READ) {
		c.access = BW_ACC_READ;
		ret = file_check(self, file, 0, &c);
		if (!ret)
			ret = default_check(self, file, BW_ACC_READ, &c);
		if (ret)
			return ret;
	}
	if (mode & FMODE_WRITE) {
		c.access = BW_ACC_WRITE;
		ret = file_check(self, file, 1, &c);
		if (!ret)
			ret = default_check(self, file, BW_ACC_WRITE, &c);
		return ret;
	}
	return 0;
}

static __always_inline int exec_check(struct bw_task *self, struct file *file, struct bw_ctx *c)
{
	int ret;

	c->access = BW_ACC_EXEC;
	ret = file_check(self, file, 2, c);
	if (ret)
		return ret;
	return default_check(self, file, BW_ACC_EXEC, c);
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
		self = exe_scope_mark(bprm->file, &ret, &c);
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
 * string here: these hooks hand over a dentry, not an opened path), and so
 * is the write allow-list: a file it lists only by a pattern, or by a path
 * that named nothing when the policy loaded, is denied here. */
static __always_inline int write_check(struct dentry *d, struct vfsmount *mnt, __u32 hook)
{
	struct bw_ctx c = {.hook = hook, .access = BW_ACC_WRITE};
	struct bw_task *self = confined_task(&c);
	struct inode *inode;
	struct bw_file_match *m;
	bool deep, listed = false;
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

		k.pad = c.slot;
		m = bpf_map_lookup_elem(&file_inodes, &k);
		if (m && m->acc[1].rule_plus1[0]) {
			ret = eval(self, &m->acc[1], &c);
			if (ret)
				return ret;
		}
		listed = m && (m->allow & BW_ACC_WRITE);
	}
	m = match_subtree_at(d, mnt, 1, &deep, &c);
	if (m) {
		ret = eval(self, &m->acc[1], &c);
		if (ret)
			return ret;
	} else if (deep) {
		return report(self, BW_RULE_DEPTH, 0, &c);
	}
	if (!(default_deny(&c) & BW_ACC_WRITE) || listed || match_subtree_at(d, mnt, -BW_ACC_WRITE, &deep, &c))
		return 0;
	return report_default(self, BW_ACC_WRITE, &c);
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

#endif /* BW_HOOKS_FILES_H */
