// SPDX-License-Identifier: Apache-2.0
#include "loader/kernel/scope.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <sstream>

#include "loader/kernel/fd.h"

namespace bulwark {

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

} // namespace bulwark
