/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel's own surfaces: module loading and kexec, bpf(2), perf and
 * keyrings. Two of these hooks changed arity after 6.1 and have a program
 * per prototype; the loader picks the one the running kernel's BTF has.
 */
#ifndef BW_HOOKS_KERNEL_H
#define BW_HOOKS_KERNEL_H

#include "lib/lsm.h"
#include "lib/match.h"

SEC("lsm/kernel_module_request")
int BW_LSM(bw_module_request, char *kmod_name, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_MODULE_REQUEST, .name = kmod_name};

	if (ret)
		return ret;
	return deny_word(BW_WORD_KMOD, &c);
}

/* Kernel modules and kexec images, whichever hook hands them over. */
static __always_inline int load_check(bool module, bool kexec, struct bw_ctx *c)
{
	if (module)
		return deny_word(BW_WORD_KMOD, c);
	if (kexec)
		return deny_word(BW_WORD_KEXEC, c);
	return 0;
}

SEC("lsm/kernel_read_file")
int BW_LSM(bw_read_file, struct file *file, enum kernel_read_file_id id, bool contents, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_READ_FILE, .flags = id};

	if (ret)
		return ret;
	if (file)
		c.path = &file->f_path;
	return load_check(id == bpf_core_enum_value(enum kernel_read_file_id, READING_MODULE),
			  id == bpf_core_enum_value(enum kernel_read_file_id, READING_KEXEC_IMAGE) ||
				  id == bpf_core_enum_value(enum kernel_read_file_id, READING_KEXEC_INITRAMFS),
			  &c);
}

SEC("lsm/kernel_load_data")
int BW_LSM(bw_load_data, enum kernel_load_data_id id, bool contents, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_LOAD_DATA, .flags = id};

	if (ret)
		return ret;
	return load_check(id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_MODULE),
			  id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_KEXEC_IMAGE) ||
				  id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_KEXEC_INITRAMFS),
			  &c);
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

static __always_inline int bpf_check(int cmd)
{
	struct bw_ctx c = {.hook = BW_HOOK_BPF, .flags = cmd};
	int ret = protect_bpf(cmd, &c);

	if (ret)
		return ret;
	return deny_word(BW_WORD_BPF, &c);
}

/* 6.1 .. 6.12: bpf(cmd, attr, size). */
SEC("lsm/bpf")
int BW_LSM(bw_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	return ret ? ret : bpf_check(cmd);
}

/* Newer kernels (7.x; the BTF decides, not the version) add `bool kernel`
 * before ret. Loaded instead of bw_bpf there. */
SEC("lsm/bpf")
int BW_LSM(bw_bpf_v4, int cmd, union bpf_attr *attr, unsigned int size, void *extra, int ret)
{
	return ret ? ret : bpf_check(cmd);
}

static __always_inline int perf_check(int type)
{
	struct bw_ctx c = {.hook = BW_HOOK_PERF, .flags = type};

	return deny_word(BW_WORD_PERF, &c);
}

/* Up to 6.x: perf_event_open(attr, type). */
SEC("lsm/perf_event_open")
int BW_LSM(bw_perf, struct perf_event_attr *attr, int type, int ret)
{
	return ret ? ret : perf_check(type);
}

/* 6.12 on: perf_event_open(type); the attr argument is gone. Loaded instead
 * of bw_perf there. */
SEC("lsm/perf_event_open")
int BW_LSM(bw_perf_v1, int type, int ret)
{
	return ret ? ret : perf_check(type);
}

SEC("lsm/key_alloc")
int BW_LSM(bw_key_alloc, struct key *key, const struct cred *cred, unsigned long flags, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_KEY_ALLOC, .flags = flags};

	if (ret)
		return ret;
	return deny_word(BW_WORD_KEYRING, &c);
}

#endif /* BW_HOOKS_KERNEL_H */
