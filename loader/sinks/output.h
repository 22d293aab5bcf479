// SPDX-License-Identifier: Apache-2.0
// Where event lines go: stdout, a file, a unix socket, or several at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace bulwark {

class Output {
public:
	virtual ~Output() = default;
	// One complete line, without its '\n'. A consumer never sees half a
	// line, whatever happens to another consumer.
	virtual void line(const std::string &s) = 0;
	// Lines are buffered (whole lines only) until flush(), or until a
	// buffer is full: one write() per poll-loop iteration instead of one per
	// event. Call it once the iteration has written its events; outputs are
	// flushed when destroyed too.
	virtual void flush() {}
	// SIGHUP: reopen a file that logrotate moved away. Never throws: if the
	// path cannot be opened, the old file stays in use (said on stderr).
	virtual void reopen() {}
	// A listening socket's fd for the caller's poll loop, or -1.
	virtual int poll_fd() const { return -1; }
	// The poll loop saw poll_fd() readable: accept clients.
	virtual void on_ready() {}
};

// "-": stdout; "unix:PATH": a listening stream socket, every connected client
// gets every line from the moment it connects; anything else: a file opened
// for append. Several specs write to all of them. Throws Error (with the
// path and errno) when one cannot be opened; nothing is half-opened.
std::unique_ptr<Output> open_outputs(const std::vector<std::string> &specs);

} // namespace bulwark
