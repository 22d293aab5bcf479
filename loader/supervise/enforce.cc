// SPDX-License-Identifier: Apache-2.0
// `bulwark enforce`: checks, loads (or re-adopts from pins) and then
// supervises a scope's policy until SIGTERM; SIGHUP reloads it.
#include "loader/supervise/enforce.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>

#include "loader/events/generations.h"
#include "loader/events/stream.h"
#include "loader/sinks/metrics.h"
#include "loader/sinks/output.h"
#include "loader/supervise/enforce_parts.h"
#include "loader/supervise/engine.h"
#include "loader/supervise/loop.h"
#include "policy/catalog.h"

namespace bulwark {

namespace {

// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET.
void sd_notify(const std::string &msg)
{
	const char *sock = std::getenv("NOTIFY_SOCKET");
	if (!sock || !*sock)
		return;
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	std::string path = sock;
	if (path[0] == '@')
		path[0] = '\0'; // abstract socket
	if (path.size() >= sizeof(addr.sun_path))
		return;
	std::memcpy(addr.sun_path, path.data(), path.size());
	Fd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (!fd)
		return;
	socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
	if (sendto(fd.get(), msg.data(), msg.size(), 0, reinterpret_cast<sockaddr *>(&addr), len) < 0)
		say(std::string("enforce: sd_notify: sendto: ") + std::strerror(errno));
}

// The enforcer inside its own cgroup scope would have to survive its own
// self-protection rules on restart.
bool inside_own_cgroup(const LsmScope &scope)
{
	std::string self;
	std::istringstream cg(read_text("/proc/self/cgroup"));
	for (std::string line; std::getline(cg, line);)
		if (line.rfind("0::", 0) == 0)
			self = line.substr(3);
	bool inside = self == scope.path ||
		      (self.size() > scope.path.size() && self.compare(0, scope.path.size(), scope.path) == 0 &&
		       (scope.path == "/" || self[scope.path.size()] == '/'));
	if (inside)
		say("enforce: this enforcer runs in cgroup " + self + ", inside its own scope " + scope.path +
		    "; run it from another cgroup");
	return inside;
}

// What the scope itself rules out, before anything loads.
bool check_scope(const EnforceOptions &o, const policy::Policy &pol, const LsmScope &scope)
{
	if (scope.kind == BW_SCOPE_RUN) {
		say("enforce: scope 'run' means the tree `bulwark run` starts; use bulwark run, or give --scope "
		    "cgroup:PATH, exe:PATH or host");
		return false;
	}
	if (scope.kind == BW_SCOPE_HOST && !o.i_mean_host) {
		say("enforce: scope host confines every process on this machine but bulwark and pid 1; add "
		    "--i-mean-host to confirm");
		return false;
	}
	if (scope.kind == BW_SCOPE_HOST && !o.pin_dir.empty()) {
		// A pinned host policy outlives the enforcer, and with it the one
		// exempt process: nothing could then remove it but a reboot.
		say("enforce: scope host cannot be pinned (--pin): with no enforcer running, nothing on the host "
		    "could remove it; run it unpinned under systemd");
		return false;
	}
	if (scope.kind == BW_SCOPE_CGROUP && inside_own_cgroup(scope))
		return false;
	bool lost = false;
	for (const auto &n : policy::scope_notes(pol, scope.str())) {
		say(n.loc.file + ":" + std::to_string(n.loc.line) + ":" + std::to_string(n.loc.col) + ": " +
		    (n.lost ? "" : "warning: ") + n.message);
		lost |= n.lost;
	}
	if (lost && !o.allow_degraded) {
		say("enforce: refusing a policy with rules no layer enforces under this scope (--allow-degraded to run "
		    "without them)");
		return false;
	}
	return true;
}

// What this kernel rules out; fills pr.
bool check_kernel(const EnforceOptions &o, const policy::Policy &pol, const LsmScope &scope, Probe &pr)
{
	LsmNeeds all;
	try {
		all = plan_lsm(pol).needs;
	} catch (const std::exception &e) {
		say(e.what());
		return false;
	}
	all.all = true;
	pr = probe(all);
	for (const auto &f : pr.fatal)
		say(f);
	if (!pr.fatal.empty()) {
		// The LSM layer is the only one a scope can have, so degraded
		// mode has nothing left to run.
		say("enforce: nothing enforced: the BPF-LSM layer is the only layer for scope " + scope.str() +
		    (o.allow_degraded ? " (--allow-degraded cannot help)" : ""));
		return false;
	}
	for (const auto &h : pr.missing_hooks)
		say("lsm: this kernel has no LSM hook " + h + " (bpf_lsm_" + h +
		    " not in its BTF); a kernel of 6.1 or newer has it");
	if (!pr.missing_hooks.empty() && !o.allow_degraded) {
		say("enforce: refusing to run without every hook (--allow-degraded runs without them: the rules "
		    "that use them are then not enforced)");
		return false;
	}
	return true;
}

struct Policyfile {
	const policy::Policy &pol;
	std::string path; // absolute, as the generation records it
	uint64_t hash;
};

// What a previous enforcer pinned, taken over; its policy replaced when
// it is not this one.
std::unique_ptr<LsmLayer> adopt(const EnforceOptions &o, const Policyfile &pf, const LsmScope &scope,
				const LsmLayer::EventFn &on_event)
{
	auto lsm = std::make_unique<LsmLayer>(o.pin_dir, on_event);
	bw_config cfg = lsm->maps().read_config();
	// By the path recorded: the ids behind it may have changed (upgrade,
	// service restart); the follower updates them.
	std::string pinned_path(cfg.scope_path, strnlen(cfg.scope_path, sizeof(cfg.scope_path)));
	if (cfg.scope != scope.kind || pinned_path != scope.path)
		throw Error("enforce: " + o.pin_dir + " enforces scope " + scope_name(cfg.scope) +
			    (pinned_path.empty() ? "" : ":" + pinned_path) + ", not " + scope.str() +
			    "; bulwark unload --pin " + o.pin_dir + " first");
	bw_gen g = lsm->maps().read_gen(cfg.active_gen & 1);
	say("enforce: re-adopted " + std::to_string(lsm->attached()) + " pinned programs in " + o.pin_dir +
	    " (generation " + std::to_string(cfg.active_gen & 1) + ")");
	if (g.policy_hash != pf.hash || std::string(g.policy_path) != pf.path) {
		uint32_t gen = replace_policy(lsm->maps(), pf.pol, pf.path, pf.hash);
		say("enforce: policy " + pf.path + " replaced the pinned one (generation " + std::to_string(gen) + ")");
	}
	return lsm;
}

std::unique_ptr<LsmLayer> load(const EnforceOptions &o, const Policyfile &pf, const LsmScope &scope, const Probe &pr,
			       const LsmLayer::EventFn &on_event)
{
	LsmEnforce en;
	en.scope = scope;
	en.pin_dir = o.pin_dir;
	en.policy_path = pf.path;
	en.policy_hash = pf.hash;
	en.skip_hooks.insert(pr.missing_hooks.begin(), pr.missing_hooks.end());
	auto lsm = std::make_unique<LsmLayer>(pf.pol, on_event, BpfOptions{}, &en);
	say("enforce: " + std::to_string(lsm->attached()) + " programs attached" +
	    (o.pin_dir.empty() ? "" : ", pinned in " + o.pin_dir));
	if (o.verbose)
		say("lsm: " + std::to_string(lsm->file_entries().size()) + " file map entries, " +
		    std::to_string(lsm->plan().rules.size()) + " rules in generation 0");
	return lsm;
}

// Loads or re-adopts, marks the enforcer and what already runs in scope.
// Throws; nothing is left applied then (a failed load removes its pins).
std::unique_ptr<LsmLayer> start(const EnforceOptions &o, const Policyfile &pf, const LsmScope &scope, const Probe &pr,
				const LsmLayer::EventFn &on_event, Fd &lifetime, ScopeFollower &follower)
{
	Fd lock;
	if (!o.pin_dir.empty()) {
		lifetime = hold_enforcer_lock(o.pin_dir);
		lock = lock_pins(o.pin_dir);
	}
	// Decided under both locks. The config map is pinned last, so without
	// it any pins are what an enforcer killed while attaching left:
	// remove them and load afresh.
	bool adopting = !o.pin_dir.empty() && access((o.pin_dir + "/map_bw_config").c_str(), F_OK) == 0;
	if (!o.pin_dir.empty() && !adopting) {
		auto stale = unpin_all(o.pin_dir);
		if (!stale.empty())
			say("enforce: " + o.pin_dir + " held " + std::to_string(stale.size()) +
			    " pins of an incomplete load (no map_bw_config); removed them");
	}
	auto lsm = adopting ? adopt(o, pf, scope, on_event) : load(o, pf, scope, pr, on_event);
	mark_supervisor(lsm->maps());
	follower.scope = scope;
	follower.pin_dir = o.pin_dir;
	follower.tick(lsm->maps(), true);
	if (scope.kind == BW_SCOPE_EXE) {
		int n = adopt_running_exe(scope, [&](pid_t pid) { lsm->confine(pid); });
		say("enforce: " + std::to_string(n) + " running process" + (n == 1 ? "" : "es") + " of " + scope.path +
		    " (with descendants) put in scope");
	}
	return lsm;
}

// Under the engine the scope is one of its sandboxes: nothing is loaded
// here, the engine marks and follows the scope, and a reload is the
// sandbox switching policy. Null when it is not to be (auto without an
// engine, --pin, scope host); throws when the engine asked for refuses.
std::unique_ptr<LsmLayer> join_engine(const EnforceOptions &o, const Policyfile &pf, const LsmScope &scope,
				      const LsmLayer::EventFn &on_event)
{
	bool explicit_engine = o.engine != "auto" && o.engine != "off";
	if (o.engine == "off" || ((!o.pin_dir.empty() || scope.kind == BW_SCOPE_HOST) && !explicit_engine))
		return nullptr;
	if (!o.pin_dir.empty())
		throw Error("enforce: --pin keeps a set of this enforcer's own; it cannot be used with --engine " +
			    o.engine);
	if (scope.kind == BW_SCOPE_HOST)
		throw Error("enforce: the engine does not host scope host; use --engine off");
	std::string said;
	auto lsm = connect_engine({o.engine}, pf.path, pf.hash, true, on_event, &said, scope.str());
	if (!said.empty() && (o.verbose || !lsm))
		say(said);
	return lsm;
}

// SIGHUP: the policy file again, through the one reload check.
void reload(const EnforceOptions &o, const LsmScope &scope, LsmLayer &lsm, Generations &gens, Output *out)
{
	sd_notify("RELOADING=1");
	// SIGHUP also reopens the events file (logrotate).
	if (out)
		out->reopen();
	auto np = load_policy(o.policy);
	if (!np) {
		say("enforce: reload: " + o.policy + " has errors; the running policy stays");
	} else if (!reload_allowed(*np, scope, o.allow_degraded)) {
		say("enforce: reload refused; the running policy stays");
	} else {
		try {
			if (lsm.remote()) {
				uint32_t base =
					lsm.replace_remote_policy(abs_path(o.policy), fnv1a(read_text(o.policy)));
				gens.set_base(base);
				say("enforce: reloaded " + o.policy + " (engine policy " +
				    std::to_string(base / BW_GENS) + ")");
			} else {
				Fd lock;
				if (!o.pin_dir.empty())
					lock = lock_pins(o.pin_dir);
				uint32_t gen =
					replace_policy(lsm.maps(), *np, abs_path(o.policy), fnv1a(read_text(o.policy)));
				say("enforce: reloaded " + o.policy + " (generation " + std::to_string(gen) + ")");
			}
		} catch (const std::exception &e) {
			say(std::string(e.what()) + "\nenforce: reload failed; the running policy stays");
		}
	}
	sd_notify("READY=1");
}

// Until SIGTERM or SIGINT: events, SIGHUP reloads, the scope followed (by
// the engine, when it hosts the scope). False when the engine went away.
bool supervise(const EnforceOptions &o, const policy::Policy &pol, const LsmScope &scope, LsmLayer &lsm,
	       ScopeFollower &follower, Output *out, MetricsServer *metrics, EventStream *&stream_ptr)
{
	SinkOptions so;
	so.layers_active = kLayerLsm; // a scope has no seccomp layer
	Generations gens(out, lsm.maps(), so);
	gens.set_base(lsm.slot_base());
	bool ok = true;
	EventStream stream(gens, nullptr, &lsm);
	stream_ptr = &stream;
	sigset_t set;
	sigemptyset(&set);
	for (int s : {SIGINT, SIGTERM, SIGHUP})
		sigaddset(&set, s);
	try {
		Supervision sup(set);
		sup.serve(stream, &lsm, out, metrics,
			  [](uint64_t n) { say("lsm: " + std::to_string(n) + " events dropped (ring buffer full)"); });
		sd_notify("READY=1\nSTATUS=enforcing " + pol.name + " on " + scope.str() +
			  "\nMAINPID=" + std::to_string(getpid()));
		auto on_signal = [&](const signalfd_siginfo &si) {
			if (si.ssi_signo == SIGHUP)
				reload(o, scope, lsm, gens, out);
			else
				sup.stop();
		};
		sup.run(1000, on_signal, [&] {
			try {
				if (!lsm.remote())
					follower.tick(lsm.maps());
			} catch (const std::exception &e) {
				say(e.what());
			}
		});
	} catch (const std::exception &e) {
		say(e.what());
		ok = !lsm.remote();
	}
	sd_notify("STOPPING=1");
	try {
		stream.finish();
	} catch (const std::exception &e) {
		say(e.what()); // the engine is gone: its records with it
	}
	return ok;
}

} // namespace

int run_enforce(const EnforceOptions &o)
{
	auto pol = load_policy(o.policy);
	if (!pol)
		return 1;
	LsmScope scope;
	try {
		scope = LsmScope::parse(o.scope.empty() ? pol->scope : o.scope);
	} catch (const std::exception &e) {
		say(e.what());
		return 1;
	}
	Probe pr;
	if (!check_scope(o, *pol, scope) || !check_kernel(o, *pol, scope, pr))
		return 1;

	std::unique_ptr<Output> out;
	std::unique_ptr<MetricsServer> metrics;
	try {
		if (!o.events.empty())
			out = open_outputs(o.events);
		if (!o.metrics.empty())
			metrics = std::make_unique<MetricsServer>(o.metrics);
	} catch (const std::exception &e) {
		say(e.what());
		return 1;
	}
	// A reader of our output going away must not end the enforcer (for an
	// unpinned one that would end enforcement): the write fails instead.
	signal(SIGPIPE, SIG_IGN);

	EventStream *stream_ptr = nullptr;
	auto on_event = [&stream_ptr](const bw_event &e) {
		if (stream_ptr)
			stream_ptr->on_record(e);
	};
	std::unique_ptr<LsmLayer> lsm;
	ScopeFollower follower;
	Fd lifetime; // held until we exit
	try {
		Policyfile pf{*pol, abs_path(o.policy), fnv1a(read_text(o.policy))};
		lsm = join_engine(o, pf, scope, on_event);
		if (!lsm)
			lsm = start(o, pf, scope, pr, on_event, lifetime, follower);
	} catch (const Error &e) {
		say(e.what());
		if (e.err() == EPERM || e.err() == EACCES)
			say("lsm: this kernel refuses to load BPF LSM programs here; run as root (CAP_BPF and "
			    "CAP_SYS_ADMIN) on a kernel that permits them (lockdown, a container's seccomp or a "
			    "hypervisor policy can forbid it)");
		say("enforce: nothing was applied");
		return 1;
	} catch (const std::exception &e) {
		say(e.what());
		say("enforce: nothing was applied");
		return 1;
	}
	say("enforce: policy " + pol->name + " in force for scope " + scope.str() + " (" +
	    std::to_string(pol->rules.size()) + " rules)");

	if (!supervise(o, *pol, scope, *lsm, follower, out.get(), metrics.get(), stream_ptr)) {
		say("enforce: the engine is gone; its pinned programs keep the scope closed until an enforcer "
		    "registers it again");
		return 1;
	}
	if (lsm->remote())
		say("enforce: exiting; the engine releases scope " + scope.str());
	else if (lsm->pinned())
		say("enforce: exiting; the policy stays in force through the pins in " + o.pin_dir +
		    " (bulwark unload --pin " + o.pin_dir + " removes it)");
	else
		say("enforce: exiting; programs detach");
	return 0;
}

} // namespace bulwark
