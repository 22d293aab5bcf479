// SPDX-License-Identifier: Apache-2.0
// `bulwark explain` and `bulwark compile`: the two layers side by side.
#pragma once

#include <string>

#include "policy/policy.h"

namespace bulwark {

struct ExplainOptions {
	std::string policy;
	bool json = false;
};

struct CompileOptions {
	std::string policy;
	bool pfc = false;
	std::string bpf_out; // raw cBPF to this file
	bool lsm = false;    // dump the LSM maps
};

int run_explain(const ExplainOptions &o);
int run_compile(const CompileOptions &o);

// The explain table as JSON text (exposed for tests).
std::string explain_json(const policy::Policy &p);
std::string explain_text(const policy::Policy &p);

} // namespace bulwark
