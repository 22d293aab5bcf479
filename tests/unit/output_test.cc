// SPDX-License-Identifier: Apache-2.0
// Where event lines go (files, unix sockets, tees) and the metrics endpoint.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "loader/kernel/fd.h"
#include "loader/sinks/metrics.h"
#include "loader/sinks/output.h"

using namespace bulwark;

namespace {

struct TempDir {
	std::string path;
	TempDir()
	{
		char t[] = "/tmp/bulwark-output-XXXXXX";
		path = mkdtemp(t);
	}
	~TempDir() { (void)std::system(("rm -rf '" + path + "'").c_str()); }
};

std::string slurp(const std::string &path)
{
	std::ifstream in(path);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

Fd connect_unix(const std::string &path)
{
	Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	sockaddr_un sa{};
	sa.sun_family = AF_UNIX;
	std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
	EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0) << std::strerror(errno);
	return fd;
}

// What the poll loop does when the output's fd is readable.
void pump(Output &o, int ms = 50)
{
	pollfd p{o.poll_fd(), POLLIN, 0};
	while (::poll(&p, 1, ms) > 0) {
		o.on_ready();
		ms = 0;
	}
}

// Reads what is there now, without waiting for more.
std::string drain(int fd)
{
	std::string r;
	char buf[65536];
	for (;;) {
		ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			return r;
		r.append(buf, static_cast<size_t>(n));
	}
}

std::string numbered(int i)
{
	return "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'x') + "\"}";
}

} // namespace

TEST(Output, FileAppendsWholeLinesAndReopensAfterRename)
{
	TempDir d;
	std::string path = d.path + "/events.json";
	{
		std::ofstream(path) << "{\"old\":1}\n";
	}
	auto out = open_outputs({path});
	out->line("{\"a\":1}");
	out->line("{\"b\":2}");
	out->flush();
	EXPECT_EQ(slurp(path), "{\"old\":1}\n{\"a\":1}\n{\"b\":2}\n") << "appends";
	ASSERT_EQ(::rename(path.c_str(), (path + ".1").c_str()), 0);
	out->line("{\"c\":3}"); // accepted before the reopen: belongs to the old file
	out->reopen();
	out->line("{\"d\":4}");
	out->flush();
	EXPECT_EQ(slurp(path + ".1"), "{\"old\":1}\n{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
	EXPECT_EQ(slurp(path), "{\"d\":4}\n");
	struct stat st {};
	ASSERT_EQ(::stat(path.c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(Output, FailedReopenKeepsTheOldFile)
{
	TempDir d;
	ASSERT_EQ(::mkdir((d.path + "/sub").c_str(), 0700), 0);
	auto out = open_outputs({d.path + "/sub/events.json"});
	ASSERT_EQ(::rename((d.path + "/sub").c_str(), (d.path + "/moved").c_str()), 0);
	EXPECT_NO_THROW(out->reopen()); // sub/ is gone: nothing to open
	out->line("{\"still\":1}");
	out->flush();
	EXPECT_EQ(slurp(d.path + "/moved/events.json"), "{\"still\":1}\n");
}

TEST(Output, FileBufferNeverEndsMidLine)
{
	TempDir d;
	std::string path = d.path + "/events.json";
	auto out = open_outputs({path});
	// More than the buffer holds, without flush(): what reached the file is
	// whole lines.
	for (int i = 0; i < 2000; i++)
		out->line(numbered(i));
	std::string got = slurp(path);
	ASSERT_FALSE(got.empty());
	EXPECT_EQ(got.back(), '\n');
	out.reset();
	got = slurp(path);
	EXPECT_EQ(std::count(got.begin(), got.end(), '\n'), 2000) << "destruction flushes";
}

TEST(Output, OpenErrorsNameThePathAndErrno)
{
	try {
		open_outputs({"/nonexistent-dir/x/events.json"});
		FAIL() << "no error";
	} catch (const Error &e) {
		EXPECT_EQ(e.err(), ENOENT);
		EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x/events.json"), std::string::npos) << e.what();
	}
	TempDir d;
	std::string file = d.path + "/not-a-socket";
	std::ofstream(file) << "keep me\n";
	EXPECT_THROW(open_outputs({"unix:" + file}), Error);
	EXPECT_EQ(slurp(file), "keep me\n") << "a regular file is never unlinked";
	// A tee is all or nothing: the socket made before the failure is gone.
	EXPECT_THROW(open_outputs({"unix:" + d.path + "/s", "/nonexistent-dir/y"}), Error);
	struct stat st {};
	EXPECT_NE(::stat((d.path + "/s").c_str(), &st), 0);
}

TEST(Output, UnixSocketClientsGetEveryLineFromConnectOn)
{
	TempDir d;
	std::string sock = d.path + "/events.sock";
	// A stale socket from an earlier run is replaced.
	{
		Fd stale(::socket(AF_UNIX, SOCK_STREAM, 0));
		sockaddr_un sa{};
		sa.sun_family = AF_UNIX;
		std::strcpy(sa.sun_path, sock.c_str());
		ASSERT_EQ(::bind(stale.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0);
	}
	auto out = open_outputs({"unix:" + sock});
	ASSERT_GE(out->poll_fd(), 0);
	out->line("{\"before\":1}"); // nobody is connected yet
	out->flush();
	Fd a = connect_unix(sock), b = connect_unix(sock);
	pump(*out);
	out->line("{\"x\":1}");
	out->line("{\"x\":2}");
	out->flush();
	EXPECT_EQ(drain(a.get()), "{\"x\":1}\n{\"x\":2}\n");
	EXPECT_EQ(drain(b.get()), "{\"x\":1}\n{\"x\":2}\n");
	// A client that hangs up is forgotten; the other keeps going.
	b.reset();
	pump(*out);
	out->line("{\"x\":3}");
	out->flush();
	EXPECT_EQ(drain(a.get()), "{\"x\":3}\n");
	out.reset();
	struct stat st {};
	EXPECT_NE(::stat(sock.c_str(), &st), 0) << "the socket file goes with the output";
}

TEST(Output, SlowClientIsDroppedWithoutBlockingAndGetsWholeLines)
{
	TempDir d;
	std::string sock = d.path + "/events.sock";
	auto out = open_outputs({"unix:" + sock});
	Fd reader = connect_unix(sock), stuck = connect_unix(sock);
	pump(*out);
	std::string got;
	auto start = std::chrono::steady_clock::now();
	const int kLines = 20000; // ~4.3 MB: far past the socket buffer and the backlog
	for (int i = 0; i < kLines; i++) {
		out->line(numbered(i));
		if (i % 100 == 99) {
			out->flush();
			pump(*out, 0);
			got += drain(reader.get());
		}
	}
	out->flush();
	pump(*out, 0);
	got += drain(reader.get());
	auto took = std::chrono::steady_clock::now() - start;
	EXPECT_LT(took, std::chrono::seconds(10)) << "never waits for a client";
	// The reader got everything, in order.
	std::istringstream r(got);
	int n = 0;
	for (std::string l; std::getline(r, l); n++)
		ASSERT_EQ(l, numbered(n));
	EXPECT_EQ(n, kLines);
	// The stuck one was dropped: what it can still read is whole lines,
	// then end of file.
	std::string s;
	char buf[65536];
	for (ssize_t k; (k = ::recv(stuck.get(), buf, sizeof(buf), 0)) > 0;)
		s.append(buf, static_cast<size_t>(k));
	ASSERT_FALSE(s.empty());
	EXPECT_LT(s.size(), got.size());
	EXPECT_EQ(s.back(), '\n') << "no half line";
	std::istringstream st(s);
	n = 0;
	for (std::string l; std::getline(st, l); n++)
		ASSERT_EQ(l, numbered(n));
}

TEST(Output, TeeWritesEverywhere)
{
	TempDir d;
	std::string f1 = d.path + "/a.json", f2 = d.path + "/b.json", sock = d.path + "/s";
	auto out = open_outputs({f1, f2, "unix:" + sock});
	ASSERT_GE(out->poll_fd(), 0);
	Fd c = connect_unix(sock);
	pump(*out);
	out->line("{\"t\":1}");
	out->flush();
	EXPECT_EQ(slurp(f1), "{\"t\":1}\n");
	EXPECT_EQ(slurp(f2), "{\"t\":1}\n");
	EXPECT_EQ(drain(c.get()), "{\"t\":1}\n");
}

// --- metrics -----------------------------------------------------------------

TEST(Metrics, RenderFormat)
{
	MetricsSnapshot m;
	m.denials.push_back({"no-shadow", kLayerLsm, false, 3});
	m.denials.push_back({"we\"ird\\id\nx\xff", kLayerSeccomp, true, 1});
	m.written = 4;
	m.lost = 2;
	m.suppressed = 9;
	EXPECT_EQ(render_metrics(m),
		  "# HELP bulwark_rule_denials_total Accesses denied (audit mode: that would have been denied), per "
		  "rule and layer.\n"
		  "# TYPE bulwark_rule_denials_total counter\n"
		  "bulwark_rule_denials_total{rule=\"no-shadow\",layer=\"lsm\",mode=\"enforce\"} 3\n"
		  "bulwark_rule_denials_total{rule=\"we\\\"ird\\\\id\\nx\xef\xbf\xbd\",layer=\"seccomp\",mode="
		  "\"audit\"} 1\n"
		  "# HELP bulwark_events_written_total Event lines written.\n"
		  "# TYPE bulwark_events_written_total counter\n"
		  "bulwark_events_written_total 4\n"
		  "# HELP bulwark_events_lost_total Events the kernel could not queue (ring buffer full).\n"
		  "# TYPE bulwark_events_lost_total counter\n"
		  "bulwark_events_lost_total 2\n"
		  "# HELP bulwark_events_suppressed_total Events held back by the rate limit.\n"
		  "# TYPE bulwark_events_suppressed_total counter\n"
		  "bulwark_events_suppressed_total 9\n");
}

TEST(Metrics, RefusesNonLoopbackUnlessAllowed)
{
	EXPECT_THROW(MetricsServer("0.0.0.0:0"), Error);
	EXPECT_THROW(MetricsServer("192.0.2.1:9100"), Error);
	EXPECT_THROW(MetricsServer("example.com:9100"), Error);
	EXPECT_THROW(MetricsServer("127.0.0.1:99999"), Error);
	EXPECT_NO_THROW(MetricsServer("0.0.0.0:0", true));
	EXPECT_NO_THROW(MetricsServer("localhost:0"));
}

namespace {

std::string http_get(MetricsServer &srv, const std::string &request, const std::function<std::string()> &render)
{
	Fd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	sa.sin_port = htons(srv.port());
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	EXPECT_EQ(::connect(c.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0);
	EXPECT_EQ(::send(c.get(), request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
	std::string resp;
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
	for (;;) {
		pollfd p[2] = {{srv.fd(), POLLIN, 0}, {c.get(), POLLIN, 0}};
		::poll(p, 2, 100);
		if (p[0].revents)
			srv.on_ready(render);
		if (p[1].revents) {
			char buf[4096];
			ssize_t n = ::recv(c.get(), buf, sizeof(buf), 0);
			if (n <= 0)
				break;
			resp.append(buf, static_cast<size_t>(n));
		}
		if (std::chrono::steady_clock::now() > deadline) {
			ADD_FAILURE() << "no answer";
			break;
		}
	}
	return resp;
}

} // namespace

TEST(Metrics, LiveLoopbackGet)
{
	MetricsServer srv("127.0.0.1:0");
	ASSERT_NE(srv.port(), 0);
	int renders = 0;
	auto render = [&] {
		renders++;
		MetricsSnapshot m;
		m.written = 42;
		return render_metrics(m);
	};
	std::string r = http_get(srv, "GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n", render);
	EXPECT_EQ(r.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << r;
	EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
	EXPECT_NE(r.find("\r\n\r\n# HELP bulwark_rule_denials_total"), std::string::npos);
	EXPECT_NE(r.find("\nbulwark_events_written_total 42\n"), std::string::npos);
	std::string body = r.substr(r.find("\r\n\r\n") + 4);
	EXPECT_NE(r.find("Content-Length: " + std::to_string(body.size()) + "\r\n"), std::string::npos);
	EXPECT_EQ(renders, 1);
	EXPECT_EQ(http_get(srv, "GET / HTTP/1.0\r\n\r\n", render).rfind("HTTP/1.0 404", 0), 0u);
	EXPECT_EQ(http_get(srv, "POST /metrics HTTP/1.0\r\n\r\n", render).rfind("HTTP/1.0 405", 0), 0u);
	EXPECT_EQ(renders, 1);
}
