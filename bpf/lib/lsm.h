/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The return-range clamp every LSM program goes through. */
#ifndef BW_LIB_LSM_H
#define BW_LIB_LSM_H

#include "lib/common.h"

/* Every LSM program returns through here. From 6.12 on the verifier rejects
 * an LSM program unless it can prove the value in [-MAX_ERRNO, 0], and `ret`
 * from an earlier program or an errno read from the rules map is an unknown
 * scalar to it. A value out of range denies with -EPERM: fail closed. The
 * test is asm because clang would otherwise fold the two compares into one
 * unsigned compare on a copy, which proves nothing about the returned
 * register; compared as 64-bit after sign extension, so the bounds hold
 * whatever the codegen (alu32 or not). */
static __always_inline int bw_lsm_ret(int v)
{
	long r = v;

	asm volatile("if %[r] s> 0 goto +1\n\t"
		     "if %[r] s>= -4095 goto +1\n\t"
		     "%[r] = -1\n\t"
		     : [r] "+r"(r));
	return r;
}
_Static_assert(MAX_ERRNO == 4095, "bw_lsm_ret's asm spells MAX_ERRNO out");
_Static_assert(EPERM == 1, "bw_lsm_ret's asm spells -EPERM out");

/* BPF_PROG for LSM hooks: bw_gate() (lib/rules.h) first, then the body,
 * whose value goes through bw_lsm_ret, so no program can forget either. */
#define BW_LSM(name, args...)                                                                     \
	name(unsigned long long *ctx);                                                            \
	static __always_inline int ____##name(unsigned long long *ctx, ##args);                   \
	int name(unsigned long long *ctx)                                                         \
	{                                                                                         \
		int gate_ = bw_gate();                                                            \
		if (gate_)                                                                        \
			return bw_lsm_ret(gate_);                                                 \
		_Pragma("GCC diagnostic push")                                                    \
			_Pragma("GCC diagnostic ignored \"-Wint-conversion\"") return bw_lsm_ret( \
				____##name(___bpf_ctx_cast(args)));                               \
		_Pragma("GCC diagnostic pop")                                                     \
	}                                                                                         \
	static __always_inline int ____##name(unsigned long long *ctx, ##args)
#endif /* BW_LIB_LSM_H */
