// SPDX-License-Identifier: Apache-2.0
// bulwark: one policy file, two enforcement layers, one event stream.
#include <CLI/CLI.hpp>
#include <bpf/libbpf.h>
#include <seccomp.h>
#include <sys/utsname.h>

#include <cstdio>
#include <string>

#include "loader/kernel/lsm.h"
#include "loader/kernel/probe.h"
#include "loader/plan/catalog_report.h"
#include "loader/plan/explain.h"
#include "loader/sinks/tail.h"
#include "loader/supervise/enforce.h"
#include "loader/supervise/run.h"
#include "policy/catalog.h"
#include "policy/import/docker.h"
#include "policy/policy.h"

#ifndef BULWARK_VERSION
#define BULWARK_VERSION "0.0.0"
#endif

namespace bulwark {

struct CheckOptions {
	std::string policy;
};

int run_check(const CheckOptions &o)
{
	auto r = policy::parse_file(o.policy);
	size_t errors = 0;
	for (const auto &d : r.diagnostics) {
		std::fprintf(stderr, "%s\n", d.str().c_str());
		errors += d.severity == policy::Diagnostic::Severity::Error;
	}
	if (!r.ok()) {
		std::fprintf(stderr, "policy: %s: %zu error%s\n", o.policy.c_str(), errors, errors == 1 ? "" : "s");
		return 1;
	}
	const auto &p = *r.policy;
	// Under a scope other than run, seccomp cannot reach the subjects.
	for (const auto &n : policy::scope_notes(p, p.scope))
		std::fprintf(stderr, "%s:%d:%d: warning: %s%s\n", n.loc.file.c_str(), n.loc.line, n.loc.col,
			     n.message.c_str(),
			     n.lost ? " (bulwark enforce refuses this without --allow-degraded)" : "");
	std::printf("policy: %s: ok (%s: %zu rule%s, %zu syscall entr%s, %zu hook%s)\n", o.policy.c_str(),
		    p.name.c_str(), p.rules.size(), p.rules.size() == 1 ? "" : "s", p.syscalls.size(),
		    p.syscalls.size() == 1 ? "y" : "ies", p.hooks.size(), p.hooks.size() == 1 ? "" : "s");
	return 0;
}

int run_version()
{
	utsname u{};
	uname(&u);
	const scmp_version *sv = seccomp_version();
	std::printf("bulwark %s\n", BULWARK_VERSION);
	std::printf("libbpf %s, libseccomp %u.%u.%u, kernel %s\n", libbpf_version_string(), sv->major, sv->minor,
		    sv->micro, u.release);
	// One line a script can test: "lsm: usable" or "lsm: unusable: why".
	std::string why = LsmLayer::load_probe();
	if (why.empty())
		std::printf("lsm: usable\n");
	else
		std::printf("lsm: unusable: %s\n", why.c_str());
	return 0;
}

} // namespace bulwark

int main(int argc, char **argv)
{
	using namespace bulwark;
	CLI::App app{"bulwark: a layered Linux sandbox (seccomp + BPF-LSM)"};
	app.require_subcommand(1);

	RunOptions run;
	std::string layers = "all";
	auto *run_cmd = app.add_subcommand("run", "Run a command confined by a policy");
	run_cmd->add_option("--policy,-p", run.policy, "Policy file (YAML)")->required()->check(CLI::ExistingFile);
	run_cmd->add_option("--events,-e", run.events,
			    "Write events as JSON lines: - (stdout), unix:PATH (socket), or a file (repeatable)")
		->allow_extra_args(false);
	run_cmd->add_option("--rate-limit", run.rate_limit,
			    "At most N events per rule and process per second; the rest are summarised")
		->check(CLI::NonNegativeNumber);
	run_cmd->add_option("--metrics", run.metrics, "Serve Prometheus counters on [HOST:]PORT (loopback only)");
	run_cmd->add_option("--ring-buffer", run.ringbuf_bytes, "BPF ring buffer size in bytes (a power of two)")
		->check(CLI::Range(4096u, 1u << 30));
	run_cmd->add_option("--layers", layers, "Layers to enforce")->check(CLI::IsMember({"all", "seccomp", "lsm"}));
	run_cmd->add_flag("--verbose,-v", run.verbose, "Log what each layer loaded");
	run_cmd->add_option("command", run.command, "Command and arguments (after --)")->required();
	run_cmd->prefix_command(false);

	CheckOptions check;
	auto *check_cmd = app.add_subcommand("check", "Validate a policy file");
	check_cmd->add_option("policy", check.policy, "Policy file (YAML)")->required();

	ExplainOptions explain;
	auto *explain_cmd = app.add_subcommand("explain", "Show, per rule, which layer enforces it and how");
	explain_cmd->add_option("policy", explain.policy, "Policy file (YAML)")->required();
	explain_cmd->add_flag("--json", explain.json, "Machine-readable output");
	explain_cmd->add_flag("--any-kernel", explain.any_kernel,
			      "Do not check this kernel's hooks: the table as on a kernel that has them all");

	CatalogOptions catalog;
	auto *catalog_cmd = app.add_subcommand(
		"catalog", "Every rule word, LSM hook and built-in rule, as both layers and the events read them");
	catalog_cmd->add_flag("--json", catalog.json, "Machine-readable output");

	CompileOptions compile;
	auto *compile_cmd = app.add_subcommand("compile", "Print the generated seccomp filter and LSM maps");
	compile_cmd->add_option("policy", compile.policy, "Policy file (YAML)")->required();
	compile_cmd->add_flag("--pfc", compile.pfc, "The seccomp filter as libseccomp PFC text");
	compile_cmd->add_option("--bpf", compile.bpf_out,
				"Write the raw seccomp cBPF program(s) to OUT (and OUT.table)");
	compile_cmd->add_flag("--lsm", compile.lsm, "The LSM map contents (default when nothing else is asked)");

	ImportOptions imp;
	auto *import_cmd = app.add_subcommand("import", "Convert another tool's policy to a bulwark policy");
	import_cmd->require_subcommand(1);
	auto *docker_cmd =
		import_cmd->add_subcommand("docker", "Docker/OCI seccomp profile (JSON) to a bulwark policy");
	docker_cmd->add_option("profile", imp.profile, "Profile JSON")->required();
	docker_cmd->add_option("-o,--output", imp.output, "Output file (default: stdout)");
	docker_cmd
		->add_option("--cap", imp.caps,
			     "Capability the container has (repeatable; replaces Docker's default set)")
		->allow_extra_args(false);
	docker_cmd->add_option("--kernel", imp.kernel,
			       "Kernel version X.Y for minKernel (default: the running kernel)");
	docker_cmd->add_option("--name", imp.name, "Policy name (default: the profile's file name)");

	EventsOptions events;
	auto *events_cmd = app.add_subcommand("events", "Read a running enforcer's event stream");
	events_cmd->add_option("--from", events.from, "unix:PATH (the enforcer's --events unix:PATH)")->required();

	auto *version_cmd = app.add_subcommand("version", "Print versions and what this kernel supports");

	DoctorOptions doctor;
	auto *doctor_cmd = app.add_subcommand("doctor", "What this kernel gives each layer: BPF-LSM state and hooks, "
							"Landlock, seccomp actions, foreign ABIs");
	doctor_cmd->add_flag("--json", doctor.json, "Machine-readable output");

	EnforceOptions enforce;
	auto *enforce_cmd = app.add_subcommand(
		"enforce", "Enforce a policy on a cgroup, an executable or the host, in the foreground");
	enforce_cmd->add_option("--policy,-p", enforce.policy, "Policy file (YAML)")
		->required()
		->check(CLI::ExistingFile);
	enforce_cmd->add_option("--scope", enforce.scope,
				"run | host | cgroup:PATH | exe:PATH (default: the policy's scope:)");
	enforce_cmd->add_flag("--i-mean-host", enforce.i_mean_host,
			      "Confirm scope host (everything but bulwark and pid 1)");
	enforce_cmd->add_option("--pin", enforce.pin_dir,
				"bpffs directory: keep programs and maps pinned there, re-adopt them on restart");
	enforce_cmd->add_option("--events,-e", enforce.events,
				"Event output: PATH (appended), - (stdout) or unix:PATH; repeatable");
	enforce_cmd->add_flag("--allow-degraded", enforce.allow_degraded,
			      "Run even when some rules have no layer under this scope");
	enforce_cmd->add_flag("--verbose,-v", enforce.verbose, "Log more");
	enforce_cmd->add_option(
		"--metrics", enforce.metrics,
		"Serve Prometheus counters (the kernel's per-rule hits) on [HOST:]PORT (loopback only)");

	ReloadOptions reload;
	auto *reload_cmd = app.add_subcommand("reload", "Atomically replace the policy a pinned enforcer enforces");
	reload_cmd->add_option("--pin", reload.pin_dir, "The enforcer's --pin directory")->required();
	reload_cmd->add_option("--policy,-p", reload.policy, "New policy file (YAML)")
		->required()
		->check(CLI::ExistingFile);
	reload_cmd->add_flag(
		"--allow-degraded", reload.allow_degraded,
		"Accept a policy with rules this scope or kernel cannot enforce (they are then not enforced)");

	UnloadOptions unload;
	auto *unload_cmd = app.add_subcommand("unload", "Stop a pinned enforcer and remove its pins (programs detach)");
	unload_cmd->add_option("--pin", unload.pin_dir, "The enforcer's --pin directory")->required();

	StatusOptions status;
	auto *status_cmd = app.add_subcommand("status", "Show what a pinned enforcer enforces");
	status_cmd->add_option("--pin", status.pin_dir,
			       "The enforcer's --pin directory (default: every one under /sys/fs/bpf)");
	status_cmd->add_flag("--json", status.json, "Machine-readable output");

	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		int rc = app.exit(e);
		// Usage errors under `run` must not look like the child's status.
		return rc == 0 ? 0 : (run_cmd->parsed() ? 125 : rc);
	}
	if (run_cmd->parsed()) {
		run.layers = layers == "seccomp" ? Layers::Seccomp : layers == "lsm" ? Layers::Lsm : Layers::All;
		return run_run(run);
	}
	if (check_cmd->parsed())
		return run_check(check);
	if (explain_cmd->parsed())
		return run_explain(explain);
	if (compile_cmd->parsed())
		return run_compile(compile);
	if (docker_cmd->parsed())
		return run_import_docker(imp);
	if (events_cmd->parsed())
		return run_events(events);
	if (version_cmd->parsed())
		return run_version();
	if (doctor_cmd->parsed())
		return run_doctor(doctor);
	if (enforce_cmd->parsed())
		return run_enforce(enforce);
	if (catalog_cmd->parsed())
		return run_catalog(catalog);
	if (reload_cmd->parsed())
		return run_reload(reload);
	if (unload_cmd->parsed())
		return run_unload(unload);
	if (status_cmd->parsed())
		return run_status(status);
	return 2;
}
