// SPDX-License-Identifier: Apache-2.0
#include "loader/sinks/output.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "loader/kernel/fd.h"

namespace bulwark {

namespace {

// Lines are gathered up to this much before a write() is forced; a poll
// iteration's flush() normally comes first.
constexpr size_t kBufferBytes = 64 * 1024;
// A socket client that has this much unsent is too slow to keep: it is
// dropped rather than let the loader block or grow without bound.
constexpr size_t kClientBacklog = 1024 * 1024;
// Well under half the default socket send buffer (see send_some()).
constexpr size_t kSendChunk = 32 * 1024;

// Writes all of [p, p+n), retrying EINTR and short writes. Returns 0 or an
// errno.
int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = ::write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += w;
		n -= static_cast<size_t>(w);
	}
	return 0;
}

// stdout or a file. Only whole lines ever reach write(), so a shipper
// tailing the file never finds half an event at rest.
class FdOutput : public Output {
public:
	FdOutput(Fd fd, std::string path, bool reopenable)
	    : fd_(std::move(fd)), path_(std::move(path)), reopenable_(reopenable)
	{
		buf_.reserve(kBufferBytes);
	}
	~FdOutput() override { flush(); }

	void line(const std::string &s) override
	{
		if (buf_.size() + s.size() + 1 > kBufferBytes)
			flush();
		buf_ += s;
		buf_ += '\n';
		if (buf_.size() >= kBufferBytes)
			flush();
	}

	void flush() override
	{
		if (buf_.empty())
			return;
		int err = write_all(fd_.get(), buf_.data(), buf_.size());
		buf_.clear();
		// A full disk must not stop enforcement: the lines are lost, and
		// said so once per failure streak rather than once per event.
		if (err && !failing_)
			std::fprintf(stderr, "bulwark: events: write %s: %s (dropping events)\n", path_.c_str(),
				     std::strerror(err));
		failing_ = err != 0;
	}

	void reopen() override
	{
		if (!reopenable_)
			return;
		// Lines accepted before the rename belong in the old file.
		flush();
		// Called from the signal path of the supervising loop: a failure
		// keeps the old file rather than stopping enforcement.
		Fd fd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
		if (!fd) {
			std::fprintf(stderr, "bulwark: events: reopen %s: %s (still writing to the old file)\n",
				     path_.c_str(), std::strerror(errno));
			return;
		}
		fd_ = std::move(fd);
	}

	static Fd open_file(const std::string &path)
	{
		Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
		if (!fd)
			throw Error("events: open " + path, errno);
		return fd;
	}

private:
	Fd fd_;
	std::string path_;
	bool reopenable_;
	bool failing_ = false;
	std::string buf_;
};

// A listening unix stream socket. Every client has its own bounded backlog;
// poll_fd() is an epoll set of the listener and the clients, so the one fd
// the loop polls wakes it for new clients, writable slow clients and
// hang-ups alike.
class UnixOutput : public Output {
public:
	explicit UnixOutput(const std::string &path) : path_(path)
	{
		sockaddr_un sa{};
		sa.sun_family = AF_UNIX;
		if (path.empty() || path.size() >= sizeof(sa.sun_path))
			throw Error("events: unix socket path " + path, ENAMETOOLONG);
		std::memcpy(sa.sun_path, path.data(), path.size());
		// A socket left by a previous run would make bind() fail; anything
		// else at that path is not ours to delete.
		struct stat st {};
		if (::lstat(path.c_str(), &st) == 0) {
			if (!S_ISSOCK(st.st_mode))
				throw Error("events: " + path + " exists and is not a socket", EEXIST);
			if (::unlink(path.c_str()) != 0)
				throw Error("events: unlink stale socket " + path, errno);
		}
		listen_ = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
		if (!listen_)
			throw Error("events: socket for " + path, errno);
		if (::bind(listen_.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) != 0)
			throw Error("events: bind " + path, errno);
		try {
			// Events name what was denied to whom: owner only. Nobody can
			// connect before listen(), so chmod after bind leaves no window.
			if (::chmod(path.c_str(), 0600) != 0)
				throw Error("events: chmod " + path, errno);
			if (::listen(listen_.get(), 16) != 0)
				throw Error("events: listen " + path, errno);
			ep_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
			if (!ep_)
				throw Error("events: epoll_create1", errno);
			watch(listen_.get(), EPOLL_CTL_ADD, EPOLLIN);
		} catch (...) {
			// No destructor runs for a half-built object.
			::unlink(path.c_str());
			throw;
		}
	}

	~UnixOutput() override
	{
		flush();
		::unlink(path_.c_str());
	}

	void line(const std::string &s) override
	{
		for (auto it = clients_.begin(); it != clients_.end();) {
			Client &c = it->second;
			if (c.pending.size() - c.sent + s.size() + 1 > kClientBacklog) {
				it = drop(it);
				continue;
			}
			c.pending += s;
			c.pending += '\n';
			++it;
		}
	}

	void flush() override
	{
		for (auto it = clients_.begin(); it != clients_.end();)
			it = send_some(it);
	}

	int poll_fd() const override { return ep_.get(); }

	void on_ready() override
	{
		epoll_event evs[32];
		int n = ::epoll_wait(ep_.get(), evs, 32, 0);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == listen_.get()) {
				accept_all();
				continue;
			}
			auto it = clients_.find(fd);
			if (it == clients_.end())
				continue;
			if (evs[i].events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
				drop(it);
				continue;
			}
			if (evs[i].events & EPOLLIN) {
				// Clients have nothing to say; reading only tells a
				// closed connection from a quiet one.
				char junk[512];
				ssize_t r = ::recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
				if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
					drop(it);
					continue;
				}
			}
			if (evs[i].events & EPOLLOUT)
				send_some(it);
		}
	}

private:
	struct Client {
		Fd fd;
		std::string pending;
		size_t sent = 0; // bytes of pending already sent
		bool want_out = false;
	};
	using Iter = std::map<int, Client>::iterator;

	void watch(int fd, int op, uint32_t events)
	{
		epoll_event ev{};
		ev.events = events;
		ev.data.fd = fd;
		if (::epoll_ctl(ep_.get(), op, fd, &ev) != 0)
			throw Error("events: epoll_ctl " + path_, errno);
	}

	void accept_all()
	{
		for (;;) {
			int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0) {
				if (errno == EINTR || errno == ECONNABORTED)
					continue;
				return; // EAGAIN, or out of fds: try again next time
			}
			Client c;
			c.fd = Fd(fd);
			epoll_event ev{};
			ev.events = EPOLLIN | EPOLLRDHUP;
			ev.data.fd = fd;
			if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
				continue; // c closes it
			clients_.emplace(fd, std::move(c));
		}
	}

	Iter drop(Iter it)
	{
		::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, it->first, nullptr);
		return clients_.erase(it);
	}

	// Sends what the client's socket takes now; never waits. Should a send
	// still be partial, the rest of the line stays queued and goes next.
	Iter send_some(Iter it)
	{
		Client &c = it->second;
		while (c.sent < c.pending.size()) {
			// Whole lines, at most kSendChunk at a time: a unix stream
			// send that small fits one skb, which the kernel queues
			// whole or not at all, so even a client that is dropped
			// later never got half a line.
			size_t n = c.pending.size() - c.sent;
			if (n > kSendChunk) {
				const char *p = c.pending.data() + c.sent;
				const void *nl = memrchr(p, '\n', kSendChunk);
				n = nl ? static_cast<size_t>(static_cast<const char *>(nl) - p) + 1
				       : static_cast<size_t>(static_cast<const char *>(std::memchr(p, '\n', n)) - p) +
						    1;
			}
			ssize_t w = ::send(c.fd.get(), c.pending.data() + c.sent, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN) {
					// Keep what was sent from piling up in front.
					if (c.sent >= kBufferBytes) {
						c.pending.erase(0, c.sent);
						c.sent = 0;
					}
					if (!c.want_out) {
						c.want_out = true;
						rewatch(c);
					}
					return std::next(it);
				}
				return drop(it); // EPIPE, ECONNRESET...
			}
			c.sent += static_cast<size_t>(w);
		}
		c.pending.clear();
		c.sent = 0;
		if (c.want_out) {
			c.want_out = false;
			rewatch(c);
		}
		return std::next(it);
	}

	void rewatch(const Client &c)
	{
		epoll_event ev{};
		ev.events = EPOLLIN | EPOLLRDHUP | (c.want_out ? static_cast<uint32_t>(EPOLLOUT) : 0u);
		ev.data.fd = c.fd.get();
		::epoll_ctl(ep_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
	}

	std::string path_;
	Fd listen_, ep_;
	std::map<int, Client> clients_;
};

// Several outputs; one poll fd for all of their poll fds.
class TeeOutput : public Output {
public:
	explicit TeeOutput(std::vector<std::unique_ptr<Output>> outs) : outs_(std::move(outs))
	{
		int with_fd = 0;
		for (auto &o : outs_)
			with_fd += o->poll_fd() >= 0;
		if (with_fd == 0)
			return;
		ep_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
		if (!ep_)
			throw Error("events: epoll_create1", errno);
		for (auto &o : outs_) {
			if (o->poll_fd() < 0)
				continue;
			epoll_event ev{};
			ev.events = EPOLLIN;
			ev.data.fd = o->poll_fd();
			if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, o->poll_fd(), &ev) != 0)
				throw Error("events: epoll_ctl", errno);
		}
	}

	void line(const std::string &s) override
	{
		for (auto &o : outs_)
			o->line(s);
	}
	void flush() override
	{
		for (auto &o : outs_)
			o->flush();
	}
	void reopen() override
	{
		for (auto &o : outs_)
			o->reopen();
	}
	int poll_fd() const override { return ep_.get(); }
	void on_ready() override
	{
		// Children never block in on_ready(), so asking them all is cheaper
		// than finding out which one woke us.
		for (auto &o : outs_)
			o->on_ready();
	}

private:
	std::vector<std::unique_ptr<Output>> outs_;
	Fd ep_;
};

std::unique_ptr<Output> open_one(const std::string &spec)
{
	if (spec == "-") {
		Fd out(::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3));
		if (!out)
			throw Error("events: dup stdout", errno);
		return std::make_unique<FdOutput>(std::move(out), "stdout", false);
	}
	if (spec.rfind("unix:", 0) == 0)
		return std::make_unique<UnixOutput>(spec.substr(5));
	return std::make_unique<FdOutput>(FdOutput::open_file(spec), spec, true);
}

} // namespace

std::unique_ptr<Output> open_outputs(const std::vector<std::string> &specs)
{
	if (specs.empty())
		return nullptr;
	if (specs.size() == 1)
		return open_one(specs[0]);
	std::vector<std::unique_ptr<Output>> outs;
	for (const auto &s : specs)
		outs.push_back(open_one(s));
	return std::make_unique<TeeOutput>(std::move(outs));
}

} // namespace bulwark
