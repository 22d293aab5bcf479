// SPDX-License-Identifier: Apache-2.0
// The resident engine, against the real kernel: sandboxes with different
// policies side by side through one program set, what happens to their
// subjects when a supervisor or the engine dies, and every way a subject
// might stop or weaken one of them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace {

using ktest::probe;
using ktest::Result;

#define REQUIRE_LSM()                                                                 \
	do {                                                                          \
		if (!ktest::lsm_usable())                                             \
			GTEST_SKIP() << "needs a kernel that loads BPF-LSM programs"; \
	} while (0)

std::string read_file(const std::string &p)
{
	std::ifstream f(p);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

bool pid_alive(pid_t pid)
{
	std::string st = read_file("/proc/" + std::to_string(pid) + "/stat");
	size_t cp = st.rfind(')');
	return !st.empty() && cp != std::string::npos && cp + 2 < st.size() && st[cp + 2] != 'Z';
}

// Descendants of pid, from /proc (children files).
std::vector<pid_t> descendants(pid_t root)
{
	std::vector<pid_t> out, frontier{root};
	while (!frontier.empty()) {
		std::vector<pid_t> next;
		for (pid_t p : frontier) {
			std::istringstream in(
				read_file("/proc/" + std::to_string(p) + "/task/" + std::to_string(p) + "/children"));
			pid_t c;
			while (in >> c) {
				out.push_back(c);
				next.push_back(c);
			}
		}
		frontier = next;
	}
	return out;
}

// A `bulwark engine` on a socket and pin directory of the test's own.
class Engine {
public:
	explicit Engine(const std::string &name, int max_policies = 8)
	    : sock_("/run/bw-test-" + name + ".sock"), pins_("/sys/fs/bpf/bw-test-" + name),
	      log_("/tmp/bw-engine-" + name + ".log")
	{
		start(max_policies);
	}
	~Engine()
	{
		if (pid_ > 0 && pid_alive(pid_))
			stop();
		else if (pid_ > 0)
			waitpid(pid_, nullptr, WNOHANG);
		// A test that killed the engine leaves its pins (a fresh engine
		// on them clears them; that is tested): removed here whatever
		// happened, so nothing stays attached after the test.
		ktest::shell("rm -rf " + pins_ + " " + sock_ + " " + sock_ + ".lock");
		unlink(log_.c_str());
	}
	void start(int max_policies = 8)
	{
		pid_ = fork();
		if (pid_ == 0) {
			int fd = open(log_.c_str(), O_CREAT | O_WRONLY | O_APPEND, 0600);
			dup2(fd, 2);
			int null = open("/dev/null", O_RDWR);
			dup2(null, 0);
			dup2(null, 1);
			std::string bin = ktest::bulwark_bin(), mp = std::to_string(max_policies);
			execl(bin.c_str(), bin.c_str(), "engine", "--socket", sock_.c_str(), "--pin", pins_.c_str(),
			      "--max-policies", mp.c_str(), "-v", nullptr);
			_exit(99);
		}
	}
	bool wait_ready(size_t nth = 1)
	{
		for (int i = 0; i < 1200; i++) {
			std::string l = log();
			size_t n = 0;
			for (size_t at = l.find("engine: ready"); at != std::string::npos;
			     at = l.find("engine: ready", at + 1))
				n++;
			if (n >= nth)
				return true;
			if (!pid_alive(pid_))
				return false;
			usleep(100 * 1000);
		}
		return false;
	}
	int stop()
	{
		kill(pid_, SIGTERM);
		int st = 0;
		waitpid(pid_, &st, 0);
		pid_ = -1;
		return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	void sigkill()
	{
		kill(pid_, SIGKILL);
		waitpid(pid_, nullptr, 0);
		pid_ = -1;
	}
	std::string log() const { return read_file(log_); }
	const std::string &sock() const { return sock_; }
	const std::string &pins() const { return pins_; }
	pid_t pid() const { return pid_; }
	std::vector<std::string> client(const std::vector<std::string> &more = {}) const
	{
		std::vector<std::string> v = {"--engine", sock_};
		v.insert(v.end(), more.begin(), more.end());
		return v;
	}

private:
	std::string sock_, pins_, log_;
	pid_t pid_ = -1;
};

std::string deny_read(const std::string &name, const std::string &path)
{
	return "name: " + name + "\nrules:\n  - id: no-" + name + "\n    deny: read\n    paths: [" + path + "]\n";
}

size_t count_rule(const std::vector<nlohmann::json> &evs, const std::string &rule)
{
	size_t n = 0;
	for (const auto &e : evs)
		n += e["rule"]["id"] == rule;
	return n;
}

// A workload that keeps reaching hooks (each cat is a fork and an exec).
const std::vector<std::string> kLoop = {"/usr/bin/bash", "-c", "while :; do cat /etc/hostname >/dev/null; done"};

// The descendants of a started run, once there are at least n.
std::vector<pid_t> wait_subjects(pid_t run, size_t n)
{
	std::vector<pid_t> subjects;
	for (int i = 0; i < 1200 && subjects.size() < n; i++) {
		usleep(100 * 1000);
		subjects = descendants(run);
	}
	return subjects;
}

bool wait_gone(const std::vector<pid_t> &pids, int ms)
{
	for (int t = 0; t < ms; t += 50) {
		bool any = false;
		for (pid_t p : pids)
			any |= pid_alive(p);
		if (!any)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

} // namespace

// Three sandboxes with three policies at once, through one program set: each
// is held to its own rule only, none loads a program, and a process outside
// every one is held to none.
TEST(Engine, SandboxesWithDifferentPoliciesSeeOnlyTheirOwnRules)
{
	REQUIRE_LSM();
	Engine eng("multi");
	ASSERT_TRUE(eng.wait_ready()) << eng.log();
	std::vector<std::string> files;
	for (const char *n : {"a", "b", "c"}) {
		files.push_back(std::string("/tmp/bw-eng-") + n);
		std::ofstream(files.back()) << n;
	}
	size_t programs = ktest::loaded_bulwark_programs().size();
	ASSERT_GT(programs, 30u);
	std::vector<std::unique_ptr<ktest::Run>> runs;
	const std::string flag = "/tmp/bw-eng-go";
	unlink(flag.c_str());
	for (size_t i = 0; i < 3; i++) {
		std::string script = "while [ ! -e " + flag + " ]; do sleep 0.1; done; for f in " + files[0] + " " +
				     files[1] + " " + files[2] + "; do " + probe() + " open $f r; done";
		runs.push_back(std::make_unique<ktest::Run>(deny_read(std::string(1, 'a' + i), files[i]), "lsm",
							    std::vector<std::string>{"/usr/bin/bash", "-c", script},
							    eng.client()));
	}
	// All three live at once: status shows each with its own policy.
	ktest::Cmd st;
	for (int i = 0; i < 600; i++) {
		st = ktest::bulwark({"status", "--pin", eng.pins()});
		if (st.out.find("3 sandboxes") != std::string::npos)
			break;
		usleep(100 * 1000);
	}
	EXPECT_NE(st.out.find("3 policies, 3 sandboxes"), std::string::npos) << st.out << st.err << eng.log();
	EXPECT_EQ(ktest::loaded_bulwark_programs().size(), programs) << "a sandbox loaded programs of its own";
	for (const auto &f : files)
		EXPECT_EQ(ktest::shell(probe() + " open " + f + " r").out, "ok\n") << "outside: " << f;
	std::ofstream(flag) << 1;
	for (size_t i = 0; i < 3; i++) {
		Result r = runs[i]->wait();
		std::string want;
		for (size_t j = 0; j < 3; j++)
			want += i == j ? "err open EPERM\n" : "ok\n";
		EXPECT_EQ(r.out, want) << "sandbox " << i << ": " << ktest::describe(r);
		ASSERT_EQ(r.events.size(), 1u) << ktest::describe(r);
		EXPECT_EQ(r.events[0]["rule"]["id"], "no-" + std::string(1, 'a' + i));
		EXPECT_EQ(r.events[0]["file"]["path"], files[i]);
	}
	// Hits are counted per policy.
	st = ktest::bulwark({"status", "--pin", eng.pins(), "--json"});
	auto j = nlohmann::json::parse(st.out);
	EXPECT_EQ(j["sandboxes"].size(), 0u) << st.out;
	EXPECT_EQ(eng.stop(), 0) << eng.log();
	EXPECT_NE(access(eng.pins().c_str(), F_OK), 0) << "the engine left its pins";
	EXPECT_TRUE(ktest::bulwark_programs_after_release().empty());
	for (const auto &f : files)
		unlink(f.c_str());
	unlink(flag.c_str());
}

// Allow-lists through the engine: the defaults are per generation slot, so
// a sandbox with read and write allow-lists is held to them while one beside
// it, without, is not.
TEST(Engine, AllowListsStayInTheirSandbox)
{
	REQUIRE_LSM();
	Engine eng("allow");
	ASSERT_TRUE(eng.wait_ready()) << eng.log();
	ASSERT_EQ(std::system("mkdir -p /tmp/bw-eng-al && echo x > /tmp/bw-eng-al/listed && "
			      "echo y > /tmp/bw-eng-al/other"),
		  0);
	const std::string flag = "/tmp/bw-eng-al-go";
	unlink(flag.c_str());
	std::string script =
		"while [ ! -e " + flag + " ]; do sleep 0.1; done; " + probe() + " open /tmp/bw-eng-al/other rw";
	ktest::Run beside("name: beside\nrules:\n  - id: nothing-here\n    deny: read\n    paths: [/etc/shadow]\n",
			  "lsm", {"/usr/bin/bash", "-c", script}, eng.client());
	std::string pol = "name: listed\ndefault: {read: deny, write: deny}\nrules:\n" + ktest::runtime_reads_rule() +
			  "  - id: mine\n    allow: [read, write]\n    paths: [/tmp/bw-eng-al/listed]\n";
	Result ok = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bw-eng-al/listed", "rw"}, eng.client());
	Result rd = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bw-eng-al/other", "r"}, eng.client());
	Result wr = ktest::run(pol, "lsm", {probe(), "open", "/tmp/bw-eng-al/other", "w"}, eng.client());
	std::ofstream(flag) << 1;
	Result b = beside.wait();
	std::system("rm -rf /tmp/bw-eng-al");
	unlink(flag.c_str());
	EXPECT_EQ(ok.out, "ok\n") << ktest::describe(ok);
	EXPECT_TRUE(ok.events.empty()) << ktest::describe(ok);
	EXPECT_EQ(rd.out, "err open EPERM\n") << ktest::describe(rd);
	ASSERT_EQ(rd.events.size(), 1u) << ktest::describe(rd);
	EXPECT_EQ(rd.events[0]["rule"]["id"], "default:read");
	EXPECT_EQ(wr.out, "err open EPERM\n") << ktest::describe(wr);
	ASSERT_EQ(wr.events.size(), 1u) << ktest::describe(wr);
	EXPECT_EQ(wr.events[0]["rule"]["id"], "default:write");
	EXPECT_EQ(b.out, "ok\n") << ktest::describe(b);
	EXPECT_TRUE(b.events.empty()) << ktest::describe(b);
	EXPECT_EQ(eng.stop(), 0) << eng.log();
}

// The sandbox's supervisor killed from outside: its subjects do not run on.
// The one looping through hooks dies at its next one (the kernel marked the
// sandbox gone when the supervisor exited); the one asleep in a syscall
// without hooks is swept by the engine.
TEST(Engine, KilledSupervisorLeavesNoSubjectRunning)
{
	REQUIRE_LSM();
	Engine eng("sup");
	ASSERT_TRUE(eng.wait_ready()) << eng.log();
	ktest::Run run("name: open\nrules: []\n", "lsm",
		       {"/usr/bin/bash", "-c", "sleep 1000 & while :; do cat /etc/hostname >/dev/null; done"},
		       eng.client());
	std::vector<pid_t> subjects = wait_subjects(run.pid(), 3);
	ASSERT_GE(subjects.size(), 2u);
	const pid_t supervisor = run.pid();
	kill(supervisor, SIGKILL);
	Result r = run.wait();
	EXPECT_EQ(r.status, 128 + SIGKILL);
	EXPECT_TRUE(wait_gone(subjects, 60000)) << "a subject outlived its supervisor\n" << eng.log();
	// The engine says so once its sweep is done (slow under emulation).
	const std::string said = "its supervisor (pid " + std::to_string(supervisor) + ") is gone";
	for (int i = 0; i < 600 && eng.log().find(said) == std::string::npos; i++)
		usleep(100 * 1000);
	EXPECT_NE(eng.log().find(said), std::string::npos) << eng.log();
	EXPECT_EQ(eng.stop(), 0) << eng.log();
}

long vmstat(const std::string &key)
{
	std::istringstream in(read_file("/proc/vmstat"));
	std::string k;
	long v;
	while (in >> k >> v)
		if (k == key)
			return v;
	return -1;
}

// The same when the kernel's OOM killer takes the supervisor: made its
// first choice (oom_score_adj 1000, set from outside), then the OOM killer
// run by hand (sysrq f), which kills the task it would kill under memory
// pressure.
TEST(Engine, OomKilledSupervisorLeavesNoSubjectRunning)
{
	REQUIRE_LSM();
	Engine eng("oom");
	ASSERT_TRUE(eng.wait_ready()) << eng.log();
	ktest::Run run("name: open\nrules: []\n", "lsm", kLoop, eng.client());
	std::vector<pid_t> subjects = wait_subjects(run.pid(), 1);
	ASSERT_FALSE(subjects.empty());
	const pid_t supervisor = run.pid();
	std::ofstream("/proc/" + std::to_string(supervisor) + "/oom_score_adj") << "1000";
	long before = vmstat("oom_kill");
	std::ofstream("/proc/sysrq-trigger") << "f";
	bool died = false;
	for (int i = 0; i < 600 && !died; i++) {
		usleep(50 * 1000);
		died = !pid_alive(supervisor);
	}
	ASSERT_TRUE(died) << "the OOM killer took another task";
	Result r = run.wait();
	EXPECT_EQ(r.status, 128 + SIGKILL);
	EXPECT_GT(vmstat("oom_kill"), before) << "the OOM killer did not run";
	EXPECT_TRUE(wait_gone(subjects, 20000)) << "a subject outlived its OOM-killed supervisor\n" << eng.log();
	EXPECT_NE(eng.log().find("its supervisor (pid " + std::to_string(supervisor) + ") is gone"), std::string::npos)
		<< eng.log();
	EXPECT_EQ(eng.stop(), 0) << eng.log();
}

// The engine itself killed from outside (its client frozen so only the
// kernel can act): the subject dies at its next hook, and that is an event,
// which the next engine on these pins reports before it clears them.
TEST(Engine, KilledEngineLeavesNoSubjectRunningAndTheNextOneSaysSo)
{
	REQUIRE_LSM();
	Engine eng("death");
	ASSERT_TRUE(eng.wait_ready()) << eng.log();
	ktest::Run run("name: open\nrules: []\n", "lsm", kLoop, eng.client());
	// Two: the loop runs (a cat beside bash). One alone may be the child
	// still waiting for its supervisor's go, which the frozen supervisor
	// would then never give: no hook, nothing to test.
	std::vector<pid_t> subjects = wait_subjects(run.pid(), 2);
	ASSERT_GE(subjects.size(), 2u);
	kill(run.pid(), SIGSTOP);
	eng.sigkill();
	EXPECT_TRUE(wait_gone(subjects, 60000)) << "a subject outlived the engine; what its pins say:\n"
						<< ktest::bulwark({"status", "--pin", eng.pins(), "--json"}).out;
	kill(run.pid(), SIGKILL);
	run.wait();
	// The pins stayed (the programs with them): a new engine reports what
	// its predecessor's programs did, then clears them and starts clean.
	EXPECT_EQ(access(eng.pins().c_str(), F_OK), 0);
	eng.start();
	ASSERT_TRUE(eng.wait_ready(2)) << eng.log();
	std::string log = eng.log();
	EXPECT_NE(log.find("killed at a hook: its supervisor or the engine is gone (builtin:supervisor-gone)"),
		  std::string::npos)
		<< log;
	EXPECT_NE(log.find("removed the pins a previous engine left"), std::string::npos) << log;
	EXPECT_EQ(eng.stop(), 0) << eng.log();
	EXPECT_TRUE(ktest::bulwark_programs_after_release().empty());
}

// From inside a sandbox, every route to stopping or weakening its own
// supervisor or the engine: EPERM (EACCES where the kernel maps a refused
// ptrace check to it) and an event for each.
TEST(Engine, SubjectsCannotStopOrWeakenTheirSupervisorOrTheEngine)
{
	REQUIRE_LSM();
	Engine eng("self");
	ASSERT_TRUE(eng.wait_ready()) << eng.log();
	// As a service manager would run it: in a cgroup of its own.
	const std::string cg = "/bw-test-engine";
	mkdir(("/sys/fs/cgroup" + cg).c_str(), 0755);
	std::ofstream("/sys/fs/cgroup" + cg + "/cgroup.procs") << eng.pid();
	std::string p = probe(), e = std::to_string(eng.pid());
	// $PPID is the supervisor: bash is the sandbox's first process.
	std::vector<std::pair<std::string, std::string>> routes;
	for (const std::string &t : {std::string("$PPID"), e}) {
		routes.push_back({p + " kill " + t + " 9", "err kill EPERM"});
		routes.push_back({p + " kill " + t + " 19", "err kill EPERM"});
		routes.push_back({p + " ptrace-pid " + t, "err ptrace EPERM"});
		routes.push_back({p + " open /proc/" + t + "/mem r", "err open EACCES"});
		routes.push_back({p + " open /proc/" + t + "/oom_score_adj w", "err open EPERM"});
		routes.push_back({p + " open /proc/" + t + "/oom_adj w", "err open EPERM"});
		routes.push_back({p + " weaken prlimit " + t, "err prlimit EPERM"});
		routes.push_back({p + " weaken renice " + t, "err setpriority EPERM"});
		routes.push_back({p + " weaken sched-idle " + t, "err sched_setscheduler EPERM"});
		routes.push_back({p + " weaken ioprio " + t, "err ioprio_set EPERM"});
	}
	routes.push_back({p + " open /sys/fs/cgroup" + cg + "/cgroup.freeze w", "err open EPERM"});
	routes.push_back({p + " open /sys/fs/cgroup" + cg + "/cgroup.procs w", "err open EPERM"});
	routes.push_back({p + " obj-get " + eng.pins() + "/map_bw_config", "err obj_get EPERM"});
	routes.push_back({p + " unlink " + eng.pins() + "/link_bw_file_open", "err unlink EPERM"});
	routes.push_back({p + " umount /sys/fs/bpf", "err umount2 EPERM"});
	std::string script, want;
	for (const auto &[cmd, expect] : routes) {
		script += cmd + "; ";
		want += expect + "\n";
	}
	Result r = ktest::run("name: open\nrules: []\n", "lsm", {"/usr/bin/bash", "-c", script}, eng.client());
	EXPECT_EQ(r.out, want) << ktest::describe(r);
	EXPECT_EQ(count_rule(r.events, "builtin:protect-supervisor"), 20u) << ktest::describe(r);
	EXPECT_EQ(count_rule(r.events, "builtin:protect-scope"), 2u) << ktest::describe(r);
	EXPECT_EQ(count_rule(r.events, "builtin:protect-enforcer"), 3u) << ktest::describe(r);
	EXPECT_TRUE(pid_alive(eng.pid()));
	// The same from outside every sandbox works (read-only ones here).
	EXPECT_EQ(ktest::shell(p + " open /proc/" + e + "/oom_score_adj w").out, "ok\n");
	EXPECT_EQ(eng.stop(), 0) << eng.log();
	rmdir(("/sys/fs/cgroup" + cg).c_str());
}

// The socket is root's: anyone else is refused before a word is said.
TEST(Engine, OnlyRootReachesTheEngine)
{
	REQUIRE_LSM();
	Engine eng("root");
	ASSERT_TRUE(eng.wait_ready()) << eng.log();
	struct stat st;
	ASSERT_EQ(stat(eng.sock().c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0600u);
	EXPECT_EQ(st.st_uid, 0u);
	ktest::Cmd c = ktest::shell(probe() + " setuid 65534 connect-unix " + eng.sock());
	EXPECT_EQ(c.out, "ok\nerr connect EACCES\n") << c.err;
	// An engine asked for by its socket that is not there: nothing runs.
	EXPECT_EQ(eng.stop(), 0);
	Result r = ktest::run(deny_read("x", "/etc/shadow"), "lsm", {probe(), "pid"}, eng.client());
	EXPECT_EQ(r.status, 125) << ktest::describe(r);
	EXPECT_EQ(r.out, "") << ktest::describe(r);
	EXPECT_NE(r.err.find("lsm: cannot reach the engine at " + eng.sock()), std::string::npos) << r.err;
}

// Where BPF-LSM programs cannot load (this host), the engine still runs:
// it holds the syscall tracepoints once, so `run --layers seccomp` loads
// nothing and its kills are still events; a run that needs the LSM layer
// is told the engine has none.
TEST(Native, EngineWithoutLsmServesSeccompSandboxes)
{
	if (ktest::lsm_usable())
		GTEST_SKIP() << "this kernel loads BPF-LSM programs; the VM suite covers the engine";
	Engine eng("native");
	ASSERT_TRUE(eng.wait_ready()) << eng.log();
	EXPECT_NE(eng.log().find("engine: no LSM layer on this kernel; serving --layers seccomp sandboxes only"),
		  std::string::npos)
		<< eng.log();
	const char *kill_table = "name: table\nsyscalls:\n  - names: [getppid]\n    action: kill-process\n";
	Result r = ktest::run(kill_table, "seccomp", {probe(), "getppid-many", "1"}, eng.client());
	EXPECT_EQ(r.status, 128 + SIGSYS) << ktest::describe(r);
	ASSERT_EQ(r.events.size(), 1u) << ktest::describe(r);
	EXPECT_EQ(r.events[0]["rule"]["id"], "syscalls[0]");
	EXPECT_EQ(r.events[0]["bulwark"]["action"], "kill");
	EXPECT_EQ(r.events[0]["bulwark"]["syscall"]["name"], "getppid");
	Result all = ktest::run(kill_table, "all", {probe(), "pid"}, eng.client());
	EXPECT_EQ(all.status, 125) << ktest::describe(all);
	EXPECT_EQ(all.out, "");
	EXPECT_NE(all.err.find("has no LSM layer"), std::string::npos) << all.err;
	EXPECT_EQ(eng.stop(), 0) << eng.log();
	EXPECT_TRUE(ktest::bulwark_programs_after_release().empty());
}

// Without an engine too: a run pins its own set while it lives, so a run
// killed from outside leaves its subjects confined, and the one looping
// through hooks dies at its next one. The next run reports that, kills the
// one asleep and removes the pins.
TEST(Engine, KilledPrivateRunLeavesNoSubjectRunningUnconfined)
{
	REQUIRE_LSM();
	// The direct child dies with the run (PDEATHSIG); the grandchildren
	// are what the pins are for.
	ktest::Run run("name: open\nrules: []\n", "lsm",
		       {"/usr/bin/bash", "-c", "(while :; do cat /etc/hostname >/dev/null; done) & sleep 1000 & wait"},
		       {"--engine", "off"});
	const pid_t supervisor = run.pid();
	const std::string pins = "/sys/fs/bpf/bulwark-run-" + std::to_string(supervisor);
	std::vector<pid_t> subjects = wait_subjects(supervisor, 3);
	ASSERT_GE(subjects.size(), 3u);
	EXPECT_EQ(access(pins.c_str(), F_OK), 0) << "the run pinned nothing";
	kill(supervisor, SIGKILL);
	run.wait();
	// The looping bash (and its cats) die at a hook; `sleep` sits in a
	// syscall without one, still confined.
	std::vector<pid_t> loopers;
	for (pid_t p : subjects)
		if (read_file("/proc/" + std::to_string(p) + "/comm") != "sleep\n")
			loopers.push_back(p);
	EXPECT_TRUE(wait_gone(loopers, 20000)) << "a subject ran on after its run was killed";
	EXPECT_EQ(access(pins.c_str(), F_OK), 0) << "the killed run's pins are gone: its programs detached";
	Result next = ktest::run("name: open\nrules: []\n", "lsm", {"/bin/true"}, {"--engine", "off"});
	EXPECT_EQ(next.status, 0) << ktest::describe(next);
	EXPECT_NE(next.err.find("lsm: removed the pins of a bulwark run that was killed (" + pins + ")"),
		  std::string::npos)
		<< next.err;
	EXPECT_NE(next.err.find("killed at a hook: its supervisor or the engine is gone (builtin:supervisor-gone)"),
		  std::string::npos)
		<< next.err;
	EXPECT_TRUE(wait_gone(subjects, 20000)) << "the sleeping subject was not cleared";
	EXPECT_NE(access(pins.c_str(), F_OK), 0);
	EXPECT_TRUE(ktest::bulwark_programs_after_release().empty());
}

namespace {

// cmd, from a shell that first moves itself into cgroup cg.
ktest::Cmd in_cgroup(const std::string &cg, const std::string &cmd)
{
	return ktest::shell("echo $$ > /sys/fs/cgroup/" + cg + "/cgroup.procs && exec " + cmd);
}

std::string opens(const std::vector<std::string> &files)
{
	std::string s;
	for (const auto &f : files)
		s += probe() + " open " + f + " r; ";
	return s;
}

} // namespace

// `enforce` scopes hosted by the engine, beside a `run` sandbox: a cgroup
// scope and an exe scope, each held to its own policy only, all through the
// one program set. A reload is the scope switching policy; a stopped
// enforcer releases its scope (what runs there runs on, free); a killed one
// leaves it closed (its subjects and what enters it are killed) until an
// enforcer takes it over.
TEST(Engine, ScopesAndSandboxesSideBySideSeeOnlyTheirOwnRules)
{
	REQUIRE_LSM();
	Engine eng("scopes");
	ASSERT_TRUE(eng.wait_ready()) << eng.log();
	const std::string dir = "/tmp/bw-eng-scopes", cg = "bw-eng-scope";
	ktest::shell("rm -rf " + dir + " && mkdir -p " + dir + " && cp /usr/bin/bash " + dir + "/bash");
	mkdir(("/sys/fs/cgroup/" + cg).c_str(), 0755);
	std::vector<std::string> files;
	for (const char *n : {"a", "b", "c"}) {
		files.push_back(dir + "/" + n);
		std::ofstream(files.back()) << n;
	}
	auto write = [&](const std::string &name, const std::string &text) {
		std::ofstream(dir + "/" + name) << text;
		return dir + "/" + name;
	};
	std::string pa = write("a.yaml", deny_read("a", files[0])), pb = write("b.yaml", deny_read("b", files[1]));
	size_t programs = ktest::loaded_bulwark_programs().size();
	ktest::Enforcer ea({"--policy", pa, "--scope", "cgroup:/" + cg, "--engine", eng.sock()});
	ASSERT_TRUE(ea.wait_ready()) << ea.err() << eng.log();
	auto eb = std::make_unique<ktest::Enforcer>(
		std::vector<std::string>{"--policy", pb, "--scope", "exe:" + dir + "/bash", "--engine", eng.sock()});
	ASSERT_TRUE(eb->wait_ready()) << eb->err() << eng.log();
	EXPECT_EQ(ktest::loaded_bulwark_programs().size(), programs) << "a scope loaded programs of its own";
	// Asleep in the cgroup from before: stays there through what follows.
	std::system(("/usr/bin/bash -c 'echo $$ > /sys/fs/cgroup/" + cg + "/cgroup.procs; exec sleep 1000' &").c_str());

	const std::string all = opens(files);
	EXPECT_EQ(in_cgroup(cg, "/usr/bin/bash -c '" + all + "'").out, "err open EPERM\nok\nok\n");
	EXPECT_EQ(ktest::shell(dir + "/bash -c '" + all + "'").out, "ok\nerr open EPERM\nok\n");
	Result r = ktest::run(deny_read("c", files[2]), "lsm", {"/usr/bin/bash", "-c", all}, eng.client());
	EXPECT_EQ(r.out, "ok\nok\nerr open EPERM\n") << ktest::describe(r);
	EXPECT_EQ(count_rule(r.events, "no-c"), 1u) << ktest::describe(r);
	EXPECT_EQ(r.events.size(), 1u) << ktest::describe(r);
	EXPECT_EQ(ktest::shell("/usr/bin/bash -c '" + all + "'").out, "ok\nok\nok\n") << "outside every scope";
	EXPECT_EQ(count_rule(ea.wait_events(1), "no-a"), 1u) << ea.err();
	EXPECT_EQ(count_rule(eb->wait_events(1), "no-b"), 1u) << eb->err();
	EXPECT_EQ(ea.events().size(), 1u) << ea.err();
	EXPECT_EQ(eb->events().size(), 1u) << eb->err();
	ktest::Cmd st = ktest::bulwark({"status", "--pin", eng.pins()});
	EXPECT_NE(st.out.find("live, scope cgroup id "), std::string::npos) << st.out;
	EXPECT_NE(st.out.find("live, scope exe "), std::string::npos) << st.out;

	// Reload: the cgroup scope now denies b instead of a.
	std::string pa2 = write("a.yaml", deny_read("b2", files[1]));
	(void)pa2;
	kill(ea.pid(), SIGHUP);
	for (int i = 0; i < 600 && ea.err().find("enforce: reloaded") == std::string::npos; i++)
		usleep(50 * 1000);
	ASSERT_NE(ea.err().find("(engine policy "), std::string::npos) << ea.err();
	EXPECT_EQ(in_cgroup(cg, "/usr/bin/bash -c '" + all + "'").out, "ok\nerr open EPERM\nok\n") << ea.err();
	EXPECT_EQ(count_rule(ea.wait_events(2), "no-b2"), 1u) << ea.err();

	// Stopped cleanly: released. The sleeper runs on, and so does what
	// starts there now, unconfined.
	std::string sleeper = ktest::shell("cat /sys/fs/cgroup/" + cg + "/cgroup.procs").out;
	ASSERT_FALSE(sleeper.empty());
	EXPECT_EQ(ea.stop(SIGTERM), 0) << ea.err();
	// The engine hears of it after the enforcer is gone.
	for (int i = 0; i < 600 && eng.log().find("released") == std::string::npos; i++)
		usleep(50 * 1000);
	EXPECT_NE(eng.log().find("released"), std::string::npos) << eng.log();
	EXPECT_EQ(in_cgroup(cg, "/usr/bin/bash -c '" + all + "'").out, "ok\nok\nok\n") << eng.log();
	EXPECT_EQ(ktest::shell("cat /sys/fs/cgroup/" + cg + "/cgroup.procs").out.substr(0, sleeper.size()), sleeper);

	// Killed: the exe scope's subjects die, and so does a new run of the
	// binary, until an enforcer takes the scope over.
	const std::string bin = dir + "/bash";
	pid_t lp = fork();
	if (lp == 0) {
		execl(bin.c_str(), bin.c_str(), "-c", "while :; do cat /etc/hostname >/dev/null; done", nullptr);
		_exit(99);
	}
	ASSERT_GT(lp, 0);
	usleep(500 * 1000);
	ASSERT_TRUE(pid_alive(lp)) << eng.log();
	kill(eb->pid(), SIGKILL);
	eb.reset();
	EXPECT_TRUE(wait_gone({lp}, 60000)) << "an exe-scope subject outlived its enforcer\n" << eng.log();
	int lst = 0;
	waitpid(lp, &lst, 0);
	EXPECT_TRUE(WIFSIGNALED(lst) && WTERMSIG(lst) == SIGKILL) << lst;
	for (int i = 0; i < 600 && eng.log().find("the scope stays closed") == std::string::npos; i++)
		usleep(50 * 1000);
	EXPECT_NE(eng.log().find("the scope stays closed"), std::string::npos) << eng.log();
	ktest::Cmd closed = ktest::shell(dir + "/bash -c '" + all + "'");
	EXPECT_NE(closed.status, 0) << "ran in a closed scope: " << closed.out;
	EXPECT_EQ(closed.out.find("ok"), std::string::npos) << closed.out;
	ktest::Enforcer eb2({"--policy", pb, "--scope", "exe:" + dir + "/bash", "--engine", eng.sock()});
	ASSERT_TRUE(eb2.wait_ready()) << eb2.err() << eng.log();
	EXPECT_NE(eng.log().find("(taken over)"), std::string::npos) << eng.log();
	EXPECT_EQ(ktest::shell(dir + "/bash -c '" + all + "'").out, "ok\nerr open EPERM\nok\n") << eng.log();
	EXPECT_EQ(eb2.stop(SIGTERM), 0) << eb2.err();
	EXPECT_EQ(eng.stop(), 0) << eng.log();
	EXPECT_TRUE(ktest::bulwark_programs_after_release().empty());
	ktest::shell("for p in $(cat /sys/fs/cgroup/" + cg +
		     "/cgroup.procs); do kill -9 $p; done; sleep 0.2; rmdir /sys/fs/cgroup/" + cg + "; rm -rf " + dir);
}
