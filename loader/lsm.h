// SPDX-License-Identifier: Apache-2.0
// The BPF-LSM layer: the skeleton, the maps a policy fills, the ring buffer.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "loader/fd.h"
#include "loader/lsm_plan.h"
#include "policy/policy.h"

struct bulwark_bpf;
struct ring_buffer;
struct bw_event;

namespace bulwark {

// Which program sets to load from the object. The syscall tracepoints
// report seccomp's own denials into the same ring buffer; they load where LSM
// programs cannot (a seccomp-only run on this kind of host).
struct BpfOptions {
	bool lsm = true;
	bool trace = false;
	uint32_t ringbuf_bytes = 0; // 0: BW_RINGBUF_BYTES; else a power of two >= page size
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
	// leaves nothing attached.
	LsmLayer(const policy::Policy &policy, EventFn on_event, BpfOptions opts = {});
	~LsmLayer();
	LsmLayer(const LsmLayer &) = delete;
	LsmLayer &operator=(const LsmLayer &) = delete;

	// Puts pid (and, through task_alloc, all its future descendants) under
	// the policy. Must happen before pid does anything worth confining.
	void confine(pid_t pid);
	int poll_fd() const;
	// Delivers pending events to on_event; returns how many.
	int consume();
	uint64_t dropped() const;
	// Marks thread tid's current syscall as let through by the seccomp
	// listener: LSM records inside it carry seq, and its exit is reported.
	bool mark_pending(uint32_t tid, uint32_t seq);
	void clear_pending(uint32_t tid);
	// Hits (deny, audit) summed over CPUs for the first n rule slots and
	// the built-in rules, keyed by rule index as events carry it.
	std::map<uint32_t, std::pair<uint64_t, uint64_t>> counters(size_t n) const;
	bool lsm_loaded() const { return opts_.lsm; }
	const std::vector<LsmFileEntry> &file_entries() const { return plan_.entries; }
	int attached() const { return attached_; }
	const LsmPlan &plan() const { return plan_; }

private:
	void fill_maps(const LsmPlan &plan);
	void attach_all();

	bulwark_bpf *skel_ = nullptr;
	ring_buffer *rb_ = nullptr;
	EventFn on_event_;
	BpfOptions opts_;
	LsmPlan plan_;
	int attached_ = 0;
};

// Number of parameters of an LSM hook in the running kernel's BTF, or -1.
int hook_arity(const std::string &hook);

const char *hook_name(uint32_t hook);

} // namespace bulwark
