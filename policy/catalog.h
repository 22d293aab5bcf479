// SPDX-License-Identifier: Apache-2.0
//
// The high-level rule words and what each layer does with them. One table,
// read by the parser (which words exist, what they take), by both layer
// compilers, and by `explain`, so the three can never disagree.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

extern "C" {
#include <linux/types.h>

#include "bpf/bulwark.h"
}

namespace bulwark::policy {

// Which extra keys a word accepts or needs.
enum WordTakes : unsigned {
	TakesNothing = 0,
	TakesPaths = 1u << 0,    // required
	TakesFamilies = 1u << 1, // required (socket)
	TakesPorts = 1u << 2,    // ports and/or addresses, at least one (connect, bind)
	TakesAddresses = 1u << 3,
};

struct WordInfo {
	const char *name;
	unsigned takes;
	// seccomp layer: syscalls denied outright. Words whose seccomp side needs
	// argument checks (socket families, user namespaces) describe them in
	// seccomp_how and are special-cased by the seccomp compiler.
	std::vector<const char *> syscalls;
	const char *seccomp_how;         // one line for explain; "" = the layer cannot enforce it
	std::vector<const char *> hooks; // LSM hooks
	const char *lsm_how;             // "" = the layer cannot enforce it
	const char *gap;                 // what neither layer can guarantee, "" if nothing known
};

const std::vector<WordInfo> &words();
const WordInfo *find_word(std::string_view name);
// "mount, ptrace, ..." for error messages.
std::string word_list();

bool is_file_word(std::string_view name); // read, write, exec

} // namespace bulwark::policy

namespace bulwark::policy {

// Every LSM hook bulwark has a program for, by the id its events carry
// (enum bw_hook): the name (bpf_lsm_<name> in the kernel's BTF, lsm/<name>
// as the program's section), the ECS event.category, and what the event's
// target is. A new hook is one program plus one row here.
enum HookTarget : unsigned {
	HookTargetName,        // bulwark.target: a mount point, module, device name
	HookTargetPath,        // file.path: a resolved path
	HookTargetDestination, // destination.*: the address and port connected or sent to
	HookTargetSource,      // source.*: the address and port bound
};
// What else an event of the hook says, in bulwark.*.
enum HookDetail : unsigned {
	HookDetailNone,
	HookDetailMountFlags, // mount_flags
	HookDetailSocket,     // socket.family, socket.type
	HookDetailArg,        // arg: the hook's numeric argument (bpf cmd, perf type, ptrace mode, file id)
};
struct HookInfo {
	uint32_t id;          // enum bw_hook
	const char *name;     // LSM hook
	const char *category; // ECS event.category
	HookTarget target;
	HookDetail detail;
	bool escape; // a `hooks:` escape-hatch entry (slot id - BW_HOOK_ESCAPE_BASE)
};
// Whether events of the hook carry an address (destination.* or source.*).
inline bool has_address(const HookInfo &h)
{
	return h.target == HookTargetDestination || h.target == HookTargetSource;
}
const std::vector<HookInfo> &hooks();
const HookInfo *find_hook(uint32_t id);
const HookInfo *find_hook(std::string_view name);

// LSM hooks the `hooks:` escape hatch can deny outright for the confined
// tree, for what the words above do not cover yet, in slot order (from
// hooks()). Each has a program in bpf/bulwark.bpf.c that is only loaded when
// a policy names it.
const std::vector<const char *> &lsm_escape_hooks();

// The denials bulwark makes on its own, by the rule index their events
// carry (BW_RULE_BUILTIN_BASE and up).
struct BuiltinRule {
	uint32_t index;
	const char *id; // rule.id in events
	const char *description;
};
const std::vector<BuiltinRule> &builtin_rules();
const BuiltinRule *find_builtin(size_t index);

} // namespace bulwark::policy

#include "policy/policy.h"

namespace bulwark::policy {

// Under a scope other than `run`, bulwark does not start the subjects, so
// no seccomp filter can be put on them: only the LSM layer enforces. One
// note per rule or entry this changes: `lost` is true when nothing is left
// to enforce it (an error for `enforce` unless --allow-degraded), false when
// it becomes LSM-only (a warning). Empty for scope "run".
struct ScopeNote {
	Location loc;
	std::string message;
	bool lost;
};
std::vector<ScopeNote> scope_notes(const Policy &policy, const std::string &scope);

// The id events carry for a layer's rule index: rules first, then `hooks:`
// entries, then the built-in rules ("default:exec", ...).
std::string rule_id_for(const Policy &policy, size_t index);

} // namespace bulwark::policy
