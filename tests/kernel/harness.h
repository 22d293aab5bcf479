// SPDX-License-Identifier: Apache-2.0
// Drives the real `bulwark` binary the way a user does and collects what it
// produced: exit status, the workload's output, the event stream.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ktest {

struct Result {
	int status = -1; // as a shell reports it: code, or 128+signal
	std::string out; // the workload's stdout
	std::string err; // bulwark's and the workload's stderr
	std::vector<nlohmann::json> events;

	// Events with bulwark.layer == layer.
	std::vector<nlohmann::json> layer(const std::string &layer) const;
};

// Directory holding bulwark and bulwark-probe (BULWARK_BIN_DIR, else ours).
std::string bin_dir();
std::string probe();

// A started `bulwark run`, for tests that act while it is alive.
class Run {
public:
	// extra: more `bulwark run` options, placed before `--`.
	Run(const std::string &policy_yaml, const std::string &layers, const std::vector<std::string> &cmd,
	    const std::vector<std::string> &extra = {});
	~Run();
	Result wait();
	pid_t pid() const { return pid_; }

private:
	std::string dir_;
	pid_t pid_ = -1;
};

Result run(const std::string &policy_yaml, const std::string &layers, const std::vector<std::string> &cmd,
	   const std::vector<std::string> &extra = {});

// The bulwark binary under test.
std::string bulwark_bin();

// Everything a failing assertion should show: status, output, events.
std::string describe(const Result &r);

// Whether this kernel runs BPF-LSM tests (the VM, or a host that loads the
// programs, as run-suite.sh says through BULWARK_LSM_TESTS).
bool lsm_usable();

// Names of loaded BPF programs that belong to bulwark (bw_ prefix).
std::vector<std::string> loaded_bulwark_programs();

} // namespace ktest
