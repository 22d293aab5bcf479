// SPDX-License-Identifier: Apache-2.0
// Which policy numbered an LSM record's rule. `bulwark run` has one policy;
// an enforcer's maps hold two generations, and records queued before a
// reload still carry the old one's numbering. Each generation writes
// through its own sink, so its rules are named from its own policy.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

extern "C" {
#include "bulwark.h"
}
#include "loader/sinks/ecs.h"
#include "policy/policy.h"

namespace bulwark {

class Output;
struct LsmMaps;

class Generations {
public:
	// One fixed policy (`bulwark run`): every record is generation 0's.
	Generations(Output *out, const policy::Policy &policy, SinkOptions so);
	// Policies read back from the files the maps' generations record
	// (`bulwark enforce`, also after a restart re-adopted the pins).
	Generations(Output *out, const LsmMaps &maps, SinkOptions so);

	struct View {
		uint32_t slot; // with maps: the generation slot; else 0
		const policy::Policy &policy;
		EventSink &sink;
	};
	// The generation e belongs to; e.rule becomes the index within it.
	View of(bw_event &e);
	// The generation the hooks use now.
	View active();
	// Under an engine the policy's slots start at base (its reload moves
	// them); 0: the maps' own generations (config.active_gen).
	void set_base(uint32_t base) { base_ = base; }
	bool fixed() const { return !maps_; }

	uint64_t written() const;
	uint64_t suppressed() const;
	// Every generation's sink, in order (for flushing and metrics).
	template <typename Fn> void each(Fn fn) const
	{
		for (const auto &[slot, s] : sink_)
			if (s)
				fn(*s);
	}

private:
	View view(uint32_t gen);
	void refresh(uint32_t gen);

	Output *out_;
	const LsmMaps *maps_ = nullptr; // null: one fixed policy
	SinkOptions so_;
	uint32_t active_slot() const;

	uint32_t base_ = 0;
	// By slot: an enforcer's two generations, or under an engine each
	// policy its reloads moved it to.
	std::map<uint32_t, std::unique_ptr<policy::Policy>> pol_;
	std::map<uint32_t, std::unique_ptr<EventSink>> sink_;
	std::map<uint32_t, uint64_t> hash_;
};

} // namespace bulwark
