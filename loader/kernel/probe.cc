// SPDX-License-Identifier: Apache-2.0
#include "loader/kernel/probe.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "loader/kernel/lsm.h"

namespace bulwark {

namespace {

std::string read_line(const char *path)
{
	std::ifstream in(path);
	std::string line;
	if (!in || !std::getline(in, line))
		return "";
	return line;
}

bool btf_enum_has(const btf *b, const char *type, const char *value)
{
	int id = btf__find_by_name_kind(b, type, BTF_KIND_ENUM);
	if (id <= 0)
		return false;
	const btf_type *t = btf__type_by_id(b, id);
	const struct btf_enum *e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++)
		if (std::strcmp(btf__name_by_offset(b, e->name_off), value) == 0)
			return true;
	return false;
}

bool list_has(const std::string &csv, const std::string &item)
{
	std::stringstream ss(csv);
	std::string x;
	while (std::getline(ss, x, ','))
		if (x == item)
			return true;
	return false;
}

} // namespace

std::string probe_kernel_release()
{
	utsname u{};
	uname(&u);
	return u.release;
}

// 6.1 is the oldest kernel the programs are tested on, and the first with
// every piece below; the last one to arrive is the userns_create hook.
const std::vector<FloorFeature> &lsm_floor()
{
	static const std::vector<FloorFeature> t = {
		{"task storage maps", "5.11", "bpf_map_type", "BPF_MAP_TYPE_TASK_STORAGE"},
		{"the bpf_get_current_task_btf helper", "5.11", "bpf_func_id", "BPF_FUNC_get_current_task_btf"},
		{"the bpf_task_pt_regs helper", "5.15", "bpf_func_id", "BPF_FUNC_task_pt_regs"},
		{"the bpf_loop helper", "5.17", "bpf_func_id", "BPF_FUNC_loop"},
		{"the userns_create LSM hook", "6.1", nullptr, "bpf_lsm_userns_create"},
	};
	return t;
}

std::vector<const FloorFeature *> floor_missing()
{
	std::vector<const FloorFeature *> out;
	const btf *b = vmlinux_btf();
	if (!b)
		return out;
	for (const auto &f : lsm_floor()) {
		bool have = f.btf_enum ? btf_enum_has(b, f.btf_enum, f.name)
				       : btf__find_by_name_kind(b, f.name, BTF_KIND_FUNC) > 0;
		if (!have)
			out.push_back(&f);
	}
	return out;
}

std::string lsm_kernel_reason()
{
	if (!have_vmlinux_btf())
		return "lsm: this kernel has no BTF (/sys/kernel/btf/vmlinux); the BPF-LSM layer needs a kernel built "
		       "with CONFIG_DEBUG_INFO_BTF=y (Linux " +
		       std::string(kLsmFloorRelease) + " or newer)";
	std::string lsms = read_line("/sys/kernel/security/lsm");
	auto missing = floor_missing();
	if (!missing.empty()) {
		std::string what;
		for (const auto *f : missing)
			what += std::string(what.empty() ? "" : ", ") + f->what + " (" + f->since + ")";
		std::string line = "lsm: kernel " + probe_kernel_release() + " is below bulwark's floor, Linux " +
				   kLsmFloorRelease + ": it lacks " + what + "; boot Linux " + kLsmFloorRelease +
				   " or newer";
		if (!list_has(lsms, "bpf"))
			line += " with bpf in lsm=";
		return line + " (bulwark run --layers seccomp works without it)";
	}
	if (lsms.empty())
		return "lsm: cannot read /sys/kernel/security/lsm (securityfs not mounted or no LSM support); BPF "
		       "LSM state unknown";
	if (!list_has(lsms, "bpf"))
		return "lsm: BPF LSM is not active on this kernel (lsm=" + lsms + "); boot with lsm=" + lsms +
		       ",bpf (see vagrant/) or run with --layers seccomp";
	return "";
}

AbiState probe_i386()
{
	pid_t pid = fork();
	if (pid < 0)
		return AbiState::Unknown;
	if (pid == 0) {
		long ret;
		// i386 getpid (20): this process's pid if the entry is on.
		asm volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
		_exit(ret == getpid() ? 0 : 1);
	}
	int st = 0;
	if (waitpid(pid, &st, 0) != pid)
		return AbiState::Unknown;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? AbiState::On : AbiState::Off;
}

AbiState probe_x32()
{
	constexpr long kX32Bit = 0x40000000;
	long r = syscall(kX32Bit | SYS_getpid);
	if (r == getpid())
		return AbiState::On;
	return errno == ENOSYS ? AbiState::Off : AbiState::Unknown;
}

namespace {

int landlock_abi()
{
#ifdef SYS_landlock_create_ruleset
	constexpr unsigned kVersion = 1; // LANDLOCK_CREATE_RULESET_VERSION
	long v = syscall(SYS_landlock_create_ruleset, nullptr, 0, kVersion);
	if (v >= 0)
		return static_cast<int>(v);
	return errno == EOPNOTSUPP ? -2 : -1;
#else
	return -1;
#endif
}

const char *abi_word(AbiState s)
{
	return s == AbiState::On ? "on" : s == AbiState::Off ? "off" : "unknown";
}

} // namespace

KernelReport probe_kernel(bool load)
{
	KernelReport r;
	r.release = probe_kernel_release();
	r.active_lsms = read_line("/sys/kernel/security/lsm");
	r.bpf_lsm_active = list_has(r.active_lsms, "bpf");
	r.btf = have_vmlinux_btf();
	for (const auto *f : floor_missing())
		r.floor_missing.push_back(std::string(f->what) + " (" + f->since + ")");
	if (load)
		r.lsm_load = LsmLayer::load_probe();
	if (r.btf)
		r.hooks = lsm_hook_states();
	r.landlock_abi = landlock_abi();
	r.seccomp_avail = read_line("/proc/sys/kernel/seccomp/actions_avail");
	r.seccomp_logged = read_line("/proc/sys/kernel/seccomp/actions_logged");
	r.i386 = probe_i386();
	r.x32 = probe_x32();
	return r;
}

std::string report_text(const KernelReport &r)
{
	std::ostringstream o;
	o << "kernel: " << r.release << "\n";
	o << "lsm: active LSMs: " << (r.active_lsms.empty() ? "(unreadable)" : r.active_lsms) << "\n";
	if (r.active_lsms.empty())
		o << "lsm: whether bpf is an active LSM is unknown (securityfs not mounted?)\n";
	else
		o << "lsm: bpf " << (r.bpf_lsm_active ? "is" : "is not") << " an active LSM\n";
	o << "lsm: BTF " << (r.btf ? "present" : "missing") << "\n";
	if (r.floor_missing.empty() && r.btf)
		o << "lsm: floor (Linux " << kLsmFloorRelease << "): met\n";
	for (const auto &m : r.floor_missing)
		o << "lsm: floor (Linux " << kLsmFloorRelease << "): missing " << m << "\n";
	// The reason carries its own "lsm: " prefix.
	std::string why = r.lsm_load.rfind("lsm: ", 0) == 0 ? r.lsm_load.substr(5) : r.lsm_load;
	o << "lsm: programs: " << (why.empty() ? "load" : "cannot be used: " + why) << "\n";
	size_t missing = 0;
	for (const auto &h : r.hooks) {
		if (h.kernel_args < 0) {
			o << "lsm: hook " << h.hook
			  << ": missing (rules that need it are not enforced by this layer)\n";
			missing++;
		} else if (!h.usable) {
			o << "lsm: hook " << h.hook << ": " << h.kernel_args
			  << " arguments, a prototype this build has no program for\n";
			missing++;
		}
	}
	if (r.btf)
		o << "lsm: hooks: " << r.hooks.size() - missing << " of " << r.hooks.size() << " present\n";
	if (r.landlock_abi >= 0)
		o << "landlock: ABI " << r.landlock_abi << "\n";
	else
		o << "landlock: " << (r.landlock_abi == -2 ? "built but not enabled (lsm=)" : "not in this kernel")
		  << "\n";
	o << "seccomp: actions available: " << (r.seccomp_avail.empty() ? "(unreadable)" : r.seccomp_avail) << "\n";
	o << "seccomp: actions logged: " << (r.seccomp_logged.empty() ? "(unreadable)" : r.seccomp_logged) << "\n";
	o << "seccomp: i386 ABI (int 0x80): " << abi_word(r.i386) << "\n";
	o << "seccomp: x32 ABI: " << abi_word(r.x32) << "\n";
	return o.str();
}

std::string report_json(const KernelReport &r)
{
	using json = nlohmann::ordered_json;
	json hooks = json::array();
	for (const auto &h : r.hooks)
		hooks.push_back({{"hook", h.hook},
				 {"present", h.kernel_args >= 0},
				 {"arguments", h.kernel_args},
				 {"usable", h.usable}});
	json j = {{"kernel", r.release},
		  {"lsm",
		   {{"active", r.active_lsms},
		    {"bpf_active", r.bpf_lsm_active},
		    {"btf", r.btf},
		    {"floor", kLsmFloorRelease},
		    {"floor_missing", r.floor_missing},
		    {"load", r.lsm_load.empty() ? "ok" : r.lsm_load},
		    {"hooks", hooks}}},
		  {"landlock_abi", r.landlock_abi},
		  {"seccomp",
		   {{"actions_avail", r.seccomp_avail},
		    {"actions_logged", r.seccomp_logged},
		    {"i386", abi_word(r.i386)},
		    {"x32", abi_word(r.x32)}}}};
	return j.dump(2) + "\n";
}

int run_doctor(const DoctorOptions &o)
{
	KernelReport r = probe_kernel(true);
	std::fputs((o.json ? report_json(r) : report_text(r)).c_str(), stdout);
	return 0;
}

} // namespace bulwark
