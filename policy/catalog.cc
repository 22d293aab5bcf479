// SPDX-License-Identifier: Apache-2.0
#include "policy/catalog.h"

namespace bulwark::policy {

const std::vector<WordInfo>& words() {
  static const std::vector<WordInfo> table = {
      {"read", TakesPaths, {}, "", {"file_open"},
       "file_open for reading, by identity (dev+inode) or resolved path",
       "data already read, or a file descriptor passed in from outside the sandbox"},
      {"write", TakesPaths, {}, "",
       {"file_open", "path_truncate", "path_unlink", "path_rmdir", "path_rename", "path_link",
        "path_chmod", "path_chown"},
       "file_open for writing (identity or resolved path); truncate, unlink, rmdir, rename "
       "(either end), link into, chmod, chown (identity and subtree)",
       "a file descriptor opened for writing before the sandbox started, passed in"},
      {"exec", TakesPaths, {}, "",
       {"bprm_check_security", "mmap_file"},
       "bprm_check_security (binary and every #! interpreter) and mmap_file with PROT_EXEC "
       "(ld.so <binary>)",
       "a byte copy of the binary is a different file; only an exec allow-list stops it"},
      {"mount", TakesNothing,
       {"mount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
        "open_tree", "mount_setattr"},
       "mount and every step of the new mount API",
       {"sb_mount", "move_mount", "sb_umount", "sb_remount"},
       "sb_mount, move_mount (new API attach), sb_umount, sb_remount",
       ""},
      {"ptrace", TakesNothing,
       {"ptrace", "process_vm_readv", "process_vm_writev"},
       "ptrace and cross-process memory access",
       {"ptrace_access_check", "ptrace_traceme"},
       "ptrace_access_check (attach, /proc/<pid>/mem, process_vm_*), ptrace_traceme",
       ""},
      {"kernel-modules", TakesNothing,
       {"init_module", "finit_module", "delete_module"},
       "init_module, finit_module, delete_module",
       {"kernel_module_request", "kernel_read_file", "kernel_load_data"},
       "kernel_read_file/kernel_load_data for modules, kernel_module_request (auto-load)",
       "delete_module has no LSM hook: only seccomp stops module unloading"},
      {"bpf", TakesNothing, {"bpf"}, "bpf", {"bpf"}, "bpf (every command)", ""},
      {"perf", TakesNothing, {"perf_event_open"}, "perf_event_open", {"perf_event_open"},
       "perf_event_open", ""},
      {"kexec", TakesNothing, {"kexec_load", "kexec_file_load"}, "kexec_load, kexec_file_load",
       {"kernel_read_file", "kernel_load_data"},
       "kernel_read_file/kernel_load_data for kexec images and initramfs",
       ""},
      {"keyring", TakesNothing, {"add_key", "request_key", "keyctl"},
       "add_key, request_key, keyctl", {"key_alloc"},
       "key_alloc (creating keys and keyrings)",
       "operations on keys that already exist are stopped only by seccomp"},
      {"user-namespaces", TakesNothing, {"unshare", "clone", "clone3"},
       "unshare and clone with CLONE_NEWUSER in the flags argument; clone3 fails with ENOSYS "
       "because its flags are behind a pointer seccomp cannot read (libc falls back to clone)",
       {"userns_create"}, "userns_create", ""},
      {"setuid", TakesNothing,
       {"setuid", "setreuid", "setresuid", "setfsuid", "setuid32", "setreuid32", "setresuid32",
        "setfsuid32"},
       "setuid, setreuid, setresuid, setfsuid", {"task_fix_setuid"},
       "task_fix_setuid (every uid change, whatever the syscall)",
       "setuid binaries: no_new_privs (set with the seccomp layer) keeps exec from raising "
       "privileges"},
      {"raw-sockets", TakesNothing, {"socket"},
       "socket with AF_INET/AF_INET6 and SOCK_RAW, or AF_PACKET", {"socket_create"},
       "socket_create with AF_INET/AF_INET6 and SOCK_RAW, or AF_PACKET",
       "a raw socket passed in from outside the sandbox"},
      {"socket", TakesFamilies, {"socket"}, "socket with the listed families",
       {"socket_create"}, "socket_create with the listed families",
       "a socket passed in from outside the sandbox"},
      {"connect", TakesPorts | TakesAddresses, {}, "",
       {"socket_connect", "socket_sendmsg"},
       "socket_connect and socket_sendmsg with a destination (UDP sendto, TCP Fast Open), "
       "matched on the destination port and/or address (IPv4, IPv6)",
       "connect's address is behind a pointer: seccomp cannot see it"},
      {"bind", TakesPorts | TakesAddresses, {}, "", {"socket_bind"},
       "socket_bind, matched on the local port and/or address (IPv4, IPv6)",
       "bind's address is behind a pointer: seccomp cannot see it"},
  };
  return table;
}

const WordInfo* find_word(std::string_view name) {
  for (const auto& w : words())
    if (name == w.name) return &w;
  return nullptr;
}

std::string word_list() {
  std::string out;
  for (const auto& w : words()) {
    if (!out.empty()) out += ", ";
    out += w.name;
  }
  return out;
}

bool is_file_word(std::string_view name) {
  return name == "read" || name == "write" || name == "exec";
}

}  // namespace bulwark::policy

namespace bulwark::policy {

const std::vector<const char*>& lsm_escape_hooks() {
  static const std::vector<const char*> hooks = {
      "syslog", "settime", "sb_pivotroot", "path_chroot", "quotactl", "task_setnice", "task_kill",
  };
  return hooks;
}

}  // namespace bulwark::policy

#include "policy/policy.h"

namespace bulwark::policy {

std::string rule_id_for(const Policy& policy, size_t index) {
  if (index < policy.rules.size()) return policy.rules[index].id;
  size_t h = index - policy.rules.size();
  if (index >= policy.rules.size() && h < policy.hooks.size())
    return policy.hooks[h].id.empty() ? "hook:" + policy.hooks[h].hook : policy.hooks[h].id;
  if (index == 0xfffffff0u) return "default:exec";
  if (index == 0xfffffff1u) return "builtin:protect-supervisor";
  if (index == 0xfffffff2u) return "builtin:path-depth";
  if (index == 0xfffffff3u) return "builtin:pattern-limit";
  if (index == 0xfffffff4u) return "builtin:protect-enforcer";
  if (index == 0xfffffff5u) return "builtin:protect-scope";
  return "";
}

}  // namespace bulwark::policy

namespace bulwark::policy {

std::vector<ScopeNote> scope_notes(const Policy& policy, const std::string& scope) {
  std::vector<ScopeNote> out;
  if (scope == "run") return out;
  const std::string why = " under scope " + scope +
                          " (a seccomp filter can only be put on processes bulwark starts)";
  for (const auto& r : policy.rules) {
    if (r.kind == RuleKind::File || r.verb != Verb::Deny) continue;  // LSM-only already
    bool seccomp = false, lsm = true;
    for (const auto& w : r.words) {
      const WordInfo* info = find_word(w);
      if (!info) continue;
      if (*info->seccomp_how) seccomp = true;
      if (!*info->lsm_how) lsm = false;
    }
    if (!lsm)
      out.push_back({r.loc, "rule '" + r.id + "' has no layer left" + why, true});
    else if (seccomp && r.when.empty())
      out.push_back({r.loc, "rule '" + r.id + "' is enforced by the LSM layer only" + why, false});
  }
  for (const auto& s : policy.syscalls)
    out.push_back({s.loc, "syscalls: entry '" + (s.names.empty() ? std::string("?") : s.names[0]) +
                              "' is seccomp-only and has no layer" + why, true});
  if (policy.defaults.syscalls_set && policy.defaults.syscalls.kind != SyscallActionKind::Allow)
    out.push_back({policy.defaults.loc, "default: syscalls is seccomp-only and has no layer" + why, true});
  return out;
}

}  // namespace bulwark::policy
