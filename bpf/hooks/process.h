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

#endif /* BW_HOOKS_PROCESS_H */
