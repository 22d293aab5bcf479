// SPDX-License-Identifier: Apache-2.0
// What the running kernel offers each layer: the BPF-LSM floor, the hooks,
// the seccomp actions, the foreign ABIs. Probed, never assumed from the
// version number, so a backport or a boot option counts.
#pragma once

#include <string>
#include <vector>

namespace bulwark {

// The oldest kernel bulwark's BPF-LSM layer supports, and why: each entry is
// one thing the programs use, with the release that brought it. Checked in
// the running kernel's BTF.
struct FloorFeature {
	const char *what;     // "task storage maps"
	const char *since;    // "5.11"
	const char *btf_enum; // enum holding the value, or nullptr for a function
	const char *name;     // enum value or BTF function name
};
const std::vector<FloorFeature> &lsm_floor();
constexpr const char *kLsmFloorRelease = "6.1";

// The floor features this kernel lacks. Empty when there is no BTF to read:
// have_vmlinux_btf() says that.
std::vector<const FloorFeature *> floor_missing();

// "" when the kernel can run the BPF-LSM layer as far as can be told without
// loading a program; else one line, prefixed "lsm:", naming what is missing
// and the fix. Checked in order: BTF, the floor, bpf among the active LSMs.
std::string lsm_kernel_reason();

// uname's release.
std::string probe_kernel_release();

enum class AbiState { On, Off, Unknown };
struct LsmHookState {
	std::string hook;
	int kernel_args = -1; // -1: the kernel has no such hook
	bool usable = false;  // a program of this build matches its prototype
};

// Every LSM hook the programs of this build attach to, as this kernel has
// it. Defined in lsm.cc, which knows the per-prototype variants.
std::vector<LsmHookState> lsm_hook_states();

struct KernelReport {
	std::string release;
	std::string active_lsms; // /sys/kernel/security/lsm, "" if unreadable
	bool bpf_lsm_active = false;
	bool btf = false;
	std::vector<std::string> floor_missing; // "task storage maps (5.11)"
	std::string lsm_load;                   // "" usable, else why not
	std::vector<LsmHookState> hooks;
	int landlock_abi = -1;      // -1: not built, -2: built but disabled
	std::string seccomp_avail;  // actions_avail
	std::string seccomp_logged; // actions_logged
	AbiState i386 = AbiState::Unknown, x32 = AbiState::Unknown;
};

// Every probe above; `load` also loads every program (seconds under
// emulation) to learn whether this kernel permits it.
KernelReport probe_kernel(bool load);
std::string report_text(const KernelReport &r);
std::string report_json(const KernelReport &r);

// Whether a syscall through the i386 (int 0x80) or x32 ABI reaches the
// kernel's table from this 64-bit process. Probed in a child: where the
// i386 entry is off, int 0x80 is a SIGSEGV.
AbiState probe_i386();
AbiState probe_x32();

struct DoctorOptions {
	bool json = false;
};
int run_doctor(const DoctorOptions &o);

} // namespace bulwark
