// SPDX-License-Identifier: Apache-2.0
#include "loader/supervise/enforce.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "loader/kernel/fd.h"
#include "loader/kernel/lsm.h"
#include "loader/sinks/ecs.h"
#include "loader/sinks/metrics.h"
#include "loader/sinks/output.h"
#include "loader/supervise/procfs.h"
#include "policy/catalog.h"
#include "policy/policy.h"

namespace bulwark {

namespace {

// Records per ring-buffer pass before the loop looks at signals again.
constexpr size_t kConsumeBudget = 65536;

void say(const std::string &line)
{
	std::fprintf(stderr, "%s\n", line.c_str());
}

std::string slurp(const std::string &path)
{
	std::ifstream in(path);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

uint32_t kdev(dev_t d)
{
	return (major(d) << 20) | minor(d);
}

const char *scope_name(uint32_t k)
{
	switch (k) {
	case BW_SCOPE_RUN:
		return "run";
	case BW_SCOPE_CGROUP:
		return "cgroup";
	case BW_SCOPE_EXE:
		return "exe";
	case BW_SCOPE_HOST:
		return "host";
	}
	return "?";
}

// Locks are named after the pin directory's canonical path, so
// "/sys/fs/bpf/x", "/sys/fs/bpf/x/" and a symlink to it share them.
std::string lock_path(const std::string &pin_dir, const char *kind)
{
	std::string dir = pin_dir;
	while (dir.size() > 1 && dir.back() == '/')
		dir.pop_back();
	char buf[PATH_MAX];
	std::string canon;
	if (realpath(dir.c_str(), buf)) {
		canon = buf;
	} else {
		// Not made yet: its parent is.
		auto slash = dir.find_last_of('/');
		std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
		if (!realpath(parent.c_str(), buf))
			throw Error("enforce: " + pin_dir + ": its directory", errno);
		canon = std::string(buf) + (std::string(buf) == "/" ? "" : "/") + dir.substr(slash + 1);
	}
	if (mkdir("/run/bulwark", 0700) != 0 && errno != EEXIST)
		throw Error("enforce: mkdir /run/bulwark", errno);
	for (char &c : canon)
		if (c == '/')
			c = '_';
	return "/run/bulwark/" + std::string(kind) + canon;
}

Fd open_lock(const std::string &path)
{
	Fd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
	if (!fd)
		throw Error("enforce: open " + path, errno);
	return fd;
}

// One writer at a time per pin directory: the enforcer's SIGHUP and any
// number of `bulwark reload` runs all fill the inactive generation.
Fd lock_pins(const std::string &pin_dir)
{
	std::string path = lock_path(pin_dir, "writer");
	Fd fd = open_lock(path);
	if (flock(fd.get(), LOCK_EX) != 0)
		throw Error("enforce: flock " + path, errno);
	return fd;
}

// One enforcer per pin directory, for its whole life: a second one would
// take over the supervisor slot while the first still holds the links.
// The holder's pid is in the file, for `unload`; the lock (not the pid,
// which may have been reused) says whether it is still running.
Fd hold_enforcer_lock(const std::string &pin_dir)
{
	std::string path = lock_path(pin_dir, "enforcer");
	Fd fd = open_lock(path);
	if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
		int err = errno;
		if (err == EWOULDBLOCK)
			throw Error("enforce: another enforcer (pid " + slurp(path) + ") holds " + pin_dir +
				    "; stop it, or bulwark unload --pin " + pin_dir);
		throw Error("enforce: flock " + path, err);
	}
	std::string pid = std::to_string(getpid());
	if (ftruncate(fd.get(), 0) != 0 ||
	    pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
		throw Error("enforce: write " + path, errno);
	return fd;
}

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

std::optional<policy::Policy> load_policy(const std::string &file)
{
	auto parsed = policy::parse_file(file);
	for (const auto &d : parsed.diagnostics)
		say(d.str());
	if (!parsed.ok())
		return std::nullopt;
	return *parsed.policy;
}

std::string abs_path(const std::string &p)
{
	char buf[PATH_MAX];
	return realpath(p.c_str(), buf) ? std::string(buf) : p;
}

// exe scope: processes that already run the binary when the enforcer
// starts, and their descendants, are marked through pidfds. Parents are
// marked before their children are listed, so a child forked meanwhile is
// either listed or marked by task_alloc.
int adopt_running_exe(LsmLayer &lsm, const LsmScope &scope)
{
	std::set<pid_t> marked;
	DIR *d = opendir("/proc");
	if (!d)
		throw Error("enforce: opendir /proc", errno);
	while (dirent *e = readdir(d)) {
		char *end;
		long pid = std::strtol(e->d_name, &end, 10);
		if (*end || pid <= 1 || pid == getpid())
			continue;
		struct stat st;
		if (stat(("/proc/" + std::string(e->d_name) + "/exe").c_str(), &st) != 0)
			continue;
		if (kdev(st.st_dev) != scope.exe_dev || st.st_ino != scope.exe_ino)
			continue;
		try {
			lsm.confine(static_cast<pid_t>(pid));
			marked.insert(static_cast<pid_t>(pid));
		} catch (const Error &err) {
			if (err.err() != ESRCH)
				throw;
		}
	}
	closedir(d);
	std::set<pid_t> frontier = marked;
	for (int round = 0; round < 64 && !frontier.empty(); round++) {
		std::set<pid_t> next;
		for (pid_t c : children_of(frontier)) {
			if (marked.count(c))
				continue;
			try {
				lsm.confine(c);
			} catch (const Error &err) {
				if (err.err() != ESRCH)
					throw;
				continue;
			}
			marked.insert(c);
			next.insert(c);
		}
		frontier = next;
	}
	return static_cast<int>(marked.size());
}

// cgroup scope: the id (the directory's inode number on cgroup v2) and the
// level (components below the cgroup2 root) of s.path. strict (parse
// time): the path must be absolute, without "." / ".." components or
// symlinks, and name a directory on cgroup2 mounted at /sys/fs/cgroup.
// Returns false (errno set) when the directory does not exist now.
bool resolve_cgroup(LsmScope &s, bool strict)
{
	const std::string &path = s.path;
	const std::string root = "/sys/fs/cgroup";
	std::string dir = root;
	uint32_t level = 0;
	if (path[0] != '/')
		throw Error("enforce: scope cgroup " + path + ": not an absolute path (below " + root + ")");
	std::istringstream parts(path);
	for (std::string c; std::getline(parts, c, '/');) {
		if (c.empty())
			continue;
		if (c == "." || c == "..")
			throw Error("enforce: scope cgroup " + path + ": '.' and '..' are not allowed");
		dir += "/" + c;
		level++;
	}
	struct stat st;
	if (stat(dir.c_str(), &st) != 0) {
		if (strict)
			throw Error("enforce: scope cgroup " + path + ": stat " + dir, errno);
		return false;
	}
	if (strict) {
		struct statfs fs;
		if (statfs(dir.c_str(), &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
			throw Error("enforce: scope cgroup " + path + ": " + dir + " is not on a cgroup v2 filesystem");
		if (statfs(root.c_str(), &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
			throw Error("enforce: scope cgroup " + path + ": " + root + " is not the cgroup v2 root");
		char real[PATH_MAX];
		if (!realpath(dir.c_str(), real) || std::string(real) != dir)
			throw Error("enforce: scope cgroup " + path + ": " + dir +
				    " goes through a symlink; give the cgroup's own path");
	}
	if (!S_ISDIR(st.st_mode))
		throw Error("enforce: scope cgroup " + path + ": " + dir + " is not a directory");
	s.cgroup_id = st.st_ino;
	s.cgroup_level = level;
	return true;
}

// Marks the enforcer's own task in task storage: with supervisor_tgid,
// what makes it no subject of its scope (the mark dies with it, so a pid
// reused after a pinned enforcer died is not exempt).
void mark_supervisor(const LsmMaps &m)
{
	Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
	if (!pidfd)
		throw Error("enforce: pidfd_open(self)", errno);
	bw_task val{};
	val.confined = BW_TASK_SUPERVISOR;
	int key = pidfd.get();
	if (bpf_map_update_elem(m.tasks, &key, &val, BPF_ANY))
		throw Error("enforce: failed to mark the enforcer in task storage", errno);
}

// Follows the scope's path: a package upgrade replaces the binary (new
// inode), a service restart recreates its cgroup (new id). Re-resolves it
// and, when it names something else now, points the config there (one
// update of the config value; other fields as read). Called every tick.
struct ScopeFollower {
	LsmScope scope;
	std::string pin_dir;
	bool gone_said = false;

	// locked: the caller holds the pin lock already.
	void tick(const LsmMaps &m, bool locked = false)
	{
		LsmScope now = scope;
		std::string what;
		if (scope.kind == BW_SCOPE_EXE) {
			struct stat st;
			if (stat(scope.path.c_str(), &st) != 0) {
				if (!gone_said)
					say("enforce: scope exe:" + scope.path + " is gone; waiting for it");
				gone_said = true;
				return;
			}
			now.exe_dev = kdev(st.st_dev);
			now.exe_ino = st.st_ino;
			what = "(" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)) + ":" +
			       std::to_string(st.st_ino) + ")";
		} else if (scope.kind == BW_SCOPE_CGROUP) {
			try {
				if (!resolve_cgroup(now, false)) {
					if (!gone_said)
						say("enforce: cgroup " + scope.path + " is gone; waiting for it");
					gone_said = true;
					return;
				}
			} catch (const std::exception &e) {
				return;
			}
			what = "(id " + std::to_string(now.cgroup_id) + ", level " + std::to_string(now.cgroup_level) +
			       ")";
		} else {
			return;
		}
		gone_said = false;
		Fd lock;
		bw_config cfg = m.read_config();
		if (cfg.exe_dev == now.exe_dev && cfg.exe_ino == now.exe_ino && cfg.cgroup_id == now.cgroup_id &&
		    cfg.cgroup_level == now.cgroup_level)
			return;
		// Serialised with reloads, which rewrite the config too.
		if (!pin_dir.empty() && !locked)
			lock = lock_pins(pin_dir);
		cfg = m.read_config();
		cfg.exe_dev = now.exe_dev;
		cfg.exe_ino = now.exe_ino;
		cfg.cgroup_id = now.cgroup_id;
		cfg.cgroup_level = now.cgroup_level;
		__u32 zero = 0;
		if (bpf_map_update_elem(m.config, &zero, &cfg, BPF_ANY))
			throw Error("enforce: failed to update the config map (scope)", errno);
		if (scope.kind == BW_SCOPE_EXE)
			say("enforce: scope exe:" + scope.path + " now names a new file " + what + "; following it");
		else
			say("enforce: scope cgroup:" + scope.path + " now names a new cgroup " + what +
			    "; following it");
		scope = now;
	}
};

} // namespace

LsmScope LsmScope::parse(const std::string &spec)
{
	LsmScope s;
	auto colon = spec.find(':');
	std::string kind = spec.substr(0, colon);
	std::string path = colon == std::string::npos ? "" : spec.substr(colon + 1);
	if (kind == "run" && path.empty()) {
		s.kind = BW_SCOPE_RUN;
	} else if (kind == "host" && path.empty()) {
		s.kind = BW_SCOPE_HOST;
	} else if (kind == "cgroup" && !path.empty()) {
		s.kind = BW_SCOPE_CGROUP;
		s.path = path;
		if (path.size() >= BW_PATH_MAX)
			throw Error("enforce: scope cgroup " + path + ": path too long");
		resolve_cgroup(s, true);
	} else if (kind == "exe" && !path.empty()) {
		s.kind = BW_SCOPE_EXE;
		s.path = path;
		if (path.size() >= BW_PATH_MAX)
			throw Error("enforce: scope exe " + path + ": path too long");
		struct stat st;
		if (stat(path.c_str(), &st) != 0)
			throw Error("enforce: scope exe " + path + ": stat", errno);
		s.exe_dev = kdev(st.st_dev);
		s.exe_ino = st.st_ino;
	} else {
		throw Error("enforce: unknown scope '" + spec + "' (expected run, host, cgroup:/PATH or exe:/PATH)");
	}
	return s;
}

std::string LsmScope::str() const
{
	return path.empty() ? scope_name(kind) : std::string(scope_name(kind)) + ":" + path;
}

namespace {

// Names rules in events of either generation: a reload may have changed
// the policy, and events already queued still carry the old numbering.
struct Namer {
	const LsmMaps *maps = nullptr;
	Output *out = nullptr;
	std::array<std::unique_ptr<policy::Policy>, BW_GENS> pol;
	std::array<std::unique_ptr<EventSink>, BW_GENS> sink;
	std::array<uint64_t, BW_GENS> hash{};

	void refresh(uint32_t gen)
	{
		bw_gen g = maps->read_gen(gen);
		if (pol[gen] && hash[gen] == g.policy_hash)
			return;
		std::string path(g.policy_path, strnlen(g.policy_path, sizeof(g.policy_path)));
		auto parsed = path.empty() ? policy::ParseResult{} : policy::parse_file(path);
		if (!parsed.ok()) {
			say("enforce: cannot re-read policy " + path + " of generation " + std::to_string(gen) +
			    "; events name its rules by number");
			pol[gen] = std::make_unique<policy::Policy>();
			pol[gen]->name = "unknown";
		} else {
			if (fnv1a(slurp(path)) != g.policy_hash)
				say("enforce: " + path + " changed since it was loaded; rule names may not match");
			pol[gen] = std::make_unique<policy::Policy>(*parsed.policy);
		}
		hash[gen] = g.policy_hash;
		SinkOptions so;
		so.layers_active = kLayerLsm; // a scope has no seccomp layer
		sink[gen] = std::make_unique<EventSink>(out, *pol[gen], so);
	}

	void event(const bw_event &e)
	{
		bw_event copy = e;
		uint32_t gen;
		if (e.rule < BW_RULE_DEFAULT_EXEC) {
			gen = (e.rule / BW_MAX_RULES) & 1;
			copy.rule = e.rule % BW_MAX_RULES;
		} else {
			gen = maps->read_config().active_gen & 1;
		}
		try {
			refresh(gen);
		} catch (const std::exception &ex) {
			say(ex.what());
			return;
		}
		sink[gen]->lsm(copy, e.verdict == BW_VERDICT_DENY ? kLayerLsm : 0u, kLayerLsm);
	}

	void lost(uint64_t n)
	{
		uint32_t gen = maps->read_config().active_gen & 1;
		try {
			refresh(gen);
		} catch (const std::exception &ex) {
			say(ex.what());
			return;
		}
		sink[gen]->lost(n);
	}
};

// One line per missing piece, each with its fix. Fatal ones make enforce
// exit; hooks missing from this kernel are fatal unless --allow-degraded.
struct Probe {
	std::vector<std::string> fatal;
	std::vector<std::string> missing_hooks;
};

Probe probe(const LsmNeeds &needs)
{
	Probe p;
	std::string r = LsmLayer::lsm_inactive_reason();
	if (!r.empty())
		p.fatal.push_back(r);
	// No BTF is one of lsm_inactive_reason()'s lines.
	if (have_vmlinux_btf())
		for (const auto &h : hooks_needed(needs))
			if (!hook_exists(h))
				p.missing_hooks.push_back(h);
	// Whether program load is permitted is probed by the real load: a
	// separate probe would verify every program twice (seconds on a slow
	// machine); its failure is reported the same way (see run_enforce).
	return p;
}

// What `bulwark reload` and SIGHUP both check before a policy may replace
// the running one: no rule that no layer can enforce under this scope, and
// none that needs a hook this kernel lacks (--allow-degraded ran without).
bool reload_allowed(const policy::Policy &pol, const LsmScope &scope, const std::vector<std::string> &missing_hooks,
		    bool allow_degraded)
{
	bool ok = true;
	for (const auto &n : policy::scope_notes(pol, scope.str()))
		if (n.lost && !allow_degraded) {
			say(n.loc.file + ":" + std::to_string(n.loc.line) + ": " + n.message);
			ok = false;
		}
	if (!missing_hooks.empty()) {
		LsmPlan plan = plan_lsm(pol);
		for (const auto &h : hooks_needed(plan.needs))
			for (const auto &m : missing_hooks)
				if (h == m) {
					say("lsm: the new policy needs hook " + h + ", which this kernel lacks");
					ok = false;
				}
	}
	return ok;
}

} // namespace

int run_enforce(const EnforceOptions &o)
{
	auto pol = load_policy(o.policy);
	if (!pol)
		return 1;
	const std::string policy_path = abs_path(o.policy);
	const std::string scope_spec = o.scope.empty() ? pol->scope : o.scope;
	LsmScope scope;
	try {
		scope = LsmScope::parse(scope_spec);
	} catch (const std::exception &e) {
		say(e.what());
		return 1;
	}
	if (scope.kind == BW_SCOPE_RUN) {
		say("enforce: scope 'run' means the tree `bulwark run` starts; use bulwark run, or give --scope "
		    "cgroup:PATH, exe:PATH or host");
		return 1;
	}
	if (scope.kind == BW_SCOPE_HOST && !o.i_mean_host) {
		say("enforce: scope host confines every process on this machine but bulwark and pid 1; add "
		    "--i-mean-host to confirm");
		return 1;
	}
	if (scope.kind == BW_SCOPE_HOST && !o.pin_dir.empty()) {
		// A pinned host policy outlives the enforcer, and with it the one
		// exempt process: nothing could then remove it but a reboot.
		say("enforce: scope host cannot be pinned (--pin): with no enforcer running, nothing on the host "
		    "could remove it; run it unpinned under systemd");
		return 1;
	}
	if (scope.kind == BW_SCOPE_CGROUP) {
		// The enforcer inside its own scope would have to survive its own
		// self-protection rules on restart.
		std::string self;
		std::istringstream cg(slurp("/proc/self/cgroup"));
		for (std::string line; std::getline(cg, line);)
			if (line.rfind("0::", 0) == 0)
				self = line.substr(3);
		if (self == scope.path ||
		    (self.size() > scope.path.size() && self.compare(0, scope.path.size(), scope.path) == 0 &&
		     (scope.path == "/" || self[scope.path.size()] == '/'))) {
			say("enforce: this enforcer runs in cgroup " + self + ", inside its own scope " + scope.path +
			    "; run it from another cgroup");
			return 1;
		}
	}
	bool lost = false;
	for (const auto &n : policy::scope_notes(*pol, scope.str())) {
		say(n.loc.file + ":" + std::to_string(n.loc.line) + ":" + std::to_string(n.loc.col) + ": " +
		    (n.lost ? "" : "warning: ") + n.message);
		lost |= n.lost;
	}
	if (lost && !o.allow_degraded) {
		say("enforce: refusing a policy with rules no layer enforces under this scope (--allow-degraded to run "
		    "without them)");
		return 1;
	}

	LsmPlan plan;
	try {
		plan = plan_lsm(*pol);
	} catch (const std::exception &e) {
		say(e.what());
		return 1;
	}
	LsmNeeds all = plan.needs;
	all.all = true;
	Probe pr = probe(all);
	for (const auto &f : pr.fatal)
		say(f);
	if (!pr.fatal.empty()) {
		// The LSM layer is the only one a scope can have, so degraded
		// mode has nothing left to run.
		say("enforce: nothing enforced: the BPF-LSM layer is the only layer for scope " + scope.str() +
		    (o.allow_degraded ? " (--allow-degraded cannot help)" : ""));
		return 1;
	}
	for (const auto &h : pr.missing_hooks)
		say("lsm: this kernel has no LSM hook " + h + " (bpf_lsm_" + h +
		    " not in its BTF); a kernel of 6.1 or newer has it");
	if (!pr.missing_hooks.empty() && !o.allow_degraded) {
		say("enforce: refusing to run without every hook (--allow-degraded runs without them: the rules "
		    "that use them are then not enforced)");
		return 1;
	}

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

	Namer namer;
	namer.out = out.get();
	auto on_event = [&namer](const bw_event &e) { namer.event(e); };
	std::unique_ptr<LsmLayer> lsm;
	ScopeFollower follower;
	const uint64_t hash = fnv1a(slurp(o.policy));
	Fd lifetime; // held until we exit
	try {
		Fd lock;
		if (!o.pin_dir.empty()) {
			lifetime = hold_enforcer_lock(o.pin_dir);
			lock = lock_pins(o.pin_dir);
		}
		// Decided under both locks. The config map is pinned last, so
		// without it any pins are what an enforcer killed while
		// attaching left: remove them and load afresh.
		bool adopt = !o.pin_dir.empty() && access((o.pin_dir + "/map_bw_config").c_str(), F_OK) == 0;
		if (!o.pin_dir.empty() && !adopt) {
			auto stale = unpin_all(o.pin_dir);
			if (!stale.empty())
				say("enforce: " + o.pin_dir + " held " + std::to_string(stale.size()) +
				    " pins of an incomplete load (no map_bw_config); removed them");
		}
		if (adopt) {
			lsm = std::make_unique<LsmLayer>(o.pin_dir, on_event);
			bw_config cfg = lsm->maps().read_config();
			// By the path recorded: the ids behind it may have changed
			// (upgrade, service restart); the follower below updates them.
			std::string pinned_path(cfg.scope_path, strnlen(cfg.scope_path, sizeof(cfg.scope_path)));
			if (cfg.scope != scope.kind || pinned_path != scope.path)
				throw Error("enforce: " + o.pin_dir + " enforces scope " + scope_name(cfg.scope) +
					    (pinned_path.empty() ? "" : ":" + pinned_path) + ", not " + scope.str() +
					    "; bulwark unload --pin " + o.pin_dir + " first");
			namer.maps = &lsm->maps();
			bw_gen g = lsm->maps().read_gen(cfg.active_gen & 1);
			say("enforce: re-adopted " + std::to_string(lsm->attached()) + " pinned programs in " +
			    o.pin_dir + " (generation " + std::to_string(cfg.active_gen & 1) + ")");
			if (g.policy_hash != hash || std::string(g.policy_path) != policy_path) {
				uint32_t gen = replace_policy(lsm->maps(), *pol, policy_path, hash);
				say("enforce: policy " + policy_path + " replaced the pinned one (generation " +
				    std::to_string(gen) + ")");
			}
		} else {
			LsmEnforce en;
			en.scope = scope;
			en.pin_dir = o.pin_dir;
			en.policy_path = policy_path;
			en.policy_hash = hash;
			en.skip_hooks.insert(pr.missing_hooks.begin(), pr.missing_hooks.end());
			lsm = std::make_unique<LsmLayer>(*pol, on_event, BpfOptions{}, &en);
			namer.maps = &lsm->maps();
			say("enforce: " + std::to_string(lsm->attached()) + " programs attached" +
			    (o.pin_dir.empty() ? "" : ", pinned in " + o.pin_dir));
			if (o.verbose)
				say("lsm: " + std::to_string(lsm->file_entries().size()) + " file map entries, " +
				    std::to_string(lsm->plan().rules.size()) + " rules in generation 0");
		}
		mark_supervisor(lsm->maps());
		follower.scope = scope;
		follower.pin_dir = o.pin_dir;
		follower.tick(lsm->maps(), true);
		if (scope.kind == BW_SCOPE_EXE) {
			int n = adopt_running_exe(*lsm, scope);
			say("enforce: " + std::to_string(n) + " running process" + (n == 1 ? "" : "es") + " of " +
			    scope.path + " (with descendants) put in scope");
		}
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

	sigset_t set;
	sigemptyset(&set);
	for (int s : {SIGINT, SIGTERM, SIGHUP})
		sigaddset(&set, s);
	sigprocmask(SIG_BLOCK, &set, nullptr);
	Fd sigfd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
	Fd ep(epoll_create1(EPOLL_CLOEXEC));
	if (!sigfd || !ep) {
		say(std::string("enforce: signalfd/epoll: ") + std::strerror(errno));
		return 1;
	}
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.u64 = 0;
	epoll_ctl(ep.get(), EPOLL_CTL_ADD, sigfd.get(), &ev);
	ev.data.u64 = 1;
	epoll_ctl(ep.get(), EPOLL_CTL_ADD, lsm->poll_fd(), &ev);
	if (out && out->poll_fd() >= 0) {
		ev.data.u64 = 2;
		epoll_ctl(ep.get(), EPOLL_CTL_ADD, out->poll_fd(), &ev);
	}
	if (metrics) {
		ev.data.u64 = 3;
		epoll_ctl(ep.get(), EPOLL_CTL_ADD, metrics->fd(), &ev);
	}
	// The kernel's counters of the active generation: exact, whatever the
	// ring buffer dropped, and the same numbers `bulwark status` shows.
	auto render = [&] {
		MetricsSnapshot m;
		const LsmMaps &maps = lsm->maps();
		uint32_t gen = maps.read_config().active_gen & 1;
		bw_gen g = maps.read_gen(gen);
		namer.refresh(gen);
		const policy::Policy &p = *namer.pol[gen];
		for (const auto &[rule, c] : read_counters(maps.rule_hits, gen, g.nrules)) {
			std::string id = policy::rule_id_for(p, rule);
			if (id.empty())
				id = "#" + std::to_string(rule);
			if (c.first)
				m.denials.push_back({id, kLayerLsm, false, c.first});
			if (c.second)
				m.denials.push_back({id, kLayerLsm, true, c.second});
		}
		for (const auto &s : namer.sink)
			if (s) {
				m.written += s->count();
				m.suppressed += s->suppressed();
			}
		m.lost = read_dropped(maps.bss);
		return render_metrics(m);
	};
	sd_notify("READY=1\nSTATUS=enforcing " + pol->name + " on " + scope.str() +
		  "\nMAINPID=" + std::to_string(getpid()));

	uint64_t reported_drops = lsm->dropped();
	for (;;) {
		epoll_event evs[4];
		int k = epoll_wait(ep.get(), evs, 4, 1000);
		bool stop = false;
		for (int i = 0; i < k; i++) {
			if (evs[i].data.u64 == 1) {
				// Bounded: a sandbox flooding denials must not keep
				// us from signals (unload's SIGTERM, SIGHUP).
				lsm->consume(kConsumeBudget);
				if (out)
					out->flush();
				continue;
			}
			if (evs[i].data.u64 == 2) {
				out->on_ready();
				continue;
			}
			if (evs[i].data.u64 == 3) {
				try {
					metrics->on_ready(render);
				} catch (const std::exception &ex) {
					say(std::string("enforce: metrics: ") + ex.what());
				}
				continue;
			}
			signalfd_siginfo si;
			while (read(sigfd.get(), &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo != SIGHUP) {
					stop = true;
					continue;
				}
				sd_notify("RELOADING=1");
				// SIGHUP also reopens the events file (logrotate).
				if (out)
					out->reopen();
				auto np = load_policy(o.policy);
				if (!np) {
					say("enforce: reload: " + o.policy + " has errors; the running policy stays");
				} else if (!reload_allowed(*np, scope, pr.missing_hooks, o.allow_degraded)) {
					say("enforce: reload refused; the running policy stays");
				} else {
					try {
						Fd lock;
						if (!o.pin_dir.empty())
							lock = lock_pins(o.pin_dir);
						uint32_t gen = replace_policy(lsm->maps(), *np, policy_path,
									      fnv1a(slurp(o.policy)));
						say("enforce: reloaded " + o.policy + " (generation " +
						    std::to_string(gen) + ")");
					} catch (const std::exception &e) {
						say(std::string(e.what()) +
						    "\nenforce: reload failed; the running policy stays");
					}
				}
				sd_notify("READY=1");
			}
		}
		try {
			follower.tick(lsm->maps());
		} catch (const std::exception &e) {
			say(e.what());
		}
		uint64_t d = lsm->dropped();
		if (d != reported_drops) {
			// In the stream too, where monitoring counts.
			namer.lost(d - reported_drops);
			say("lsm: " + std::to_string(d - reported_drops) + " events dropped (ring buffer full)");
			reported_drops = d;
		}
		if (out)
			out->flush();
		if (stop)
			break;
	}
	sd_notify("STOPPING=1");
	lsm->consume();
	if (out)
		out->flush();
	if (lsm->pinned())
		say("enforce: exiting; the policy stays in force through the pins in " + o.pin_dir +
		    " (bulwark unload --pin " + o.pin_dir + " removes it)");
	else
		say("enforce: exiting; programs detach");
	return 0;
}

int run_reload(const ReloadOptions &o)
{
	auto pol = load_policy(o.policy);
	if (!pol)
		return 1;
	try {
		Fd lock = lock_pins(o.pin_dir);
		LsmMaps m = LsmMaps::open_pinned(o.pin_dir);
		bw_config cfg = m.read_config();
		LsmScope pinned;
		pinned.kind = cfg.scope;
		for (const auto &n : policy::scope_notes(*pol, pinned.str()))
			if (n.lost) {
				say(n.loc.file + ":" + std::to_string(n.loc.line) + ": " + n.message);
				say("reload: refused; the running policy stays");
				return 1;
			}
		uint32_t gen = replace_policy(m, *pol, abs_path(o.policy), fnv1a(slurp(o.policy)));
		std::printf("enforce: %s now enforces %s (generation %u)\n", o.pin_dir.c_str(), o.policy.c_str(), gen);
	} catch (const std::exception &e) {
		say(e.what());
		say("reload: the running policy stays");
		return 1;
	}
	return 0;
}

int run_unload(const UnloadOptions &o)
{
	try {
		// A running enforcer holds the links too: stop it, or its fds
		// would keep the programs attached after the pins are gone. The
		// lock it holds for its life says whether one runs (a pid alone
		// could have been reused).
		std::string lpath = lock_path(o.pin_dir, "enforcer");
		Fd life = open_lock(lpath);
		if (flock(life.get(), LOCK_EX | LOCK_NB) != 0) {
			if (errno != EWOULDBLOCK)
				throw Error("enforce: flock " + lpath, errno);
			pid_t enforcer = static_cast<pid_t>(std::atol(slurp(lpath).c_str()));
			if (enforcer > 1)
				kill(enforcer, SIGTERM);
			bool gone = false;
			for (int i = 0; i < 200 && !gone; i++) {
				gone = flock(life.get(), LOCK_EX | LOCK_NB) == 0;
				if (!gone)
					usleep(50 * 1000);
			}
			if (!gone)
				throw Error("enforce: the enforcer (pid " + std::to_string(enforcer) +
					    ") did not exit on SIGTERM; nothing removed");
			std::printf("enforce: stopped the enforcer (pid %d)\n", enforcer);
		}
		// Holding its lock, no enforcer can start while the pins go.
		Fd lock = lock_pins(o.pin_dir);
		if (access((o.pin_dir + "/map_bw_config").c_str(), F_OK) == 0)
			LsmMaps::open_pinned(o.pin_dir); // refuses what is not bulwark's
		auto removed = unpin_all(o.pin_dir);
		for (const auto &r : removed)
			std::printf("enforce: removed %s/%s\n", o.pin_dir.c_str(), r.c_str());
		std::printf("enforce: unloaded %s (%zu pins)\n", o.pin_dir.c_str(), removed.size());
	} catch (const std::exception &e) {
		say(e.what());
		return 1;
	}
	return 0;
}

int run_status(const StatusOptions &o)
{
	// Without --pin: every bulwark pin set directly under /sys/fs/bpf.
	if (o.pin_dir.empty()) {
		std::vector<std::string> dirs;
		if (DIR *d = opendir("/sys/fs/bpf")) {
			while (dirent *e = readdir(d)) {
				std::string dir = std::string("/sys/fs/bpf/") + e->d_name;
				if (e->d_name[0] != '.' && access((dir + "/map_bw_config").c_str(), F_OK) == 0)
					dirs.push_back(dir);
			}
			closedir(d);
		}
		if (dirs.empty()) {
			say("enforce: no pinned bulwark enforcement under /sys/fs/bpf");
			return 0;
		}
		int rc = 0;
		for (const auto &dir : dirs) {
			StatusOptions one = o;
			one.pin_dir = dir;
			rc |= run_status(one);
		}
		return rc;
	}
	try {
		LsmMaps m = LsmMaps::open_pinned(o.pin_dir);
		bw_config cfg = m.read_config();
		uint32_t gen = cfg.active_gen & 1;
		bw_gen g = m.read_gen(gen);
		std::string path(g.policy_path, strnlen(g.policy_path, sizeof(g.policy_path)));
		std::string name = "?";
		auto parsed = policy::parse_file(path);
		if (parsed.ok())
			name = parsed.policy->name;
		int links = 0;
		if (DIR *d = opendir(o.pin_dir.c_str())) {
			while (dirent *e = readdir(d))
				links += std::strncmp(e->d_name, "link_", 5) == 0;
			closedir(d);
		}
		std::string scope = scope_name(cfg.scope);
		if (cfg.scope == BW_SCOPE_CGROUP)
			scope += ":id=" + std::to_string(cfg.cgroup_id) + ",level=" + std::to_string(cfg.cgroup_level);
		if (cfg.scope == BW_SCOPE_EXE)
			scope += ":ino=" + std::to_string(cfg.exe_ino);
		std::string stat = slurp("/proc/" + std::to_string(cfg.supervisor_tgid) + "/stat");
		auto cp = stat.rfind(')');
		bool alive = cfg.supervisor_tgid > 1 && cp != std::string::npos && stat.size() > cp + 2 &&
			     stat[cp + 2] != 'Z' &&
			     slurp("/proc/" + std::to_string(cfg.supervisor_tgid) + "/comm").rfind("bulwark", 0) == 0;
		nlohmann::json j = {{"pin_dir", o.pin_dir},
				    {"policy", name},
				    {"policy_file", path},
				    {"scope", scope},
				    {"generation", gen},
				    {"rules", g.nrules},
				    {"links", links},
				    {"enforcer_pid", cfg.supervisor_tgid},
				    {"enforcer_running", alive},
				    {"policy_changed_on_disk", parsed.ok() && fnv1a(slurp(path)) != g.policy_hash}};
		j["events_dropped"] = read_dropped(m.bss);
		// Hits since this generation was loaded, from the kernel's
		// per-rule counters (exact even when events were dropped).
		nlohmann::json hits = nlohmann::json::array();
		for (const auto &[rule, c] : read_counters(m.rule_hits, gen, g.nrules)) {
			std::string id =
				parsed.ok() ? policy::rule_id_for(*parsed.policy, rule) : "#" + std::to_string(rule);
			if (id.empty())
				id = "#" + std::to_string(rule);
			hits.push_back({{"rule", id}, {"deny", c.first}, {"audit", c.second}});
		}
		j["hits"] = hits;
		if (o.json) {
			std::printf("%s\n", j.dump().c_str());
		} else {
			std::printf(
				"%s: policy %s (%s), scope %s, generation %u, %u rules, %d links, enforcer %u (%s), "
				"%llu events dropped\n",
				o.pin_dir.c_str(), name.c_str(), path.c_str(), scope.c_str(), gen, g.nrules, links,
				cfg.supervisor_tgid, alive ? "running" : "not running",
				static_cast<unsigned long long>(j["events_dropped"].get<uint64_t>()));
			for (const auto &h : hits)
				std::printf("  %-32s deny %llu audit %llu\n", h["rule"].get<std::string>().c_str(),
					    static_cast<unsigned long long>(h["deny"].get<uint64_t>()),
					    static_cast<unsigned long long>(h["audit"].get<uint64_t>()));
		}
	} catch (const std::exception &e) {
		say(e.what());
		return 1;
	}
	return 0;
}

} // namespace bulwark
