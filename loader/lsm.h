// SPDX-License-Identifier: Apache-2.0
// The BPF-LSM layer: the skeleton, the maps a policy fills, the ring buffer.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "loader/fd.h"
#include "loader/lsm_plan.h"
#include "policy/policy.h"

struct bulwark_bpf;
struct ring_buffer;
struct bw_event;

namespace bulwark {

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
	LsmLayer(const policy::Policy &policy, EventFn on_event);
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
	const std::vector<LsmFileEntry> &file_entries() const { return plan_.entries; }
	int attached() const { return attached_; }
	const LsmPlan &plan() const { return plan_; }

private:
	void fill_maps(const LsmPlan &plan);
	void attach_all();

	bulwark_bpf *skel_ = nullptr;
	ring_buffer *rb_ = nullptr;
	EventFn on_event_;
	LsmPlan plan_;
	int attached_ = 0;
};

// Number of parameters of an LSM hook in the running kernel's BTF, or -1.
int hook_arity(const std::string &hook);

const char *hook_name(uint32_t hook);

} // namespace bulwark
