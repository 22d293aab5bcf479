// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <linux/types.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

extern "C" {
#include "bulwark.h"
}
#include "loader/events.h"

using namespace bulwark;

TEST(Events, Rfc3339)
{
	EXPECT_EQ(EventSink::rfc3339(0), "1970-01-01T00:00:00.000000000Z");
	EXPECT_EQ(EventSink::rfc3339(1795392000123456789ull), "2026-11-23T00:00:00.123456789Z");
}

TEST(Events, LsmEventIsOneEcsJsonLine)
{
	auto r = policy::parse_string("name: demo\nrules:\n  - id: no-shadow\n    deny: read\n    paths: [/etc/shadow]\n",
				      "t.yaml");
	ASSERT_TRUE(r.ok());
	char *buf = nullptr;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	{
		EventSink sink(mem, *r.policy);
		bw_event e{};
		e.hook = BW_HOOK_FILE_OPEN;
		e.verdict = BW_VERDICT_DENY;
		e.err = -1;
		e.rule = 0;
		e.pid = 10;
		e.tid = 11;
		e.ppid = 9;
		e.uid = 1000;
		e.access = BW_ACC_READ;
		std::strcpy(e.comm, "cat");
		std::strcpy(e.target, "/etc/shadow");
		std::strcpy(e.exe, "/usr/bin/cat");
		sink.lsm(e);
		EXPECT_EQ(sink.count(), 1u);
	}
	fclose(mem);
	std::string out(buf, len);
	free(buf);
	ASSERT_EQ(out.back(), '\n');
	ASSERT_EQ(out.find('\n'), out.size() - 1) << "one event, one line";
	auto j = nlohmann::json::parse(out);
	EXPECT_EQ(j["bulwark"]["layer"], "lsm");
	EXPECT_EQ(j["bulwark"]["hook"], "file_open");
	EXPECT_EQ(j["bulwark"]["action"], "deny");
	EXPECT_EQ(j["bulwark"]["errno"], 1);
	EXPECT_EQ(j["bulwark"]["errno_name"], "EPERM");
	EXPECT_EQ(j["bulwark"]["access"], nlohmann::json::array({"read"}));
	EXPECT_EQ(j["event"]["outcome"], "failure");
	EXPECT_EQ(j["rule"]["id"], "no-shadow");
	EXPECT_EQ(j["rule"]["ruleset"], "demo");
	EXPECT_EQ(j["process"]["pid"], 10);
	EXPECT_EQ(j["process"]["thread"]["id"], 11);
	EXPECT_EQ(j["process"]["parent"]["pid"], 9);
	EXPECT_EQ(j["process"]["name"], "cat");
	EXPECT_EQ(j["process"]["executable"], "/usr/bin/cat");
	EXPECT_EQ(j["user"]["id"], "1000");
	EXPECT_EQ(j["file"]["path"], "/etc/shadow");
	EXPECT_TRUE(j.contains("@timestamp"));
}
