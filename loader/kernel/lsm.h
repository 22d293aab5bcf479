// SPDX-License-Identifier: Apache-2.0
// The BPF-LSM layer: the BPF objects, the maps a policy fills, the ring buffer.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "loader/kernel/fd.h"
#include "loader/kernel/scope.h"
#include "loader/plan/lsm_plan.h"
#include "policy/policy.h"

extern "C" {
#include "bulwark.h"
}

struct bulwark_bpf;
struct bulwark_trace_bpf;
struct ring_buffer;
struct btf;

namespace bulwark {

// Which objects to load: the LSM programs, the syscall tracepoints, or both.
// The tracepoints report seccomp's own denials into the same ring buffer (the
// two objects share their maps); they load where LSM programs cannot (a
// seccomp-only run on this kind of host).
struct BpfOptions {
	bool lsm = true;
	bool trace = false;
	uint32_t ringbuf_bytes = 0; // 0: BW_RINGBUF_BYTES; else a power of two >= page size
	// `run` with the LSM layer: pin the set here while it lives, so that
	// if the run is killed its subjects die at their next hook instead of
	// going on unconfined (the next run clears what is left).
	std::string pin_dir;
};

// What enforce mode adds to run mode.
struct LsmEnforce {
	LsmScope scope;
	std::string pin_dir;     // "" = nothing pinned
	std::string policy_path; // recorded with the generation, for status/restart
	uint64_t policy_hash = 0;
	std::set<std::string> skip_hooks; // hooks this kernel lacks (--allow-degraded)
	// The engine: room for this many policies besides policy 0, the
	// syscall tracepoints too, and the supervisor-exit tracepoint.
	uint32_t engine_policies = 0;
};

// The map fds a generation is written through: from the skeleton, or
// opened from pins by a restarted enforcer or `bulwark reload`.
struct LsmMaps {
	std::vector<Fd> owned;
	int config = -1, gens = -1, rules = -1, word_rules = -1, family_rules = -1, file_paths = -1, file_inodes = -1,
	    file_subtrees = -1, file_globs = -1, glob_dirs = -1, when_exe = -1, when_uid = -1, when_cgroup = -1,
	    net_ports = -1, net_addrs = -1, tasks = -1, events = -1, bss = -1, rule_hits = -1, sandboxes = -1,
	    policy_gen = -1, supervisors = -1, scope_keys = -1;

	// Opens every map pinned under dir; throws Error("enforce: ...") if one
	// is missing or the config is not bulwark's.
	static LsmMaps open_pinned(const std::string &dir);
	bw_config read_config() const;
	bw_gen read_gen(uint32_t gen) const;
};

// Writes plan into generation gen (cleared first), leaving the active
// generation alone.
void write_generation(const LsmMaps &m, const LsmPlan &plan, uint32_t gen, const std::string &policy_path,
		      uint64_t policy_hash);
// Makes gen the active one with one update, then waits until no hook can
// still be running with the old one (an RCU grace period).
void activate_generation(const LsmMaps &m, uint32_t gen);
// Fills the inactive generation from policy and activates it.
// Returns the new generation.
uint32_t replace_policy(const LsmMaps &m, const policy::Policy &policy, const std::string &policy_path,
			uint64_t policy_hash);

uint64_t fnv1a(const std::string &text);
// dropped_events read through the .bss map (a pinned one, for status).
uint64_t read_dropped(int bss_fd);

// Hits per rule (deny, audit) of generation gen's first n rules, keyed by
// rule index, plus the built-in rules keyed by their BW_RULE_* number.
std::map<uint32_t, std::pair<uint64_t, uint64_t>> read_counters(int rule_hits_fd, uint32_t slot, size_t n);

// Frees a skeleton (detaching its links): the one owner of each object.
struct SkelDeleter {
	void operator()(bulwark_bpf *s) const;
	void operator()(bulwark_trace_bpf *s) const;
};
using LsmSkel = std::unique_ptr<bulwark_bpf, SkelDeleter>;
using TraceSkel = std::unique_ptr<bulwark_trace_bpf, SkelDeleter>;

// Where a layer's records come from and its subjects get marked when the
// programs are an engine's (loader/supervise/engine_client.cc): the engine
// owns the ring buffer and hands each sandbox its own records.
class RecordSource {
public:
	virtual ~RecordSource() = default;
	virtual int poll_fd() const = 0;
	// Delivers up to budget records (0: all queued) to fn; returns how many.
	virtual int consume(const std::function<void(const bw_event &)> &fn, size_t budget) = 0;
	// Every record written before now, even those still on their way
	// (an engine's forwarding): what a run reads once its command is done.
	virtual int drain(const std::function<void(const bw_event &)> &fn) { return consume(fn, 0); }
	virtual bool confine(pid_t pid) = 0;
	// Records lost on the way (the engine's socket was full).
	virtual uint64_t lost() const = 0;
	// Puts the policy at path (text hashing to hash) in force for this
	// sandbox instead of its current one; returns the new slot base.
	virtual uint32_t replace_policy(const std::string &path, uint64_t hash) = 0;
};

class LsmLayer {
public:
	// Empty when BPF LSM is active on this kernel, else one line saying why
	// not and what to do about it.
	static std::string lsm_inactive_reason();
	// Empty when our programs load here; else why not (e.g. EPERM).
	static std::string load_probe();

	using EventFn = std::function<void(const bw_event &)>;

	// Opens, loads, fills and attaches everything, or throws Error and
	// leaves nothing attached. With enforce: every LSM program (so any
	// later policy's hooks are already there), the scope and
	// self-protection, and pins under enforce->pin_dir when set.
	LsmLayer(const policy::Policy &policy, EventFn on_event, BpfOptions opts = {},
		 const LsmEnforce *enforce = nullptr);
	// Re-adopts what a previous enforcer pinned under dir: nothing is
	// loaded or attached; the maps and the ring buffer are reopened.
	LsmLayer(const std::string &pin_dir, EventFn on_event);
	// A sandbox of the engine pinned under pin_dir: its maps, its policy's
	// slots from slot_base, its records and marks through source.
	LsmLayer(const std::string &pin_dir, EventFn on_event, std::unique_ptr<RecordSource> source,
		 uint32_t slot_base);
	~LsmLayer();
	LsmLayer(const LsmLayer &) = delete;
	LsmLayer &operator=(const LsmLayer &) = delete;

	// Puts pid (and, through task_alloc, all its future descendants) under
	// the policy. Must happen before pid does anything worth confining.
	// Returns false (without throwing) when pid was already marked.
	bool confine(pid_t pid);
	int poll_fd() const;
	// Delivers pending events to on_event; returns how many.
	// At most `budget` records (0: all that are queued).
	int consume(size_t budget = 0);
	// consume() everything, waiting for records still on their way.
	int drain();
	uint64_t dropped() const;
	// Hits (deny, audit) summed over CPUs for the first n rule slots and
	// the built-in rules, keyed by rule index as events carry it.
	std::map<uint32_t, std::pair<uint64_t, uint64_t>> counters(size_t n) const;
	bool lsm_loaded() const { return opts_.lsm; }
	// The policy's first generation slot: 0 but under an engine.
	uint32_t slot_base() const { return slot_base_; }
	// Under an engine: the sandbox switches to the policy at path (an
	// `enforce` scope's reload). Throws Error; the old one stays then.
	uint32_t replace_remote_policy(const std::string &path, uint64_t hash)
	{
		slot_base_ = source_->replace_policy(path, hash);
		return slot_base_;
	}
	bool remote() const { return source_ != nullptr; }
	const std::vector<LsmFileEntry> &file_entries() const { return plan_.entries; }
	int attached() const { return attached_; }
	const LsmPlan &plan() const { return plan_; }
	const LsmMaps &maps() const { return maps_; }
	// Drops the in-memory objects without detaching what is pinned.
	bool pinned() const { return pinned_; }

private:
	std::vector<std::string> my_pins_; // pins this instance made, for cleanup on failure
	size_t consumed_ = 0, budget_ = SIZE_MAX;
	void open_objects(const LsmEnforce *enforce);
	void load_objects();
	void write_initial(const LsmEnforce *enforce);
	void attach_and_pin(const std::string &pin_dir);
	void undo_pins(bool created_dir, const std::string &pin_dir);
	void open_ring();

	LsmSkel lsm_;     // the LSM programs (opts_.lsm)
	TraceSkel trace_; // the syscall tracepoints (opts_.trace)
	ring_buffer *rb_ = nullptr;
	EventFn on_event_;
	BpfOptions opts_;
	LsmPlan plan_;
	LsmMaps maps_;
	int attached_ = 0;
	bool pinned_ = false;
	std::unique_ptr<RecordSource> source_;
	uint32_t slot_base_ = 0;
	std::string run_pins_; // a run's own pin directory, removed with it
};

// The running kernel's BTF, parsed on first use; nullptr if it has none.
const ::btf *vmlinux_btf();
// Number of parameters of an LSM hook in the running kernel's BTF, or -1.
int hook_arity(const std::string &hook);
// Whether vmlinux BTF is present, and whether it has bpf_lsm_<hook>.
bool have_vmlinux_btf();
bool hook_exists(const std::string &hook);
// Whether a policy with these needs uses LSM hook `hook` (from the catalog's
// words). Programs are chosen by the hook their section names.
bool hook_needed(const std::string &hook, const LsmNeeds &needs);
// LSM hooks the programs selected for needs attach to (from section names).
std::vector<std::string> hooks_needed(const LsmNeeds &needs);
// Every LSM hook of the object, with the programs on it (more than one
// where kernels differ in its prototype).
std::map<std::string, std::vector<std::string>> lsm_programs_by_hook();

// Removes every pin under dir and dir itself; returns what it removed.
std::vector<std::string> unpin_all(const std::string &dir);

const char *hook_name(uint32_t hook);

} // namespace bulwark
