// SPDX-License-Identifier: Apache-2.0
// Turns what the kernel and the seccomp listener report into events: one
// event per attempt, saying which layers saw it and which would deny it.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

extern "C" {
#include "bulwark.h"
}
#include "loader/sinks/ecs.h"
#include "loader/sinks/metrics.h"
#include "policy/policy.h"

namespace bulwark {

namespace seccomp {
class Filter;
}
class LsmLayer;

class EventStream {
public:
	// filter: the policy's seccomp filter, loaded or not (used to say what
	// the seccomp layer would answer); may be null. lsm: the BPF object, if
	// any (its ring buffer calls on_record).
	EventStream(EventSink &sink, const policy::Policy &policy, const seccomp::Filter *filter, LsmLayer *lsm,
		    unsigned layers_active);

	// A ring-buffer record.
	void on_record(const bw_event &e);
	// One notification from the seccomp listener: reports it and answers.
	void on_notification(int notify_fd);
	// Periodic work: loss accounting, rate-limit summaries, attempts whose
	// syscall never reported its end.
	void tick();
	// Everything still held, at the end.
	void finish();

	uint64_t lost() const { return lost_total_; }
	// Counters for --metrics: the LSM layer's exact per-rule counts from
	// the kernel, seccomp's as the loader saw them.
	MetricsSnapshot metrics() const;
	uint64_t seccomp_denials() const { return seccomp_denials_; }

private:
	struct Held {
		SeccompAttempt attempt;
		std::optional<bw_event> lsm;
		uint64_t since_ns;
	};
	void emit_held(Held &h);
	std::string table_rule_id(const bw_event &e, uint32_t verdict) const;

	EventSink &sink_;
	const policy::Policy &policy_;
	const seccomp::Filter *filter_;
	LsmLayer *lsm_;
	unsigned active_;
	uint32_t next_seq_ = 0;
	std::map<uint32_t, Held> held_; // by seq
	uint64_t lost_seen_ = 0, lost_total_ = 0;
	uint64_t seccomp_denials_ = 0;
};

} // namespace bulwark
