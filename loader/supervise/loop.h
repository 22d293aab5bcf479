// SPDX-License-Identifier: Apache-2.0
// The one supervision loop of `run` and `enforce`: signals through a
// signalfd, the ring buffer into the event pipeline, the outputs, the
// metrics endpoint and whatever the caller adds, then the periodic work.
#pragma once

#include <signal.h>
#include <sys/signalfd.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>

#include "loader/kernel/fd.h"

namespace bulwark {

class EventStream;
class LsmLayer;
class MetricsServer;
class Output;

class Supervision {
public:
	// Blocks signals and reads them from a signalfd instead. Throws Error.
	explicit Supervision(const sigset_t &signals);
	Supervision(const Supervision &) = delete;
	Supervision &operator=(const Supervision &) = delete;

	using Handler = std::function<void(uint32_t epoll_events)>;
	void watch(int fd, Handler fn);
	void unwatch(int fd);
	// The event pipeline's inputs and outputs: records from lsm's ring
	// buffer (at most `budget` a pass, so a flood of denials cannot keep
	// signals waiting), the outputs' and the metrics endpoint's sockets;
	// after every wake-up the pipeline's tick and flush. Any may be null.
	void serve(EventStream &stream, LsmLayer *lsm, Output *out, MetricsServer *metrics,
		   std::function<void(uint64_t lost)> on_lost = {});

	// Until stop(): each signal to on_signal, and after every wake-up (at
	// least every period_ms) the pipeline's work, then on_tick.
	void run(int period_ms, const std::function<void(const signalfd_siginfo &)> &on_signal,
		 const std::function<void()> &on_tick);
	void stop() { stop_ = true; }

	// Records per ring-buffer pass before the loop looks at signals again.
	static constexpr size_t kConsumeBudget = 65536;

private:
	Fd sigfd_, ep_;
	std::map<int, Handler> handlers_;
	std::function<void()> pipeline_tick_;
	bool stop_ = false;
};

} // namespace bulwark
