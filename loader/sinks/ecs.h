// SPDX-License-Identifier: Apache-2.0
// One JSON object per line, in ECS field names, for both layers.
#pragma once

#include <linux/seccomp.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "policy/policy.h"

struct bw_event;

namespace bulwark {

class Output;

// Layers as a bit set, for `bulwark.denied_by`, `bulwark.evaluated_by` and
// `bulwark.layers_active`.
enum LayerBit : unsigned { kLayerSeccomp = 1, kLayerLsm = 2 };

// What the seccomp listener learned about one notified syscall, captured
// while the task was parked (so /proc described the right task). The event
// itself may be written later, once the LSM's view of the same attempt is
// known.
struct SeccompAttempt {
	seccomp_notif notif{};
	size_t rule = SIZE_MAX; // index into Policy::rules
	std::string rule_id;    // else the syscalls: entry or default that decided ("syscalls[3]")
	int err = 0;            // errno answered; 0 when audit let it continue
	bool valid = false;     // false: the task was gone (pid may be reused): write nothing
	long tgid = -1, ppid = -1, uid = -1;
	std::string comm, exe;
	std::vector<std::string> args; // /proc/PID/cmdline, best effort (the first 16 KiB)
	uint64_t epoch_ns = 0;
};

struct SinkOptions {
	unsigned layers_active = kLayerSeccomp | kLayerLsm;
	std::string host_name; // empty: gethostname()
	// Per (rule, process): at most this many events per second, then one
	// summary ("n more") when the second is over. 0: no limit.
	unsigned rate_limit = 0;
	// Tests: every @timestamp is this instead of the clock (0: the clock).
	uint64_t fixed_time_ns = 0;
};

// Denials (audit mode: would-be denials) of one rule by one layer, counted
// before rate limiting, for metrics.
struct RuleDenials {
	std::string rule;
	unsigned layer; // kLayerSeccomp or kLayerLsm
	bool audit;
	uint64_t count;
};

class EventSink {
public:
	// out may be null: events are then counted but not written.
	EventSink(Output *out, const policy::Policy &policy, SinkOptions opts = {});
	~EventSink();

	// An LSM record (BW_KIND_LSM). denied_by / evaluated_by: LayerBit sets.
	void lsm(const bw_event &e, unsigned denied_by, unsigned evaluated_by);
	// Reads /proc for n's task; call while the task is still parked.
	static SeccompAttempt capture(const seccomp_notif &n, size_t rule, int err,
				      const std::function<bool()> &still_valid);
	// A seccomp-listener event; lsm_part, when not null, is the LSM record
	// of the same attempt (its path, hook and access are added).
	void seccomp(const SeccompAttempt &a, const bw_event *lsm_part, unsigned denied_by, unsigned evaluated_by);
	// A seccomp denial seen by the syscall tracepoints (BW_KIND_SECCOMP_ERRNO
	// or BW_KIND_SECCOMP_KILL); rule_id names the policy rule or syscalls:
	// entry that denied it.
	void seccomp_kernel(const bw_event &e, const std::string &rule_id, bool audit);
	// `lost` events the kernel could not queue (ring buffer full), counted
	// by the BPF side since the last report.
	void lost(uint64_t n);
	// Rate limiting: writes the "n more" summaries of windows that closed.
	// now_ns: CLOCK_REALTIME, ns since the epoch (the events' clock).
	void flush_summaries(uint64_t now_ns);
	// Hands the buffered lines to the output (Output::flush()); call once
	// per poll-loop iteration.
	void flush();

	uint64_t count() const { return count_; }
	uint64_t suppressed() const { return suppressed_; }
	// Events written per rule id (after rate limiting, before the output).
	const std::map<std::string, uint64_t> &per_rule() const { return per_rule_; }
	// Sum of every lost(n).
	uint64_t lost_total() const { return lost_total_; }
	std::vector<RuleDenials> denials() const;

	// Exposed for tests: nanoseconds since the epoch -> RFC 3339 UTC.
	static std::string rfc3339(uint64_t epoch_ns);

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
	uint64_t count_ = 0;
	uint64_t suppressed_ = 0;
	uint64_t lost_total_ = 0;
	std::map<std::string, uint64_t> per_rule_;
};

} // namespace bulwark
