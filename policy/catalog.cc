// SPDX-License-Identifier: Apache-2.0
#include "policy/catalog.h"

namespace bulwark::policy {

const std::vector<WordInfo> &words()
{
	static const std::vector<WordInfo> table = {
		{"read",
		 TakesPaths,
		 {},
		 "",
		 {"file_open"},
		 "file_open for reading, by identity (dev+inode) or resolved path",
		 "data already read, or a file descriptor passed in from outside the sandbox"},
		{"write",
		 TakesPaths,
		 {},
		 "",
		 {"file_open", "path_truncate", "path_unlink", "path_rmdir", "path_rename", "path_link", "path_chmod",
		  "path_chown"},
		 "file_open for writing (identity or resolved path); truncate, unlink, rmdir, rename "
		 "(either end), link into, chmod, chown (identity and subtree)",
		 "a file descriptor opened for writing before the sandbox started, passed in"},
		{"exec",
		 TakesPaths,
		 {},
		 "",
		 {"bprm_check_security", "mmap_file"},
		 "bprm_check_security (binary and every #! interpreter) and mmap_file with PROT_EXEC "
		 "(ld.so <binary>)",
		 "a byte copy of the binary is a different file; only an exec allow-list stops it"},
		{"mount",
		 TakesNothing,
		 {"mount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
		  "mount_setattr"},
		 "mount and every step of the new mount API",
		 {"sb_mount", "move_mount", "sb_umount", "sb_remount"},
		 "sb_mount, move_mount (new API attach), sb_umount, sb_remount",
		 ""},
		{"ptrace",
		 TakesNothing,
		 {"ptrace", "process_vm_readv", "process_vm_writev"},
		 "ptrace and cross-process memory access",
		 {"ptrace_access_check", "ptrace_traceme"},
		 "ptrace_access_check (attach, /proc/<pid>/mem, process_vm_*), ptrace_traceme",
		 ""},
		{"kernel-modules",
		 TakesNothing,
		 {"init_module", "finit_module", "delete_module"},
		 "init_module, finit_module, delete_module",
		 {"kernel_module_request", "kernel_read_file", "kernel_load_data"},
		 "kernel_read_file/kernel_load_data for modules, kernel_module_request (auto-load)",
		 "delete_module has no LSM hook: only seccomp stops module unloading"},
		{"bpf", TakesNothing, {"bpf"}, "bpf", {"bpf"}, "bpf (every command)", ""},
		{"perf",
		 TakesNothing,
		 {"perf_event_open"},
		 "perf_event_open",
		 {"perf_event_open"},
		 "perf_event_open",
		 ""},
		{"kexec",
		 TakesNothing,
		 {"kexec_load", "kexec_file_load"},
		 "kexec_load, kexec_file_load",
		 {"kernel_read_file", "kernel_load_data"},
		 "kernel_read_file/kernel_load_data for kexec images and initramfs",
		 ""},
		{"keyring",
		 TakesNothing,
		 {"add_key", "request_key", "keyctl"},
		 "add_key, request_key, keyctl",
		 {"key_alloc"},
		 "key_alloc (creating keys and keyrings)",
		 "operations on keys that already exist are stopped only by seccomp"},
		{"user-namespaces",
		 TakesNothing,
		 {"unshare", "clone", "clone3"},
		 "unshare and clone with CLONE_NEWUSER in the flags argument; clone3 fails with ENOSYS "
		 "because its flags are behind a pointer seccomp cannot read (libc falls back to clone)",
		 {"userns_create"},
		 "userns_create",
		 ""},
		{"setuid",
		 TakesNothing,
		 {"setuid", "setreuid", "setresuid", "setfsuid", "setuid32", "setreuid32", "setresuid32", "setfsuid32"},
		 "setuid, setreuid, setresuid, setfsuid",
		 {"task_fix_setuid"},
		 "task_fix_setuid (every uid change, whatever the syscall)",
		 "setuid binaries: no_new_privs (set with the seccomp layer) keeps exec from raising "
		 "privileges"},
		{"raw-sockets",
		 TakesNothing,
		 {"socket"},
		 "socket with AF_INET/AF_INET6 and SOCK_RAW, or AF_PACKET",
		 {"socket_create"},
		 "socket_create with AF_INET/AF_INET6 and SOCK_RAW, or AF_PACKET",
		 "a raw socket passed in from outside the sandbox"},
		{"socket",
		 TakesFamilies,
		 {"socket"},
		 "socket with the listed families",
		 {"socket_create"},
		 "socket_create with the listed families",
		 "a socket passed in from outside the sandbox"},
		{"connect",
		 TakesPorts | TakesAddresses,
		 {},
		 "",
		 {"socket_connect", "socket_sendmsg"},
		 "socket_connect and socket_sendmsg with a destination (UDP sendto, TCP Fast Open), "
		 "matched on the destination port and/or address (IPv4, IPv6)",
		 "connect's address is behind a pointer: seccomp cannot see it"},
		{"bind",
		 TakesPorts | TakesAddresses,
		 {},
		 "",
		 {"socket_bind"},
		 "socket_bind, matched on the local port and/or address (IPv4, IPv6)",
		 "bind's address is behind a pointer: seccomp cannot see it"},
	};
	return table;
}

const WordInfo *find_word(std::string_view name)
{
	for (const auto &w : words())
		if (name == w.name)
			return &w;
	return nullptr;
}

std::string word_list()
{
	std::string out;
	for (const auto &w : words()) {
		if (!out.empty())
			out += ", ";
		out += w.name;
	}
	return out;
}

bool is_file_word(std::string_view name)
{
	return name == "read" || name == "write" || name == "exec";
}

} // namespace bulwark::policy

namespace bulwark::policy {

// ECS event.category per hook: file, network, driver (modules), iam
// (identities, namespaces, keys), configuration (mounts), else process.
const std::vector<HookInfo> &hooks()
{
	static const std::vector<HookInfo> table = {
		{BW_HOOK_FILE_OPEN, "file_open", "file", HookTargetPath, HookDetailNone, false},
		{BW_HOOK_BPRM_CHECK, "bprm_check_security", "process", HookTargetPath, HookDetailNone, false},
		{BW_HOOK_SB_MOUNT, "sb_mount", "configuration", HookTargetName, HookDetailMountFlags, false},
		{BW_HOOK_MOVE_MOUNT, "move_mount", "configuration", HookTargetName, HookDetailMountFlags, false},
		{BW_HOOK_SB_UMOUNT, "sb_umount", "configuration", HookTargetName, HookDetailMountFlags, false},
		{BW_HOOK_SB_REMOUNT, "sb_remount", "configuration", HookTargetName, HookDetailMountFlags, false},
		{BW_HOOK_MMAP_EXEC, "mmap_file", "process", HookTargetPath, HookDetailNone, false},
		{BW_HOOK_PTRACE_ACCESS, "ptrace_access_check", "process", HookTargetName, HookDetailArg, false},
		{BW_HOOK_PTRACE_TRACEME, "ptrace_traceme", "process", HookTargetName, HookDetailNone, false},
		{BW_HOOK_MODULE_REQUEST, "kernel_module_request", "driver", HookTargetName, HookDetailNone, false},
		{BW_HOOK_READ_FILE, "kernel_read_file", "file", HookTargetPath, HookDetailArg, false},
		{BW_HOOK_LOAD_DATA, "kernel_load_data", "driver", HookTargetName, HookDetailArg, false},
		{BW_HOOK_BPF, "bpf", "process", HookTargetName, HookDetailArg, false},
		{BW_HOOK_PERF, "perf_event_open", "process", HookTargetName, HookDetailArg, false},
		{BW_HOOK_KEY_ALLOC, "key_alloc", "iam", HookTargetName, HookDetailNone, false},
		{BW_HOOK_USERNS, "userns_create", "iam", HookTargetName, HookDetailNone, false},
		{BW_HOOK_SETUID, "task_fix_setuid", "iam", HookTargetName, HookDetailNone, false},
		{BW_HOOK_SOCKET_CREATE, "socket_create", "network", HookTargetName, HookDetailSocket, false},
		{BW_HOOK_SOCKET_CONNECT, "socket_connect", "network", HookTargetDestination, HookDetailNone, false},
		{BW_HOOK_SOCKET_BIND, "socket_bind", "network", HookTargetSource, HookDetailNone, false},
		{BW_HOOK_SOCKET_SENDMSG, "socket_sendmsg", "network", HookTargetDestination, HookDetailNone, false},
		{BW_HOOK_PATH_TRUNCATE, "path_truncate", "file", HookTargetPath, HookDetailNone, false},
		{BW_HOOK_PATH_UNLINK, "path_unlink", "file", HookTargetPath, HookDetailNone, false},
		{BW_HOOK_PATH_RMDIR, "path_rmdir", "file", HookTargetPath, HookDetailNone, false},
		{BW_HOOK_PATH_RENAME, "path_rename", "file", HookTargetPath, HookDetailNone, false},
		{BW_HOOK_PATH_LINK, "path_link", "file", HookTargetPath, HookDetailNone, false},
		{BW_HOOK_PATH_CHMOD, "path_chmod", "file", HookTargetPath, HookDetailNone, false},
		{BW_HOOK_PATH_CHOWN, "path_chown", "file", HookTargetPath, HookDetailNone, false},
		{BW_HOOK_TASK_ALLOC, "task_alloc", "process", HookTargetName, HookDetailNone, false},
		{BW_HOOK_EXEC_COMMITTED, "bprm_committed_creds", "process", HookTargetName, HookDetailNone, false},
		// Every program's gate (bw_gate), not a hook of its own.
		{BW_HOOK_SUPERVISOR_GONE, "supervisor_gone", "process", HookTargetName, HookDetailNone, false},
		{BW_HOOK_ESC_SYSLOG, "syslog", "process", HookTargetName, HookDetailNone, true},
		{BW_HOOK_ESC_SETTIME, "settime", "process", HookTargetName, HookDetailNone, true},
		{BW_HOOK_ESC_PIVOTROOT, "sb_pivotroot", "process", HookTargetName, HookDetailNone, true},
		{BW_HOOK_ESC_CHROOT, "path_chroot", "process", HookTargetName, HookDetailNone, true},
		{BW_HOOK_ESC_QUOTACTL, "quotactl", "process", HookTargetName, HookDetailNone, true},
		{BW_HOOK_ESC_SETNICE, "task_setnice", "process", HookTargetName, HookDetailNone, true},
		{BW_HOOK_ESC_KILL, "task_kill", "process", HookTargetName, HookDetailNone, true},
		{BW_HOOK_SETRLIMIT, "task_setrlimit", "process", HookTargetName, HookDetailArg, false},
		{BW_HOOK_SETSCHED, "task_setscheduler", "process", HookTargetName, HookDetailNone, false},
		{BW_HOOK_SETIOPRIO, "task_setioprio", "process", HookTargetName, HookDetailArg, false},
	};
	return table;
}

const HookInfo *find_hook(uint32_t id)
{
	for (const auto &h : hooks())
		if (h.id == id)
			return &h;
	return nullptr;
}

const HookInfo *find_hook(std::string_view name)
{
	for (const auto &h : hooks())
		if (name == h.name)
			return &h;
	return nullptr;
}

const std::vector<const char *> &lsm_escape_hooks()
{
	// Slot i is hook BW_HOOK_ESCAPE_BASE + i: the table lists them in order.
	static const std::vector<const char *> names = [] {
		std::vector<const char *> v;
		for (const auto &h : hooks())
			if (h.escape)
				v.push_back(h.name);
		return v;
	}();
	return names;
}

const std::vector<BuiltinRule> &builtin_rules()
{
	static const std::vector<BuiltinRule> table = {
		{BW_RULE_DEFAULT_EXEC, "default:exec", "exec allow-list: not listed"},
		{BW_RULE_SUPERVISOR, "builtin:protect-supervisor", "signal or ptrace aimed at bulwark"},
		{BW_RULE_DEPTH, "builtin:path-depth", "path deeper than a subtree rule can check"},
		{BW_RULE_GLOB_LIMIT, "builtin:pattern-limit", "'*' match too long to decide"},
		{BW_RULE_SELF, "builtin:protect-enforcer",
		 "confined tasks may not reach the enforcer's BPF objects or pins"},
		{BW_RULE_PROTECT_SCOPE, "builtin:protect-scope",
		 "confined tasks may not move, kill or freeze tasks through cgroup files"},
		{BW_RULE_GONE, "builtin:supervisor-gone",
		 "a sandbox's supervisor or the engine died: its subjects are killed at their next hook"},
		{BW_RULE_DEFAULT_READ, "default:read", "read allow-list: not listed (file_open for reading)"},
		{BW_RULE_DEFAULT_WRITE, "default:write",
		 "write allow-list: not listed (file_open for writing by identity, path or pattern; truncate, "
		 "unlink, rmdir, rename, link, chmod and chown by identity and subtree only, so a file listed "
		 "only by a pattern or by a path absent at load can be written but not changed that way)"},
	};
	return table;
}

const BuiltinRule *find_builtin(size_t index)
{
	if (index < BW_RULE_BUILTIN_BASE || index >= BW_RULE_BUILTIN_END)
		return nullptr;
	const auto &t = builtin_rules();
	size_t i = index - BW_RULE_BUILTIN_BASE;
	return i < t.size() ? &t[i] : nullptr;
}

} // namespace bulwark::policy

#include "policy/policy.h"

namespace bulwark::policy {

std::string rule_id_for(const Policy &policy, size_t index)
{
	if (index < policy.rules.size())
		return policy.rules[index].id;
	size_t h = index - policy.rules.size();
	if (index >= policy.rules.size() && h < policy.hooks.size())
		return policy.hooks[h].id.empty() ? "hook:" + policy.hooks[h].hook : policy.hooks[h].id;
	const BuiltinRule *b = find_builtin(index);
	return b ? b->id : "";
}

} // namespace bulwark::policy

namespace bulwark::policy {

std::vector<ScopeNote> scope_notes(const Policy &policy, const std::string &scope)
{
	std::vector<ScopeNote> out;
	if (scope == "run")
		return out;
	const std::string why =
		" under scope " + scope + " (a seccomp filter can only be put on processes bulwark starts)";
	for (const auto &r : policy.rules) {
		if (r.kind == RuleKind::File || r.verb != Verb::Deny)
			continue; // LSM-only already
		bool seccomp = false, lsm = true;
		for (const auto &w : r.words) {
			const WordInfo *info = find_word(w);
			if (!info)
				continue;
			if (*info->seccomp_how)
				seccomp = true;
			if (!*info->lsm_how)
				lsm = false;
		}
		if (!lsm)
			out.push_back({r.loc, "rule '" + r.id + "' has no layer left" + why, true});
		else if (seccomp && r.when.empty())
			out.push_back({r.loc, "rule '" + r.id + "' is enforced by the LSM layer only" + why, false});
	}
	for (const auto &s : policy.syscalls)
		out.push_back({s.loc,
			       "syscalls: entry '" + (s.names.empty() ? std::string("?") : s.names[0]) +
				       "' is seccomp-only and has no layer" + why,
			       true});
	if (policy.defaults.syscalls_set && policy.defaults.syscalls.kind != SyscallActionKind::Allow)
		out.push_back({policy.defaults.loc, "default: syscalls is seccomp-only and has no layer" + why, true});
	return out;
}

} // namespace bulwark::policy
