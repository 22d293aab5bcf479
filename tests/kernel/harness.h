// SPDX-License-Identifier: Apache-2.0
// Drives the real `bulwark` binary the way a user does and collects what it
// produced: exit status, the workload's output, the event stream.
#pragma once

#include <signal.h>
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
// A `rules:` entry (YAML) allowing what the probe reads before main() under
// `default: {read: deny}`: itself (exec opens it for reading), the dynamic
// loader and the libraries.
std::string runtime_reads_rule();

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

// True inside the test VM (run-suite.sh vm sets BULWARK_VM=1).
bool in_vm();
// Whether a syscall through int 0x80 reaches the i386 table here (the probe
// runs it unconfined). Some hosts boot with the i386 entry off, where it is a
// SIGSEGV even without bulwark.
bool host_runs_i386();

// For a case that needs a kernel feature the host may lack: skipped, with
// the reason, on a host without it, and a failure in the VM, which must have
// it (so a case is never skipped everywhere).
#define REQUIRE_HOST_FEATURE(have, what)                                                                          \
	do {                                                                                                      \
		if (!(have)) {                                                                                    \
			if (ktest::in_vm())                                                                       \
				FAIL() << "the test VM lacks " << (what);                                         \
			GTEST_SKIP() << "this host lacks " << (what) << " (probed); the VM suite runs this case"; \
		}                                                                                                 \
	} while (0)

// A command's outcome.
struct Cmd {
	int status = -1;
	std::string out, err;
};
// Runs the bulwark binary with args (no shell).
Cmd bulwark(const std::vector<std::string> &args);
// Runs cmd under bash -c.
Cmd shell(const std::string &cmd);

// A `bulwark enforce` in the background. The destructor kills it (SIGKILL)
// if it is still running; pins are the test's to unload.
class Enforcer {
public:
	// via_keeper: started through an intermediate process, with
	// PR_SET_PDEATHSIG=SIGTERM (as a service manager would), so a test
	// that is itself in scope (host) and may not signal the enforcer can
	// still stop it: by killing the keeper (stop_via_keeper()).
	// events: write the event stream to a file events() reads (a test that
	// provokes a flood of denials turns it off to keep the VM's tmpfs small).
	Enforcer(const std::vector<std::string> &args, bool via_keeper = false, bool events = true);
	~Enforcer();
	// True once the enforcer said the policy is in force; false if it
	// exited first or timed out. Generous: loading every program is the
	// verifier's work, and under emulation with both cores busy it has
	// taken more than a minute.
	bool wait_ready(int timeout_ms = 180000);
	// Sends sig and returns the exit status (code, or 128+signal).
	int stop(int sig = SIGTERM);
	// Kills the keeper; returns 0 once the enforcer is gone, -1 if it is
	// still there after 20 s.
	int stop_via_keeper();
	bool alive() const;
	pid_t pid() const { return pid_; }
	std::string err() const;
	std::vector<nlohmann::json> events() const;
	// Waits until at least n events were written (or timeout).
	std::vector<nlohmann::json> wait_events(size_t n, int timeout_ms = 10000) const;

private:
	std::string dir_;
	pid_t pid_ = -1, keeper_ = -1;
	bool reaped_ = false;
};

// Names of loaded BPF programs that belong to bulwark (bw_ prefix).
std::vector<std::string> loaded_bulwark_programs();
// The same, once the kernel has had up to timeout_ms to free them: newer
// kernels (7.x) free a link, and then its program, after an RCU grace
// period, so a program can outlive its last pin or fd for a moment. Empty
// means every one is gone.
std::vector<std::string> bulwark_programs_after_release(int timeout_ms = 30000);
std::string join_names(const std::vector<std::string> &v);

} // namespace ktest
