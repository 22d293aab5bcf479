// SPDX-License-Identifier: Apache-2.0
#include "loader/sinks/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "loader/sinks/json_writer.h"

namespace bulwark {

namespace {

// A scraper's request is a line and a few headers; anything longer is not
// one.
constexpr size_t kMaxRequest = 8192;
// Connections open at once; past this the oldest goes, so clients that
// connect and say nothing cannot pile up.
constexpr size_t kMaxConns = 8;

// Label values: backslash, double quote and newline are escaped, and the
// text must be UTF-8 (the format says so; rule ids are, but may be odd).
void append_label(std::string &out, const std::string &v)
{
	std::string esc;
	for (char c : v) {
		if (c == '\\')
			esc += "\\\\";
		else if (c == '"')
			esc += "\\\"";
		else if (c == '\n')
			esc += "\\n";
		else
			esc += c;
	}
	append_valid_utf8(out, esc);
}

} // namespace

MetricsSnapshot metrics_snapshot(const EventSink &sink)
{
	MetricsSnapshot m;
	m.denials = sink.denials();
	m.written = sink.count();
	m.lost = sink.lost_total();
	m.suppressed = sink.suppressed();
	return m;
}

std::string render_metrics(const MetricsSnapshot &m)
{
	std::string s;
	s += "# HELP bulwark_rule_denials_total Accesses denied (audit mode: that would have been denied), per rule "
	     "and layer.\n"
	     "# TYPE bulwark_rule_denials_total counter\n";
	for (const auto &d : m.denials) {
		s += "bulwark_rule_denials_total{rule=\"";
		append_label(s, d.rule);
		s += "\",layer=\"";
		s += d.layer == kLayerLsm ? "lsm" : "seccomp";
		s += "\",mode=\"";
		s += d.audit ? "audit" : "enforce";
		s += "\"} ";
		s += std::to_string(d.count);
		s += '\n';
	}
	auto counter = [&](const char *name, const char *help, uint64_t v) {
		s += "# HELP ";
		s += name;
		s += ' ';
		s += help;
		s += "\n# TYPE ";
		s += name;
		s += " counter\n";
		s += name;
		s += ' ';
		s += std::to_string(v);
		s += '\n';
	};
	counter("bulwark_events_written_total", "Event lines written.", m.written);
	counter("bulwark_events_lost_total", "Events the kernel could not queue (ring buffer full).", m.lost);
	counter("bulwark_events_suppressed_total", "Events held back by the rate limit.", m.suppressed);
	return s;
}

MetricsServer::MetricsServer(const std::string &addr_port, bool allow_remote)
{
	std::string host = "127.0.0.1", port = addr_port;
	size_t colon = addr_port.rfind(':');
	if (colon != std::string::npos) {
		host = addr_port.substr(0, colon);
		port = addr_port.substr(colon + 1);
		if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
			host = host.substr(1, host.size() - 2);
		if (host == "localhost")
			host = "127.0.0.1";
	}
	char *end = nullptr;
	unsigned long p = std::strtoul(port.c_str(), &end, 10);
	if (port.empty() || *end || p > 65535)
		throw Error("metrics: bad port in " + addr_port, EINVAL);

	sockaddr_storage ss{};
	socklen_t len;
	bool loopback;
	auto *v4 = reinterpret_cast<sockaddr_in *>(&ss);
	auto *v6 = reinterpret_cast<sockaddr_in6 *>(&ss);
	if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(static_cast<uint16_t>(p));
		len = sizeof(*v4);
		loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(static_cast<uint16_t>(p));
		len = sizeof(*v6);
		const uint8_t *a = v6->sin6_addr.s6_addr;
		loopback =
			IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) || (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && a[12] == 127);
	} else {
		throw Error("metrics: " + host + " is not an IP address", EINVAL);
	}
	if (!loopback && !allow_remote)
		throw Error("metrics: refusing to serve on " + addr_port +
			    ", not a loopback address (the counters name the policy's rules)");

	listen_ = Fd(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	if (!listen_)
		throw Error("metrics: socket", errno);
	int one = 1;
	::setsockopt(listen_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (::bind(listen_.get(), reinterpret_cast<sockaddr *>(&ss), len) != 0)
		throw Error("metrics: bind " + addr_port, errno);
	if (::listen(listen_.get(), 16) != 0)
		throw Error("metrics: listen " + addr_port, errno);
	sockaddr_storage got{};
	socklen_t gl = sizeof(got);
	if (::getsockname(listen_.get(), reinterpret_cast<sockaddr *>(&got), &gl) == 0)
		port_ = ntohs(got.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 *>(&got)->sin6_port
							: reinterpret_cast<sockaddr_in *>(&got)->sin_port);
	ep_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
	if (!ep_)
		throw Error("metrics: epoll_create1", errno);
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.fd = listen_.get();
	if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, listen_.get(), &ev) != 0)
		throw Error("metrics: epoll_ctl", errno);
}

MetricsServer::~MetricsServer() = default;

void MetricsServer::close_conn(int fd)
{
	::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, nullptr);
	conns_.erase(fd);
}

void MetricsServer::accept_all()
{
	for (;;) {
		int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		Fd owned(fd);
		if (conns_.size() >= kMaxConns) {
			auto oldest = conns_.begin();
			for (auto it = conns_.begin(); it != conns_.end(); ++it)
				if (it->second.serial < oldest->second.serial)
					oldest = it;
			close_conn(oldest->first);
		}
		epoll_event ev{};
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.fd = fd;
		if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
			continue;
		Conn &c = conns_[fd];
		c.fd = std::move(owned);
		c.serial = ++serial_;
	}
}

void MetricsServer::respond(Conn &c, const std::function<std::string()> &render)
{
	std::string line = c.in.substr(0, c.in.find('\n'));
	if (!line.empty() && line.back() == '\r')
		line.pop_back();
	std::string method = line.substr(0, line.find(' '));
	size_t ps = line.find(' ');
	std::string path = ps == std::string::npos ? "" : line.substr(ps + 1, line.find(' ', ps + 1) - ps - 1);
	std::string status = "200 OK", type = "text/plain; version=0.0.4; charset=utf-8", body;
	if (method != "GET" && method != "HEAD") {
		status = "405 Method Not Allowed";
		type = "text/plain; charset=utf-8";
		body = "only GET\n";
	} else if (path == "/metrics" || path.rfind("/metrics?", 0) == 0) {
		body = render();
	} else {
		status = "404 Not Found";
		type = "text/plain; charset=utf-8";
		body = "bulwark: the counters are at /metrics\n";
	}
	c.out = "HTTP/1.0 " + status + "\r\nContent-Type: " + type +
		"\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
	if (method != "HEAD")
		c.out += body;
	c.answered = true;
}

bool MetricsServer::send_some(Conn &c)
{
	while (c.sent < c.out.size()) {
		ssize_t w =
			::send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				epoll_event ev{};
				ev.events = EPOLLOUT | EPOLLRDHUP;
				ev.data.fd = c.fd.get();
				::epoll_ctl(ep_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
				return true;
			}
			return false;
		}
		c.sent += static_cast<size_t>(w);
	}
	return false;
}

void MetricsServer::on_ready(const std::function<std::string()> &render)
{
	epoll_event evs[16];
	int n = ::epoll_wait(ep_.get(), evs, 16, 0);
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		if (fd == listen_.get()) {
			accept_all();
			continue;
		}
		auto it = conns_.find(fd);
		if (it == conns_.end())
			continue;
		Conn &c = it->second;
		if (!c.answered && (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) {
			char buf[2048];
			ssize_t r;
			while ((r = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0 && c.in.size() < kMaxRequest)
				c.in.append(buf, static_cast<size_t>(r));
			// Answer once the headers are in: closing with a request
			// still unread would reset the connection under the answer.
			bool complete =
				c.in.find("\r\n\r\n") != std::string::npos || c.in.find("\n\n") != std::string::npos;
			bool eof = r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR);
			if (c.in.size() >= kMaxRequest || (eof && !complete && c.in.find('\n') == std::string::npos)) {
				close_conn(fd);
				continue;
			}
			if (!complete && !eof)
				continue;
			respond(c, render);
		} else if (!c.answered) {
			close_conn(fd);
			continue;
		}
		if (!send_some(c))
			close_conn(fd);
	}
}

} // namespace bulwark
