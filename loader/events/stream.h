// SPDX-License-Identifier: Apache-2.0
// Turns what the kernel and the seccomp listener report into events: one
// event per attempt, saying which layers saw it and which would deny it.
#pragma once

#include <linux/seccomp.h>
#include <linux/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

extern "C" {
#include "bulwark.h"
}
#include "loader/events/generations.h"
#include "loader/sinks/ecs.h"
#include "loader/sinks/metrics.h"
#include "policy/policy.h"

namespace bulwark {

namespace seccomp {
class Filter;
}
class LsmLayer;

// The one event pipeline of `run` and `enforce`: records and notifications
// in, events out through the generation that numbered them, with loss
// accounting, rate-limit summaries and the metrics both serve.
class EventStream {
public:
	// filter: the policy's seccomp filter, loaded or not (used to say what
	// the seccomp layer would answer); null where there is none (a scope).
	// lsm: the BPF objects, if any (their ring buffer calls on_record).
	EventStream(Generations &gens, const seccomp::Filter *filter, LsmLayer *lsm);

	// A ring-buffer record.
	void on_record(const bw_event &e);
	// One notification from the seccomp listener: reports it and answers.
	void on_notification(int notify_fd);
	// Periodic work: loss accounting, rate-limit summaries, attempts whose
	// syscall never reported its end. Returns the events newly lost.
	uint64_t tick();
	// Drains the ring buffer and writes everything still held.
	void finish();
	// Hands what the sinks buffered to the output.
	void flush();

	uint64_t lost() const { return lost_total_; }
	uint64_t written() const { return gens_.written(); }
	// Counters for --metrics: the LSM layer's exact per-rule counts of the
	// active generation from the kernel, seccomp's as the loader saw them.
	MetricsSnapshot metrics();

private:
	struct Held {
		SeccompAttempt attempt;
		std::optional<bw_event> lsm;
		uint64_t since_ns;
	};
	void on_lsm(const bw_event &e);
	void on_seccomp_kernel(const bw_event &e);
	void emit_held(Held &h);
	std::string table_rule_id(const seccomp_data &d, uint32_t verdict) const;
	// The seccomp half is run's, which has one policy.
	const policy::Policy &policy() const { return gens_.active().policy; }
	EventSink &sink() { return gens_.active().sink; }

	Generations &gens_;
	const seccomp::Filter *filter_;
	LsmLayer *lsm_;
	uint32_t next_seq_ = 0;
	std::map<uint32_t, Held> held_; // by seq
	uint64_t lost_seen_ = 0, lost_total_ = 0;
};

} // namespace bulwark
