// SPDX-License-Identifier: Apache-2.0
// bulwark: one policy file, two enforcement layers, one event stream.
#include <CLI/CLI.hpp>
#include <bpf/libbpf.h>
#include <seccomp.h>
#include <sys/utsname.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "loader/kernel/lsm.h"
#include "loader/kernel/probe.h"
#include "loader/learn/learn.h"
#include "loader/plan/catalog_report.h"
#include "loader/plan/explain.h"
#include "loader/sinks/tail.h"
#include "loader/supervise/enforce.h"
#include "loader/supervise/engine.h"
#include "loader/supervise/run.h"
#include "policy/catalog.h"
#include "policy/import/docker.h"
#include "policy/import/systemd.h"
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

// One subcommand: its options, registered on the app, and what runs it.
// The options live in the runner, so each command's struct is its own.
struct Command {
	CLI::App *cmd;
	std::function<int()> run;
};

template <typename Options> std::shared_ptr<Options> options()
{
	return std::make_shared<Options>();
}

Command add_run(CLI::App &app)
{
	auto o = options<RunOptions>();
	auto layers = std::make_shared<std::string>("all");
	auto *c = app.add_subcommand("run", "Run a command confined by a policy");
	c->add_option("--policy,-p", o->policy, "Policy file (YAML)")->required()->check(CLI::ExistingFile);
	c->add_option("--events,-e", o->events,
		      "Write events as JSON lines: - (stdout), unix:PATH (socket), or a file (repeatable)")
		->allow_extra_args(false);
	c->add_option("--rate-limit", o->rate_limit,
		      "At most N events per rule and process per second; the rest are summarised")
		->check(CLI::NonNegativeNumber);
	c->add_option("--metrics", o->metrics, "Serve Prometheus counters on [HOST:]PORT (loopback only)");
	c->add_option("--ring-buffer", o->ringbuf_bytes, "BPF ring buffer size in bytes (a power of two)")
		->check(CLI::Range(4096u, 1u << 30));
	c->add_option("--layers", *layers, "Layers to enforce")->check(CLI::IsMember({"all", "seccomp", "lsm"}));
	c->add_flag("--verbose,-v", o->verbose, "Log what each layer loaded");
	c->add_flag("--audit", o->audit,
		    "Every rule in audit mode: report what the policy would deny, block nothing (no engine)");
	c->add_option("--engine", o->engine,
		      "The resident engine's LSM programs: auto (use it if one answers at " +
			      std::string(kEngineSocket) + "), off (load a private set), or its socket path")
		->default_val("auto");
	c->add_option("command", o->command, "Command and arguments (after --)")->required();
	c->prefix_command(false);
	return {c, [o, layers] {
			o->layers = *layers == "seccomp" ? Layers::Seccomp
				    : *layers == "lsm"   ? Layers::Lsm
							 : Layers::All;
			return run_run(*o);
		}};
}

Command add_learn(CLI::App &app)
{
	auto o = options<learn::LearnOptions>();
	auto *c = app.add_subcommand("learn", "Run a command once with every layer observing, and write the "
					      "policy it needs (or --check a policy against it)");
	c->add_option("-o,--output", o->output, "Where to write the policy (default: stdout)");
	c->add_flag("--force", o->force, "Replace the output file if it exists");
	c->add_option("--merge", o->merge, "Fold a learned policy's evidence into this one (repeatable)")
		->check(CLI::ExistingFile)
		->allow_extra_args(false);
	c->add_option("--check", o->check,
		      "Run the command under POLICY in audit mode and list what it would deny (exit 1 if anything)")
		->check(CLI::ExistingFile);
	c->add_option("--layers", o->layers, "Layers that observe (all falls back to seccomp without BPF-LSM)")
		->check(CLI::IsMember({"all", "seccomp", "lsm"}));
	c->add_option("--engine", o->engine, "As for run (default off: learning loads its own programs)");
	c->add_option("--name", o->name, "The learned policy's name (default: learned)");
	c->add_option("--scope", o->scope,
		      "Learn from a running scope instead (cgroup:PATH or exe:PATH), through the BPF-LSM layer");
	c->add_option("--duration", o->duration, "Seconds to watch --scope")->check(CLI::PositiveNumber);
	c->add_option("command", o->command, "Command and arguments (after --)");
	c->prefix_command(false);
	return {c, [o] { return learn::run_learn(*o); }};
}

Command add_check(CLI::App &app)
{
	auto o = options<CheckOptions>();
	auto *c = app.add_subcommand("check", "Validate a policy file");
	c->add_option("policy", o->policy, "Policy file (YAML)")->required();
	return {c, [o] { return run_check(*o); }};
}

Command add_explain(CLI::App &app)
{
	auto o = options<ExplainOptions>();
	auto *c = app.add_subcommand("explain", "Show, per rule, which layer enforces it and how");
	c->add_option("policy", o->policy, "Policy file (YAML)")->required();
	c->add_flag("--json", o->json, "Machine-readable output");
	c->add_flag("--any-kernel", o->any_kernel,
		    "Do not check this kernel's hooks: the table as on a kernel that has them all");
	return {c, [o] { return run_explain(*o); }};
}

Command add_catalog(CLI::App &app)
{
	auto o = options<CatalogOptions>();
	auto *c = app.add_subcommand(
		"catalog", "Every rule word, LSM hook and built-in rule, as both layers and the events read them");
	c->add_flag("--json", o->json, "Machine-readable output");
	return {c, [o] { return run_catalog(*o); }};
}

Command add_compile(CLI::App &app)
{
	auto o = options<CompileOptions>();
	auto *c = app.add_subcommand("compile", "Print the generated seccomp filter and LSM maps");
	c->add_option("policy", o->policy, "Policy file (YAML)")->required();
	c->add_flag("--pfc", o->pfc, "The seccomp filter as libseccomp PFC text");
	c->add_option("--bpf", o->bpf_out, "Write the raw seccomp cBPF program(s) to OUT (and OUT.table)");
	c->add_flag("--lsm", o->lsm, "The LSM map contents (default when nothing else is asked)");
	return {c, [o] { return run_compile(*o); }};
}

// `import docker|systemd`: the command that runs is the nested one.
Command add_import(CLI::App &app)
{
	auto o = options<ImportOptions>();
	auto so = options<SystemdImportOptions>();
	auto *imp = app.add_subcommand("import", "Convert another tool's policy to a bulwark policy");
	imp->require_subcommand(1);
	auto *c = imp->add_subcommand("docker", "Docker/OCI seccomp profile (JSON) to a bulwark policy");
	c->add_option("profile", o->profile, "Profile JSON")->required();
	c->add_option("-o,--output", o->output, "Output file (default: stdout)");
	c->add_option("--cap", o->caps, "Capability the container has (repeatable; replaces Docker's default set)")
		->allow_extra_args(false);
	c->add_option("--kernel", o->kernel, "Kernel version X.Y for minKernel (default: the running kernel)");
	c->add_option("--name", o->name, "Policy name (default: the profile's file name)");
	auto *s = imp->add_subcommand("systemd", "systemd SystemCallFilter= (a unit's [Service], or --set) to a "
						 "bulwark policy; @sets as this host's systemd-analyze defines them");
	s->add_option("unit", so->unit, "Unit file");
	s->add_option("--set", so->sets,
		      "A SystemCallFilter= value instead of a unit (repeatable, one line each; a later word "
		      "starting with ~ starts another line)")
		->allow_extra_args(false);
	s->add_option("--errno", so->error_number, "With --set: SystemCallErrorNumber= (default: kill)");
	s->add_option("--arch", so->arches, "With --set: SystemCallArchitectures= (repeatable; default: all ABIs)")
		->allow_extra_args(false);
	s->add_option("-o,--output", so->output, "Output file (default: stdout)");
	s->add_option("--name", so->name, "Policy name (default: the unit's name)");
	return {imp, [o, so, c] { return c->parsed() ? run_import_docker(*o) : run_import_systemd(*so); }};
}

Command add_events(CLI::App &app)
{
	auto o = options<EventsOptions>();
	auto *c = app.add_subcommand("events", "Read a running enforcer's event stream");
	c->add_option("--from", o->from, "unix:PATH (the enforcer's --events unix:PATH)")->required();
	return {c, [o] { return run_events(*o); }};
}

Command add_version(CLI::App &app)
{
	return {app.add_subcommand("version", "Print versions and what this kernel supports"),
		[] { return run_version(); }};
}

Command add_doctor(CLI::App &app)
{
	auto o = options<DoctorOptions>();
	auto *c = app.add_subcommand("doctor", "What this kernel gives each layer: BPF-LSM state and hooks, "
					       "Landlock, seccomp actions, foreign ABIs");
	c->add_flag("--json", o->json, "Machine-readable output");
	return {c, [o] { return run_doctor(*o); }};
}

Command add_enforce(CLI::App &app)
{
	auto o = options<EnforceOptions>();
	auto *c = app.add_subcommand("enforce",
				     "Enforce a policy on a cgroup, an executable or the host, in the foreground");
	c->add_option("--policy,-p", o->policy, "Policy file (YAML)")->required()->check(CLI::ExistingFile);
	c->add_option("--scope", o->scope, "run | host | cgroup:PATH | exe:PATH (default: the policy's scope:)");
	c->add_flag("--i-mean-host", o->i_mean_host, "Confirm scope host (everything but bulwark and pid 1)");
	c->add_option("--pin", o->pin_dir,
		      "bpffs directory: keep programs and maps pinned there, re-adopt them on restart");
	c->add_option("--events,-e", o->events, "Event output: PATH (appended), - (stdout) or unix:PATH; repeatable");
	c->add_flag("--allow-degraded", o->allow_degraded, "Run even when some rules have no layer under this scope");
	c->add_flag("--verbose,-v", o->verbose, "Log more");
	c->add_option("--metrics", o->metrics,
		      "Serve Prometheus counters (the kernel's per-rule hits) on [HOST:]PORT (loopback only)");
	c->add_option("--engine", o->engine,
		      "Host the scope in the resident engine: auto (if one answers at " + std::string(kEngineSocket) +
			      "; not with --pin or scope host), off (load a private set), or its socket path")
		->default_val("auto");
	return {c, [o] { return run_enforce(*o); }};
}

Command add_reload(CLI::App &app)
{
	auto o = options<ReloadOptions>();
	auto *c = app.add_subcommand("reload", "Atomically replace the policy a pinned enforcer enforces");
	c->add_option("--pin", o->pin_dir, "The enforcer's --pin directory")->required();
	c->add_option("--policy,-p", o->policy, "New policy file (YAML)")->required()->check(CLI::ExistingFile);
	c->add_flag("--allow-degraded", o->allow_degraded,
		    "Accept a policy with rules this scope or kernel cannot enforce (they are then not enforced)");
	return {c, [o] { return run_reload(*o); }};
}

Command add_unload(CLI::App &app)
{
	auto o = options<UnloadOptions>();
	auto *c = app.add_subcommand("unload", "Stop a pinned enforcer and remove its pins (programs detach)");
	c->add_option("--pin", o->pin_dir, "The enforcer's --pin directory")->required();
	return {c, [o] { return run_unload(*o); }};
}

Command add_engine(CLI::App &app)
{
	auto o = options<EngineOptions>();
	auto *c = app.add_subcommand(
		"engine", "Hold one pinned program set that every `bulwark run` on this host uses (root only)");
	c->add_option("--socket", o->socket, "Where clients connect")->default_val(kEngineSocket);
	c->add_option("--pin", o->pin_dir, "bpffs directory for the programs and maps")->default_val(kEnginePins);
	c->add_option("--max-policies", o->max_policies, "Distinct policies at once (map room for each)")
		->default_val(64)
		->check(CLI::Range(1, BW_MAX_POLICIES - 1));
	c->add_flag("--verbose,-v", o->verbose, "Log every sandbox");
	return {c, [o] { return run_engine(*o); }};
}

Command add_status(CLI::App &app)
{
	auto o = options<StatusOptions>();
	auto *c = app.add_subcommand("status", "Show what a pinned enforcer enforces");
	c->add_option("--pin", o->pin_dir, "The enforcer's --pin directory (default: every one under /sys/fs/bpf)");
	c->add_flag("--json", o->json, "Machine-readable output");
	return {c, [o] { return run_status(*o); }};
}

} // namespace bulwark

int main(int argc, char **argv)
{
	using namespace bulwark;
	CLI::App app{"bulwark: a layered Linux sandbox (seccomp + BPF-LSM)"};
	app.require_subcommand(1);
	// In the order `bulwark --help` lists them.
	std::vector<Command> commands = {add_run(app),     add_check(app),   add_explain(app), add_catalog(app),
					 add_compile(app), add_import(app),  add_events(app),  add_version(app),
					 add_doctor(app),  add_enforce(app), add_reload(app),  add_unload(app),
					 add_status(app),  add_engine(app),  add_learn(app)};
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		int rc = app.exit(e);
		// Usage errors under `run` must not look like the child's status.
		return rc == 0 ? 0 : (commands[0].cmd->parsed() ? 125 : rc);
	}
	for (const auto &c : commands)
		if (c.cmd->parsed())
			return c.run();
	return 2;
}
