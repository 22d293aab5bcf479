// SPDX-License-Identifier: Apache-2.0
// Which LSM hooks this kernel has (its BTF), which ones a policy needs, and
// so which programs of the LSM object load.
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <map>
#include <set>
#include <string_view>

#include "loader/kernel/lsm.h"
#include "loader/kernel/objects.h"
#include "loader/kernel/probe.h"
#include "policy/catalog.h"

extern "C" {
#include "bulwark.h"
}
#include "bulwark.skel.h"

namespace bulwark {

const char *hook_name(uint32_t hook)
{
	const policy::HookInfo *h = policy::find_hook(hook);
	return h ? h->name : "unknown";
}

const btf *vmlinux_btf()
{
	// Parsed once: doctor and explain ask about every hook, and each parse
	// reads several MiB. Kept for the life of the process.
	static btf *vmlinux = btf__load_vmlinux_btf();
	return vmlinux;
}

int hook_arity(const std::string &hook)
{
	const btf *vmlinux = vmlinux_btf();
	if (!vmlinux)
		return -1;
	int id = btf__find_by_name_kind(vmlinux, ("bpf_lsm_" + hook).c_str(), BTF_KIND_FUNC);
	if (id <= 0)
		return -1;
	const btf_type *fn = btf__type_by_id(vmlinux, id);
	const btf_type *proto = fn ? btf__type_by_id(vmlinux, fn->type) : nullptr;
	return proto && btf_is_func_proto(proto) ? btf_vlen(proto) : -1;
}

bool have_vmlinux_btf()
{
	return vmlinux_btf() != nullptr;
}

bool hook_exists(const std::string &hook)
{
	return hook_arity(hook) >= 0;
}

std::string prog_hook(const bpf_program *prog)
{
	std::string sec = bpf_program__section_name(prog);
	return sec.rfind("lsm/", 0) == 0 ? sec.substr(4) : "";
}

namespace {

// Whether one of the catalog's words is in use; file words count for deny
// rules (file_access) and, read and write, for an allow-list (default_deny):
// that needs their hooks too. The exec allow-list needs fewer (below).
bool word_used(const policy::WordInfo &w, const LsmNeeds &n)
{
	std::string_view name = w.name;
	if (name == "read")
		return ((n.file_access | n.default_deny) & BW_ACC_READ) != 0;
	if (name == "write")
		return ((n.file_access | n.default_deny) & BW_ACC_WRITE) != 0;
	if (name == "exec")
		return (n.file_access & BW_ACC_EXEC) != 0;
	return n.words.count(w.name) > 0;
}

} // namespace

bool hook_needed(const std::string &hook, const LsmNeeds &n)
{
	// Confinement follows fork and exec, and the supervisor is guarded,
	// whatever the policy says.
	static const char *const always[] = {"task_alloc",          "bprm_committed_creds", "task_kill",
					     "ptrace_access_check", "task_setrlimit",       "task_setscheduler",
					     "task_setioprio",      "task_setnice"};
	if (n.all)
		return true;
	for (const char *a : always)
		if (hook == a)
			return true;
	for (const auto &w : policy::words())
		if (word_used(w, n))
			for (const char *h : w.hooks)
				if (hook == h)
					return true;
	// The exec allow-list is checked at exec only (not at mmap_file).
	if ((n.default_deny & BW_ACC_EXEC) && hook == "bprm_check_security")
		return true;
	// Allow-lists trust resolved paths: a new root (pivot_root, chroot)
	// would let the sandbox forge them.
	if (n.default_deny && (hook == "sb_pivotroot" || hook == "path_chroot"))
		return true;
	return n.escape_hooks.count(hook) > 0;
}

namespace {

// Whether prog loads: its hook is needed and present (--allow-degraded
// leaves out hooks this kernel lacks, said at start-up), and a variant
// matches the kernel's prototype.
bool wanted(bpf_program *prog, const LsmNeeds &needs, std::map<std::string, int> &arity)
{
	std::string hook = prog_hook(prog);
	std::string name = bpf_program__name(prog);
	// The one tracing program of the LSM object: only sandboxes (the
	// engine's, a private run's) need to learn that a supervisor exited.
	if (name == "bw_supervisor_exit")
		return needs.supervisor_exit;
	bool load = !hook.empty() && hook_needed(hook, needs) && !needs.skip_hooks.count(hook);
	for (const auto &v : kVariants) {
		if (name != v.prog)
			continue;
		if (!arity.count(v.hook))
			arity[v.hook] = hook_arity(v.hook);
		load = load && arity[v.hook] == v.arity;
	}
	return load;
}

} // namespace

void select_programs(bpf_object *obj, const LsmNeeds &needs)
{
	std::map<std::string, int> arity;
	bpf_program *prog;
	bpf_object__for_each_program(prog, obj)
	{
		bpf_program__set_autoload(prog, wanted(prog, needs, arity));
	}
	// A needed hook whose every variant was ruled out (an arity this
	// build does not know) would leave its words unenforced: refuse.
	for (const char *hook : {"bpf", "perf_event_open"}) {
		bool needed = hook_needed(hook, needs) && !needs.skip_hooks.count(hook), loaded = false;
		for (const auto &v : kVariants) {
			bpf_program *p =
				std::string(v.hook) == hook ? bpf_object__find_program_by_name(obj, v.prog) : nullptr;
			loaded |= p && bpf_program__autoload(p);
		}
		if (needed && !loaded)
			throw Error(std::string("lsm: this kernel's ") + hook + " hook has " +
				    std::to_string(arity[hook]) + " arguments; no program here matches it");
	}
}

std::vector<std::string> hooks_needed(const LsmNeeds &needs)
{
	std::set<std::string> hooks;
	LsmSkel skel = open_lsm_object(true);
	if (!skel)
		throw Error("lsm: failed to open BPF object", errno);
	// The arity-specific variants are chosen in select_programs(); here
	// every program the policy needs counts, by hook name.
	bpf_program *prog;
	bpf_object__for_each_program(prog, skel->obj)
	{
		std::string hook = prog_hook(prog);
		if (!hook.empty() && hook_needed(hook, needs))
			hooks.insert(hook);
	}
	return {hooks.begin(), hooks.end()};
}

std::map<std::string, std::vector<std::string>> lsm_programs_by_hook()
{
	LsmSkel skel = open_lsm_object(true);
	if (!skel)
		throw Error("lsm: failed to open BPF object", errno);
	std::map<std::string, std::vector<std::string>> out;
	bpf_program *prog;
	bpf_object__for_each_program(prog, skel->obj)
	{
		std::string hook = prog_hook(prog);
		if (!hook.empty())
			out[hook].push_back(bpf_program__name(prog));
	}
	return out;
}

std::vector<LsmHookState> lsm_hook_states()
{
	LsmNeeds all;
	all.all = true;
	std::vector<LsmHookState> out;
	for (const auto &h : hooks_needed(all)) {
		LsmHookState st{h, hook_arity(h), false};
		bool has_variants = false;
		for (const auto &v : kVariants)
			if (h == v.hook) {
				has_variants = true;
				st.usable |= st.kernel_args == v.arity;
			}
		if (!has_variants)
			st.usable = st.kernel_args >= 0;
		out.push_back(st);
	}
	return out;
}

} // namespace bulwark
