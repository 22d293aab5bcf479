// SPDX-License-Identifier: Apache-2.0
// One JSON object per line, in ECS field names, for both layers.
#pragma once

#include <linux/seccomp.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "policy/policy.h"

struct bw_event;

namespace bulwark {

class EventSink {
public:
	// out may be null: events are then counted but not written.
	EventSink(std::FILE *out, const policy::Policy &policy);

	void lsm(const bw_event &e);
	// A syscall the seccomp filter handed to us. `rule` indexes the policy;
	// `err` is the errno answered (0 when audit let it continue).
	// still_valid() is asked after /proc was read: false drops the event
	// (the pid may have been reused).
	void seccomp(const seccomp_notif &n, size_t rule, int err, const std::function<bool()> &still_valid);

	uint64_t count() const { return count_; }

	// Exposed for tests: nanoseconds since the epoch → RFC 3339 UTC.
	static std::string rfc3339(uint64_t epoch_ns);

private:
	void write(const std::string &line);

	std::FILE *out_;
	const policy::Policy &policy_;
	int64_t boot_to_epoch_ns_;
	uint64_t count_ = 0;
};

} // namespace bulwark
