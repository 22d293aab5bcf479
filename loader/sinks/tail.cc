// SPDX-License-Identifier: Apache-2.0
#include "loader/sinks/tail.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "loader/kernel/fd.h"

namespace bulwark {

// Copies the enforcer's fan-out socket to stdout. Each client of that socket
// gets whole lines only, so a monitor that starts, stops and starts again
// never sees half an event, and never slows the enforcer (a client that
// falls behind is dropped there, not waited for).
static int tail_socket(const std::string &path)
{
	Fd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!s) {
		std::fprintf(stderr, "events: socket: %s\n", std::strerror(errno));
		return 1;
	}
	sockaddr_un sa{};
	sa.sun_family = AF_UNIX;
	if (path.size() >= sizeof(sa.sun_path)) {
		std::fprintf(stderr, "events: socket path too long: %s\n", path.c_str());
		return 1;
	}
	std::memcpy(sa.sun_path, path.c_str(), path.size());
	if (connect(s.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) < 0) {
		std::fprintf(stderr,
			     "events: cannot connect to %s: %s (is an enforcer running with --events unix:%s?)\n",
			     path.c_str(), std::strerror(errno), path.c_str());
		return 1;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(s.get(), buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			std::fprintf(stderr, "events: read %s: %s\n", path.c_str(), std::strerror(errno));
			return 1;
		}
		if (n == 0)
			return 0; // the enforcer closed the stream
		if (std::fwrite(buf, 1, static_cast<size_t>(n), stdout) != static_cast<size_t>(n))
			return 1;
		std::fflush(stdout);
	}
}

int run_events(const EventsOptions &o)
{
	if (o.from.rfind("unix:", 0) == 0)
		return tail_socket(o.from.substr(5));
	std::fprintf(stderr, "events: --from %s: expected unix:PATH\n", o.from.c_str());
	return 2;
}

} // namespace bulwark
