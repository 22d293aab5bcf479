// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "loader/kernel/lsm.h"
#include "loader/plan/explain.h"
#include "loader/plan/lsm_plan.h"
#include "policy/policy.h"

using namespace bulwark;

namespace {

policy::Policy demo()
{
	auto r = policy::parse_file(std::string(BULWARK_TEST_DATA) + "/data/demo.yaml");
	EXPECT_TRUE(r.ok());
	return *r.policy;
}

nlohmann::json rule(const nlohmann::json &j, const std::string &id)
{
	for (const auto &r : j["rules"])
		if (r["id"] == id)
			return r;
	ADD_FAILURE() << "no rule " << id;
	return {};
}

} // namespace

TEST(Explain, ShowsWhichLayerEnforcesEachRule)
{
	auto j = nlohmann::json::parse(explain_json(demo()));
	auto mount = rule(j, "no-mount");
	EXPECT_TRUE(mount["seccomp"]["enforced"]);
	EXPECT_TRUE(mount["lsm"]["enforced"]);
	EXPECT_EQ(mount["seccomp"]["syscalls"][0], "mount");
	EXPECT_NE(std::find(mount["seccomp"]["syscalls"].begin(), mount["seccomp"]["syscalls"].end(), "fsopen"),
		  mount["seccomp"]["syscalls"].end());
	EXPECT_EQ(mount["lsm"]["hooks"], nlohmann::json::array({"sb_mount", "move_mount", "sb_umount", "sb_remount"}));

	auto shadow = rule(j, "no-shadow");
	EXPECT_FALSE(shadow["seccomp"]["enforced"]);
	EXPECT_EQ(shadow["seccomp"]["how"], "cannot see paths");
	EXPECT_TRUE(shadow["lsm"]["enforced"]);
	// read: file_open; write: file_open and the path hooks that change a
	// file without opening it.
	ASSERT_FALSE(shadow["lsm"]["hooks"].empty());
	EXPECT_EQ(shadow["lsm"]["hooks"][0], "file_open");
	EXPECT_NE(std::find(shadow["lsm"]["hooks"].begin(), shadow["lsm"]["hooks"].end(), "path_rename"),
		  shadow["lsm"]["hooks"].end());
	EXPECT_EQ(shadow["targets"], nlohmann::json::array({"/etc/shadow"}));

	auto shell = rule(j, "no-shell");
	bool copy_gap = false;
	for (const auto &g : shell["gaps"])
		copy_gap |= g.get<std::string>().find("byte copy") != std::string::npos;
	EXPECT_TRUE(copy_gap) << shell.dump();
}

TEST(Explain, TextTableHasBothLayersSideBySide)
{
	std::string t = explain_text(demo());
	EXPECT_NE(t.find("RULE"), std::string::npos);
	EXPECT_NE(t.find("SECCOMP"), std::string::npos);
	EXPECT_NE(t.find("BPF-LSM"), std::string::npos);
	EXPECT_NE(t.find("what neither layer can guarantee"), std::string::npos);
}

TEST(LsmPlan, DemoMaps)
{
	auto p = demo();
	LsmPlan plan = plan_lsm(p);
	std::string d = plan.dump(p);
	EXPECT_NE(d.find("word_rules[mount] = no-mount"), std::string::npos) << d;
	EXPECT_NE(d.find("file_paths[/etc/shadow] = read:no-shadow write:no-shadow"), std::string::npos) << d;
	EXPECT_TRUE(plan.needs.words.count("mount"));
	EXPECT_EQ(plan.needs.file_access, 7u);
	EXPECT_EQ(plan.rules.size(), 3u);
}

// A kernel without some hooks: each rule's LSM cell says which, and a rule
// left with none of its hooks has no LSM layer there (6.1 is not assumed).
TEST(Explain, MarksWhatAKernelWithoutSomeHooksCannotEnforce)
{
	auto r = policy::parse_string("name: k\nrules:\n  - id: no-userns\n    deny: user-namespaces\n"
				      "  - id: no-mount\n    deny: mount\n  - id: no-bpf\n    deny: bpf\n",
				      "k.yaml");
	ASSERT_TRUE(r.ok());
	KernelView k{"5.10.0-test", {"userns_create", "move_mount"}, ""};
	auto j = nlohmann::json::parse(explain_json(*r.policy, &k));
	EXPECT_EQ(j["kernel"]["release"], "5.10.0-test");
	auto userns = rule(j, "no-userns");
	EXPECT_FALSE(userns["lsm"]["enforced"]);
	EXPECT_EQ(userns["lsm"]["missing_hooks"], nlohmann::json::array({"userns_create"}));
	EXPECT_TRUE(userns["seccomp"]["enforced"]);
	EXPECT_NE(userns["lsm"]["how"].get<std::string>().find("not on this kernel"), std::string::npos);
	// Partly: the other mount hooks still hold.
	auto mount = rule(j, "no-mount");
	EXPECT_TRUE(mount["lsm"]["enforced"]);
	EXPECT_EQ(mount["lsm"]["missing_hooks"], nlohmann::json::array({"move_mount"}));
	EXPECT_NE(mount["lsm"]["how"].get<std::string>().find("lacks move_mount"), std::string::npos);
	EXPECT_TRUE(rule(j, "no-bpf")["lsm"]["missing_hooks"].empty());
	std::string t = explain_text(*r.policy, &k);
	EXPECT_NE(t.find("kernel: 5.10.0-test, lacks LSM hooks move_mount, userns_create"), std::string::npos) << t;
	EXPECT_NE(t.find("no-userns: BPF-LSM: not enforced on this kernel"), std::string::npos) << t;
	// Without a kernel, the table is the same everywhere.
	auto any = nlohmann::json::parse(explain_json(*r.policy));
	EXPECT_TRUE(rule(any, "no-userns")["lsm"]["enforced"]);
	EXPECT_FALSE(any.contains("kernel"));
}

// The allow-lists' defaults reach both program sets (the run's load-time
// constant, the engine's and enforcer's per-slot settings: one value), with
// the policy's mode; their hooks are loaded, chroot denied with them.
TEST(LsmPlan, ReadAndWriteAllowLists)
{
	auto parse = [](const std::string &text) {
		auto r = policy::parse_string(text, "t.yaml");
		EXPECT_TRUE(r.ok());
		return *r.policy;
	};
	auto p = parse("name: p\ndefault: {read: deny, write: deny}\nrules:\n"
		       "  - {id: r, allow: [read, exec], paths: [/x/y, \"/x/*.so\"]}\n"
		       "  - {id: w, allow: write, paths: [/x/y]}\n");
	LsmPlan plan = plan_lsm(p);
	EXPECT_EQ(plan.default_deny, static_cast<uint32_t>(BW_ACC_READ | BW_ACC_WRITE));
	EXPECT_EQ(plan.needs.default_deny, static_cast<unsigned>(BW_ACC_READ | BW_ACC_WRITE));
	ASSERT_EQ(plan.paths.count("/x/y"), 1u);
	EXPECT_EQ(plan.paths["/x/y"].allow, static_cast<__u32>(BW_ACC_READ | BW_ACC_WRITE | BW_ACC_EXEC));
	for (const auto &a : plan.paths["/x/y"].acc)
		EXPECT_EQ(a.rule_plus1[0], 0u) << "an allow put a rule into a deny slot";
	ASSERT_EQ(plan.globs.size(), 1u);
	EXPECT_EQ(plan.globs[0].second.allow, static_cast<__u32>(BW_ACC_READ | BW_ACC_EXEC));
	std::string d = plan.dump(p);
	EXPECT_NE(d.find("read_default_deny: yes\nwrite_default_deny: yes\nexec_default_deny: no\n"), std::string::npos)
		<< d;
	EXPECT_NE(d.find("file_paths[/x/y] = allow-read allow-write allow-exec"), std::string::npos) << d;
	for (const char *h : {"file_open", "path_unlink", "path_rename", "path_chmod", "path_chroot", "sb_pivotroot"})
		EXPECT_TRUE(hook_needed(h, plan.needs)) << h;
	// No exec allow-list: exec is not checked at all.
	EXPECT_FALSE(hook_needed("bprm_check_security", plan.needs));

	auto audit = parse("name: p\nmode: audit\ndefault: {read: deny}\n");
	LsmPlan ap = plan_lsm(audit);
	EXPECT_EQ(ap.default_deny, static_cast<uint32_t>(BW_ACC_READ | BW_DEFAULT_AUDIT));
	EXPECT_NE(ap.dump(audit).find("read_default_deny: audit"), std::string::npos);
	EXPECT_FALSE(hook_needed("path_unlink", ap.needs));

	auto j = nlohmann::json::parse(explain_json(p));
	EXPECT_EQ(j["defaults"]["read"], "deny");
	EXPECT_EQ(j["defaults"]["write"], "deny");
	EXPECT_EQ(j["defaults"]["exec"], "allow");
	EXPECT_EQ(rule(j, "w")["lsm"]["how"], "write allow-list entry (default write: deny)");
	EXPECT_NE(explain_text(audit).find("lsm: read allow-list (default deny, reported only: audit)"),
		  std::string::npos);
}
