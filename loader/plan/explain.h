// SPDX-License-Identifier: Apache-2.0
// `bulwark explain` and `bulwark compile`: the two layers side by side.
#pragma once

#include <set>
#include <string>

#include "policy/policy.h"

namespace bulwark {

struct ExplainOptions {
	std::string policy;
	bool json = false;
	bool any_kernel = false; // the table as on a kernel with every hook
};

// What explain needs of a kernel: the LSM hooks it lacks, and why the
// BPF-LSM layer cannot run there at all ("" if it can, as far as known).
struct KernelView {
	std::string release;
	std::set<std::string> missing_hooks;
	std::string lsm_unusable;
};
// The running kernel, without loading a program.
KernelView running_kernel_view();

struct CompileOptions {
	std::string policy;
	bool pfc = false;
	std::string bpf_out; // raw cBPF to this file
	bool lsm = false;    // dump the LSM maps
};

int run_explain(const ExplainOptions &o);
int run_compile(const CompileOptions &o);

// The explain table as JSON text (exposed for tests). With a kernel, each
// rule's LSM cell says which of its hooks that kernel lacks; without one the
// table is the same on every kernel.
std::string explain_json(const policy::Policy &p, const KernelView *k = nullptr);
std::string explain_text(const policy::Policy &p, const KernelView *k = nullptr);

} // namespace bulwark
