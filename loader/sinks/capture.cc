// SPDX-License-Identifier: Apache-2.0
// What /proc says about a task parked on a seccomp notification, read
// while it is parked so the pid still names it.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "loader/kernel/fd.h"
#include "loader/sinks/ecs.h"
#include "loader/sinks/ecs_parts.h"

namespace bulwark {

namespace {

// Reads a small /proc file whole (they are generated on read, so size it
// by reading, not by stat).
std::string read_proc(const std::string &path, size_t limit)
{
	std::string r;
	Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd)
		return r;
	char buf[4096];
	while (r.size() < limit) {
		ssize_t n = ::read(fd.get(), buf, std::min(sizeof(buf), limit - r.size()));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		r.append(buf, static_cast<size_t>(n));
	}
	return r;
}

long status_field(const std::string &status, const char *key)
{
	size_t at = status.find(key);
	if (at == std::string::npos)
		return -1;
	return std::strtol(status.c_str() + at + std::strlen(key), nullptr, 10);
}

} // namespace

SeccompAttempt EventSink::capture(const seccomp_notif &n, size_t rule, int err,
				  const std::function<bool()> &still_valid)
{
	SeccompAttempt a;
	a.notif = n;
	a.rule = rule;
	a.err = err;
	a.epoch_ns = clock_ns(CLOCK_REALTIME);
	std::string dir = "/proc/" + std::to_string(n.pid);
	std::string status = read_proc(dir + "/status", 8192);
	a.tgid = status_field(status, "\nTgid:");
	a.ppid = status_field(status, "\nPPid:");
	a.uid = status_field(status, "\nUid:");
	// comm raw, not status's Name: (which the kernel escapes).
	a.comm = read_proc(dir + "/comm", 64);
	if (!a.comm.empty() && a.comm.back() == '\n')
		a.comm.pop_back();
	char buf[4096];
	ssize_t len = ::readlink((dir + "/exe").c_str(), buf, sizeof(buf));
	if (len > 0)
		a.exe.assign(buf, static_cast<size_t>(len));
	std::string cmdline = read_proc(dir + "/cmdline", 16384);
	for (size_t i = 0; i < cmdline.size();) {
		size_t z = cmdline.find('\0', i);
		if (z == std::string::npos)
			z = cmdline.size();
		a.args.emplace_back(cmdline, i, z - i);
		i = z + 1;
	}
	// Only now can the answers be trusted: the task was still parked on
	// this notification while /proc was read, so the pid was not reused.
	a.valid = !status.empty() && still_valid();
	return a;
}

} // namespace bulwark
