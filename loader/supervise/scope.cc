// SPDX-License-Identifier: Apache-2.0
// The scope while enforcing: following it when its file or cgroup is
// replaced, and marking what runs in it already and the enforcer itself.
#include <bpf/bpf.h>
#include <dirent.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <functional>
#include <set>
#include <sstream>

#include "loader/supervise/enforce_parts.h"
#include "loader/supervise/procfs.h"

namespace bulwark {

// exe scope: processes that already run the binary when the enforcer
// starts, and their descendants, are marked through pidfds. Parents are
// marked before their children are listed, so a child forked meanwhile is
// either listed or marked by task_alloc.
int adopt_running_exe(const LsmScope &scope, const std::function<void(pid_t)> &confine)
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
			confine(static_cast<pid_t>(pid));
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
				confine(c);
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

bool ScopeFollower::resolve(LsmScope &now, std::string &what)
{
	now = scope;
	if (scope.kind == BW_SCOPE_EXE) {
		struct stat st;
		if (stat(scope.path.c_str(), &st) != 0) {
			if (!gone_said)
				say("enforce: scope exe:" + scope.path + " is gone; waiting for it");
			gone_said = true;
			return false;
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
				return false;
			}
		} catch (const std::exception &e) {
			return false;
		}
		what = "(id " + std::to_string(now.cgroup_id) + ", level " + std::to_string(now.cgroup_level) + ")";
	} else {
		return false;
	}
	gone_said = false;
	return true;
}

void ScopeFollower::say_moved(const std::string &what) const
{
	if (scope.kind == BW_SCOPE_EXE)
		say("enforce: scope exe:" + scope.path + " now names a new file " + what + "; following it");
	else
		say("enforce: scope cgroup:" + scope.path + " now names a new cgroup " + what + "; following it");
}

void ScopeFollower::tick(const LsmMaps &m, bool locked)
{
	LsmScope now;
	std::string what;
	if (!resolve(now, what))
		return;
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
	say_moved(what);
	scope = now;
}

} // namespace bulwark
