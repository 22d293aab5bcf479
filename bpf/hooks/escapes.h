/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The `hooks:` escape hatch: hooks a policy denies outright by name, one
 * slot each in the generation (escape_rule_plus1).
 */
#ifndef BW_HOOKS_ESCAPES_H
#define BW_HOOKS_ESCAPES_H

#include "lib/lsm.h"
#include "lib/match.h"

/* `hooks:` escape hatch: deny the hook outright inside the tree. Loaded only
 * when a policy names the hook. */
static __always_inline int escape_ctx(__u32 hook, struct bw_ctx *c)
{
	__u32 n = hook - BW_HOOK_ESCAPE_BASE;
	struct bw_task *self;
	struct bw_rule *rule;
	struct bw_gen *g;
	__u32 idx, acc;

	self = confined_task(c);
	if (!self || n >= BW_ESCAPE_HOOKS)
		return 0;
	idx = c->slot;
	g = bpf_map_lookup_elem(&gens, &idx);
	if (!g)
		return 0;
	idx = g->escape_rule_plus1[n];
	/* The allow-lists trust resolved paths; a new root would let the
	 * sandbox make its own "/usr/bin". pivot_root and chroot are
	 * therefore denied whenever one is on, in the name of the first. */
	acc = default_deny(c) & (BW_ACC_READ | BW_ACC_WRITE | BW_ACC_EXEC);
	if (acc && (hook == BW_HOOK_ESC_PIVOTROOT || hook == BW_HOOK_ESC_CHROOT) && !idx)
		return report_default(self, (acc & BW_ACC_EXEC) ? BW_ACC_EXEC : acc & -acc, c);
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

/* Always loaded: renicing a supervisor is a way to starve it. */
SEC("lsm/task_setnice")
int BW_LSM(bw_esc_setnice, struct task_struct *p, int nice, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_ESC_SETNICE, .flags = nice};
	struct bw_task *self;

	if (ret)
		return ret;
	self = confined_task(&c);
	if (self && protected_tgid(p->tgid, &c))
		return report(self, BW_RULE_SUPERVISOR, 0, &c);
	return escape_ctx(BW_HOOK_ESC_SETNICE, &c);
}

#endif /* BW_HOOKS_ESCAPES_H */
