// SPDX-License-Identifier: Apache-2.0
// The event stream against the real kernel: every denial of either layer is
// exactly one event, attempts seen by both layers are one event, and what the
// ring buffer could not carry is counted, not silently lost.
//   Stream.*      seccomp side; runs natively and in the VM
//   LsmStream.*   needs BPF LSM: the VM
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "harness.h"

using ktest::describe;
using ktest::probe;
using ktest::Result;

namespace {

#define REQUIRE_LSM()                                                                 \
	do {                                                                          \
		if (!ktest::lsm_usable())                                             \
			GTEST_SKIP() << "needs a kernel that loads BPF-LSM programs"; \
	} while (0)

const char *kTableErrno = R"(name: table
syscalls:
  - names: [getppid]
    action: errno(EPERM)
)";

const char *kTableKill = R"(name: table
syscalls:
  - names: [getppid]
    action: kill-process
)";

const char *kShadow = R"(name: demo
rules:
  - id: no-mount
    deny: mount
  - id: no-shadow
    deny: read
    paths: [/etc/shadow]
)";

const char *kShadowAudit = R"(name: demo
mode: audit
rules:
  - id: no-mount
    deny: mount
  - id: no-shadow
    deny: read
    paths: [/etc/shadow]
)";

std::vector<std::string> strings(const nlohmann::json &a)
{
	std::vector<std::string> v;
	if (a.is_array())
		for (const auto &x : a)
			v.push_back(x.get<std::string>());
	return v;
}

using V = std::vector<std::string>;

// "denied D ok K ..." from the probe's loops.
long field(const std::string &out, const std::string &name)
{
	auto p = out.find(name + " ");
	return p == std::string::npos ? -1 : std::stol(out.substr(p + name.size() + 1));
}

struct Tally {
	long denials = 0, lost = 0, lost_events = 0, suppressed = 0, other = 0;
};

Tally tally(const Result &r, const std::string &rule)
{
	Tally t;
	for (const auto &e : r.events) {
		const auto &b = e["bulwark"];
		if (b.contains("lost")) {
			t.lost += b["lost"].get<long>();
			t.lost_events++;
		} else if (b.contains("suppressed")) {
			t.suppressed += b["suppressed"].get<long>();
		} else if (e["rule"]["id"] == rule) {
			t.denials++;
		} else {
			t.other++;
		}
	}
	return t;
}

} // namespace

// --- seccomp's own denials, through the syscall tracepoints -----------------

TEST(Stream, SyscallTableErrnoIsOneEventPerDenial)
{
	Result r = ktest::run(kTableErrno, "seccomp", {probe(), "getppid-many", "7"});
	ASSERT_EQ(r.status, 0) << describe(r);
	EXPECT_EQ(field(r.out, "denied"), 7) << describe(r);
	ASSERT_EQ(r.events.size(), 7u) << describe(r);
	for (const auto &e : r.events) {
		EXPECT_EQ(e["bulwark"]["layer"], "seccomp");
		EXPECT_EQ(e["rule"]["id"], "syscalls[0]");
		EXPECT_EQ(e["bulwark"]["syscall"]["name"], "getppid");
		EXPECT_EQ(e["bulwark"]["syscall"]["arch"], "x86_64");
		EXPECT_EQ(e["bulwark"]["syscall"]["args"].size(), 6u);
		EXPECT_EQ(e["bulwark"]["errno"], 1);
		EXPECT_EQ(e["bulwark"]["action"], "deny");
		EXPECT_EQ(e["process"]["name"], "bulwark-probe");
		EXPECT_EQ(strings(e["bulwark"]["layers_active"]), V{"seccomp"});
	}
}

TEST(Stream, FailingSyscallsAreNotMistakenForDenials)
{
	// ENOENT, EBADF, EINVAL from the kernel itself: no seccomp involved.
	Result r = ktest::run(kTableErrno, "seccomp", {probe(), "open", "/nonexistent/file", "r"});
	EXPECT_EQ(r.status, 1) << describe(r);
	EXPECT_NE(r.out.find("ENOENT"), std::string::npos) << describe(r);
	EXPECT_TRUE(r.events.empty()) << describe(r);
}

TEST(Stream, ProcessesOutsideTheTreeMakeNoEvents)
{
	std::string flag = "/tmp/bw-stream-flag." + std::to_string(getpid());
	unlink(flag.c_str());
	ktest::Run run(kTableErrno, "seccomp", {probe(), "hold", flag});
	// The sandbox is running once the probe has made its flag.
	struct stat st;
	for (int i = 0; i < 6000 && stat(flag.c_str(), &st) != 0; i++)
		usleep(10000);
	ASSERT_EQ(stat(flag.c_str(), &st), 0) << "the sandboxed probe never started";
	// Meanwhile this process fails syscalls of its own, getppid's table
	// entry does not apply to it, and none of this is the sandbox's.
	for (int i = 0; i < 200; i++) {
		EXPECT_LT(open("/nonexistent/file", O_RDONLY), 0);
		EXPECT_LT(close(-1), 0);
		EXPECT_GT(getppid(), 0);
	}
	unlink(flag.c_str());
	Result r = run.wait();
	EXPECT_EQ(r.status, 0) << describe(r);
	EXPECT_TRUE(r.events.empty()) << describe(r);
}

TEST(Stream, SyscallTableKillIsAnEvent)
{
	Result r = ktest::run(kTableKill, "seccomp", {probe(), "getppid-many", "1"});
	EXPECT_EQ(r.status, 128 + SIGSYS) << describe(r);
	ASSERT_EQ(r.events.size(), 1u) << describe(r);
	const auto &e = r.events[0];
	EXPECT_EQ(e["bulwark"]["layer"], "seccomp");
	EXPECT_EQ(e["bulwark"]["action"], "kill");
	EXPECT_EQ(e["rule"]["id"], "syscalls[0]");
	EXPECT_EQ(e["bulwark"]["syscall"]["name"], "getppid");
}

TEST(Stream, ForeignAbiKillIsAnEvent)
{
	Result r = ktest::run("name: empty\nrules: []\n", "seccomp", {probe(), "x32"});
	EXPECT_EQ(r.status, 128 + SIGSYS) << describe(r);
	ASSERT_EQ(r.events.size(), 1u) << describe(r);
	EXPECT_EQ(r.events[0]["rule"]["id"], "builtin:foreign-abi");
	EXPECT_EQ(r.events[0]["bulwark"]["syscall"]["arch"], "x32");
}

TEST(Stream, ListenerDenialIsNotReportedTwice)
{
	Result r = ktest::run(kShadow, "seccomp", {probe(), "mount", "/mnt"});
	EXPECT_EQ(r.status, 1) << describe(r);
	ASSERT_EQ(r.events.size(), 1u) << describe(r);
	EXPECT_EQ(r.events[0]["rule"]["id"], "no-mount");
	EXPECT_EQ(strings(r.events[0]["bulwark"]["denied_by"]), V{"seccomp"});
}

TEST(Stream, TableDenialBurstIsDeliveredWholeThroughTheListener)
{
	// The table's errnos are answered by the listener, not seen by a
	// tracepoint: a burst that would overflow a one-page ring buffer many
	// times over is delivered whole, one event per denial. (Ring-buffer
	// loss accounting: LsmStream.TinyRingBufferCountsEveryLostEvent.)
	const long n = 20000;
	Result r = ktest::run(kTableErrno, "seccomp", {probe(), "getppid-many", std::to_string(n)},
			      {"--ring-buffer", "4096"});
	ASSERT_EQ(r.status, 0) << r.err;
	ASSERT_EQ(field(r.out, "denied"), n) << r.out;
	Tally t = tally(r, "syscalls[0]");
	EXPECT_EQ(t.other, 0);
	EXPECT_EQ(t.lost, 0);
	EXPECT_EQ(t.denials, n);
	EXPECT_EQ(r.err.find("events lost"), std::string::npos) << r.err;
}

// An audit (log) entry of the table: the call goes on, and the stream (not
// the kernel's audit log) has one audit event per call, named by the entry.
TEST(Stream, TableLogEntryIsAnAuditEventAndTheCallRuns)
{
	const char *log_table = "name: table\nsyscalls:\n  - names: [getppid]\n    action: log\n";
	Result r = ktest::run(log_table, "seccomp", {probe(), "getppid-many", "3"});
	ASSERT_EQ(r.status, 0) << describe(r);
	EXPECT_EQ(field(r.out, "ok"), 3) << r.out;
	ASSERT_EQ(r.events.size(), 3u) << describe(r);
	for (const auto &e : r.events) {
		EXPECT_EQ(e["rule"]["id"], "syscalls[0]");
		EXPECT_EQ(e["bulwark"]["action"], "audit");
		EXPECT_EQ(e["bulwark"]["syscall"]["name"], "getppid");
		EXPECT_EQ(e["event"]["outcome"], "success");
	}
}

TEST(Stream, RateLimitSummarisesRepeats)
{
	const long n = 300;
	Result r =
		ktest::run(kTableErrno, "seccomp", {probe(), "getppid-many", std::to_string(n)}, {"--rate-limit", "5"});
	ASSERT_EQ(r.status, 0) << r.err;
	Tally t = tally(r, "syscalls[0]");
	EXPECT_GT(t.suppressed, 0) << describe(r);
	EXPECT_LT(t.denials, n);
	EXPECT_EQ(t.denials + t.suppressed, n) << describe(r);
}

// Lines from a unix stream socket until n have arrived (or 20 s pass).
std::vector<std::string> read_lines(int fd, size_t n)
{
	std::vector<std::string> lines;
	std::string buf;
	char chunk[4096];
	for (int i = 0; i < 200 && lines.size() < n; i++) {
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, 100) != 1)
			continue;
		ssize_t k = read(fd, chunk, sizeof(chunk));
		if (k <= 0)
			break;
		buf.append(chunk, static_cast<size_t>(k));
		size_t nl;
		while ((nl = buf.find('\n')) != std::string::npos) {
			lines.push_back(buf.substr(0, nl));
			buf.erase(0, nl + 1);
		}
	}
	return lines;
}

void wait_for(const std::string &path)
{
	struct stat st;
	for (int i = 0; i < 6000 && stat(path.c_str(), &st) != 0; i++)
		usleep(10000);
}

TEST(Stream, SecondReaderComesAndGoes)
{
	std::string dir = "/tmp/bw-fanout." + std::to_string(getpid());
	std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
	std::string sock = dir + "/events.sock", go1 = dir + "/go1", go2 = dir + "/go2", ready = dir + "/ready";
	std::string script = "touch " + ready + "; while [ ! -e " + go1 + " ]; do sleep 0.05; done; " + probe() +
			     " getppid-many 2; while [ ! -e " + go2 + " ]; do sleep 0.05; done; " + probe() +
			     " getppid-many 3";
	ktest::Run run(kTableErrno, "seccomp", {"/bin/sh", "-c", script}, {"--events", "unix:" + sock});
	wait_for(ready);
	// A monitor connects, takes what happens while it is there, and leaves.
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_un sa{};
	sa.sun_family = AF_UNIX;
	std::snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock.c_str());
	ASSERT_EQ(connect(s, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0) << std::strerror(errno);
	std::ofstream(go1).flush();
	auto first = read_lines(s, 2);
	close(s);
	// Another one comes, through `bulwark events`, and reads to the end.
	std::string cmd = ktest::bulwark_bin() + " events --from unix:" + sock;
	FILE *p = popen(cmd.c_str(), "r");
	ASSERT_NE(p, nullptr);
	usleep(300000); // let it connect
	std::ofstream(go2).flush();
	std::vector<std::string> second;
	char line[65536];
	while (fgets(line, sizeof(line), p))
		second.emplace_back(line);
	int pst = pclose(p);
	Result r = run.wait();
	std::system(("rm -rf " + dir).c_str());
	ASSERT_EQ(r.status, 0) << describe(r);
	ASSERT_EQ(first.size(), 2u);
	ASSERT_EQ(second.size(), 3u);
	EXPECT_EQ(WEXITSTATUS(pst), 0);
	for (const auto &l : first)
		EXPECT_EQ(nlohmann::json::parse(l)["rule"]["id"], "syscalls[0]");
	for (const auto &l : second)
		EXPECT_EQ(nlohmann::json::parse(l)["rule"]["id"], "syscalls[0]");
}

// --- both layers ------------------------------------------------------------

TEST(LsmStream, EveryDenialIsExactlyOneEvent)
{
	REQUIRE_LSM();
	Result r = ktest::run(kShadow, "all", {probe(), "open-many", "25", "/etc/shadow"});
	ASSERT_EQ(r.status, 0) << describe(r);
	EXPECT_EQ(field(r.out, "denied"), 25) << describe(r);
	ASSERT_EQ(r.events.size(), 25u) << describe(r);
	for (const auto &e : r.events) {
		EXPECT_EQ(e["bulwark"]["layer"], "lsm");
		EXPECT_EQ(e["bulwark"]["hook"], "file_open");
		EXPECT_EQ(e["rule"]["id"], "no-shadow");
		EXPECT_EQ(e["file"]["path"], "/etc/shadow");
		EXPECT_EQ(e["bulwark"]["syscall"]["name"], "openat");
		// seccomp saw the openat and let it through; only the LSM denies.
		EXPECT_EQ(strings(e["bulwark"]["denied_by"]), V{"lsm"});
		EXPECT_EQ(strings(e["bulwark"]["evaluated_by"]), (V{"seccomp", "lsm"}));
		EXPECT_EQ(strings(e["bulwark"]["layers_active"]), (V{"seccomp", "lsm"}));
	}
}

TEST(LsmStream, AuditAttemptSeenByBothLayersIsOneEvent)
{
	REQUIRE_LSM();
	char dir[] = "/tmp/bw-audit-mnt.XXXXXX";
	ASSERT_NE(mkdtemp(dir), nullptr);
	Result r = ktest::run(kShadowAudit, "all", {probe(), "mount", dir});
	rmdir(dir);
	ASSERT_EQ(r.status, 0) << describe(r); // audit: the mount happened
	std::vector<nlohmann::json> mounts;
	for (const auto &e : r.events)
		if (e["bulwark"]["syscall"]["name"] == "mount")
			mounts.push_back(e);
	ASSERT_EQ(mounts.size(), 1u) << describe(r);
	const auto &e = mounts[0];
	EXPECT_EQ(e["bulwark"]["action"], "audit");
	EXPECT_EQ(e["rule"]["id"], "no-mount");
	EXPECT_EQ(strings(e["bulwark"]["denied_by"]), (V{"seccomp", "lsm"}));
	EXPECT_EQ(strings(e["bulwark"]["evaluated_by"]), (V{"seccomp", "lsm"}));
	EXPECT_EQ(e["bulwark"]["hook"], "sb_mount");
}

TEST(LsmStream, AuditModeReportsBothLayersAndBlocksNothing)
{
	REQUIRE_LSM();
	Result r = ktest::run(kShadowAudit, "all", {probe(), "open-many", "3", "/etc/shadow"});
	ASSERT_EQ(r.status, 0) << describe(r);
	EXPECT_EQ(field(r.out, "ok"), 3) << describe(r);
	ASSERT_EQ(r.events.size(), 3u) << describe(r);
	for (const auto &e : r.events) {
		EXPECT_EQ(e["bulwark"]["action"], "audit");
		EXPECT_EQ(e["event"]["outcome"], "success");
	}
}

TEST(LsmStream, LsmAloneSaysWhatSeccompWouldHaveDone)
{
	REQUIRE_LSM();
	Result r = ktest::run(kShadow, "lsm", {probe(), "mount", "/mnt"});
	EXPECT_EQ(r.status, 1) << describe(r);
	ASSERT_EQ(r.events.size(), 1u) << describe(r);
	const auto &e = r.events[0];
	EXPECT_EQ(e["bulwark"]["layer"], "lsm");
	EXPECT_EQ(e["bulwark"]["syscall"]["name"], "mount");
	EXPECT_EQ(strings(e["bulwark"]["denied_by"]), (V{"seccomp", "lsm"}));
	EXPECT_EQ(strings(e["bulwark"]["layers_active"]), V{"lsm"});
}

TEST(LsmStream, TinyRingBufferCountsEveryLostEvent)
{
	REQUIRE_LSM();
	const long n = 5000;
	Result r = ktest::run(kShadow, "lsm", {probe(), "open-many", std::to_string(n), "/etc/shadow"},
			      {"--ring-buffer", "4096"});
	ASSERT_EQ(r.status, 0) << r.err;
	ASSERT_EQ(field(r.out, "denied"), n) << r.out;
	Tally t = tally(r, "no-shadow");
	EXPECT_EQ(t.other, 0);
	EXPECT_GT(t.lost, 0) << "the burst did not overflow the ring buffer";
	EXPECT_EQ(t.denials + t.lost, n) << "delivered " << t.denials << " lost " << t.lost;
}
