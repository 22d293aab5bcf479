// SPDX-License-Identifier: Apache-2.0
// The generated filter, as libseccomp PFC text, against reviewed golden files.
// Regenerate with BULWARK_UPDATE_GOLDEN=1 and review the diff like code.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/socket.h>

#include "policy/policy.h"
#include "seccomp/cbpf.h"
#include "seccomp/filter.h"

using namespace bulwark;

namespace {

std::string slurp(const std::string &path)
{
	std::ifstream in(path);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

void expect_golden(const std::string &policy_name, seccomp::DenyAction action, const std::string &golden)
{
	std::string dir = BULWARK_TEST_DATA;
	std::string file = policy_name.find('/') != std::string::npos ? dir + "/../../" + policy_name
								      : dir + "/data/" + policy_name + ".yaml";
	auto r = policy::parse_file(file);
	ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].str());
	seccomp::Filter f(*r.policy, action);
	std::string got = f.pfc();
	std::string path = dir + "/golden/" + golden + ".pfc";
	if (std::getenv("BULWARK_UPDATE_GOLDEN")) {
		std::ofstream(path) << got;
		GTEST_SKIP() << "golden file rewritten: " << path;
	}
	std::string want = slurp(path);
	ASSERT_FALSE(want.empty()) << "missing golden file " << path;
	EXPECT_EQ(got, want);
}

} // namespace

TEST(SeccompGolden, DemoNotify)
{
	expect_golden("demo", seccomp::DenyAction::Notify, "demo-notify");
}
TEST(SeccompGolden, DemoErrno)
{
	expect_golden("demo", seccomp::DenyAction::Errno, "demo-errno");
}
TEST(SeccompGolden, AuditWithoutSupervisorLogs)
{
	expect_golden("audit-mount", seccomp::DenyAction::Errno, "audit-mount-errno");
}
TEST(SeccompGolden, FilesOnlyKeepsArchCheck)
{
	expect_golden("files-only", seccomp::DenyAction::Notify, "files-only");
}

// The filters `run` loads for the shipped policies.
TEST(SeccompGolden, ExampleWebserver)
{
	expect_golden("policy/examples/webserver.yaml", seccomp::DenyAction::Notify, "webserver");
}
TEST(SeccompGolden, ExampleBuildSandbox)
{
	expect_golden("policy/examples/build-sandbox.yaml", seccomp::DenyAction::Notify, "build-sandbox");
}
TEST(SeccompGolden, ExampleHostBaseline)
{
	expect_golden("policy/examples/host-baseline.yaml", seccomp::DenyAction::Notify, "host-baseline");
}
TEST(SeccompGolden, BundledDockerDefault)
{
	expect_golden("policy/bundled/docker-default.yaml", seccomp::DenyAction::Notify, "docker-default");
}

TEST(SeccompFilter, MountRuleCoversTheNewMountApi)
{
	auto r = policy::parse_file(std::string(BULWARK_TEST_DATA) + "/data/demo.yaml");
	ASSERT_TRUE(r.ok());
	seccomp::Filter f(*r.policy, seccomp::DenyAction::Notify);
	std::vector<std::string> names;
	for (const auto &sr : f.rules()) {
		names.push_back(sr.syscall);
		const uint64_t args[6] = {};
		EXPECT_EQ(f.rule_for(sr.nr, args), 0) << sr.syscall << " should report rule 0 (no-mount)";
	}
	EXPECT_EQ(names, seccomp::mount_syscalls());
	const uint64_t args[6] = {};
	EXPECT_EQ(f.rule_for(0 /* read */, args), -1);
}

TEST(SeccompFilter, SyscallNames)
{
	EXPECT_EQ(seccomp::syscall_name(165), "mount");
	EXPECT_EQ(seccomp::syscall_name(99999), "nr:99999");
}

// The one program a policy with a table loads (one listener per filter
// chain): for every call it must say what the two stacked filters said,
// with every verdict but allow and kill handed to the listener.
TEST(SeccompFilter, CombinedProgramAnswersAsTheStackedFiltersWithOneListener)
{
	auto r = policy::parse_string(R"(name: combined
rules:
  - id: no-raw
    deny: raw-sockets
  - id: no-mount
    deny: mount
  - id: no-userns
    deny: user-namespaces
syscalls:
  - names: [getppid]
    action: errno(EACCES)
  - names: [getpgrp]
    action: log
  - names: [kexec_load]
    action: kill-process
  - names: [socket, mount, clone, clone3, read, write, exit_group]
    action: allow
default: {syscalls: errno(EPERM)}
)",
				      "combined.yaml");
	ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].str());
	seccomp::Filter f(*r.policy, seccomp::DenyAction::Notify);
	ASSERT_TRUE(f.has_listener());
	const auto &prog = f.combined();
	ASSERT_FALSE(prog.empty());
	auto call = [](const char *name, uint64_t a0 = 0, uint64_t a1 = 0, uint32_t arch = AUDIT_ARCH_X86_64) {
		seccomp_data d{};
		d.nr = seccomp_syscall_resolve_name(name);
		d.arch = arch;
		d.args[0] = a0;
		d.args[1] = a1;
		return d;
	};
	struct Case {
		seccomp_data d;
		uint32_t want;
	} cases[] = {
		{call("read"), SECCOMP_RET_ALLOW},
		{call("clone", 0), SECCOMP_RET_ALLOW},
		{call("clone", CLONE_NEWUSER), SECCOMP_RET_USER_NOTIF},
		{call("socket", AF_INET, SOCK_STREAM), SECCOMP_RET_ALLOW},
		{call("socket", AF_INET, SOCK_RAW), SECCOMP_RET_USER_NOTIF},     // a word under a table allow
		{call("mount"), SECCOMP_RET_USER_NOTIF},                         // a word
		{call("getppid"), SECCOMP_RET_USER_NOTIF},                       // the table's errno
		{call("getpgrp"), SECCOMP_RET_USER_NOTIF},                       // the table's log
		{call("getpid"), SECCOMP_RET_USER_NOTIF},                        // the table's default
		{call("kexec_load"), SECCOMP_RET_KILL_PROCESS},                  // kills stay in the kernel
		{call("read", 0, 0, AUDIT_ARCH_I386), SECCOMP_RET_KILL_PROCESS}, // a foreign ABI
	};
	for (const auto &c : cases) {
		uint32_t got = seccomp::run_cbpf(prog, c.d);
		EXPECT_EQ(got & SECCOMP_RET_ACTION_FULL, c.want)
			<< seccomp::syscall_name(c.d.nr) << ": " << seccomp::describe_ret(got);
		// The stacked filters' verdict is what the listener answers.
		uint32_t stacked = f.verdict(c.d) & SECCOMP_RET_ACTION_FULL;
		EXPECT_EQ(stacked == SECCOMP_RET_ALLOW, c.want == SECCOMP_RET_ALLOW) << seccomp::syscall_name(c.d.nr);
		EXPECT_EQ(stacked == SECCOMP_RET_KILL_PROCESS, c.want == SECCOMP_RET_KILL_PROCESS)
			<< seccomp::syscall_name(c.d.nr);
	}
	// clone3 keeps its in-kernel ENOSYS (libc's fallback to clone).
	EXPECT_EQ(seccomp::run_cbpf(prog, call("clone3")), SECCOMP_RET_ERRNO | ENOSYS);
}
