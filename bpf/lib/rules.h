/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Rule evaluation: whether a rule's `when:` holds, which rule of a slot
 * decides, and the report that turns it into a verdict, a counter and a
 * record. Matching never loops over the policy: at most BW_SLOT_RULES rules
 * share a slot.
 */
#ifndef BW_LIB_RULES_H
#define BW_LIB_RULES_H

#include "lib/event.h"
#include "lib/policy.h"

/* The BW_ACC_* accesses under an allow-list, and BW_DEFAULT_AUDIT. */
static __always_inline __u32 default_deny(const struct bw_ctx *c)
{
	return dynamic_gen ? c->default_deny_gen : static_default_deny;
}

static __always_inline bool have_subtrees(const struct bw_ctx *c)
{
	return dynamic_gen ? c->have_subtrees_gen != 0 : static_have_subtrees != 0;
}

static __always_inline bool have_globs(const struct bw_ctx *c)
{
	return dynamic_gen ? c->have_globs_gen != 0 : static_have_globs != 0;
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

static __always_inline void count_hit(__u32 rule_idx, bool deny, __u32 slot)
{
	/* Rule numbers are absolute (slot * BW_MAX_RULES + index); a slot's
	 * built-in rules count at the end of its range. */
	__u32 k = rule_idx >= BW_RULE_BUILTIN_BASE
			  ? slot * BW_MAX_RULES + (BW_MAX_RULES - BW_BUILTIN_SLOTS) + (rule_idx - BW_RULE_BUILTIN_BASE)
			  : rule_idx;
	struct bw_counter *cnt = bpf_map_lookup_elem(&rule_hits, &k);

	if (!cnt)
		return;
	if (deny)
		__sync_fetch_and_add(&cnt->deny, 1);
	else
		__sync_fetch_and_add(&cnt->audit, 1);
}

/* Returns the value the hook must return: -errno when enforcing, 0 when
 * auditing. The event is best effort; the verdict is not. */
static __always_inline int report(struct bw_task *self, __u32 rule_idx, const struct bw_rule *rule,
				  const struct bw_ctx *c)
{
	int ret = -EPERM;
	struct bw_event *e;

	if (rule) {
		if (rule->flags & BW_RULE_AUDIT)
			ret = 0;
		else if (rule->errno_value)
			ret = -(int)rule->errno_value;
	}

	count_hit(rule_idx, ret != 0, c->slot);
	e = reserve_event();
	if (!e)
		return ret;
	fill_event(e,
		   (struct bw_outcome){
			   .kind = BW_KIND_LSM,
			   .verdict = ret ? BW_VERDICT_DENY : BW_VERDICT_AUDIT,
			   .err = ret,
			   .rule = rule_idx,
		   },
		   self, bpf_get_current_task_btf(), c);
	bpf_ringbuf_submit(e, 0);
	return ret;
}

/* An access no allow rule lists, under an allow-list: the built-in rule of
 * that access's default, which only reports when the policy audits. */
static __always_inline int report_default(struct bw_task *self, __u32 acc, const struct bw_ctx *c)
{
	struct bw_rule r = {.flags = (default_deny(c) & BW_DEFAULT_AUDIT) ? BW_RULE_AUDIT : 0};
	__u32 id = acc == BW_ACC_READ    ? BW_RULE_DEFAULT_READ
		   : acc == BW_ACC_WRITE ? BW_RULE_DEFAULT_WRITE
					 : BW_RULE_DEFAULT_EXEC;

	return report(self, id, &r, c);
}

/* The one ordering of every slot: the first enforcing rule whose `when:`
 * holds decides at once (true); an audit rule that holds is only kept, the
 * first one, in *audit_plus1, so an audit rule never shadows an enforcing
 * one. */
static __always_inline bool rule_decides(__u32 idx, const struct bw_rule *rule, const struct bw_task *self,
					 __u32 *audit_plus1)
{
	if (!when_holds(idx, rule, self))
		return false;
	if (!(rule->flags & BW_RULE_AUDIT))
		return true;
	if (!*audit_plus1)
		*audit_plus1 = idx + 1;
	return false;
}

/* After a slot without a deciding rule: the audit rule it kept, if any. */
static __always_inline int report_audit(struct bw_task *self, __u32 audit_plus1, const struct bw_ctx *c)
{
	__u32 idx = audit_plus1 - 1;

	if (!audit_plus1)
		return 0;
	return report(self, idx, bpf_map_lookup_elem(&rules, &idx), c);
}

/* Rule i of a slot: false past the slot's last rule. *rule is null for an
 * index the loader gave no rule. */
static __always_inline bool slot_rule(const struct bw_rules *rl, int i, __u32 *idx, struct bw_rule **rule)
{
	__u32 plus1 = rl->rule_plus1[i];

	if (!plus1)
		return false;
	*idx = plus1 - 1;
	*rule = bpf_map_lookup_elem(&rules, idx);
	return true;
}

static __always_inline int eval(struct bw_task *self, const struct bw_rules *rl, const struct bw_ctx *c)
{
	__u32 audit_plus1 = 0;

	for (int i = 0; i < BW_SLOT_RULES; i++) {
		struct bw_rule *rule;
		__u32 idx;

		if (!slot_rule(rl, i, &idx, &rule))
			break;
		/* A rule index with no slot is a loader bug: deny. */
		if (!rule)
			return report(self, idx, 0, c);
		if (rule_decides(idx, rule, self, &audit_plus1))
			return report(self, idx, rule, c);
	}
	return report_audit(self, audit_plus1, c);
}

/* Whether a slot holds an enforcing rule (or one the loader left without
 * a slot, which denies), `when:` aside. */
static __always_inline bool slot_enforces(const struct bw_rules *rl)
{
	for (int i = 0; i < BW_SLOT_RULES; i++) {
		struct bw_rule *rule;
		__u32 idx;

		if (!slot_rule(rl, i, &idx, &rule))
			break;
		if (!rule || !(rule->flags & BW_RULE_AUDIT))
			return true;
	}
	return false;
}

static __always_inline int deny_word(__u32 word, struct bw_ctx *c)
{
	struct bw_task *self = confined_task(c);
	struct bw_rules *rl;

	if (!self)
		return 0;
	word += c->slot * BW_WORD_COUNT;
	rl = bpf_map_lookup_elem(&word_rules, &word);
	if (!rl || !rl->rule_plus1[0])
		return 0;
	return eval(self, rl, c);
}

#define SIGKILL 9

/* Runs before every LSM program's body (BW_LSM). A subject of an engine
 * sandbox whose supervisor died, or whose engine died, must not go on
 * without the layer that watched it: it is killed, and until the signal
 * lands every hook it reaches denies. Either death is seen by the kernel
 * (bw_supervisor_exit), so this holds whatever killed them. Tasks without
 * a sandbox (everything outside, and `run` without an engine) pay one
 * task-storage lookup. */
static __always_inline int bw_gate(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_task *t = bpf_task_storage_get(&tasks, task, 0, 0);
	struct bw_ctx c = {.hook = BW_HOOK_SUPERVISOR_GONE};
	struct bw_sandbox *sb;
	struct bw_config *cfg;
	struct bw_event *e;
	__u32 zero = 0, id;

	if (!t || !t->sandbox || t->confined == BW_TASK_SUPERVISOR)
		return 0;
	id = t->sandbox;
	cfg = bpf_map_lookup_elem(&bw_config, &zero);
	sb = bpf_map_lookup_elem(&sandboxes, &id);
	/* A released scope's subjects run on unconfined (subject_slot),
	 * whatever becomes of the engine after. */
	if (sb && sb->epoch == t->epoch &&
	    (sb->state == BW_SANDBOX_RELEASED || (sb->state == BW_SANDBOX_LIVE && cfg && !cfg->engine_gone)))
		return 0;
	bpf_send_signal(SIGKILL);
	if (t->gone_reported)
		return -EPERM;
	t->gone_reported = 1;
	if (cfg && sb)
		subject_slot(cfg, t, &c);
	count_hit(BW_RULE_GONE, true, c.slot);
	e = reserve_event();
	if (!e)
		return -EPERM;
	fill_event(e,
		   (struct bw_outcome){
			   .kind = BW_KIND_LSM, .verdict = BW_VERDICT_DENY, .err = -EPERM, .rule = BW_RULE_GONE},
		   t, task, &c);
	bpf_ringbuf_submit(e, 0);
	return -EPERM;
}

/* Whether tgid is a supervisor no subject may touch: config's (the engine,
 * the enforcer, run's own) or any engine client's. */
static __always_inline bool protected_tgid(__u32 tgid, const struct bw_ctx *c)
{
	return (c->supervisor && tgid == c->supervisor) || bpf_map_lookup_elem(&supervisors, &tgid);
}

#endif /* BW_LIB_RULES_H */
