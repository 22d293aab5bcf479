// SPDX-License-Identifier: Apache-2.0
// The catalog is the one definition of every hook and built-in rule: each
// must have its name, category and description, and every program and word
// must find its hook there.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "loader/kernel/lsm.h"
#include "loader/plan/catalog_report.h"
#include "policy/catalog.h"

using namespace bulwark;

TEST(Catalog, EveryHookHasOneRowWithNameAndCategory)
{
	std::set<uint32_t> ids;
	std::set<std::string> names;
	const std::set<std::string> categories = {"file", "network", "driver", "iam", "configuration", "process"};
	for (const auto &h : policy::hooks()) {
		EXPECT_TRUE(ids.insert(h.id).second) << "hook id " << h.id << " twice";
		EXPECT_TRUE(names.insert(h.name).second) << h.name << " twice";
		EXPECT_TRUE(categories.count(h.category)) << h.name << ": " << h.category;
		EXPECT_STREQ(hook_name(h.id), h.name);
		EXPECT_EQ(h.escape, h.id >= BW_HOOK_ESCAPE_BASE && h.id < BW_HOOK_ESCAPE_END) << h.name;
	}
	// Every enum bw_hook value has its row.
	for (uint32_t id = BW_HOOK_FILE_OPEN; id <= BW_HOOK_SUPERVISOR_GONE; id++)
		EXPECT_TRUE(ids.count(id)) << "enum bw_hook " << id << " has no catalog row";
	for (uint32_t id = BW_HOOK_ESCAPE_BASE; id < BW_HOOK_ESCAPE_END; id++)
		EXPECT_TRUE(ids.count(id)) << "escape hook " << id << " has no catalog row";
	for (uint32_t id = BW_HOOK_SETRLIMIT; id < BW_HOOK_END; id++)
		EXPECT_TRUE(ids.count(id)) << "enum bw_hook " << id << " has no catalog row";
	EXPECT_STREQ(hook_name(0), "unknown");
}

TEST(Catalog, EscapeSlotsFollowTheEnum)
{
	const auto &esc = policy::lsm_escape_hooks();
	ASSERT_EQ(esc.size(), static_cast<size_t>(BW_HOOK_ESCAPE_END - BW_HOOK_ESCAPE_BASE));
	for (size_t i = 0; i < esc.size(); i++)
		EXPECT_STREQ(esc[i], hook_name(BW_HOOK_ESCAPE_BASE + static_cast<uint32_t>(i)));
}

TEST(Catalog, EveryBuiltinRuleHasItsIdAndDescription)
{
	const auto &b = policy::builtin_rules();
	ASSERT_EQ(b.size(), static_cast<size_t>(BW_RULE_BUILTIN_END - BW_RULE_BUILTIN_BASE));
	for (size_t i = 0; i < b.size(); i++) {
		EXPECT_EQ(b[i].index, BW_RULE_BUILTIN_BASE + i);
		EXPECT_NE(std::string(b[i].id), "");
		EXPECT_NE(std::string(b[i].description), "") << b[i].id;
		EXPECT_EQ(policy::find_builtin(b[i].index), &b[i]);
	}
	EXPECT_EQ(policy::find_builtin(BW_RULE_BUILTIN_END), nullptr);
}

TEST(Catalog, EveryProgramAndWordFindsItsHook)
{
	LsmNeeds all;
	all.all = true;
	std::vector<std::string> progs = hooks_needed(all);
	ASSERT_GE(progs.size(), 30u);
	for (const auto &h : progs)
		EXPECT_NE(policy::find_hook(h), nullptr) << "program on lsm/" << h << " has no catalog row";
	for (const auto &w : policy::words())
		for (const char *h : w.hooks) {
			EXPECT_NE(policy::find_hook(h), nullptr) << w.name << ": " << h;
			// A word's hooks are what a policy using it loads.
			LsmNeeds n;
			if (std::string(w.name) == "read")
				n.file_access = BW_ACC_READ;
			else if (std::string(w.name) == "write")
				n.file_access = BW_ACC_WRITE;
			else if (std::string(w.name) == "exec")
				n.file_access = BW_ACC_EXEC;
			else
				n.words.insert(w.name);
			EXPECT_TRUE(hook_needed(h, n)) << w.name << ": " << h;
		}
	// An empty policy loads only what confinement itself needs.
	LsmNeeds none;
	std::set<std::string> base;
	for (const auto &h : hooks_needed(none))
		base.insert(h);
	EXPECT_EQ(base,
		  (std::set<std::string>{"bprm_committed_creds", "ptrace_access_check", "task_alloc", "task_kill",
					 "task_setrlimit", "task_setscheduler", "task_setioprio", "task_setnice"}));
}

// The other direction: a catalog row without a program would name a hook
// no policy can reach. `bulwark catalog` shows every row with its programs.
TEST(Catalog, EveryRowHasItsProgramAndTheCatalogCommandShowsEveryTable)
{
	auto programs = lsm_programs_by_hook();
	for (const auto &h : policy::hooks())
		// The gate runs in every program; it has no hook to name.
		EXPECT_TRUE(h.id == BW_HOOK_SUPERVISOR_GONE || !programs[h.name].empty())
			<< "catalog row " << h.name << " has no lsm/" << h.name << " program";
	auto c = nlohmann::json::parse(catalog_json());
	ASSERT_EQ(c["words"].size(), policy::words().size());
	ASSERT_EQ(c["hooks"].size(), policy::hooks().size());
	ASSERT_EQ(c["builtin_rules"].size(), policy::builtin_rules().size());
	for (const auto &h : c["hooks"]) {
		EXPECT_TRUE(h["hook"] == "supervisor_gone" || !h["programs"].empty()) << h.dump();
		EXPECT_NE(h["category"], "") << h.dump();
	}
	// The variants of a hook whose prototype changed are both listed.
	EXPECT_EQ(programs["bpf"].size(), 2u);
	std::string text = catalog_text();
	for (const auto &b : policy::builtin_rules())
		EXPECT_NE(text.find(std::string(b.id) + ": " + b.description), std::string::npos) << b.id;
}
