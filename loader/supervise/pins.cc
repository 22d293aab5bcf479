// SPDX-License-Identifier: Apache-2.0
// Pin directories: their locks, and `bulwark unload` and `bulwark status`,
// which read or remove what an enforcer pinned.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "loader/supervise/enforce.h"
#include "loader/supervise/enforce_parts.h"
#include "loader/supervise/engine.h"
#include "policy/catalog.h"

namespace bulwark {

namespace {

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

} // namespace

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
			throw Error("enforce: another enforcer (pid " + read_text(path) + ") holds " + pin_dir +
				    "; stop it, or bulwark unload --pin " + pin_dir);
		throw Error("enforce: flock " + path, err);
	}
	std::string pid = std::to_string(getpid());
	if (ftruncate(fd.get(), 0) != 0 ||
	    pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
		throw Error("enforce: write " + path, errno);
	return fd;
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
			pid_t enforcer = static_cast<pid_t>(std::atol(read_text(lpath).c_str()));
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

namespace {

// Every bulwark pin set directly under /sys/fs/bpf.
std::vector<std::string> pinned_dirs()
{
	std::vector<std::string> dirs;
	if (DIR *d = opendir("/sys/fs/bpf")) {
		while (dirent *e = readdir(d)) {
			std::string dir = std::string("/sys/fs/bpf/") + e->d_name;
			if (e->d_name[0] != '.' && access((dir + "/map_bw_config").c_str(), F_OK) == 0)
				dirs.push_back(dir);
		}
		closedir(d);
	}
	return dirs;
}

int count_links(const std::string &dir)
{
	int links = 0;
	if (DIR *d = opendir(dir.c_str())) {
		while (dirent *e = readdir(d))
			links += std::strncmp(e->d_name, "link_", 5) == 0;
		closedir(d);
	}
	return links;
}

// The recorded pid is a running bulwark (not a zombie, not a reused pid
// of something else).
bool enforcer_alive(uint32_t tgid)
{
	std::string stat = read_text("/proc/" + std::to_string(tgid) + "/stat");
	auto cp = stat.rfind(')');
	return tgid > 1 && cp != std::string::npos && stat.size() > cp + 2 && stat[cp + 2] != 'Z' &&
	       read_text("/proc/" + std::to_string(tgid) + "/comm").rfind("bulwark", 0) == 0;
}

std::string scope_text(const bw_config &cfg)
{
	std::string scope = scope_name(cfg.scope);
	if (cfg.scope == BW_SCOPE_CGROUP)
		scope += ":id=" + std::to_string(cfg.cgroup_id) + ",level=" + std::to_string(cfg.cgroup_level);
	if (cfg.scope == BW_SCOPE_EXE)
		scope += ":ino=" + std::to_string(cfg.exe_ino);
	return scope;
}

nlohmann::json status_of(const std::string &dir)
{
	LsmMaps m = LsmMaps::open_pinned(dir);
	bw_config cfg = m.read_config();
	uint32_t gen = cfg.active_gen & 1;
	bw_gen g = m.read_gen(gen);
	std::string path(g.policy_path, strnlen(g.policy_path, sizeof(g.policy_path)));
	auto parsed = policy::parse_file(path);
	nlohmann::json j = {{"pin_dir", dir},
			    {"policy", parsed.ok() ? parsed.policy->name : "?"},
			    {"policy_file", path},
			    {"scope", scope_text(cfg)},
			    {"generation", gen},
			    {"rules", g.nrules},
			    {"links", count_links(dir)},
			    {"enforcer_pid", cfg.supervisor_tgid},
			    {"enforcer_running", enforcer_alive(cfg.supervisor_tgid)},
			    {"policy_changed_on_disk", parsed.ok() && fnv1a(read_text(path)) != g.policy_hash}};
	j["events_dropped"] = read_dropped(m.bss);
	// Hits since this generation was loaded, from the kernel's per-rule
	// counters (exact even when events were dropped).
	nlohmann::json hits = nlohmann::json::array();
	for (const auto &[rule, c] : read_counters(m.rule_hits, gen, g.nrules)) {
		std::string id = parsed.ok() ? policy::rule_id_for(*parsed.policy, rule) : "";
		if (id.empty())
			id = "#" + std::to_string(rule);
		hits.push_back({{"rule", id}, {"deny", c.first}, {"audit", c.second}});
	}
	j["hits"] = hits;
	return j;
}

void print_status(const nlohmann::json &j)
{
	auto str = [&](const char *k) { return j[k].get<std::string>(); };
	auto num = [&](const char *k) { return static_cast<unsigned long long>(j[k].get<uint64_t>()); };
	std::printf("%s: policy %s (%s), scope %s, generation %llu, %llu rules, %llu links, enforcer %llu (%s), "
		    "%llu events dropped\n",
		    str("pin_dir").c_str(), str("policy").c_str(), str("policy_file").c_str(), str("scope").c_str(),
		    num("generation"), num("rules"), num("links"), num("enforcer_pid"),
		    j["enforcer_running"].get<bool>() ? "running" : "not running", num("events_dropped"));
	for (const auto &h : j["hits"])
		std::printf("  %-32s deny %llu audit %llu\n", h["rule"].get<std::string>().c_str(),
			    static_cast<unsigned long long>(h["deny"].get<uint64_t>()),
			    static_cast<unsigned long long>(h["audit"].get<uint64_t>()));
}

} // namespace

int run_status(const StatusOptions &o)
{
	std::vector<std::string> dirs = o.pin_dir.empty() ? pinned_dirs() : std::vector<std::string>{o.pin_dir};
	if (dirs.empty()) {
		say("enforce: no pinned bulwark enforcement under /sys/fs/bpf");
		return 0;
	}
	int rc = 0;
	for (const auto &dir : dirs) {
		try {
			LsmMaps m = LsmMaps::open_pinned(dir);
			bw_config cfg = m.read_config();
			if (cfg.role == BW_ROLE_RUN) {
				// A run's own set, pinned while it lives.
				nlohmann::json j = {{"pin_dir", dir},
						    {"run_pid", cfg.supervisor_tgid},
						    {"run_killed", cfg.engine_gone != 0}};
				if (o.json)
					std::printf("%s\n", j.dump().c_str());
				else
					std::printf("%s: bulwark run %u%s\n", dir.c_str(), cfg.supervisor_tgid,
						    cfg.engine_gone ? " (killed; the next run clears this)" : "");
				continue;
			}
			if (cfg.role == BW_ROLE_ENGINE) {
				std::string j = engine_status_json(dir);
				if (o.json)
					std::printf("%s\n", j.c_str());
				else
					print_engine_status(j);
				continue;
			}
			nlohmann::json j = status_of(dir);
			if (o.json)
				std::printf("%s\n", j.dump().c_str());
			else
				print_status(j);
		} catch (const std::exception &e) {
			say(e.what());
			rc = 1;
		}
	}
	return rc;
}

} // namespace bulwark
