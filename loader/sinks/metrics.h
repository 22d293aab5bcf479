// SPDX-License-Identifier: Apache-2.0
// Counters in the Prometheus text format, served over plain HTTP/1.0 to
// whoever scrapes them (loopback only unless asked otherwise).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "loader/kernel/fd.h"
#include "loader/sinks/ecs.h"

namespace bulwark {

struct MetricsSnapshot {
	// One row per (rule, layer, mode); the BPF side's exact per-rule
	// counters can fill this instead of what the sink saw.
	std::vector<RuleDenials> denials;
	uint64_t written = 0;    // event lines written
	uint64_t lost = 0;       // events the kernel could not queue
	uint64_t suppressed = 0; // events the rate limit held back
};

// What the sink has counted so far.
MetricsSnapshot metrics_snapshot(const EventSink &sink);

// bulwark_rule_denials_total{rule="...",layer="lsm|seccomp",mode="enforce|audit"},
// bulwark_events_written_total, bulwark_events_lost_total,
// bulwark_events_suppressed_total, with HELP and TYPE lines.
std::string render_metrics(const MetricsSnapshot &m);

class MetricsServer {
public:
	// "PORT", "HOST:PORT" or "[V6]:PORT"; HOST is an address (or
	// "localhost"), never looked up. Anything but loopback is refused
	// unless allow_remote: the counters name the policy's rules. Throws
	// Error.
	explicit MetricsServer(const std::string &addr_port, bool allow_remote = false);
	~MetricsServer();
	MetricsServer(const MetricsServer &) = delete;
	MetricsServer &operator=(const MetricsServer &) = delete;

	// For the poll loop: readable when a scraper connects, sends or can
	// take more of its answer.
	int fd() const { return ep_.get(); }
	// The bound port (useful with port 0).
	uint16_t port() const { return port_; }
	// Never blocks: accepts, reads requests, answers `GET /metrics` with
	// render(), closes each connection once answered.
	void on_ready(const std::function<std::string()> &render);

private:
	struct Conn {
		Fd fd;
		std::string in, out;
		size_t sent = 0;
		bool answered = false;
		uint64_t serial = 0;
	};
	void accept_all();
	void close_conn(int fd);
	void respond(Conn &c, const std::function<std::string()> &render);
	bool send_some(Conn &c); // false: done or failed, close it

	Fd listen_, ep_;
	uint16_t port_ = 0;
	uint64_t serial_ = 0;
	std::map<int, Conn> conns_;
};

} // namespace bulwark
