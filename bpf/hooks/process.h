/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Processes: confinement following fork, ptrace, credentials, user
 * namespaces and signals, and keeping confined tasks off the supervisor.
 */
#ifndef BW_HOOKS_PROCESS_H
#define BW_HOOKS_PROCESS_H

#include "lib/lsm.h"
#include "lib/rules.h"
#include "hooks/escapes.h"

/* Copy confinement to every new task (threads too) of a confined tree. If the
 * copy cannot be made the fork fails: a child that escaped confinement
 * because memory was short would be a hole. */
SEC("lsm/task_alloc")
int BW_LSM(bw_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	struct bw_task *parent;
	struct bw_ctx c = {};

	if (ret)
		return ret;
	parent = confined_task(&c);
	if (!parent)
		return 0;
	return mark_child(task, parent, &c) ? 0 : -ENOMEM;
}

static __always_inline int protect_tgid(__u32 tgid, struct bw_ctx *c)
{
	struct bw_task *self = confined_task(c);

	if (!self || !protected_tgid(tgid, c))
		return 0;
	return report(self, BW_RULE_SUPERVISOR, 0, c);
}

static __always_inline int protect_supervisor(struct task_struct *target, struct bw_ctx *c)
{
	return protect_tgid(target->tgid, c);
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

/* A supervisor's resource limits (prlimit on another process), scheduling
 * and I/O priority: lowering them is a way to stop it (RLIMIT_NOFILE,
 * RLIMIT_AS, SCHED_IDLE) short of a signal. Always loaded. */
SEC("lsm/task_setrlimit")
int BW_LSM(bw_setrlimit, struct task_struct *p, unsigned int resource, struct rlimit *new_rlim, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_SETRLIMIT, .flags = resource};

	if (ret)
		return ret;
	return protect_supervisor(p, &c);
}

SEC("lsm/task_setscheduler")
int BW_LSM(bw_setscheduler, struct task_struct *p, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_SETSCHED};

	if (ret)
		return ret;
	return protect_supervisor(p, &c);
}

SEC("lsm/task_setioprio")
int BW_LSM(bw_setioprio, struct task_struct *p, int ioprio, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_SETIOPRIO, .flags = ioprio};

	if (ret)
		return ret;
	return protect_supervisor(p, &c);
}

/* The kernel's own word that a supervisor is gone, whatever killed it (a
 * crash, the OOM killer, SIGKILL): its sandbox, or with the engine every
 * sandbox, is marked gone, and bw_gate() kills the subjects at their next
 * hook. Runs at every process exit on the host (not on any syscall path)
 * and returns after one task-storage lookup for all but supervisors. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(bw_supervisor_exit, struct task_struct *p)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_config *cfg;
	struct bw_sandbox *sb;
	struct bw_task *lt;
	__u32 zero = 0, id, tgid;

	/* Only the last thread of a process: the group is dead. */
	if (BPF_CORE_READ(task, signal, live.counter))
		return 0;
	lt = bpf_task_storage_get(&tasks, task->group_leader, 0, 0);
	if (!lt || lt->confined != BW_TASK_SUPERVISOR)
		return 0;
	tgid = task->tgid;
	cfg = bpf_map_lookup_elem(&bw_config, &zero);
	if (cfg && tgid == cfg->supervisor_tgid)
		cfg->engine_gone = 1;
	id = lt->sandbox;
	if (id) {
		sb = bpf_map_lookup_elem(&sandboxes, &id);
		if (sb && sb->epoch == lt->epoch && sb->state == BW_SANDBOX_LIVE)
			sb->state = BW_SANDBOX_GONE;
		bpf_map_delete_elem(&supervisors, &tgid);
	}
	return 0;
}

#endif /* BW_HOOKS_PROCESS_H */
