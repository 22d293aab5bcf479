// SPDX-License-Identifier: Apache-2.0
//
// Policy file parser. The parser only checks what can be decided from the
// text itself; anything that needs the filesystem (symlinks, existence) is
// the loader's job, so that policies can be validated off-target.

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::policy {

enum class Mode { Enforce, Audit };

// 1-based, as editors and compilers print them.
struct Location {
	std::string file;
	int line = 0;
	int col = 0;
};

struct Diagnostic {
	enum class Severity { Error, Warning } severity;
	Location loc;
	std::string message;

	// Errors: "FILE:LINE:COL: message"
	// Warnings: "FILE:LINE:COL: warning: message"
	std::string str() const;
};

// File: read/write/exec with paths (LSM only). Action: one or more catalog
// words other than read/write/exec (policy/catalog.h).
enum class RuleKind { File, Action };

// deny is the common case; allow only means something against a default of
// deny (`default: {read: deny}`, `{write: deny}`, `{exec: deny}`: allow-lists).
enum class Verb { Deny, Allow };

enum Access : unsigned { AccessRead = 1u, AccessWrite = 2u, AccessExec = 4u };

// Exact: "/etc/shadow". Subtree: written "/srv/www/**", stored as "/srv/www"
// (the directory itself and everything below it). Glob: '*' matching within
// one component, e.g. "/home/*/.ssh/id_*".
enum class PathKind { Exact, Subtree, Glob };

struct PathSpec {
	std::string path;
	PathKind kind = PathKind::Exact;
	Location loc;
};

struct PortRange {
	uint16_t lo = 0, hi = 0; // inclusive; a single port has lo == hi
	Location loc;
};

struct Address {
	int family = 0;                  // AF_INET or AF_INET6
	std::array<uint8_t, 16> bytes{}; // network order; IPv4 uses the first 4
	int prefix = 0;                  // CIDR prefix length; 32 / 128 for a single address
	std::string text;
	Location loc;
};

// Context seccomp cannot see. All listed conditions must hold (AND); within
// one condition any listed value matches (OR).
struct When {
	std::vector<PathSpec> exe;        // the executable of the acting task (exact paths)
	std::vector<PathSpec> parent_exe; // its parent's executable
	std::vector<uint32_t> uid;        // the acting task's real uid
	std::vector<std::string> cgroup;  // cgroup v2 paths, e.g. "/system.slice/nginx.service"
	Location loc;
	bool empty() const { return exe.empty() && parent_exe.empty() && uid.empty() && cgroup.empty(); }
};

struct Rule {
	std::string id;
	Verb verb = Verb::Deny;
	RuleKind kind = RuleKind::Action;
	std::vector<std::string> words; // as written, in order ("read", "mount", ...)
	unsigned access = 0;            // File only: bitwise OR of Access
	std::vector<PathSpec> paths;    // File (and exec allow rules)
	std::vector<int> families;      // socket: AF_* numbers
	std::vector<PortRange> ports;   // connect / bind
	std::vector<Address> addresses; // connect / bind
	When when;
	Mode mode = Mode::Enforce; // effective: the rule's override, else the policy's
	Location loc;

	bool has_word(const std::string &w) const
	{
		for (const auto &x : words)
			if (x == w)
				return true;
		return false;
	}
};

// --- seccomp escape hatch ---------------------------------------------------

enum class SyscallActionKind { Allow, Errno, KillProcess, KillThread, Log, Trap };

struct SyscallAction {
	SyscallActionKind kind = SyscallActionKind::Allow;
	int errno_value = 0; // Errno only (positive)
};

enum class ArgOp { Eq, Ne, Lt, Le, Gt, Ge, MaskedEq };

struct ArgCondition {
	unsigned index = 0; // 0..5
	ArgOp op = ArgOp::Eq;
	uint64_t value = 0;
	uint64_t mask = 0; // MaskedEq only: (arg & mask) == value
	Location loc;
};

struct SyscallEntry {
	std::vector<std::string> names; // validated against libseccomp's table
	SyscallAction action;
	std::vector<ArgCondition> args; // all must hold (AND)
	Mode mode = Mode::Enforce;
	Location loc;
};

// --- LSM escape hatch ------------------------------------------------------

struct HookEntry {
	std::string hook; // one of lsm_escape_hooks()
	int errno_value = 1;
	Mode mode = Mode::Enforce;
	std::string id; // for events; defaults to "hook:<name>"
	Location loc;
};

struct Defaults {
	// The Access bits whose default is deny.
	unsigned deny_access() const
	{
		return (read_deny ? AccessRead : 0u) | (write_deny ? AccessWrite : 0u) | (exec_deny ? AccessExec : 0u);
	}

	// The seccomp layer's default action (a syscall allow-list when not Allow).
	SyscallAction syscalls;
	bool syscalls_set = false;
	// Allow-lists: when true only paths named by `allow: read` (`write`,
	// `exec`) rules are opened for reading (opened for writing or changed,
	// run).
	bool read_deny = false;
	bool write_deny = false;
	bool exec_deny = false;
	Location loc;
};

struct Policy {
	std::string file;
	std::string name;
	Mode mode = Mode::Enforce;
	std::vector<std::string> extends;       // resolved files, base first
	std::vector<std::string> architectures; // libseccomp names; default {"x86_64"}
	Defaults defaults;
	std::vector<Rule> rules;
	std::vector<SyscallEntry> syscalls;
	std::vector<HookEntry> hooks;
	// Who `bulwark enforce` applies the policy to: "run" (default), "host",
	// "cgroup:/PATH" or "exe:/PATH" (normalised from the YAML forms).
	std::string scope = "run";
	Location scope_loc;
	bool scope_set = false;
	Location loc;
};

struct ParseResult {
	std::optional<Policy> policy; // nullopt iff any diagnostic is an error
	std::vector<Diagnostic> diagnostics;

	bool ok() const;
};

// Limits shared with the loader / BPF side.
inline constexpr std::size_t kMaxNameLength = 64;
inline constexpr std::size_t kMaxPathLength = 255;

ParseResult parse_string(const std::string &text, const std::string &filename);

// An unreadable file yields one error: "FILE:1:1: cannot read policy: <strerror>".
ParseResult parse_file(const std::string &path);

// Finds the policy an `extends:` entry names. `from_file` is the file that
// names it. Returns {file name for diagnostics, YAML text}, or nullopt when
// there is no such policy.
using ExtendsResolver = std::function<std::optional<std::pair<std::string, std::string>>(const std::string &name,
											 const std::string &from_file)>;

// The overloads without a resolver read `extends:` entries containing '/'
// or ending in ".yaml" as files relative to the naming file's directory,
// and bare names as bundled policies (bundled_policy()).
ParseResult parse_string(const std::string &text, const std::string &filename, const ExtendsResolver &resolver);
ParseResult parse_file(const std::string &path, const ExtendsResolver &resolver);

// The YAML text of a policy shipped with bulwark ("base", ...), or nullptr.
// Generated from policy/bundled/*.yaml at build time (cmake/embed_policies.cmake).
const char *bundled_policy(std::string_view name);

const char *to_string(Mode mode);
// As a policy file spells it: "allow", "errno(EPERM)", "kill-process", ...
std::string to_string(const SyscallAction &action);
// The errno only tells Errno actions apart.
bool same_action(const SyscallAction &a, const SyscallAction &b);

} // namespace bulwark::policy
