// SPDX-License-Identifier: Apache-2.0
// Kernel tests: the real bulwark binary, the real kernel. Suites:
//   Seccomp.*  the seccomp layer alone; runs natively and in the VM
//   Native.*   behaviour on a kernel that cannot load BPF-LSM programs
//   Lsm.*, Layers.*  need BPF LSM: run in the VM (tests/vm/)
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "harness.h"

using ktest::probe;
using ktest::Result;

namespace {

const char *kDemo = R"(name: demo
mode: enforce
rules:
  - id: no-mount
    deny: mount
  - id: no-shadow
    deny: [read, write]
    paths: [/etc/shadow]
  - id: no-shell
    deny: exec
    paths: [/bin/sh]
)";

const char *kAuditDemo = R"(name: demo-audit
mode: audit
rules:
  - id: no-mount
    deny: mount
  - id: no-shadow
    deny: [read, write]
    paths: [/etc/shadow]
)";

std::string diag(const Result &r)
{
	return ktest::describe(r);
}

using ktest::lsm_usable;

// Every LSM test needs the VM (or a host that loads BPF-LSM programs, which
// run-suite.sh tells us through BULWARK_LSM_TESTS). Skips are reported as skips.
#define REQUIRE_LSM()                                                                 \
	do {                                                                          \
		if (!lsm_usable())                                                    \
			GTEST_SKIP() << "needs a kernel that loads BPF-LSM programs"; \
	} while (0)

void expect_event_identity(const nlohmann::json &e, const std::string &layer, const std::string &rule)
{
	EXPECT_EQ(e["bulwark"]["layer"], layer);
	EXPECT_EQ(e["rule"]["id"], rule);
	EXPECT_EQ(e["rule"]["ruleset"], "demo");
	EXPECT_EQ(e["bulwark"]["action"], "deny");
	EXPECT_EQ(e["bulwark"]["errno"], 1);
	EXPECT_EQ(e["bulwark"]["errno_name"], "EPERM");
	EXPECT_EQ(e["user"]["id"], std::to_string(getuid()));
	EXPECT_EQ(e["process"]["name"], "bulwark-probe");
	EXPECT_EQ(e["process"]["executable"], probe());
	EXPECT_GT(e["process"]["pid"].get<long>(), 0);
	EXPECT_EQ(e["process"]["pid"], e["process"]["thread"]["id"]);
	EXPECT_GT(e["process"]["parent"]["pid"].get<long>(), 0);
	EXPECT_TRUE(e["@timestamp"].get<std::string>().rfind("20", 0) == 0);
}

// "pid P ppid Q" printed by the probe.
std::pair<long, long> probe_ids(const Result &r)
{
	long pid = -1, ppid = -1;
	std::sscanf(r.out.c_str(), "pid %ld ppid %ld", &pid, &ppid);
	return {pid, ppid};
}

} // namespace

// --- seccomp layer alone ---------------------------------------------------

TEST(Seccomp, MountIsDeniedWithEventAndErrno)
{
	Result r = ktest::run(kDemo, "seccomp", {probe(), "pid", "mount", "/mnt"});
	ASSERT_EQ(r.status, 1) << diag(r);
	EXPECT_NE(r.out.find("err mount EPERM"), std::string::npos) << diag(r);
	ASSERT_EQ(r.events.size(), 1u) << diag(r);
	const auto &e = r.events[0];
	expect_event_identity(e, "seccomp", "no-mount");
	EXPECT_EQ(e["bulwark"]["syscall"]["name"], "mount");
	EXPECT_EQ(e["bulwark"]["syscall"]["args"].size(), 6u);
	auto [pid, ppid] = probe_ids(r);
	EXPECT_EQ(e["process"]["pid"], pid);
	EXPECT_EQ(e["process"]["parent"]["pid"], ppid);
}

TEST(Seccomp, NewMountApiStoppedAtFsopen)
{
	Result r = ktest::run(kDemo, "seccomp", {probe(), "fsmount", "/mnt"});
	EXPECT_EQ(r.status, 1) << diag(r);
	EXPECT_NE(r.out.find("err fsopen EPERM"), std::string::npos) << diag(r);
	ASSERT_EQ(r.events.size(), 1u) << diag(r);
	EXPECT_EQ(r.events[0]["bulwark"]["syscall"]["name"], "fsopen");
}

TEST(Seccomp, CannotSeePathsSoShadowIsReadable)
{
	// The comparison the layers exist for: seccomp alone lets this through.
	Result r = ktest::run(kDemo, "seccomp", {probe(), "open", "/etc/shadow", "r"});
	EXPECT_EQ(r.status, 0) << diag(r);
	EXPECT_EQ(r.out, "ok\n");
	EXPECT_TRUE(r.events.empty()) << diag(r);
}

TEST(Seccomp, AuditModeLetsTheCallThroughAndReports)
{
	// umount2 of a path that is not a mount point: harmless, and the kernel's
	// own EINVAL proves the call really ran.
	std::string dir = "/tmp/bw-not-a-mount-" + std::to_string(getpid());
	mkdir(dir.c_str(), 0700);
	Result r = ktest::run(kAuditDemo, "seccomp", {probe(), "umount", dir});
	rmdir(dir.c_str());
	EXPECT_NE(r.out.find("err umount2 EINVAL"), std::string::npos) << diag(r);
	EXPECT_EQ(r.out.find("EPERM"), std::string::npos) << diag(r);
	ASSERT_EQ(r.events.size(), 1u) << diag(r);
	EXPECT_EQ(r.events[0]["bulwark"]["action"], "audit");
	EXPECT_EQ(r.events[0]["bulwark"]["errno"], 0);
	EXPECT_EQ(r.events[0]["event"]["outcome"], "success");
	EXPECT_EQ(r.events[0]["bulwark"]["syscall"]["name"], "umount2");
}

TEST(Seccomp, X32SyscallKillsTheProcess)
{
	Result r = ktest::run(kDemo, "seccomp", {probe(), "x32"});
	EXPECT_EQ(r.status, 128 + SIGSYS) << diag(r);
	EXPECT_EQ(r.out, "") << diag(r);
	// Even an empty policy's filter keeps the ABI check.
	Result empty = ktest::run("name: empty\nrules: []\n", "seccomp", {probe(), "x32"});
	EXPECT_EQ(empty.status, 128 + SIGSYS) << diag(empty);
	// Without bulwark the same call runs (or fails with ENOSYS where the
	// kernel has x32 disabled): the kill is the filter's doing.
	int bare = std::system((probe() + " x32 > /dev/null").c_str());
	ASSERT_TRUE(WIFEXITED(bare)) << "status " << bare;
	EXPECT_NE(WEXITSTATUS(bare), 128 + SIGSYS);
}

TEST(Seccomp, ForeignAbiKilledUnlessOptedIn)
{
	REQUIRE_HOST_FEATURE(ktest::host_runs_i386(), "a working i386 entry (int 0x80)");
	// i386 through int 0x80 from a 64-bit process: a different syscall table.
	Result killed = ktest::run(kDemo, "seccomp", {probe(), "i386", "getpid"});
	EXPECT_EQ(killed.status, 128 + SIGSYS) << diag(killed);
	std::string pol = "name: demo\narchitectures: [x86_64, x86]\nrules:\n  - id: no-mount\n    deny: mount\n";
	Result ok = ktest::run(pol, "seccomp", {probe(), "i386", "getpid"});
	EXPECT_EQ(ok.out, "ok\n") << diag(ok);
	// Opted in, the rules apply on that ABI too, and the event names it.
	Result m = ktest::run(pol, "seccomp", {probe(), "i386", "mount"});
	EXPECT_EQ(m.out, "err mount EPERM\n") << diag(m);
	ASSERT_EQ(m.events.size(), 1u) << diag(m);
	EXPECT_EQ(m.events[0]["bulwark"]["syscall"]["name"], "mount");
	EXPECT_EQ(m.events[0]["bulwark"]["syscall"]["arch"], "x86");
	EXPECT_EQ(m.events[0]["rule"]["id"], "no-mount");
	// What 32-bit glibc calls for setuid() is setuid32.
	std::string su = "name: demo\narchitectures: [x86_64, x86]\nrules:\n  - id: no-setuid\n    deny: setuid\n";
	Result s32 = ktest::run(su, "seccomp", {probe(), "i386", "setuid32"});
	EXPECT_EQ(s32.out, "err setuid32 EPERM\n") << diag(s32);
	ASSERT_EQ(s32.events.size(), 1u) << diag(s32);
	EXPECT_EQ(s32.events[0]["bulwark"]["syscall"]["name"], "setuid32");
	EXPECT_EQ(s32.events[0]["rule"]["id"], "no-setuid");
}

TEST(Seccomp, BundledDockerDefaultRuns)
{
	// Docker's default profile, imported: ordinary programs run, and what
	// Docker denies (here: mount, which needs CAP_SYS_ADMIN) is denied.
	std::string pol = "name: docker\nextends: docker-default\n";
	Result ok = ktest::run(pol, "seccomp", {probe(), "open", "/etc/passwd", "r"});
	EXPECT_EQ(ok.status, 0) << diag(ok);
	Result m = ktest::run(pol, "seccomp", {probe(), "mount", "/mnt"});
	EXPECT_EQ(m.out, "err mount EPERM\n") << diag(m);
}

TEST(Seccomp, WordRulesHoldOverAnAllowingSyscallTable)
{
	// Docker's profile allows socket() outright; the raw-sockets word must
	// still stop a packet socket (the table and the words are two stacked
	// filters, and the kernel applies the stricter verdict).
	std::string pol = "name: docker\nextends: docker-default\nrules:\n  - id: no-raw\n    deny: raw-sockets\n";
	Result raw = ktest::run(pol, "seccomp", {probe(), "socket", "17", "3"});
	EXPECT_EQ(raw.out, "err socket EPERM\n") << diag(raw);
	ASSERT_EQ(raw.events.size(), 1u) << diag(raw);
	EXPECT_EQ(raw.events[0]["rule"]["id"], "no-raw");
	Result udp = ktest::run(pol, "seccomp", {probe(), "socket", "2", "2"});
	EXPECT_EQ(udp.out, "ok\n") << diag(udp);
}

TEST(Seccomp, ExitStatusConventions)
{
	EXPECT_EQ(ktest::run(kDemo, "seccomp", {probe(), "exit", "3"}).status, 3);
	Result missing = ktest::run(kDemo, "seccomp", {"/nonexistent/cmd"});
	EXPECT_EQ(missing.status, 127) << diag(missing);
	char tmpl[] = "/tmp/bwnoexec.XXXXXX";
	int fd = mkstemp(tmpl);
	ASSERT_GE(fd, 0);
	close(fd);
	Result noexec = ktest::run(kDemo, "seccomp", {tmpl});
	unlink(tmpl);
	EXPECT_EQ(noexec.status, 126) << diag(noexec);
}

TEST(Seccomp, InvalidPolicyFailsWithLocationAndRunsNothing)
{
	Result r = ktest::run("name: bad\nrules:\n  - id: x\n    deny: mnt\n", "seccomp", {probe(), "exit", "0"});
	EXPECT_EQ(r.status, 125) << diag(r);
	EXPECT_NE(r.err.find("policy.yaml:4:11: unknown rule word 'mnt'"), std::string::npos) << diag(r);
}

// --- a kernel without usable BPF LSM ----------------------------------------

TEST(Native, LsmLayerFailsClosedWhenProgramsCannotLoad)
{
	if (lsm_usable())
		GTEST_SKIP() << "this kernel loads BPF-LSM programs; the failure path cannot be shown here";
	std::string flag = "/tmp/bwtest-ran-" + std::to_string(getpid());
	Result r = ktest::run(kDemo, "all", {probe(), "hold", flag});
	bool ran = access(flag.c_str(), F_OK) == 0;
	unlink(flag.c_str());
	EXPECT_EQ(r.status, 125) << diag(r);
	EXPECT_FALSE(ran) << "the workload started although a layer was missing";
	EXPECT_NE(r.err.find("lsm: "), std::string::npos) << diag(r);
	EXPECT_NE(r.err.find("nothing was applied"), std::string::npos) << diag(r);
}

// --- BPF-LSM layer (VM) ---------------------------------------------------

TEST(Lsm, ShadowReadAndWriteDeniedPasswdAllowed)
{
	REQUIRE_LSM();
	Result r = ktest::run(kDemo, "lsm", {probe(), "pid", "open", "/etc/shadow", "r"});
	EXPECT_EQ(r.status, 1) << diag(r);
	EXPECT_NE(r.out.find("err open EPERM"), std::string::npos) << diag(r);
	ASSERT_EQ(r.events.size(), 1u) << diag(r);
	const auto &e = r.events[0];
	expect_event_identity(e, "lsm", "no-shadow");
	EXPECT_EQ(e["bulwark"]["hook"], "file_open");
	EXPECT_EQ(e["file"]["path"], "/etc/shadow");
	EXPECT_EQ(e["bulwark"]["access"], nlohmann::json::array({"read"}));
	auto [pid, ppid] = probe_ids(r);
	EXPECT_EQ(e["process"]["pid"], pid);
	EXPECT_EQ(e["process"]["parent"]["pid"], ppid);

	Result w = ktest::run(kDemo, "lsm", {probe(), "open", "/etc/shadow", "w"});
	EXPECT_NE(w.out.find("err open EPERM"), std::string::npos) << diag(w);
	ASSERT_EQ(w.events.size(), 1u) << diag(w);
	EXPECT_EQ(w.events[0]["bulwark"]["access"], nlohmann::json::array({"write"}));

	Result ok = ktest::run(kDemo, "lsm", {probe(), "open", "/etc/passwd", "rw"});
	EXPECT_EQ(ok.status, 0) << diag(ok);
	EXPECT_TRUE(ok.events.empty()) << diag(ok);
}

TEST(Lsm, HardLinkAndSymlinkToShadowAreTheSameFile)
{
	REQUIRE_LSM();
	ASSERT_EQ(link("/etc/shadow", "/etc/.shadow-hardlink"), 0) << strerror(errno);
	unlink("/tmp/shadow-symlink");
	ASSERT_EQ(symlink("/etc/shadow", "/tmp/shadow-symlink"), 0);
	Result hl = ktest::run(kDemo, "lsm", {probe(), "open", "/etc/.shadow-hardlink", "r"});
	Result sl = ktest::run(kDemo, "lsm", {probe(), "open", "/tmp/shadow-symlink", "r"});
	unlink("/etc/.shadow-hardlink");
	unlink("/tmp/shadow-symlink");
	EXPECT_NE(hl.out.find("err open EPERM"), std::string::npos) << diag(hl);
	EXPECT_NE(sl.out.find("err open EPERM"), std::string::npos) << diag(sl);
	ASSERT_EQ(sl.events.size(), 1u) << diag(sl);
	EXPECT_EQ(sl.events[0]["file"]["path"], "/etc/shadow");
}

TEST(Lsm, EveryWayToNameShadowIsTheSameFile)
{
	REQUIRE_LSM();
	std::vector<std::vector<std::string>> ways = {
		{"/usr/bin/bash", "-c", "cd /etc && exec " + probe() + " open shadow r"},
		{"/usr/bin/bash", "-c",
		 "cd /etc/ssl 2>/dev/null || cd /tmp; exec " + probe() + " open ../../etc/shadow r"},
		{probe(), "open", "/proc/self/root/etc/shadow", "r"},
		{probe(), "open", "/etc/../etc/./shadow", "r"},
		{probe(), "openat", "/etc", "shadow"},
		{probe(), "openat2", "/etc/shadow"},
	};
	for (const auto &cmd : ways) {
		Result r = ktest::run(kDemo, "lsm", cmd);
		EXPECT_NE(r.out.find(" EPERM"), std::string::npos) << cmd.back() << "\n" << diag(r);
		ASSERT_EQ(r.events.size(), 1u) << diag(r);
		EXPECT_EQ(r.events[0]["file"]["path"], "/etc/shadow");
	}
}

TEST(Layers, IoUringOpenBypassesSeccompNotTheLsm)
{
	REQUIRE_LSM();
	// A syscall filter never sees IORING_OP_OPENAT; file_open does.
	Result sc = ktest::run(kDemo, "seccomp", {probe(), "uring-open", "/etc/shadow"});
	EXPECT_EQ(sc.out, "ok\n") << diag(sc);
	EXPECT_TRUE(sc.events.empty()) << diag(sc);
	for (std::string layers : {"lsm", "all"}) {
		Result r = ktest::run(kDemo, layers, {probe(), "uring-open", "/etc/shadow"});
		EXPECT_EQ(r.out, "err io_uring_openat EPERM\n") << layers << "\n" << diag(r);
		ASSERT_EQ(r.events.size(), 1u) << diag(r);
		EXPECT_EQ(r.events[0]["bulwark"]["hook"], "file_open");
	}
}

TEST(Lsm, ReplacedShadowStillDeniedByPath)
{
	REQUIRE_LSM();
	// passwd(1) writes a new file and renames it over /etc/shadow: a new
	// inode the identity map has never seen; the path map catches it.
	std::string policy_dir = "/tmp/bwrepl";
	mkdir(policy_dir.c_str(), 0700);
	std::string victim = policy_dir + "/secret";
	std::ofstream(victim) << "old\n";
	std::string pol = "name: demo\nrules:\n  - id: no-secret\n    deny: read\n    paths: [" + victim + "]\n";
	std::string flag = "/tmp/bwrepl-hold";
	ktest::Run run(pol, "lsm",
		       {"/bin/bash", "-c",
			probe() + " hold " + flag + " >/dev/null; exec " + probe() + " open " + victim + " r"});
	for (int i = 0; i < 6000 && access(flag.c_str(), F_OK) != 0; i++)
		usleep(10000);
	std::ofstream(victim + ".new") << "new\n";
	ASSERT_EQ(rename((victim + ".new").c_str(), victim.c_str()), 0);
	unlink(flag.c_str());
	Result r = run.wait();
	EXPECT_NE(r.out.find("err open EPERM"), std::string::npos) << diag(r);
	ASSERT_EQ(r.events.size(), 1u) << diag(r);
	EXPECT_EQ(r.events[0]["file"]["path"], victim);
}

TEST(Lsm, ExecOfShellDeniedNeighbourAllowed)
{
	REQUIRE_LSM();
	Result r = ktest::run(kDemo, "lsm", {probe(), "exec", "/bin/sh", "-c", "exit 0"});
	EXPECT_EQ(r.status, 1) << diag(r);
	EXPECT_NE(r.out.find("err execve EPERM"), std::string::npos) << diag(r);
	ASSERT_EQ(r.events.size(), 1u) << diag(r);
	expect_event_identity(r.events[0], "lsm", "no-shell");
	EXPECT_EQ(r.events[0]["bulwark"]["hook"], "bprm_check_security");
	char real[PATH_MAX];
	ASSERT_NE(realpath("/bin/sh", real), nullptr);
	EXPECT_EQ(r.events[0]["file"]["path"], real);

	Result ok = ktest::run(kDemo, "lsm", {probe(), "exec", "/usr/bin/true"});
	EXPECT_EQ(ok.status, 0) << diag(ok);
	EXPECT_TRUE(ok.events.empty()) << diag(ok);
}

TEST(Lsm, ShebangInterpreterAndLoaderTrickDenied)
{
	REQUIRE_LSM();
	std::string script = "/tmp/bw-script.sh";
	std::ofstream(script) << "#!/bin/sh\nexit 0\n";
	chmod(script.c_str(), 0755);
	Result s = ktest::run(kDemo, "lsm", {probe(), "exec", script});
	unlink(script.c_str());
	EXPECT_NE(s.out.find("err execve EPERM"), std::string::npos) << diag(s);
	ASSERT_EQ(s.events.size(), 1u) << diag(s);
	EXPECT_EQ(s.events[0]["bulwark"]["hook"], "bprm_check_security");

	// ld.so maps the binary itself; only the mmap hook sees that.
	Result l =
		ktest::run(kDemo, "lsm", {probe(), "exec", "/lib64/ld-linux-x86-64.so.2", "/bin/sh", "-c", "exit 7"});
	EXPECT_NE(l.status, 7) << diag(l);
	EXPECT_NE(l.status, 0) << diag(l);
	ASSERT_GE(l.events.size(), 1u) << diag(l);
	EXPECT_EQ(l.events[0]["bulwark"]["hook"], "mmap_file");
	EXPECT_EQ(l.events[0]["rule"]["id"], "no-shell");
}

TEST(Lsm, MountDeniedClassicAndNewApi)
{
	REQUIRE_LSM();
	Result m = ktest::run(kDemo, "lsm", {probe(), "mount", "/mnt"});
	EXPECT_NE(m.out.find("err mount EPERM"), std::string::npos) << diag(m);
	ASSERT_EQ(m.events.size(), 1u) << diag(m);
	expect_event_identity(m.events[0], "lsm", "no-mount");
	EXPECT_EQ(m.events[0]["bulwark"]["hook"], "sb_mount");
	EXPECT_EQ(m.events[0]["bulwark"]["target"], "/mnt");

	// Without seccomp, fsopen/fsconfig/fsmount succeed; move_mount is where
	// the LSM stops it.
	Result f = ktest::run(kDemo, "lsm", {probe(), "fsmount", "/mnt"});
	EXPECT_NE(f.out.find("err move_mount EPERM"), std::string::npos) << diag(f);
	ASSERT_EQ(f.events.size(), 1u) << diag(f);
	EXPECT_EQ(f.events[0]["bulwark"]["hook"], "move_mount");
}

TEST(Lsm, ConfinementFollowsFork)
{
	REQUIRE_LSM();
	Result r = ktest::run(kDemo, "lsm", {probe(), "fork-open", "/etc/shadow"});
	EXPECT_NE(r.out.find("err open EPERM"), std::string::npos) << diag(r);
	ASSERT_EQ(r.events.size(), 1u) << diag(r);
}

TEST(Lsm, ProcessesOutsideTheTreeAreUnaffected)
{
	REQUIRE_LSM();
	std::string flag = "/tmp/bw-outside-hold";
	unlink(flag.c_str());
	ktest::Run run(kDemo, "all", {probe(), "hold", flag});
	for (int i = 0; i < 6000 && access(flag.c_str(), F_OK) != 0; i++)
		usleep(10000);
	ASSERT_EQ(access(flag.c_str(), F_OK), 0) << "the confined workload never started";
	// While the policy is attached, this test process (not in the tree) reads
	// the shadow file, mounts and runs /bin/sh.
	int fd = open("/etc/shadow", O_RDONLY);
	EXPECT_GE(fd, 0) << strerror(errno);
	if (fd >= 0)
		close(fd);
	mkdir("/tmp/bw-outside-mnt", 0700);
	EXPECT_EQ(mount("none", "/tmp/bw-outside-mnt", "tmpfs", 0, nullptr), 0) << strerror(errno);
	umount2("/tmp/bw-outside-mnt", MNT_DETACH);
	EXPECT_EQ(std::system("/bin/sh -c 'exit 0'"), 0);
	unlink(flag.c_str());
	Result r = run.wait();
	EXPECT_EQ(r.status, 0) << diag(r);
	EXPECT_TRUE(r.events.empty()) << diag(r);
}

TEST(Lsm, AuditModeReportsAndAllows)
{
	REQUIRE_LSM();
	Result r = ktest::run(kAuditDemo, "lsm", {probe(), "open", "/etc/shadow", "r"});
	EXPECT_EQ(r.status, 0) << diag(r);
	ASSERT_EQ(r.events.size(), 1u) << diag(r);
	EXPECT_EQ(r.events[0]["bulwark"]["action"], "audit");
	EXPECT_EQ(r.events[0]["bulwark"]["errno"], 0);
}

TEST(Lsm, ProgramsDetachedAfterRun)
{
	REQUIRE_LSM();
	Result r = ktest::run(kDemo, "lsm", {probe(), "exit", "0"});
	EXPECT_EQ(r.status, 0) << diag(r);
	EXPECT_EQ(ktest::join_names(ktest::bulwark_programs_after_release()), "");
}

// --- both layers --------------------------------------------------------------

TEST(Layers, BothLayersEachStopWhatTheyCanSee)
{
	REQUIRE_LSM();
	// mount: seccomp answers first, so the event comes from seccomp.
	Result m = ktest::run(kDemo, "all", {probe(), "mount", "/mnt"});
	EXPECT_NE(m.out.find("err mount EPERM"), std::string::npos) << diag(m);
	ASSERT_EQ(m.layer("seccomp").size(), 1u) << diag(m);
	EXPECT_TRUE(m.layer("lsm").empty()) << diag(m);
	// shadow: only the LSM can see paths.
	Result s = ktest::run(kDemo, "all", {probe(), "open", "/etc/shadow", "r"});
	EXPECT_NE(s.out.find("err open EPERM"), std::string::npos) << diag(s);
	ASSERT_EQ(s.layer("lsm").size(), 1u) << diag(s);
	EXPECT_TRUE(s.layer("seccomp").empty()) << diag(s);
	// The demo workload end to end: one event per attempt, both layers.
	Result d = ktest::run(kDemo, "all",
			      {"/bin/bash", "-c",
			       probe() + " open /etc/passwd r; " + probe() + " open /etc/shadow r; " + probe() +
				       " mount /mnt; " + probe() + " exec /bin/sh -c true; exit 0"});
	EXPECT_EQ(d.status, 0) << diag(d);
	EXPECT_EQ(d.layer("seccomp").size(), 1u) << diag(d);
	EXPECT_EQ(d.layer("lsm").size(), 2u) << diag(d);
	EXPECT_EQ(ktest::join_names(ktest::bulwark_programs_after_release()), "");
}

// --- every high-level word, each layer alone and both ------------------------

namespace {

struct WordCase {
	const char *name;
	std::string rule;               // YAML of one rule, without the "- " prefix
	std::vector<std::string> probe; // probe arguments
	const char *step;               // the probe step a denial shows up in
	const char *syscall;            // seccomp's routed syscall, or "" if seccomp cannot
	const char *hook;               // the LSM hook, or "" if the LSM cannot
};

std::vector<WordCase> word_cases()
{
	return {
		{"ptrace-attach",
		 "id: w\n    deny: ptrace",
		 {"ptrace-attach"},
		 "ptrace",
		 "ptrace",
		 "ptrace_access_check"},
		{"ptrace-traceme", "id: w\n    deny: ptrace", {"traceme"}, "ptrace", "ptrace", "ptrace_traceme"},
		{"kernel-modules",
		 "id: w\n    deny: kernel-modules",
		 {"finit-module", "/etc/passwd"},
		 "finit_module",
		 "finit_module",
		 "kernel_read_file"},
		{"kexec",
		 "id: w\n    deny: kexec",
		 {"kexec", "/etc/passwd"},
		 "kexec_file_load",
		 "kexec_file_load",
		 "kernel_read_file"},
		{"bpf", "id: w\n    deny: bpf", {"bpf-map"}, "bpf", "bpf", "bpf"},
		{"perf", "id: w\n    deny: perf", {"perf"}, "perf_event_open", "perf_event_open", "perf_event_open"},
		{"keyring", "id: w\n    deny: keyring", {"add-key"}, "add_key", "add_key", "key_alloc"},
		{"user-namespaces",
		 "id: w\n    deny: user-namespaces",
		 {"unshare-user"},
		 "unshare",
		 "unshare",
		 "userns_create"},
		{"setuid", "id: w\n    deny: setuid", {"setuid", "65534"}, "setuid", "setuid", "task_fix_setuid"},
		{"raw-sockets-packet",
		 "id: w\n    deny: raw-sockets",
		 {"socket", "17", "3"},
		 "socket",
		 "socket",
		 "socket_create"},
		{"raw-sockets-inet",
		 "id: w\n    deny: raw-sockets",
		 {"socket", "2", "3"},
		 "socket",
		 "socket",
		 "socket_create"},
		{"socket-families",
		 "id: w\n    deny: socket\n    families: [netlink]",
		 {"socket", "16", "3"},
		 "socket",
		 "socket",
		 "socket_create"},
		{"connect-port",
		 "id: w\n    deny: connect\n    ports: [22]",
		 {"connect", "127.0.0.1", "22"},
		 "connect",
		 "",
		 "socket_connect"},
		{"connect-udp-sendto",
		 "id: w\n    deny: connect\n    ports: [22]",
		 {"sendto", "127.0.0.1", "22"},
		 "sendto",
		 "",
		 "socket_sendmsg"},
		{"connect-v6-address",
		 "id: w\n    deny: connect\n    addresses: [\"::1\"]",
		 {"connect", "::1", "9"},
		 "connect",
		 "",
		 "socket_connect"},
		{"bind-address",
		 "id: w\n    deny: bind\n    addresses: [127.0.0.2/32]",
		 {"bind", "127.0.0.2", "8080"},
		 "bind",
		 "",
		 "socket_bind"},
	};
}

} // namespace

class Words : public ::testing::TestWithParam<WordCase> {};

TEST_P(Words, EachLayerStopsWhatItCanSee)
{
	REQUIRE_LSM();
	const WordCase &c = GetParam();
	std::string pol = "name: demo\nrules:\n  - " + c.rule + "\n";
	std::vector<std::string> cmd = {probe()};
	cmd.insert(cmd.end(), c.probe.begin(), c.probe.end());
	std::string denied = std::string("err ") + c.step + " EPERM";
	for (std::string layers : {"seccomp", "lsm", "all"}) {
		SCOPED_TRACE("layers=" + layers);
		bool by_seccomp = layers != "lsm" && *c.syscall;
		bool by_lsm = layers != "seccomp" && *c.hook;
		Result r = ktest::run(pol, layers, cmd);
		if (!by_seccomp && !by_lsm) {
			// This layer cannot see it: the call reaches the kernel.
			EXPECT_NE(r.status, 125) << diag(r);
			EXPECT_NE(r.out.find(std::string(c.step) == "connect" ? "err connect" : "ok"),
				  std::string::npos)
				<< diag(r);
			EXPECT_EQ(r.out.find(denied), std::string::npos) << diag(r);
			EXPECT_TRUE(r.events.empty()) << diag(r);
			continue;
		}
		EXPECT_NE(r.out.find(denied), std::string::npos) << diag(r);
		ASSERT_EQ(r.events.size(), 1u) << diag(r);
		const auto &e = r.events[0];
		expect_event_identity(e, by_seccomp ? "seccomp" : "lsm", "w");
		if (by_seccomp)
			EXPECT_EQ(e["bulwark"]["syscall"]["name"], c.syscall) << diag(r);
		else
			EXPECT_EQ(e["bulwark"]["hook"], c.hook) << diag(r);
		// The differential view: which layers would have denied this
		// attempt. With the LSM alone, the event also says whether the
		// seccomp filter (evaluated, not loaded) would have.
		std::vector<std::string> want;
		if (*c.syscall && (by_seccomp || layers == "lsm"))
			want.push_back("seccomp");
		if (!by_seccomp)
			want.push_back("lsm");
		std::vector<std::string> got;
		for (const auto &x : e["bulwark"]["denied_by"])
			got.push_back(x.get<std::string>());
		EXPECT_EQ(got, want) << diag(r);
	}
}

INSTANTIATE_TEST_SUITE_P(Lsm, Words, ::testing::ValuesIn(word_cases()), [](const auto &info) {
	std::string n = info.param.name;
	for (auto &ch : n)
		if (ch == '-')
			ch = '_';
	return n;
});

TEST(Seccomp, UserNamespaceRuleKeepsThreadsWorking)
{
	// clone3 fails with ENOSYS under this rule; glibc must fall back.
	Result r = ktest::run("name: demo\nrules:\n  - id: w\n    deny: user-namespaces\n", "seccomp",
			      {probe(), "thread"});
	EXPECT_EQ(r.status, 0) << diag(r);
	EXPECT_EQ(r.out, "ok\n") << diag(r);
	EXPECT_TRUE(r.events.empty()) << diag(r);
}

TEST(Lsm, WhenParentExe)
{
	REQUIRE_LSM();
	std::string pol = "name: demo\nrules:\n  - id: no-sh-from-bash\n    deny: exec\n    paths: [/bin/sh]\n"
			  "    when:\n      parent_exe: /usr/bin/bash\n";
	// bash forks a child that execs /bin/sh: its parent is bash.
	Result viabash = ktest::run(pol, "lsm", {"/usr/bin/bash", "-c", "/bin/sh -c 'exit 0'; echo rc=$?"});
	EXPECT_NE(viabash.out.find("rc=126"), std::string::npos) << diag(viabash);
	ASSERT_EQ(viabash.events.size(), 1u) << diag(viabash);
	EXPECT_EQ(viabash.events[0]["rule"]["id"], "no-sh-from-bash");
	// The probe's parent is bulwark: the condition does not hold.
	Result direct = ktest::run(pol, "lsm", {probe(), "exec", "/bin/sh", "-c", "exit 0"});
	EXPECT_EQ(direct.status, 0) << diag(direct);
	EXPECT_TRUE(direct.events.empty()) << diag(direct);
}

TEST(Lsm, WhenExeAndUid)
{
	REQUIRE_LSM();
	std::string pol = "name: demo\nrules:\n  - id: probe-no-passwd\n    deny: read\n    paths: [/etc/passwd]\n"
			  "    when:\n      exe: " +
			  probe() +
			  "\n  - id: nobody-no-group\n    deny: read\n    paths: [/etc/group]\n"
			  "    when:\n      uid: [65534]\n";
	Result p = ktest::run(pol, "lsm", {probe(), "open", "/etc/passwd", "r"});
	EXPECT_NE(p.out.find("err open EPERM"), std::string::npos) << diag(p);
	Result cat = ktest::run(pol, "lsm", {"/usr/bin/cat", "/etc/passwd"});
	EXPECT_EQ(cat.status, 0) << diag(cat);
	EXPECT_TRUE(cat.events.empty()) << diag(cat);
	// Root reads /etc/group; after setuid(65534) the same read is denied.
	Result g = ktest::run(pol, "lsm", {probe(), "open", "/etc/group", "r"});
	EXPECT_EQ(g.status, 0) << diag(g);
	Result nb = ktest::run(pol, "lsm", {probe(), "setuid", "65534", "open", "/etc/group", "r"});
	EXPECT_EQ(nb.out, "ok\nerr open EPERM\n") << diag(nb);
	ASSERT_EQ(nb.events.size(), 1u) << diag(nb);
	EXPECT_EQ(nb.events[0]["rule"]["id"], "nobody-no-group");
	EXPECT_EQ(nb.events[0]["user"]["id"], "65534");
}

TEST(Lsm, WhenCgroup)
{
	REQUIRE_LSM();
	mkdir("/sys/fs/cgroup/bwtest", 0755);
	std::string pol = "name: demo\nrules:\n  - id: cg\n    deny: read\n    paths: [/etc/passwd]\n"
			  "    when:\n      cgroup: /bwtest\n";
	Result in =
		ktest::run(pol, "lsm",
			   {"/usr/bin/bash", "-c",
			    "echo $$ > /sys/fs/cgroup/bwtest/cgroup.procs && exec " + probe() + " open /etc/passwd r"});
	Result out = ktest::run(pol, "lsm", {probe(), "open", "/etc/passwd", "r"});
	rmdir("/sys/fs/cgroup/bwtest");
	EXPECT_NE(in.out.find("err open EPERM"), std::string::npos) << diag(in);
	EXPECT_EQ(out.status, 0) << diag(out);
	EXPECT_TRUE(out.events.empty()) << diag(out);
}

TEST(Lsm, SubtreeAcrossBindAndNestedMounts)
{
	REQUIRE_LSM();
	ASSERT_EQ(std::system("mkdir -p /tmp/bwsub/a/b /tmp/bwsub/m /tmp/bwbind /tmp/bwother && "
			      "echo x > /tmp/bwsub/a/b/f && echo y > /tmp/bwother/f && "
			      "mount --bind /tmp/bwsub /tmp/bwbind && mount -t tmpfs none /tmp/bwsub/m && "
			      "echo z > /tmp/bwsub/m/f"),
		  0);
	std::string pol = "name: demo\nrules:\n  - id: sub\n    deny: read\n    paths: [\"/tmp/bwsub/**\"]\n";
	Result deep = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwsub/a/b/f", "r"});
	Result bind = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwbind/a/b/f", "r"});
	Result nested = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwsub/m/f", "r"});
	Result other = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwother/f", "r"});
	std::system("umount /tmp/bwsub/m; umount /tmp/bwbind; rm -rf /tmp/bwsub /tmp/bwbind /tmp/bwother");
	EXPECT_NE(deep.out.find("err open EPERM"), std::string::npos) << diag(deep);
	EXPECT_NE(bind.out.find("err open EPERM"), std::string::npos) << diag(bind);
	EXPECT_NE(nested.out.find("err open EPERM"), std::string::npos) << diag(nested);
	EXPECT_EQ(other.status, 0) << diag(other);
	ASSERT_EQ(deep.events.size(), 1u) << diag(deep);
	EXPECT_EQ(deep.events[0]["file"]["path"], "/tmp/bwsub/a/b/f");
}

TEST(Lsm, ExecAllowList)
{
	REQUIRE_LSM();
	std::string dir = ktest::probe().substr(0, ktest::probe().rfind('/'));
	std::string pol = "name: demo\ndefault:\n  exec: deny\nrules:\n  - id: allowed\n    allow: exec\n"
			  "    paths: [\"" +
			  dir + "/**\", \"/usr/bin/tru*\"]\n";
	Result ok = ktest::run(pol, "lsm", {probe(), "exec", "/usr/bin/true"});
	EXPECT_EQ(ok.status, 0) << diag(ok);
	EXPECT_TRUE(ok.events.empty()) << diag(ok);
	// A new root would let the sandbox build its own allowed paths.
	Result ch = ktest::run(pol, "lsm", {probe(), "chroot", "/tmp"});
	EXPECT_EQ(ch.out, "err chroot EPERM\n") << diag(ch);
	Result no = ktest::run(pol, "lsm", {probe(), "exec", "/usr/bin/cat", "/etc/passwd"});
	EXPECT_NE(no.out.find("err execve EPERM"), std::string::npos) << diag(no);
	ASSERT_EQ(no.events.size(), 1u) << diag(no);
	EXPECT_EQ(no.events[0]["rule"]["id"], "default:exec");
}

// Exact (identity and path), subtree and '*' entries are read; anything else
// is denied in the name of the read default, writes are not its business.
TEST(Lsm, ReadAllowList)
{
	REQUIRE_LSM();
	ASSERT_EQ(std::system("mkdir -p /tmp/bwrl/sub/deep /tmp/bwrl/g && for f in exact sub/deep/f g/f1 g/x other; "
			      "do echo x > /tmp/bwrl/$f; done && ln -sfn /tmp/bwrl/exact /tmp/bwrl/link"),
		  0);
	std::string pol = "name: demo\ndefault:\n  read: deny\nrules:\n" + ktest::runtime_reads_rule() +
			  "  - id: listed\n    allow: read\n"
			  "    paths: [/tmp/bwrl/exact, \"/tmp/bwrl/sub/**\", \"/tmp/bwrl/g/f*\"]\n";
	Result exact = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwrl/link", "r"});
	Result sub = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwrl/sub/deep/f", "r"});
	Result glob = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwrl/g/f1", "r"});
	Result no = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwrl/g/x", "r"});
	Result rw = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwrl/other", "rw"});
	Result w = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwrl/other", "w"});
	std::system("rm -rf /tmp/bwrl");
	for (const Result *r : {&exact, &sub, &glob, &w}) {
		EXPECT_EQ(r->out, "ok\n") << diag(*r);
		EXPECT_TRUE(r->events.empty()) << diag(*r);
	}
	EXPECT_EQ(no.out, "err open EPERM\n") << diag(no);
	ASSERT_EQ(no.events.size(), 1u) << diag(no);
	EXPECT_EQ(no.events[0]["rule"]["id"], "default:read");
	EXPECT_EQ(no.events[0]["bulwark"]["action"], "deny");
	EXPECT_EQ(no.events[0]["bulwark"]["hook"], "file_open");
	EXPECT_EQ(no.events[0]["file"]["path"], "/tmp/bwrl/g/x");
	EXPECT_EQ(rw.out, "err open EPERM\n") << diag(rw);
}

// `allow: [read, exec]` feeds both lists; each default names itself (exec
// opens the binary for reading first, so /usr/bin/true is readable but not
// listed to run). Under a new root the listed paths would mean other
// files: chroot is denied.
TEST(Lsm, ReadAndExecAllowListsTogether)
{
	REQUIRE_LSM();
	std::string dir = ktest::probe().substr(0, ktest::probe().rfind('/'));
	std::string pol = "name: demo\ndefault: {read: deny, exec: deny}\nrules:\n"
			  "  - id: readable\n    allow: read\n"
			  "    paths: [\"/usr/lib/**\", \"/usr/lib64/**\", /usr/bin/true]\n"
			  "  - id: tools\n    allow: [read, exec]\n    paths: [\"" +
			  dir + "/**\"]\n";
	Result ok = ktest::run(pol, "lsm", {probe(), "open", ktest::probe(), "r"});
	EXPECT_EQ(ok.out, "ok\n") << diag(ok);
	EXPECT_TRUE(ok.events.empty()) << diag(ok);
	Result rd = ktest::run(pol, "lsm", {probe(), "open", "/etc/hostname", "r"});
	EXPECT_EQ(rd.out, "err open EPERM\n") << diag(rd);
	ASSERT_EQ(rd.events.size(), 1u) << diag(rd);
	EXPECT_EQ(rd.events[0]["rule"]["id"], "default:read");
	Result ex = ktest::run(pol, "lsm", {probe(), "exec", "/usr/bin/true"});
	EXPECT_NE(ex.out.find("err execve EPERM"), std::string::npos) << diag(ex);
	ASSERT_EQ(ex.events.size(), 1u) << diag(ex);
	EXPECT_EQ(ex.events[0]["rule"]["id"], "default:exec");
	Result ch = ktest::run("name: demo\ndefault: {read: deny}\nrules:\n" + ktest::runtime_reads_rule(), "lsm",
			       {probe(), "chroot", "/tmp"});
	EXPECT_EQ(ch.out, "err chroot EPERM\n") << diag(ch);
	ASSERT_EQ(ch.events.size(), 1u) << diag(ch);
	EXPECT_EQ(ch.events[0]["rule"]["id"], "default:read");
}

// Opening for writing is matched like reading. The path hooks see identity
// and subtree entries only: a subtree's file may be removed, an unlisted
// one not, nor one listed by a pattern alone (fails closed).
TEST(Lsm, WriteAllowList)
{
	REQUIRE_LSM();
	ASSERT_EQ(std::system("mkdir -p /tmp/bwwl/sub/deep /tmp/bwwl/g && for f in exact sub/deep/f g/f1 g/f2 other; "
			      "do echo x > /tmp/bwwl/$f; done"),
		  0);
	std::string pol = "name: demo\ndefault:\n  write: deny\nrules:\n  - id: out\n    allow: write\n"
			  "    paths: [/tmp/bwwl/exact, \"/tmp/bwwl/sub/**\", \"/tmp/bwwl/g/f*\"]\n";
	Result exact = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwwl/exact", "w"});
	Result sub = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwwl/sub/deep/f", "rw"});
	Result glob = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwwl/g/f1", "w"});
	Result rd = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwwl/other", "r"});
	Result no = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwwl/other", "w"});
	Result rm_sub = ktest::run(pol, "lsm", {probe(), "unlink", "/tmp/bwwl/sub/deep/f"});
	Result rm_no = ktest::run(pol, "lsm", {probe(), "unlink", "/tmp/bwwl/other"});
	Result rm_glob = ktest::run(pol, "lsm", {probe(), "unlink", "/tmp/bwwl/g/f2"});
	bool other_left = access("/tmp/bwwl/other", F_OK) == 0, sub_left = access("/tmp/bwwl/sub/deep/f", F_OK) == 0;
	std::system("rm -rf /tmp/bwwl");
	for (const Result *r : {&exact, &sub, &glob, &rd, &rm_sub}) {
		EXPECT_EQ(r->out, "ok\n") << diag(*r);
		EXPECT_TRUE(r->events.empty()) << diag(*r);
	}
	EXPECT_FALSE(sub_left);
	EXPECT_EQ(no.out, "err open EPERM\n") << diag(no);
	ASSERT_EQ(no.events.size(), 1u) << diag(no);
	EXPECT_EQ(no.events[0]["rule"]["id"], "default:write");
	EXPECT_EQ(no.events[0]["bulwark"]["hook"], "file_open");
	EXPECT_EQ(rm_no.out, "err unlink EPERM\n") << diag(rm_no);
	EXPECT_TRUE(other_left);
	ASSERT_EQ(rm_no.events.size(), 1u) << diag(rm_no);
	EXPECT_EQ(rm_no.events[0]["rule"]["id"], "default:write");
	EXPECT_EQ(rm_no.events[0]["bulwark"]["hook"], "path_unlink");
	EXPECT_EQ(rm_glob.out, "err unlink EPERM\n") << diag(rm_glob);
}

// In audit mode the defaults only report: every access goes through, one
// audit event each.
TEST(Lsm, AllowListsAuditInAuditMode)
{
	REQUIRE_LSM();
	ASSERT_EQ(std::system("mkdir -p /tmp/bwal && echo x > /tmp/bwal/f"), 0);
	std::string pol =
		"name: demo\nmode: audit\ndefault: {read: deny, write: deny}\nrules:\n" + ktest::runtime_reads_rule();
	Result r = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwal/f", "r"});
	Result w = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwal/f", "w"});
	std::system("rm -rf /tmp/bwal");
	EXPECT_EQ(r.out, "ok\n") << diag(r);
	ASSERT_EQ(r.events.size(), 1u) << diag(r);
	EXPECT_EQ(r.events[0]["rule"]["id"], "default:read");
	EXPECT_EQ(r.events[0]["bulwark"]["action"], "audit");
	EXPECT_EQ(w.out, "ok\n") << diag(w);
	ASSERT_EQ(w.events.size(), 1u) << diag(w);
	EXPECT_EQ(w.events[0]["rule"]["id"], "default:write");
	EXPECT_EQ(w.events[0]["bulwark"]["action"], "audit");
}

TEST(Lsm, HooksEscapeHatch)
{
	REQUIRE_LSM();
	std::string pol = "name: demo\nhooks:\n  - hook: syslog\n    id: no-dmesg\n";
	Result r = ktest::run(pol, "lsm", {probe(), "syslog"});
	EXPECT_NE(r.out.find("err syslog EPERM"), std::string::npos) << diag(r);
	ASSERT_EQ(r.events.size(), 1u) << diag(r);
	EXPECT_EQ(r.events[0]["bulwark"]["hook"], "syslog");
	EXPECT_EQ(r.events[0]["rule"]["id"], "no-dmesg");
	Result without = ktest::run("name: demo\nrules: []\n", "lsm", {probe(), "syslog"});
	EXPECT_EQ(without.status, 0) << diag(without);
}

TEST(Lsm, GlobStarsStayWithinOneComponent)
{
	REQUIRE_LSM();
	ASSERT_EQ(std::system("mkdir -p /tmp/bwglob/a/b && for f in a/secret1 a/public a/b/secret2; do "
			      "echo x > /tmp/bwglob/$f; done && ln -sfn /tmp/bwglob /tmp/bwglob-link"),
		  0);
	// The pattern names the directory through a symlink: it is resolved
	// when the policy loads, as exact paths are.
	std::string pol =
		"name: demo\nrules:\n  - id: g\n    deny: read\n    paths: [\"/tmp/bwglob-link/*/secret*\"]\n";
	Result hit = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwglob/a/secret1", "r"});
	Result other = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwglob/a/public", "r"});
	Result deeper = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwglob/a/b/secret2", "r"});
	std::system("rm -rf /tmp/bwglob /tmp/bwglob-link");
	EXPECT_EQ(hit.out, "err open EPERM\n") << diag(hit);
	ASSERT_EQ(hit.events.size(), 1u) << diag(hit);
	EXPECT_EQ(hit.events[0]["rule"]["id"], "g");
	EXPECT_EQ(other.out, "ok\n") << diag(other);
	EXPECT_EQ(deeper.out, "ok\n") << "'*' must not cross '/'\n" << diag(deeper);
}

// --- the example policies load into the kernel and do what they say ---------

namespace {
std::string example(const std::string &name)
{
	if (const char *d = std::getenv("BULWARK_EXAMPLES"))
		return std::string(d) + "/" + name;
	return std::string(BULWARK_SOURCE_DIR) + "/policy/examples/" + name;
}
std::string slurp(const std::string &p)
{
	std::ifstream in(p);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}
} // namespace

TEST(Examples, WebserverDeniesKernelSurface)
{
	REQUIRE_LSM();
	std::string pol = slurp(example("webserver.yaml"));
	ASSERT_FALSE(pol.empty());
	Result m = ktest::run(pol, "all", {probe(), "mount", "/mnt"});
	EXPECT_EQ(m.out, "err mount EPERM\n") << diag(m);
	Result b = ktest::run(pol, "all", {probe(), "bpf-map"});
	EXPECT_EQ(b.out, "err bpf EPERM\n") << diag(b);
	Result r = ktest::run(pol, "all", {probe(), "open", "/etc/passwd", "r"});
	EXPECT_EQ(r.status, 0) << diag(r);
}

TEST(Examples, BuildSandboxRunsOnlyItsToolchain)
{
	REQUIRE_LSM();
	std::string pol = slurp(example("build-sandbox.yaml"));
	ASSERT_FALSE(pol.empty());
	// Its home-read-only rule needs /home to exist, as on any real host.
	mkdir("/home", 0755);
	Result ok = ktest::run(pol, "all", {"/usr/bin/bash", "-c", "/usr/bin/true && echo fine"});
	EXPECT_EQ(ok.out, "fine\n") << diag(ok);
	Result no = ktest::run(pol, "all", {"/usr/bin/bash", "-c", probe() + " exit 0; echo rc=$?"});
	EXPECT_EQ(no.out.find("rc=126"), 0u) << diag(no);
	ASSERT_EQ(no.layer("lsm").size(), 1u) << diag(no);
	EXPECT_EQ(no.events[0]["rule"]["id"], "default:exec");
}

TEST(Examples, HostBaselineAuditsWithoutBlocking)
{
	REQUIRE_LSM();
	std::string pol = slurp(example("host-baseline.yaml"));
	ASSERT_FALSE(pol.empty());
	Result m = ktest::run(pol, "all", {"/usr/bin/bash", "-c", probe() + " mount /mnt; " + probe() + " syslog"});
	EXPECT_EQ(m.out, "ok\nok\n") << diag(m);
	// Audit lets each call through, so every layer on its path sees it:
	// seccomp and the LSM for mount (and the probe's umount), as one
	// event per attempt; the LSM alone for syslog.
	std::multiset<std::string> seen;
	for (const auto &e : m.events) {
		EXPECT_EQ(e["bulwark"]["action"], "audit") << e.dump();
		std::string denied;
		for (const auto &l : e["bulwark"]["denied_by"])
			denied += "+" + l.get<std::string>();
		seen.insert(e["event"]["action"].get<std::string>() + denied);
	}
	EXPECT_EQ(seen.count("mount+seccomp+lsm"), 1u) << diag(m);
	EXPECT_EQ(seen.count("umount2+seccomp+lsm"), 1u) << diag(m);
	EXPECT_EQ(seen.count("syslog+lsm"), 1u) << diag(m);
	EXPECT_EQ(m.events.size(), 3u) << diag(m);
}

// --- fail-closed details found in review ---------------------------------------

TEST(Lsm, LeftoverProcessesDieWithTheCommand)
{
	REQUIRE_LSM();
	unlink("/tmp/bw-late");
	// The command exits at once; its background child would open the
	// shadow file after the LSM layer detached, were it still alive.
	Result r = ktest::run(
		kDemo, "lsm",
		{"/usr/bin/bash", "-c", "(sleep 2; " + probe() + " open /etc/shadow r > /tmp/bw-late) & exit 0"});
	EXPECT_EQ(r.status, 0) << diag(r);
	EXPECT_NE(r.err.find("it left running in the sandbox"), std::string::npos) << diag(r);
	sleep(3);
	EXPECT_NE(access("/tmp/bw-late", F_OK), 0) << "a leftover process ran after bulwark detached";
	unlink("/tmp/bw-late");
}

TEST(Lsm, SandboxCannotKillOrTraceTheSupervisor)
{
	REQUIRE_LSM();
	Result r = ktest::run("name: demo\nrules: []\n", "lsm", {"/usr/bin/bash", "-c", "kill -9 $PPID; echo kill=$?"});
	EXPECT_EQ(r.status, 0) << diag(r);
	EXPECT_NE(r.out.find("kill=1"), std::string::npos) << diag(r);
	ASSERT_EQ(r.events.size(), 1u) << diag(r);
	EXPECT_EQ(r.events[0]["rule"]["id"], "builtin:protect-supervisor");
}

TEST(Lsm, NoNewPrivsWhateverTheLayers)
{
	REQUIRE_LSM();
	Result r = ktest::run("name: demo\nrules: []\n", "lsm", {"/usr/bin/cat", "/proc/self/status"});
	EXPECT_NE(r.out.find("NoNewPrivs:\t1"), std::string::npos) << diag(r);
}

TEST(Layers, AuditRuleNeverShadowsAnEnforcingOne)
{
	REQUIRE_LSM();
	std::string pol = "name: demo\nrules:\n  - id: watch\n    deny: mount\n    mode: audit\n"
			  "  - id: block\n    deny: mount\n";
	for (std::string layers : {"seccomp", "lsm"}) {
		Result r = ktest::run(pol, layers, {probe(), "mount", "/mnt"});
		EXPECT_EQ(r.out, "err mount EPERM\n") << layers << "\n" << diag(r);
		ASSERT_EQ(r.events.size(), 1u) << diag(r);
		EXPECT_EQ(r.events[0]["rule"]["id"], "block") << layers;
	}
}

TEST(Lsm, NestedSubtreesAndSubdirectoryBindMounts)
{
	REQUIRE_LSM();
	ASSERT_EQ(std::system("mkdir -p /tmp/bwn/s/inner /tmp/bwx && echo x > /tmp/bwn/s/f && "
			      "echo y > /tmp/bwn/s/inner/g && mount --bind /tmp/bwn/s/inner /tmp/bwx"),
		  0);
	std::string pol = "name: demo\nrules:\n  - id: outer-ro\n    deny: write\n    paths: [\"/tmp/bwn/**\"]\n"
			  "  - id: inner-secret\n    deny: read\n    paths: [\"/tmp/bwn/s/**\"]\n";
	// The inner subtree only names reads; the outer one's write rule
	// still covers files inside it.
	Result w = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwn/s/f", "w"});
	// A bind mount of a subdirectory is still inside both subtrees.
	Result b = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bwx/g", "r"});
	std::system("umount /tmp/bwx; rm -rf /tmp/bwn /tmp/bwx");
	EXPECT_EQ(w.out, "err open EPERM\n") << diag(w);
	ASSERT_EQ(w.events.size(), 1u) << diag(w);
	EXPECT_EQ(w.events[0]["rule"]["id"], "outer-ro");
	EXPECT_EQ(b.out, "err open EPERM\n") << diag(b);
}

TEST(Lsm, DenyWriteCoversMoreThanOpen)
{
	REQUIRE_LSM();
	auto setup = [] {
		return std::system("rm -rf /tmp/bww && mkdir -p /tmp/bww/d/sub && echo x > /tmp/bww/f && "
				   "echo y > /tmp/bww/other && echo z > /tmp/bww/d/g");
	};
	std::string pol =
		"name: demo\nrules:\n  - id: ro\n    deny: write\n    paths: [/tmp/bww/f, \"/tmp/bww/d/**\"]\n";
	struct Case {
		const char *what;
		std::string cmd;
	};
	std::vector<Case> cases = {
		{"truncate", "truncate -s 0 /tmp/bww/f"},
		{"unlink", "rm /tmp/bww/f"},
		{"rename away", "mv /tmp/bww/f /tmp/bww/moved"},
		{"rename over", "mv /tmp/bww/other /tmp/bww/f"},
		{"chmod", "chmod 600 /tmp/bww/f"},
		{"unlink in subtree", "rm /tmp/bww/d/g"},
		{"rmdir in subtree", "rmdir /tmp/bww/d/sub"},
		{"link into subtree", "ln /tmp/bww/other /tmp/bww/d/new"},
		{"create in subtree", "echo n > /tmp/bww/d/new"},
	};
	for (const auto &c : cases) {
		ASSERT_EQ(setup(), 0);
		Result r = ktest::run(pol, "lsm", {"/usr/bin/bash", "-c", c.cmd + "; echo rc=$?"});
		EXPECT_EQ(r.out.find("rc=0"), std::string::npos) << c.what << "\n" << diag(r);
		EXPECT_GE(r.events.size(), 1u) << c.what << "\n" << diag(r);
		if (!r.events.empty()) {
			EXPECT_EQ(r.events[0]["rule"]["id"], "ro") << c.what;
		}
	}
	// Neighbours stay writable.
	ASSERT_EQ(setup(), 0);
	Result ok = ktest::run(
		pol, "lsm", {"/usr/bin/bash", "-c", "truncate -s 0 /tmp/bww/other && rm /tmp/bww/other && echo fine"});
	EXPECT_EQ(ok.out, "fine\n") << diag(ok);
	std::system("rm -rf /tmp/bww");
}

// --- bulwark enforce: scopes, pins, reload, self-protection -------------------
// Each test cleans up what it made (enforcers, pins, cgroups) in a guard's
// destructor, so a failing assertion does not leave the next test confined.

namespace {

const char *kEnforcePolicy = R"(name: hardening
rules:
  - id: no-shadow
    deny: [read, write]
    paths: [/etc/shadow]
  - id: no-mount
    deny: mount
)";

// Same denial of /etc/shadow under another rule number: the reload test
// alternates the two, so every reload moves the rule.
const char *kEnforcePolicyB = R"(name: hardening
rules:
  - id: no-trace
    deny: ptrace
  - id: no-keys
    deny: keyring
  - id: no-shadow
    deny: [read]
    paths: [/etc/shadow]
)";

struct EnforceGuard {
	std::string dir;
	std::vector<std::string> cgroups;
	std::string pin;

	explicit EnforceGuard(std::vector<std::string> cgs = {}, std::string pin_dir = "")
	    : cgroups(std::move(cgs)), pin(std::move(pin_dir))
	{
		char tmpl[] = "/tmp/bwenforce.XXXXXX";
		dir = mkdtemp(tmpl) ? tmpl : "/tmp";
		for (const auto &c : cgroups)
			mkdir(("/sys/fs/cgroup/" + c).c_str(), 0755);
		if (!pin.empty())
			ktest::bulwark({"unload", "--pin", pin}); // a previous run's leftovers
	}
	~EnforceGuard()
	{
		if (!pin.empty() && access(pin.c_str(), F_OK) == 0)
			ktest::bulwark({"unload", "--pin", pin});
		for (const auto &c : cgroups) {
			// Whatever a test left in the cgroup goes first.
			std::string procs = slurp("/sys/fs/cgroup/" + c + "/cgroup.procs");
			std::istringstream in(procs);
			for (long p; in >> p;)
				kill(static_cast<pid_t>(p), SIGKILL);
			for (int i = 0; i < 100 && rmdir(("/sys/fs/cgroup/" + c).c_str()) != 0; i++)
				usleep(20000);
		}
		std::system(("rm -rf " + dir).c_str());
	}
	std::string write(const std::string &name, const std::string &text) const
	{
		std::ofstream(dir + "/" + name) << text;
		return dir + "/" + name;
	}
};

// cmd, run from a shell that first moves itself into cgroup cg.
ktest::Cmd in_cgroup(const std::string &cg, const std::string &cmd)
{
	return ktest::shell("echo $$ > /sys/fs/cgroup/" + cg + "/cgroup.procs && exec " + cmd);
}

std::string ediag(const ktest::Enforcer &e)
{
	std::string s = "enforcer stderr:\n" + e.err() + "events:\n";
	for (const auto &ev : e.events())
		s += ev.dump() + "\n";
	return s;
}

std::string cdiag(const ktest::Cmd &c)
{
	return "status " + std::to_string(c.status) + "\nstdout:\n" + c.out + "stderr:\n" + c.err;
}

size_t count_rule(const std::vector<nlohmann::json> &evs, const std::string &rule)
{
	size_t n = 0;
	for (const auto &e : evs)
		n += e["rule"]["id"] == rule;
	return n;
}

} // namespace

TEST(Enforce, CgroupScopeConfinesItsCgroupOnly)
{
	REQUIRE_LSM();
	EnforceGuard g({"bw-in", "bw-out"});
	std::string pol = g.write("p.yaml", kEnforcePolicy);
	// Already in the cgroup before the enforcer starts: confined as well.
	std::string go = g.dir + "/go";
	std::system(("/usr/bin/bash -c 'echo $$ > /sys/fs/cgroup/bw-in/cgroup.procs; "
		     "while [ ! -e " +
		     go + " ]; do sleep 0.05; done; exec " + probe() + " open /etc/shadow r' > " + g.dir +
		     "/early.out 2>&1 &")
			    .c_str());
	// systemd's readiness protocol: READY=1 on $NOTIFY_SOCKET once attached.
	std::string notify_path = g.dir + "/notify";
	int nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sockaddr_un sa{};
	sa.sun_family = AF_UNIX;
	std::snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", notify_path.c_str());
	ASSERT_EQ(bind(nfd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0) << strerror(errno);
	setenv("NOTIFY_SOCKET", notify_path.c_str(), 1);
	ktest::Enforcer e({"--policy", pol, "--scope", "cgroup:/bw-in"});
	unsetenv("NOTIFY_SOCKET");
	ASSERT_TRUE(e.wait_ready()) << ediag(e);
	char note[512] = {};
	pollfd pfd{nfd, POLLIN, 0};
	ASSERT_EQ(poll(&pfd, 1, 5000), 1) << "no sd_notify message";
	ASSERT_GT(recv(nfd, note, sizeof(note) - 1, 0), 0);
	close(nfd);
	EXPECT_EQ(std::string(note).rfind("READY=1\n", 0), 0u) << note;
	std::ofstream(go) << "";
	// Joins the cgroup after the enforcer started.
	ktest::Cmd in = in_cgroup("bw-in", probe() + " open /etc/shadow r");
	EXPECT_EQ(in.out, "err open EPERM\n") << cdiag(in) << ediag(e);
	ktest::Cmd mnt = in_cgroup("bw-in", probe() + " mount /mnt");
	EXPECT_EQ(mnt.out, "err mount EPERM\n") << cdiag(mnt);
	// Moving itself to another cgroup does not take it out of the policy.
	// (The move itself is refused: builtin:protect-scope.)
	ktest::Cmd moved = in_cgroup("bw-in", "/usr/bin/bash -c 'echo $$ > /sys/fs/cgroup/bw-out/cgroup.procs; exec " +
						      probe() + " open /etc/shadow r'");
	EXPECT_EQ(moved.out, "err open EPERM\n") << cdiag(moved);
	// A sibling in another cgroup, and this test process: untouched.
	ktest::Cmd out = in_cgroup("bw-out", probe() + " open /etc/shadow r");
	EXPECT_EQ(out.out, "ok\n") << cdiag(out);
	int fd = open("/etc/shadow", O_RDONLY);
	EXPECT_GE(fd, 0) << strerror(errno);
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 200 && slurp(g.dir + "/early.out").empty(); i++)
		usleep(50000);
	EXPECT_EQ(slurp(g.dir + "/early.out"), "err open EPERM\n") << ediag(e);
	auto evs = e.wait_events(4);
	EXPECT_EQ(count_rule(evs, "no-shadow"), 3u) << ediag(e);
	EXPECT_EQ(count_rule(evs, "no-mount"), 1u) << ediag(e);
	for (const auto &ev : evs) {
		EXPECT_EQ(ev["bulwark"]["layer"], "lsm");
		EXPECT_EQ(ev["rule"]["ruleset"], "hardening");
	}
	EXPECT_EQ(e.stop(SIGTERM), 0) << ediag(e);
	EXPECT_EQ(ktest::join_names(ktest::bulwark_programs_after_release()), "")
		<< "an unpinned enforcer's programs outlived it";
	ktest::Cmd after = in_cgroup("bw-in", probe() + " open /etc/shadow r");
	EXPECT_EQ(after.out, "ok\n") << cdiag(after);
}

TEST(Enforce, OneEnforcerPerPinDirWithLiveReaders)
{
	REQUIRE_LSM();
	const std::string pin = "/sys/fs/bpf/bw-lock";
	EnforceGuard g({"bw-lk"}, pin);
	std::string pol = g.write("p.yaml", kEnforcePolicy);
	std::string sock = g.dir + "/ev.sock";
	ktest::Enforcer e({"--policy", pol, "--scope", "cgroup:/bw-lk", "--pin", pin, "--events", "unix:" + sock,
			   "--metrics", "127.0.0.1:19477"});
	ASSERT_TRUE(e.wait_ready()) << ediag(e);
	// The same directory spelled differently is the same lock.
	ktest::Cmd second =
		ktest::bulwark({"enforce", "--policy", pol, "--scope", "cgroup:/bw-lk", "--pin", pin + "/"});
	EXPECT_EQ(second.status, 1) << cdiag(second);
	EXPECT_NE(second.err.find("another enforcer (pid " + std::to_string(e.pid()) + ")"), std::string::npos)
		<< cdiag(second);
	EXPECT_TRUE(e.alive()) << ediag(e);
	// A monitor attached to the fan-out socket sees the denial.
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_un sa{};
	sa.sun_family = AF_UNIX;
	std::snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock.c_str());
	ASSERT_EQ(connect(s, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0) << strerror(errno);
	ktest::Cmd denied = in_cgroup("bw-lk", probe() + " open /etc/shadow r");
	EXPECT_EQ(denied.out, "err open EPERM\n") << cdiag(denied);
	std::string got;
	char buf[8192];
	for (int i = 0; i < 100 && got.find('\n') == std::string::npos; i++) {
		pollfd p{s, POLLIN, 0};
		if (poll(&p, 1, 100) == 1) {
			ssize_t k = read(s, buf, sizeof(buf));
			if (k <= 0)
				break;
			got.append(buf, static_cast<size_t>(k));
		}
	}
	close(s);
	ASSERT_NE(got.find('\n'), std::string::npos) << "nothing on the socket\n" << ediag(e);
	EXPECT_EQ(nlohmann::json::parse(got.substr(0, got.find('\n')))["rule"]["id"], "no-shadow");
	// Prometheus sees the kernel's counter for the rule.
	int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in in{};
	in.sin_family = AF_INET;
	in.sin_port = htons(19477);
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(connect(t, reinterpret_cast<sockaddr *>(&in), sizeof(in)), 0) << strerror(errno);
	const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	ASSERT_EQ(write(t, req, sizeof(req) - 1), static_cast<ssize_t>(sizeof(req) - 1));
	std::string page;
	for (ssize_t k; (k = read(t, buf, sizeof(buf))) > 0;)
		page.append(buf, static_cast<size_t>(k));
	close(t);
	EXPECT_NE(page.find("bulwark_rule_denials_total{rule=\"no-shadow\",layer=\"lsm\",mode=\"enforce\"} 1\n"),
		  std::string::npos)
		<< page;
	// unload finds the running enforcer through its lock, stops it, and
	// removes everything.
	ktest::Cmd un = ktest::bulwark({"unload", "--pin", pin});
	EXPECT_EQ(un.status, 0) << cdiag(un);
	EXPECT_NE(un.out.find("stopped the enforcer (pid " + std::to_string(e.pid()) + ")"), std::string::npos)
		<< cdiag(un);
	EXPECT_FALSE(e.alive());
	EXPECT_NE(access(pin.c_str(), F_OK), 0);
	EXPECT_EQ(ktest::join_names(ktest::bulwark_programs_after_release()), "");
	ktest::Cmd after = in_cgroup("bw-lk", probe() + " open /etc/shadow r");
	EXPECT_EQ(after.out, "ok\n") << cdiag(after);
}

TEST(Enforce, ExeScopeConfinesOneBinaryAndItsDescendants)
{
	REQUIRE_LSM();
	EnforceGuard g;
	std::string pol = g.write("p.yaml", kEnforcePolicy);
	std::string bash = g.dir + "/bash";
	ASSERT_EQ(std::system(("cp /usr/bin/bash " + bash).c_str()), 0);
	// Already running the binary when the enforcer starts: found in /proc.
	std::string go = g.dir + "/go";
	std::system((bash + " -c 'while [ ! -e " + go + " ]; do sleep 0.05; done; " + probe() +
		     " open /etc/shadow r' > " + g.dir + "/early.out 2>&1 &")
			    .c_str());
	usleep(200000);
	ktest::Enforcer e({"--policy", pol, "--scope", "exe:" + bash});
	ASSERT_TRUE(e.wait_ready()) << ediag(e);
	// The early bash and the sleep it runs at that moment.
	EXPECT_NE(e.err().find(" running process"), std::string::npos) << ediag(e);
	EXPECT_EQ(e.err().find("enforce: 0 running process"), std::string::npos) << ediag(e);
	std::ofstream(go) << "";
	// The copy, and what it starts, are confined; the original bash is not.
	ktest::Cmd child = ktest::shell("exec " + bash + " -c '" + probe() + " open /etc/shadow r; true'");
	EXPECT_EQ(child.out, "err open EPERM\n") << cdiag(child) << ediag(e);
	ktest::Cmd self = ktest::shell("exec " + bash + " -c 'read x < /etc/shadow && echo read'");
	EXPECT_EQ(self.out, "") << cdiag(self);
	ktest::Cmd other = ktest::shell(probe() + " open /etc/shadow r");
	EXPECT_EQ(other.out, "ok\n") << cdiag(other);
	for (int i = 0; i < 200 && slurp(g.dir + "/early.out").empty(); i++)
		usleep(50000);
	EXPECT_EQ(slurp(g.dir + "/early.out"), "err open EPERM\n") << ediag(e);
	auto evs = e.wait_events(3);
	EXPECT_EQ(count_rule(evs, "no-shadow"), 3u) << ediag(e);
	EXPECT_EQ(e.stop(SIGTERM), 0) << ediag(e);
}

// Threads that existed before the enforcer (the pidfd marking only reaches
// leaders) are in scope; and a binary replaced on disk (package upgrade:
// new inode, renamed over the old path) stays in scope.
TEST(Enforce, ExeScopeReachesOldThreadsAndFollowsAnUpgrade)
{
	REQUIRE_LSM();
	EnforceGuard g;
	std::string pol = g.write("p.yaml", kEnforcePolicy);
	std::string bin = g.dir + "/probe";
	ASSERT_EQ(std::system(("cp " + probe() + " " + bin).c_str()), 0);
	std::string go = g.dir + "/go";
	std::string go2 = g.dir + "/go2";
	// Whatever fails, the waiting probes are released (and so exit).
	struct Release {
		std::string a, b;
		~Release()
		{
			std::ofstream(a) << "";
			std::ofstream(b) << "";
			usleep(100000);
		}
	} release{go, go2};
	std::system((bin + " thread-open " + go + " /etc/shadow > " + g.dir + "/early.out 2>&1 &").c_str());
	// Another one whose thread acts only after the upgrade below.
	std::system((bin + " thread-open " + go2 + " /etc/shadow > " + g.dir + "/late.out 2>&1 &").c_str());
	usleep(300000);
	ktest::Enforcer e({"--policy", pol, "--scope", "exe:" + bin});
	ASSERT_TRUE(e.wait_ready()) << ediag(e);
	std::ofstream(go) << "";
	for (int i = 0; i < 200 && slurp(g.dir + "/early.out").empty(); i++)
		usleep(50000);
	EXPECT_EQ(slurp(g.dir + "/early.out"), "err open EPERM\n") << ediag(e);
	// The upgrade: a new file renamed over the scope's path.
	ASSERT_EQ(std::system(("cp " + probe() + " " + bin + ".new && mv " + bin + ".new " + bin).c_str()), 0);
	bool followed = false;
	for (int i = 0; i < 100 && !followed; i++) {
		followed = e.err().find("enforce: scope exe:" + bin + " now names a new file") != std::string::npos;
		if (!followed)
			usleep(50000);
	}
	EXPECT_TRUE(followed) << ediag(e);
	ktest::Cmd up = ktest::shell(bin + " open /etc/shadow r");
	EXPECT_EQ(up.out, "err open EPERM\n") << cdiag(up) << ediag(e);
	// A thread of the old binary's process, first acting after the scope
	// moved to the new file: still confined (its process was marked).
	std::ofstream(go2) << "";
	for (int i = 0; i < 200 && slurp(g.dir + "/late.out").empty(); i++)
		usleep(50000);
	EXPECT_EQ(slurp(g.dir + "/late.out"), "err open EPERM\n") << ediag(e);
	ktest::Cmd other = ktest::shell(probe() + " open /etc/shadow r");
	EXPECT_EQ(other.out, "ok\n") << cdiag(other);
	EXPECT_EQ(e.stop(SIGTERM), 0) << ediag(e);
}

// A service restart recreates its cgroup with a new id: the enforcer
// follows the path. Confined tasks may not write cgroup.procs (escape) or
// cgroup.kill; the enforcer moved into its own scope is no subject of it.
TEST(Enforce, CgroupScopeFollowsRecreationAndGuardsCgroupFiles)
{
	REQUIRE_LSM();
	EnforceGuard g({"bw-rc", "bw-rc-out"});
	std::string pol = g.write("p.yaml", kEnforcePolicy);
	ktest::Enforcer e({"--policy", pol, "--scope", "cgroup:/bw-rc"});
	ASSERT_TRUE(e.wait_ready()) << ediag(e);
	ktest::Cmd esc = in_cgroup("bw-rc", probe() + " open /sys/fs/cgroup/bw-rc-out/cgroup.procs w");
	EXPECT_EQ(esc.out, "err open EPERM\n") << cdiag(esc) << ediag(e);
	ktest::Cmd kil = in_cgroup("bw-rc", probe() + " open /sys/fs/cgroup/bw-rc-out/cgroup.kill w");
	EXPECT_EQ(kil.out, "err open EPERM\n") << cdiag(kil);
	// Reading them is fine.
	ktest::Cmd rd = in_cgroup("bw-rc", probe() + " open /sys/fs/cgroup/bw-rc-out/cgroup.procs r");
	EXPECT_EQ(rd.out, "ok\n") << cdiag(rd);
	ASSERT_EQ(rmdir("/sys/fs/cgroup/bw-rc"), 0) << strerror(errno);
	bool gone = false;
	for (int i = 0; i < 100 && !gone; i++) {
		gone = e.err().find("enforce: cgroup /bw-rc is gone; waiting for it") != std::string::npos;
		if (!gone)
			usleep(50000);
	}
	EXPECT_TRUE(gone) << ediag(e);
	ASSERT_EQ(mkdir("/sys/fs/cgroup/bw-rc", 0755), 0) << strerror(errno);
	bool followed = false;
	for (int i = 0; i < 100 && !followed; i++) {
		followed = e.err().find("enforce: scope cgroup:/bw-rc now names a new cgroup") != std::string::npos;
		if (!followed)
			usleep(50000);
	}
	EXPECT_TRUE(followed) << ediag(e);
	ktest::Cmd in = in_cgroup("bw-rc", probe() + " open /etc/shadow r");
	EXPECT_EQ(in.out, "err open EPERM\n") << cdiag(in) << ediag(e);
	auto evs = e.wait_events(3);
	EXPECT_EQ(count_rule(evs, "builtin:protect-scope"), 2u) << ediag(e);
	EXPECT_EQ(count_rule(evs, "no-shadow"), 1u) << ediag(e);
	// The enforcer moved into its scope: still not a subject (it reads
	// /etc/shadow-free files only, but its own signals and reloads work).
	std::ofstream("/sys/fs/cgroup/bw-rc/cgroup.procs") << e.pid() << std::endl;
	EXPECT_EQ(kill(e.pid(), SIGHUP), 0);
	bool reloaded = false;
	for (int i = 0; i < 200 && !reloaded; i++) {
		reloaded = e.err().find("enforce: reloaded") != std::string::npos;
		if (!reloaded)
			usleep(50000);
	}
	EXPECT_TRUE(reloaded) << ediag(e);
	// Back out, so the guard's cleanup of the cgroup does not SIGKILL it.
	std::ofstream("/sys/fs/cgroup/cgroup.procs") << e.pid() << std::endl;
	EXPECT_EQ(e.stop(SIGTERM), 0) << ediag(e);
}

// A lazy unmount of a mount above a bpffs would take the pins with it.
TEST(Enforce, ConfinedProcessCannotLazilyUnmountAboveTheBpffs)
{
	REQUIRE_LSM();
	const std::string pin = "/tmp/bwt/bpf/bw-lazy";
	EnforceGuard g({"bw-lazy"});
	struct Mounts {
		Mounts()
		{
			mkdir("/tmp/bwt", 0755);
			std::system("mount -t tmpfs none /tmp/bwt && mkdir -p /tmp/bwt/bpf /tmp/bwt/leaf && "
				    "mount -t bpf bpf /tmp/bwt/bpf && mount -t tmpfs none /tmp/bwt/leaf");
		}
		~Mounts()
		{
			ktest::bulwark({"unload", "--pin", "/tmp/bwt/bpf/bw-lazy"});
			std::system("umount -l /tmp/bwt/bpf; umount -l /tmp/bwt; rmdir /tmp/bwt");
		}
	} mounts;
	std::string pol = g.write("p.yaml", "name: open\nrules: []\n");
	ktest::Enforcer e({"--policy", pol, "--scope", "cgroup:/bw-lazy", "--pin", pin});
	ASSERT_TRUE(e.wait_ready()) << ediag(e);
	EXPECT_EQ(in_cgroup("bw-lazy", probe() + " umount-lazy /tmp/bwt").out, "err umount2 EPERM\n");
	// A mount with nothing beneath it is still the subject's to unmount.
	ktest::Cmd leaf = in_cgroup("bw-lazy", probe() + " umount-lazy /tmp/bwt/leaf");
	EXPECT_EQ(leaf.out, "ok\n") << cdiag(leaf);
	EXPECT_EQ(access((pin + "/link_bw_file_open").c_str(), F_OK), 0);
	auto evs = e.wait_events(1);
	EXPECT_EQ(count_rule(evs, "builtin:protect-enforcer"), 1u) << ediag(e);
	EXPECT_EQ(e.stop(SIGTERM), 0) << ediag(e);
}

TEST(Enforce, HostScopeNeedsConfirmationAndSparesTheEnforcer)
{
	REQUIRE_LSM();
	EnforceGuard g;
	std::string pol = g.write("p.yaml", kEnforcePolicy);
	ktest::Cmd refused = ktest::bulwark({"enforce", "--policy", pol, "--scope", "host"});
	EXPECT_EQ(refused.status, 1) << cdiag(refused);
	EXPECT_NE(refused.err.find("--i-mean-host"), std::string::npos) << cdiag(refused);
	ktest::Cmd pinned = ktest::bulwark(
		{"enforce", "--policy", pol, "--scope", "host", "--i-mean-host", "--pin", "/sys/fs/bpf/bw-host"});
	EXPECT_EQ(pinned.status, 1) << cdiag(pinned);
	EXPECT_NE(access("/sys/fs/bpf/bw-host", F_OK), 0);
	EXPECT_EQ(ktest::join_names(ktest::bulwark_programs_after_release()), "");

	// This test process is in scope too and may not signal the enforcer;
	// it stops it as a service manager would: the enforcer asked for a
	// parent-death signal, and its keeper is killed.
	ktest::Enforcer e({"--policy", pol, "--scope", "host", "--i-mean-host"}, true);
	ASSERT_TRUE(e.wait_ready()) << ediag(e);
	ktest::Cmd denied = ktest::shell(probe() + " open /etc/shadow r");
	EXPECT_EQ(denied.out, "err open EPERM\n") << cdiag(denied);
	int fd = open("/etc/shadow", O_RDONLY);
	EXPECT_LT(fd, 0) << "the test process itself is in the host scope";
	if (fd >= 0)
		close(fd);
	ktest::Cmd kill9 = ktest::shell(probe() + " kill " + std::to_string(e.pid()) + " 9");
	EXPECT_EQ(kill9.out, "err kill EPERM\n") << cdiag(kill9);
	EXPECT_TRUE(e.alive());
	// No event came from the enforcer or from init.
	auto evs = e.wait_events(3);
	for (const auto &ev : evs) {
		EXPECT_NE(ev["process"]["pid"], e.pid()) << ev.dump();
		EXPECT_NE(ev["process"]["pid"], 1) << ev.dump();
	}
	EXPECT_EQ(count_rule(evs, "no-shadow"), 2u) << ediag(e);
	EXPECT_EQ(count_rule(evs, "builtin:protect-supervisor"), 1u) << ediag(e);
	EXPECT_EQ(e.stop_via_keeper(), 0) << ediag(e);
	fd = open("/etc/shadow", O_RDONLY);
	EXPECT_GE(fd, 0) << "still confined after the enforcer exited: " << strerror(errno);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(ktest::join_names(ktest::bulwark_programs_after_release()), "");
}

TEST(Enforce, PinnedSurvivesKillIsReadoptedAndUnloads)
{
	REQUIRE_LSM();
	const std::string pin = "/sys/fs/bpf/bw-pinned";
	EnforceGuard g({"bw-pin"}, pin);
	std::string pol = g.write("p.yaml", kEnforcePolicy);
	size_t programs;
	{
		ktest::Enforcer e({"--policy", pol, "--scope", "cgroup:/bw-pin", "--pin", pin});
		ASSERT_TRUE(e.wait_ready()) << ediag(e);
		programs = ktest::loaded_bulwark_programs().size();
		EXPECT_GT(programs, 20u);
		EXPECT_EQ(in_cgroup("bw-pin", probe() + " open /etc/shadow r").out, "err open EPERM\n");
		EXPECT_EQ(e.stop(SIGKILL), 128 + SIGKILL);
	}
	// No enforcer: the pins keep the programs attached and the policy on.
	EXPECT_EQ(ktest::loaded_bulwark_programs().size(), programs);
	ktest::Cmd held = in_cgroup("bw-pin", probe() + " open /etc/shadow r");
	EXPECT_EQ(held.out, "err open EPERM\n") << cdiag(held);
	ktest::Cmd st = ktest::bulwark({"status", "--pin", pin, "--json"});
	ASSERT_EQ(st.status, 0) << cdiag(st);
	auto sj = nlohmann::json::parse(st.out);
	EXPECT_EQ(sj["policy"], "hardening");
	EXPECT_EQ(sj["rules"], 2);
	EXPECT_EQ(sj["enforcer_running"], false);
	EXPECT_EQ(sj["scope"].get<std::string>().rfind("cgroup:", 0), 0u) << st.out;
	// Two denials so far, one of them with no enforcer to read the event:
	// the kernel's counters have both.
	EXPECT_EQ(sj["events_dropped"], 0) << st.out;
	bool counted = false;
	for (const auto &h : sj["hits"])
		if (h["rule"] == "no-shadow") {
			EXPECT_EQ(h["deny"], 2) << st.out;
			counted = true;
		}
	EXPECT_TRUE(counted) << st.out;

	// A restart re-adopts: nothing loaded twice, events flow to it.
	{
		ktest::Enforcer e({"--policy", pol, "--scope", "cgroup:/bw-pin", "--pin", pin});
		ASSERT_TRUE(e.wait_ready()) << ediag(e);
		EXPECT_NE(e.err().find("re-adopted"), std::string::npos) << ediag(e);
		EXPECT_EQ(ktest::loaded_bulwark_programs().size(), programs);
		EXPECT_EQ(in_cgroup("bw-pin", probe() + " open /etc/shadow r").out, "err open EPERM\n");
		auto evs = e.wait_events(1);
		EXPECT_GE(count_rule(evs, "no-shadow"), 1u) << ediag(e);
		ktest::Cmd st2 = ktest::bulwark({"status", "--pin", pin, "--json"});
		EXPECT_EQ(nlohmann::json::parse(st2.out)["enforcer_running"], true) << st2.out;
		// A scope other than the pinned one is refused, not merged.
		ktest::Cmd other = ktest::bulwark({"enforce", "--policy", pol, "--scope", "cgroup:/", "--pin", pin});
		EXPECT_EQ(other.status, 1) << cdiag(other);
		// unload stops the running enforcer, then removes the pins.
		ktest::Cmd un = ktest::bulwark({"unload", "--pin", pin});
		EXPECT_EQ(un.status, 0) << cdiag(un);
		EXPECT_NE(un.out.find("stopped the enforcer"), std::string::npos) << cdiag(un);
		EXPECT_NE(un.out.find("link_bw_file_open"), std::string::npos) << cdiag(un);
		EXPECT_FALSE(e.alive());
	}
	EXPECT_NE(access(pin.c_str(), F_OK), 0);
	EXPECT_EQ(ktest::join_names(ktest::bulwark_programs_after_release()), "");
	ktest::Cmd free = in_cgroup("bw-pin", probe() + " open /etc/shadow r");
	EXPECT_EQ(free.out, "ok\n") << cdiag(free);
}

TEST(Enforce, ReloadUnderLoadNeverLetsTheDeniedFileOpen)
{
	REQUIRE_LSM();
	const std::string pin = "/sys/fs/bpf/bw-reload";
	EnforceGuard g({"bw-reload"}, pin);
	std::string a = g.write("a.yaml", kEnforcePolicy);
	std::string b = g.write("b.yaml", kEnforcePolicyB);
	// Every denied open is an event: hundreds of thousands of JSON lines
	// would fill the VM's memory, so this enforcer writes none; the
	// kernel's per-rule counters (status) say what was denied instead.
	ktest::Enforcer e({"--policy", a, "--scope", "cgroup:/bw-reload", "--pin", pin}, false, false);
	ASSERT_TRUE(e.wait_ready()) << ediag(e);
	size_t programs = ktest::loaded_bulwark_programs().size();
	std::string flag = g.dir + "/loop";
	std::system(("/usr/bin/bash -c 'echo $$ > /sys/fs/cgroup/bw-reload/cgroup.procs; exec " + probe() +
		     " open-loop /etc/shadow " + flag + "' > " + g.dir + "/loop.out 2>&1 &")
			    .c_str());
	for (int i = 0; i < 200 && access((flag + ".ready").c_str(), F_OK) != 0; i++)
		usleep(50000);
	ASSERT_EQ(access((flag + ".ready").c_str(), F_OK), 0) << "the loop never started";
	int failed = 0;
	auto t0 = std::chrono::steady_clock::now();
	for (int i = 0; i < 100; i++) {
		ktest::Cmd r = ktest::bulwark({"reload", "--pin", pin, "--policy", i % 2 ? a : b});
		if (r.status != 0 && failed++ < 3)
			ADD_FAILURE() << "reload " << i << ": " << cdiag(r);
	}
	EXPECT_EQ(failed, 0);
	double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	unlink(flag.c_str());
	for (int i = 0; i < 200 && slurp(g.dir + "/loop.out").empty(); i++)
		usleep(50000);
	std::string out = slurp(g.dir + "/loop.out");
	long opened = -1, denied = -1, other = -1;
	ASSERT_EQ(std::sscanf(out.c_str(), "loop opened=%ld denied=%ld other=%ld", &opened, &denied, &other), 3) << out;
	EXPECT_EQ(opened, 0) << out;
	EXPECT_GT(denied, 100) << out;
	EXPECT_EQ(other, 0) << out;
	std::printf("reload: 100 `bulwark reload` runs in %.1f s (%.0f ms each, process start included); the loop "
		    "was denied %ld opens and opened %ld\n",
		    secs, secs * 10, denied, opened);
	// Reloads never re-attach.
	EXPECT_EQ(ktest::loaded_bulwark_programs().size(), programs);
	// SIGHUP reloads the enforcer's own --policy file (a now).
	std::ofstream(a) << std::string(kEnforcePolicy) +
				    "  - id: no-passwd\n    deny: read\n    paths: [/etc/passwd]\n";
	kill(e.pid(), SIGHUP);
	for (int i = 0; i < 200 && e.err().find("enforce: reloaded") == std::string::npos; i++)
		usleep(50000);
	EXPECT_NE(e.err().find("enforce: reloaded"), std::string::npos) << ediag(e);
	ktest::Cmd pw = in_cgroup("bw-reload", probe() + " open /etc/passwd r");
	EXPECT_EQ(pw.out, "err open EPERM\n") << cdiag(pw) << ediag(e);
	ktest::Cmd st = ktest::bulwark({"status", "--pin", pin, "--json"});
	ASSERT_EQ(st.status, 0) << cdiag(st);
	auto sj = nlohmann::json::parse(st.out);
	EXPECT_EQ(sj["rules"], 3) << st.out;
	bool counted = false;
	for (const auto &h : sj["hits"])
		if (h["rule"] == "no-passwd") {
			EXPECT_EQ(h["deny"], 1) << st.out;
			counted = true;
		}
	EXPECT_TRUE(counted) << st.out;
	// A policy with errors changes nothing.
	std::ofstream(b) << "name: broken\nrules: [{id: x, deny: nonsense}]\n";
	ktest::Cmd bad = ktest::bulwark({"reload", "--pin", pin, "--policy", b});
	EXPECT_NE(bad.status, 0);
	EXPECT_EQ(in_cgroup("bw-reload", probe() + " open /etc/shadow r").out, "err open EPERM\n");
}

TEST(Enforce, ConfinedProcessCannotReachTheEnforcer)
{
	REQUIRE_LSM();
	const std::string pin = "/sys/fs/bpf/bw-self";
	EnforceGuard g({"bw-self"}, pin);
	std::string pol = g.write("p.yaml", "name: open\nrules: []\n");
	ktest::Enforcer e({"--policy", pol, "--scope", "cgroup:/bw-self", "--pin", pin});
	ASSERT_TRUE(e.wait_ready()) << ediag(e);
	std::string pid = std::to_string(e.pid());
	EXPECT_EQ(in_cgroup("bw-self", probe() + " kill " + pid + " 9").out, "err kill EPERM\n");
	EXPECT_EQ(in_cgroup("bw-self", probe() + " ptrace-pid " + pid).out, "err ptrace EPERM\n");
	EXPECT_EQ(in_cgroup("bw-self", probe() + " obj-get " + pin + "/map_bw_config").out, "err obj_get EPERM\n");
	EXPECT_EQ(in_cgroup("bw-self", probe() + " unlink " + pin + "/link_bw_file_open").out, "err unlink EPERM\n");
	EXPECT_EQ(in_cgroup("bw-self", probe() + " umount /sys/fs/bpf").out, "err umount2 EPERM\n");
	EXPECT_TRUE(e.alive());
	EXPECT_EQ(access((pin + "/link_bw_file_open").c_str(), F_OK), 0);
	auto evs = e.wait_events(5);
	EXPECT_EQ(count_rule(evs, "builtin:protect-supervisor"), 2u) << ediag(e);
	EXPECT_EQ(count_rule(evs, "builtin:protect-enforcer"), 3u) << ediag(e);
	// The same calls from outside the scope work (the unlink is left to
	// unload).
	ktest::Cmd outside = ktest::shell(probe() + " obj-get " + pin + "/map_bw_config");
	EXPECT_EQ(outside.out, "ok\n") << cdiag(outside);
}

TEST(Examples, HostHardeningPinnedOnACgroupSurvivesKillAndReloads)
{
	REQUIRE_LSM();
	const std::string pin = "/sys/fs/bpf/bw-example";
	EnforceGuard g({"bw-app"}, pin);
	std::string pol = example("host-hardening.yaml");
	ASSERT_EQ(ktest::bulwark({"check", pol}).status, 0);
	{
		ktest::Enforcer e({"--policy", pol, "--scope", "cgroup:/bw-app", "--pin", pin});
		ASSERT_TRUE(e.wait_ready()) << ediag(e);
		EXPECT_EQ(in_cgroup("bw-app", probe() + " open /etc/shadow r").out, "err open EPERM\n");
		EXPECT_EQ(in_cgroup("bw-app", probe() + " bpf-map").out, "err bpf EPERM\n");
		EXPECT_EQ(in_cgroup("bw-app", probe() + " syslog").out, "err syslog EPERM\n");
		auto evs = e.wait_events(3);
		EXPECT_EQ(count_rule(evs, "no-secrets"), 1u) << ediag(e);
		EXPECT_EQ(count_rule(evs, "no-kernel-change"), 1u) << ediag(e);
		EXPECT_EQ(count_rule(evs, "no-dmesg"), 1u) << ediag(e);
		e.stop(SIGKILL);
	}
	EXPECT_EQ(in_cgroup("bw-app", probe() + " open /etc/shadow r").out, "err open EPERM\n");
	EXPECT_EQ(in_cgroup("bw-app", probe() + " mount /mnt").out, "err mount EPERM\n");
	// Live update while no enforcer runs: the pinned maps take it.
	std::string text = slurp(pol);
	ASSERT_NE(text.find("\nhooks:\n"), std::string::npos);
	text.replace(text.find("\nhooks:\n"), 8,
		     "\n  - id: no-passwd\n    deny: read\n    paths: [/etc/passwd]\nhooks:\n");
	std::string relaxed = g.write("relaxed.yaml", text);
	ktest::Cmd r = ktest::bulwark({"reload", "--pin", pin, "--policy", relaxed});
	EXPECT_EQ(r.status, 0) << cdiag(r);
	EXPECT_EQ(in_cgroup("bw-app", probe() + " open /etc/passwd r").out, "err open EPERM\n");
	EXPECT_EQ(in_cgroup("bw-app", probe() + " open /etc/shadow r").out, "err open EPERM\n");
	ktest::Cmd un = ktest::bulwark({"unload", "--pin", pin});
	EXPECT_EQ(un.status, 0) << cdiag(un);
	EXPECT_EQ(ktest::join_names(ktest::bulwark_programs_after_release()), "");
	EXPECT_EQ(in_cgroup("bw-app", probe() + " open /etc/shadow r").out, "ok\n");
}

// --- what the kernel offers (every kernel of the VM matrix) ----------------

TEST(Kernel, DoctorSeesEveryHookAndTheProgramsLoad)
{
	REQUIRE_LSM();
	ktest::Cmd d = ktest::bulwark({"doctor", "--json"});
	ASSERT_EQ(d.status, 0) << cdiag(d);
	auto j = nlohmann::json::parse(d.out);
	EXPECT_TRUE(j["lsm"]["bpf_active"].get<bool>()) << d.out;
	EXPECT_TRUE(j["lsm"]["btf"].get<bool>()) << d.out;
	EXPECT_TRUE(j["lsm"]["floor_missing"].empty()) << d.out;
	// The load probe loads every program of this build, each hook's
	// variant for this kernel's prototype.
	EXPECT_EQ(j["lsm"]["load"], "ok") << d.out;
	ASSERT_GE(j["lsm"]["hooks"].size(), 30u) << d.out;
	for (const auto &h : j["lsm"]["hooks"])
		EXPECT_TRUE(h["usable"].get<bool>()) << h.dump();
	// Debian's kernels have the i386 entry and no x32: what the probes
	// must find there.
	EXPECT_EQ(j["seccomp"]["i386"], "on") << d.out;
	EXPECT_EQ(j["seccomp"]["x32"], "off") << d.out;
	EXPECT_NE(j["seccomp"]["actions_avail"].get<std::string>().find("user_notif"), std::string::npos) << d.out;
	std::string lsms = "," + j["lsm"]["active"].get<std::string>() + ",";
	if (lsms.find(",landlock,") != std::string::npos)
		EXPECT_GE(j["landlock_abi"].get<int>(), 1) << d.out;
	else
		EXPECT_LT(j["landlock_abi"].get<int>(), 0) << d.out;
}

// --- below the floor (the 5.10 VM only: scripts/test.sh runs Floor.* there) -

const char *kUserns = R"(name: userns
rules:
  - id: no-userns
    deny: user-namespaces
  - id: no-mount
    deny: mount
)";

TEST(Floor, EveryLsmCommandRefusesInOneLineAndAppliesNothing)
{
	EnforceGuard g({"bw-floor"}, "/sys/fs/bpf/bw-floor");
	std::string flag = g.dir + "/ran";
	auto lsm_lines = [](const std::string &err) {
		std::vector<std::string> out;
		std::istringstream in(err);
		for (std::string l; std::getline(in, l);)
			if (l.rfind("lsm: ", 0) == 0)
				out.push_back(l);
		return out;
	};
	for (const char *layers : {"all", "lsm"}) {
		Result r = ktest::run(kDemo, layers, {"/usr/bin/touch", flag});
		EXPECT_EQ(r.status, 125) << layers << "\n" << diag(r);
		EXPECT_NE(access(flag.c_str(), F_OK), 0) << "the workload ran under --layers " << layers;
		auto lines = lsm_lines(r.err);
		ASSERT_EQ(lines.size(), 1u) << diag(r);
		// It names the floor, what this kernel lacks, and the fix.
		EXPECT_NE(lines[0].find("below bulwark's floor, Linux 6.1"), std::string::npos) << lines[0];
		EXPECT_NE(lines[0].find("task storage maps (5.11)"), std::string::npos) << lines[0];
		EXPECT_NE(lines[0].find("boot Linux 6.1 or newer"), std::string::npos) << lines[0];
		// Debian 11 leaves bpf out of its default lsm=.
		EXPECT_NE(lines[0].find("with bpf in lsm="), std::string::npos) << lines[0];
		EXPECT_NE(r.err.find("nothing was applied"), std::string::npos) << diag(r);
	}
	// enforce refuses before it pins or attaches anything.
	std::string pol = g.write("p.yaml", kDemo);
	ktest::Cmd e = ktest::bulwark({"enforce", "--policy", pol, "--scope", "cgroup:/bw-floor", "--pin", g.pin});
	EXPECT_NE(e.status, 0) << cdiag(e);
	EXPECT_EQ(lsm_lines(e.err).size(), 1u) << cdiag(e);
	EXPECT_NE(e.err.find("below bulwark's floor"), std::string::npos) << cdiag(e);
	EXPECT_NE(access(g.pin.c_str(), F_OK), 0) << "enforce left a pin directory";
	EXPECT_EQ(ktest::join_names(ktest::bulwark_programs_after_release()), "");
	// The seccomp layer does not need the floor.
	Result s = ktest::run(kDemo, "seccomp", {probe(), "mount", "/mnt"});
	EXPECT_EQ(s.out, "err mount EPERM\n") << diag(s);
	// doctor says what is missing; explain marks the hook this kernel lacks.
	ktest::Cmd d = ktest::bulwark({"doctor"});
	EXPECT_NE(d.out.find("lsm: floor (Linux 6.1): missing task storage maps (5.11)"), std::string::npos) << d.out;
	EXPECT_NE(d.out.find("lsm: hook userns_create: missing"), std::string::npos) << d.out;
	EXPECT_NE(d.out.find("lsm: bpf is not an active LSM"), std::string::npos) << d.out;
	std::string up = g.write("u.yaml", kUserns);
	ktest::Cmd x = ktest::bulwark({"explain", "--json", up});
	ASSERT_EQ(x.status, 0) << cdiag(x);
	auto j = nlohmann::json::parse(x.out);
	EXPECT_NE(j["kernel"]["lsm_unusable"].get<std::string>().find("below bulwark's floor"), std::string::npos);
	bool seen = false;
	for (const auto &r : j["rules"]) {
		if (r["id"] == "no-userns") {
			seen = true;
			EXPECT_FALSE(r["lsm"]["enforced"].get<bool>()) << r.dump();
			EXPECT_EQ(r["lsm"]["missing_hooks"], nlohmann::json::array({"userns_create"})) << r.dump();
			EXPECT_TRUE(r["seccomp"]["enforced"].get<bool>()) << r.dump();
		}
		if (r["id"] == "no-mount") {
			EXPECT_TRUE(r["lsm"]["missing_hooks"].empty()) << r.dump();
		}
	}
	EXPECT_TRUE(seen) << x.out;
}
