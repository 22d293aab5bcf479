// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bulwark {

enum class Layers { All, Seccomp, Lsm };

struct RunOptions {
	std::string policy;
	std::vector<std::string> events; // outputs (see open_outputs()); empty = none
	unsigned rate_limit = 0;         // events per (rule, process) per second; 0 = all
	uint32_t ringbuf_bytes = 0;      // 0 = the built-in size
	std::string metrics;             // Prometheus endpoint, [HOST:]PORT; "" = none
	Layers layers = Layers::All;
	std::string engine = "auto"; // the resident engine: auto, off, or its socket
	bool verbose = false;
	// Every rule, entry and default in audit mode, whatever the file says:
	// what the policy would deny is reported and let through.
	bool audit = false;
	std::vector<std::string> command;
};

// Exit status: the child's; 126/127 when it cannot be started; 125 when
// bulwark itself fails before the child runs (nothing is left applied).
int run_run(const RunOptions &opts);

} // namespace bulwark
