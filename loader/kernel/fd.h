// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace bulwark {

// Owns one file descriptor; closing is never forgotten on an error path.
class Fd {
public:
	Fd() = default;
	explicit Fd(int fd) : fd_(fd) {}
	~Fd() { reset(); }
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	Fd(Fd &&o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
	Fd &operator=(Fd &&o) noexcept
	{
		if (this != &o) {
			reset();
			fd_ = std::exchange(o.fd_, -1);
		}
		return *this;
	}
	int get() const { return fd_; }
	explicit operator bool() const { return fd_ >= 0; }
	int release() { return std::exchange(fd_, -1); }
	void reset(int fd = -1)
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = fd;
	}

private:
	int fd_ = -1;
};

// An error that names the subsystem, the operation and the errno, e.g.
// "lsm: failed to attach lsm/file_open: Operation not permitted".
class Error : public std::runtime_error {
public:
	Error(const std::string &what, int err) : std::runtime_error(what + ": " + std::strerror(err)), err_(err) {}
	explicit Error(const std::string &what) : std::runtime_error(what), err_(0) {}
	int err() const { return err_; }

private:
	int err_;
};

// A whole file's text; "" when it cannot be read (callers compare or hash
// it, and a missing file then differs from any policy).
inline std::string read_text(const std::string &path)
{
	std::ifstream in(path);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

} // namespace bulwark
