// SPDX-License-Identifier: Apache-2.0
// `bulwark enforce` and its companions: a long-running enforcer for a scope
// (cgroup, executable, host), pinned so it survives its own restart, with
// live policy replacement, status and unload.
#pragma once

#include <string>
#include <vector>

namespace bulwark {

struct EnforceOptions {
	std::string policy;
	std::string scope; // "" = the policy's scope:
	bool i_mean_host = false;
	std::string pin_dir;
	std::vector<std::string> events; // outputs (see open_outputs()); empty = none
	bool allow_degraded = false;
	bool verbose = false;
	std::string metrics;         // Prometheus endpoint, [HOST:]PORT (loopback); "" = none
	std::string engine = "auto"; // as run's --engine: auto, off or a socket path
};
// Runs until SIGTERM/SIGINT; SIGHUP reloads the policy file.
int run_enforce(const EnforceOptions &o);

struct ReloadOptions {
	std::string pin_dir;
	std::string policy;
	bool allow_degraded = false; // as enforce's: run without what cannot be enforced
};
int run_reload(const ReloadOptions &o);

struct UnloadOptions {
	std::string pin_dir;
};
int run_unload(const UnloadOptions &o);

struct StatusOptions {
	std::string pin_dir;
	bool json = false;
};
int run_status(const StatusOptions &o);

} // namespace bulwark
