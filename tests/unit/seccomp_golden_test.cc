// SPDX-License-Identifier: Apache-2.0
// The generated filter, as libseccomp PFC text, against reviewed golden files.
// Regenerate with BULWARK_UPDATE_GOLDEN=1 and review the diff like code.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "policy/policy.h"
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
