// SPDX-License-Identifier: Apache-2.0
// Event lines: golden files per event kind, hostile strings, ECS names.
// Regenerate the goldens with BULWARK_UPDATE_GOLDEN=1 and review the diff
// like code.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/types.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

extern "C" {
#include "bulwark.h"
}
#include "loader/sinks/ecs.h"
#include "loader/sinks/json_writer.h"
#include "loader/sinks/output.h"
#include "policy/catalog.h"

using namespace bulwark;

namespace {

constexpr uint64_t kTime = 1795392000123456789ull; // 2026-11-23T00:00:00.123456789Z

const char *kPolicy = R"(name: golden
rules:
  - id: no-shadow
    deny: read
    paths: [/etc/shadow]
  - id: no-ssh-out
    deny: connect
    ports: [22]
  - id: no-shell
    deny: exec
    paths: [/bin/sh]
  - id: no-mount
    deny: mount
  - id: watch-keyring
    deny: keyring
    mode: audit
)";

enum RuleIdx { kShadow, kSsh, kShell, kMount, kKeyring };

struct Lines : Output {
	std::vector<std::string> v;
	void line(const std::string &s) override { v.push_back(s); }
	std::string text() const
	{
		std::string t;
		for (const auto &l : v)
			t += l + "\n";
		return t;
	}
};

// Every line any test here produced, for the ECS name check.
std::vector<std::string> &all_lines()
{
	static std::vector<std::string> v;
	return v;
}

const policy::Policy &pol()
{
	static auto r = policy::parse_string(kPolicy, "golden.yaml");
	EXPECT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].str());
	return *r.policy;
}

SinkOptions opts(unsigned rate = 0)
{
	SinkOptions o;
	o.host_name = "test-host";
	o.fixed_time_ns = kTime;
	o.rate_limit = rate;
	return o;
}

std::string slurp(const std::string &path)
{
	std::ifstream in(path);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

void expect_golden(const Lines &out, const std::string &name)
{
	for (const auto &l : out.v) {
		all_lines().push_back(l);
		EXPECT_TRUE(nlohmann::json::accept(l)) << l;
		EXPECT_EQ(l.find('\n'), std::string::npos);
	}
	std::string path = std::string(BULWARK_TEST_DATA) + "/golden/events/" + name + ".json";
	std::string got = out.text();
	if (std::getenv("BULWARK_UPDATE_GOLDEN")) {
		std::ofstream(path) << got;
		GTEST_SKIP() << "golden file rewritten: " << path;
	}
	std::string want = slurp(path);
	ASSERT_FALSE(want.empty()) << "missing golden file " << path;
	EXPECT_EQ(got, want);
}

bw_event base_event(uint32_t hook, uint32_t rule)
{
	bw_event e{};
	e.kind = BW_KIND_LSM;
	e.boot_ns = 5000000000ull;
	e.hook = hook;
	e.verdict = BW_VERDICT_DENY;
	e.err = -EPERM;
	e.rule = rule;
	e.pid = 4242;
	e.tid = 4243;
	e.ppid = 4200;
	e.uid = 1000;
	e.sc.arch = AUDIT_ARCH_X86_64;
	e.sc.nr = -1;
	std::strcpy(e.comm, "worker");
	std::strcpy(e.exe, "/usr/bin/worker");
	return e;
}

SeccompAttempt attempt(int nr, size_t rule, int err)
{
	SeccompAttempt a;
	a.notif.id = 1;
	a.notif.pid = 4243;
	a.notif.data.arch = AUDIT_ARCH_X86_64;
	a.notif.data.nr = nr;
	a.rule = rule;
	a.err = err;
	a.valid = true;
	a.tgid = 4242;
	a.ppid = 4200;
	a.uid = 1000;
	a.comm = "worker";
	a.exe = "/usr/bin/worker";
	a.epoch_ns = kTime;
	return a;
}

nlohmann::json parse1(const Lines &out)
{
	EXPECT_EQ(out.v.size(), 1u);
	return out.v.empty() ? nlohmann::json() : nlohmann::json::parse(out.v[0]);
}

} // namespace

TEST(Events, Rfc3339)
{
	EXPECT_EQ(EventSink::rfc3339(0), "1970-01-01T00:00:00.000000000Z");
	EXPECT_EQ(EventSink::rfc3339(kTime), "2026-11-23T00:00:00.123456789Z");
}

TEST(EventsGolden, LsmFileOpen)
{
	Lines out;
	{
		EventSink sink(&out, pol(), opts());
		bw_event e = base_event(BW_HOOK_FILE_OPEN, kShadow);
		e.access = BW_ACC_READ;
		std::strcpy(e.target, "/etc/shadow");
		e.sc.nr = 257; // openat
		e.sc.args[0] = static_cast<__u64>(-100);
		e.sc.args[1] = 0x7ffd1234;
		sink.lsm(e, kLayerLsm, kLayerSeccomp | kLayerLsm);
		EXPECT_EQ(sink.count(), 1u);
		EXPECT_EQ(sink.per_rule().at("no-shadow"), 1u);
	}
	expect_golden(out, "lsm-file-open");
}

TEST(EventsGolden, LsmSocketConnect)
{
	Lines out;
	{
		EventSink sink(&out, pol(), opts());
		bw_event e = base_event(BW_HOOK_SOCKET_CONNECT, kSsh);
		e.err = -EACCES;
		e.family = AF_INET;
		e.port = 22;
		inet_pton(AF_INET, "10.0.0.5", e.addr);
		e.sc.nr = 42; // connect
		e.sc.args[0] = 3;
		sink.lsm(e, kLayerLsm, kLayerSeccomp | kLayerLsm);
	}
	expect_golden(out, "lsm-socket-connect");
	auto j = nlohmann::json::parse(out.v.at(0));
	EXPECT_EQ(j["destination"]["ip"], "10.0.0.5");
	EXPECT_EQ(j["destination"]["port"], 22);
	EXPECT_EQ(j["bulwark"]["errno_name"], "EACCES");
}

TEST(EventsGolden, LsmExec)
{
	Lines out;
	{
		EventSink sink(&out, pol(), opts());
		bw_event e = base_event(BW_HOOK_BPRM_CHECK, kShell);
		e.access = BW_ACC_EXEC;
		std::strcpy(e.target, "/usr/bin/dash");
		e.sc.nr = 59; // execve
		sink.lsm(e, kLayerLsm, kLayerSeccomp | kLayerLsm);
	}
	expect_golden(out, "lsm-exec");
	auto j = nlohmann::json::parse(out.v.at(0));
	EXPECT_EQ(j["file"]["path"], "/usr/bin/dash");
	EXPECT_EQ(j["bulwark"]["syscall"]["name"], "execve");
}

// Each built-in denial's event names its rule and says what it is: the
// catalog has one row per built-in (protect-scope once went without).
TEST(Events, EveryBuiltinRuleIsNamedAndDescribed)
{
	for (const auto &b : policy::builtin_rules()) {
		Lines out;
		{
			EventSink sink(&out, pol(), opts());
			bw_event e = base_event(BW_HOOK_FILE_OPEN, kShell);
			e.rule = b.index;
			std::strcpy(e.target, "/sys/fs/cgroup/x/cgroup.procs");
			sink.lsm(e, kLayerLsm, kLayerSeccomp | kLayerLsm);
		}
		ASSERT_EQ(out.v.size(), 1u) << b.id;
		auto j = nlohmann::json::parse(out.v[0]);
		EXPECT_EQ(j["rule"]["id"], b.id);
		EXPECT_EQ(j["rule"]["description"], b.description) << out.v[0];
	}
}

TEST(EventsGolden, SeccompListenerDeny)
{
	Lines out;
	{
		EventSink sink(&out, pol(), opts());
		SeccompAttempt a = attempt(165, kMount, EPERM); // mount
		a.args = {"mount", "-t", "tmpfs", "none", "/mnt"};
		a.notif.data.args[0] = 0x55d0c0de;
		sink.seccomp(a, nullptr, kLayerSeccomp, kLayerSeccomp);
	}
	expect_golden(out, "seccomp-listener-deny");
	auto j = nlohmann::json::parse(out.v.at(0));
	EXPECT_EQ(j["process"]["args_count"], 5);
	EXPECT_EQ(j["bulwark"]["syscall"]["args"][0], "0x55d0c0de");
}

TEST(EventsGolden, SeccompListenerAuditMergedWithLsm)
{
	Lines out;
	{
		EventSink sink(&out, pol(), opts());
		SeccompAttempt a = attempt(248, kKeyring, 0); // add_key
		a.args = {"keyctl", "add", "user", "k", "v", "@s"};
		bw_event lsm = base_event(BW_HOOK_KEY_ALLOC, kKeyring);
		lsm.verdict = BW_VERDICT_AUDIT;
		lsm.err = 0;
		lsm.sc.nr = 248;
		sink.seccomp(a, &lsm, kLayerSeccomp | kLayerLsm, kLayerSeccomp | kLayerLsm);
		auto d = sink.denials();
		ASSERT_EQ(d.size(), 2u);
		EXPECT_TRUE(d[0].audit && d[1].audit);
	}
	expect_golden(out, "seccomp-listener-audit-merged");
	auto j = nlohmann::json::parse(out.v.at(0));
	EXPECT_EQ(j["bulwark"]["hook"], "key_alloc");
	EXPECT_EQ(j["bulwark"]["mode"], "audit");
	EXPECT_EQ(j["event"]["outcome"], "success");
	EXPECT_EQ(j["bulwark"]["denied_by"], nlohmann::json::array({"seccomp", "lsm"}));
}

TEST(EventsGolden, SeccompListenerMergedFileAccess)
{
	// The LSM side's path and address reach the merged event.
	Lines out;
	{
		EventSink sink(&out, pol(), opts());
		SeccompAttempt a = attempt(42, kSsh, EPERM);
		bw_event lsm = base_event(BW_HOOK_SOCKET_CONNECT, kSsh);
		lsm.family = AF_INET6;
		lsm.port = 22;
		inet_pton(AF_INET6, "2001:db8::1", lsm.addr);
		sink.seccomp(a, &lsm, kLayerSeccomp | kLayerLsm, kLayerSeccomp | kLayerLsm);
	}
	auto j = parse1(out);
	all_lines().push_back(out.v.at(0));
	EXPECT_EQ(j["destination"]["ip"], "2001:db8::1");
	EXPECT_EQ(j["destination"]["port"], 22);
	EXPECT_EQ(j["network"]["type"], "ipv6");
}

// A `syscalls:` entry's errno, answered by the listener (the table's
// verdicts reach it through the one combined filter): named by the entry.
TEST(EventsGolden, SeccompListenerTableEntry)
{
	Lines out;
	{
		EventSink sink(&out, pol(), opts());
		SeccompAttempt a = attempt(165, SIZE_MAX, EPERM);
		a.rule_id = "syscalls[0]";
		sink.seccomp(a, nullptr, kLayerSeccomp, kLayerSeccomp);
	}
	expect_golden(out, "seccomp-listener-table-entry");
	auto j = nlohmann::json::parse(out.v.at(0));
	EXPECT_EQ(j["bulwark"]["errno"], EPERM);
	EXPECT_EQ(j["rule"]["id"], "syscalls[0]");
}

TEST(EventsGolden, SeccompKernelKill)
{
	Lines out;
	{
		EventSink sink(&out, pol(), opts());
		bw_event e = base_event(0, 0);
		e.kind = BW_KIND_SECCOMP_KILL;
		e.sc.arch = AUDIT_ARCH_I386;
		e.sc.nr = 283; // kexec_load on i386
		sink.seccomp_kernel(e, "syscalls:kexec_load", false);
	}
	expect_golden(out, "seccomp-kernel-kill");
	auto j = nlohmann::json::parse(out.v.at(0));
	EXPECT_EQ(j["bulwark"]["action"], "kill");
	EXPECT_EQ(j["bulwark"]["errno"], 0);
	EXPECT_EQ(j["bulwark"]["signal"], "SIGSYS");
	EXPECT_EQ(j["bulwark"]["syscall"]["arch"], "x86");
}

TEST(EventsGolden, Lost)
{
	Lines out;
	{
		EventSink sink(&out, pol(), opts());
		sink.lost(0); // nothing to say
		sink.lost(7);
		sink.lost(5);
		EXPECT_EQ(sink.lost_total(), 12u);
	}
	expect_golden(out, "lost");
	auto j = nlohmann::json::parse(out.v.at(1));
	EXPECT_EQ(j["bulwark"]["lost"], 5);
	EXPECT_EQ(j["bulwark"]["lost_total"], 12);
}

TEST(EventsGolden, RateLimitSummary)
{
	Lines out;
	{
		EventSink sink(&out, pol(), opts(2));
		bw_event e = base_event(BW_HOOK_FILE_OPEN, kShadow);
		e.access = BW_ACC_READ;
		std::strcpy(e.target, "/etc/shadow");
		for (int i = 0; i < 5; i++)
			sink.lsm(e, kLayerLsm, kLayerLsm);
		// Another process has its own budget.
		e.pid = 5000;
		sink.lsm(e, kLayerLsm, kLayerLsm);
		EXPECT_EQ(out.v.size(), 3u);
		EXPECT_EQ(sink.suppressed(), 3u);
		sink.flush_summaries(kTime + 500000000ull); // the second is not over
		EXPECT_EQ(out.v.size(), 3u);
		sink.flush_summaries(kTime + 1000000000ull);
		EXPECT_EQ(out.v.size(), 4u) << "one summary: pid 5000 had nothing suppressed";
		EXPECT_EQ(sink.per_rule().at("no-shadow"), 3u);
		EXPECT_EQ(sink.denials().at(0).count, 6u) << "metrics count before rate limiting";
	}
	expect_golden(out, "rate-limit-summary");
	auto j = nlohmann::json::parse(out.v.at(3));
	EXPECT_EQ(j["bulwark"]["suppressed"], 3);
	EXPECT_EQ(j["process"]["pid"], 4242);
}

TEST(Events, RateLimitSummaryAtDestruction)
{
	Lines out;
	{
		EventSink sink(&out, pol(), opts(1));
		bw_event e = base_event(BW_HOOK_FILE_OPEN, kShadow);
		sink.lsm(e, kLayerLsm, kLayerLsm);
		sink.lsm(e, kLayerLsm, kLayerLsm);
		EXPECT_EQ(out.v.size(), 1u);
	}
	ASSERT_EQ(out.v.size(), 2u);
	EXPECT_EQ(nlohmann::json::parse(out.v[1])["bulwark"]["suppressed"], 1);
}

TEST(Events, InvalidAttemptWritesNothing)
{
	Lines out;
	EventSink sink(&out, pol(), opts());
	SeccompAttempt a = attempt(165, kMount, EPERM);
	a.valid = false;
	sink.seccomp(a, nullptr, kLayerSeccomp, kLayerSeccomp);
	EXPECT_TRUE(out.v.empty());
	EXPECT_EQ(sink.count(), 0u);
}

TEST(Events, NullOutputCounts)
{
	EventSink sink(nullptr, pol(), opts());
	bw_event e = base_event(BW_HOOK_FILE_OPEN, kShadow);
	sink.lsm(e, kLayerLsm, kLayerLsm);
	EXPECT_EQ(sink.count(), 1u);
	EXPECT_EQ(sink.per_rule().at("no-shadow"), 1u);
}

TEST(Events, X32SyscallIsNamedAsSuch)
{
	Lines out;
	EventSink sink(&out, pol(), opts());
	bw_event e = base_event(BW_HOOK_FILE_OPEN, kShadow);
	e.sc.nr = 0x40000000 | 257; // x32 openat
	sink.lsm(e, kLayerLsm, kLayerLsm);
	auto j = parse1(out);
	EXPECT_EQ(j["bulwark"]["syscall"]["arch"], "x32");
	EXPECT_EQ(j["bulwark"]["syscall"]["name"], "openat");
}

TEST(Events, CaptureReadsOwnProcess)
{
	seccomp_notif n{};
	n.pid = static_cast<__u32>(getpid());
	n.data.arch = AUDIT_ARCH_X86_64;
	n.data.nr = 165;
	SeccompAttempt a = EventSink::capture(n, kMount, EPERM, [] { return true; });
	EXPECT_TRUE(a.valid);
	EXPECT_EQ(a.tgid, getpid());
	EXPECT_EQ(a.ppid, getppid());
	EXPECT_EQ(a.uid, static_cast<long>(getuid()));
	EXPECT_FALSE(a.exe.empty());
	ASSERT_FALSE(a.args.empty());
	EXPECT_EQ(a.args[0], program_invocation_name);
	EXPECT_FALSE(EventSink::capture(n, kMount, EPERM, [] { return false; }).valid);
}

// --- hostile strings -------------------------------------------------------

TEST(EventsEscaping, EveryByteAloneIsValidJson)
{
	for (int b = 0; b < 256; b++) {
		std::string s(1, static_cast<char>(b));
		std::string q = json_quote(s);
		nlohmann::json j;
		ASSERT_NO_THROW(j = nlohmann::json::parse(q)) << b;
		if (b < 0x80)
			EXPECT_EQ(j.get<std::string>(), s) << b;
		else
			EXPECT_EQ(j.get<std::string>(), "\xef\xbf\xbd") << b;
	}
}

TEST(EventsEscaping, InvalidUtf8BecomesReplacementPerByte)
{
	const std::string R = "\xef\xbf\xbd";
	struct Case {
		std::string in, out;
	} cases[] = {
		{"a\xff"
		 "b",
		 "a" + R + "b"},
		{"\xe2\x82", R + R}, // truncated 3-byte sequence
		{"\xe2\x82"
		 "A",
		 R + R + "A"},
		{"\xc0\xaf", R + R},                                                              // overlong '/'
		{"\xe0\x80\xaf", R + R + R},                                                      // overlong, 3 bytes
		{"\xed\xa0\x80", R + R + R},                                                      // a surrogate
		{"\xf4\x90\x80\x80", R + R + R + R},                                              // above U+10FFFF
		{"\x80", R},                                                                      // lone continuation
		{"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}, // é€😀 intact
	};
	for (const auto &c : cases) {
		auto j = nlohmann::json::parse(json_quote(c.in));
		EXPECT_EQ(j.get<std::string>(), c.out) << json_quote(c.in);
	}
	EXPECT_EQ(json_quote("\"\\\n\t\r\b\f\x01\x1f"), R"("\"\\\n\t\r\b\f\u0001\u001f")");
}

TEST(EventsEscaping, HostilePathsStayOneParseableLine)
{
	std::string hostile = "/tmp/\"quoted\"\\back\nnew\tline\x01\x7f/\xff/\xe2\x82/\xc0\xaf/caf\xc3\xa9";
	std::string big = "/";
	while (big.size() + 7 <= 4096)
		big += "d\xc3\xa9j\xc3\xa0/"; // valid multibyte, to the seccomp path limit
	big.resize(4096, 'x');
	ASSERT_EQ(big.size(), 4096u);
	Lines out;
	EventSink sink(&out, pol(), opts());
	// LSM records: target and exe are fixed 256-byte arrays, maybe
	// unterminated.
	bw_event e = base_event(BW_HOOK_FILE_OPEN, kShadow);
	std::memcpy(e.target, hostile.data(), hostile.size());
	std::memset(e.exe, 'A', sizeof(e.exe)); // no terminating NUL
	std::memset(e.comm, '\n', sizeof(e.comm));
	sink.lsm(e, kLayerLsm, kLayerLsm);
	// Listener events carry /proc's paths: up to 4096 bytes.
	SeccompAttempt a = attempt(165, kMount, EPERM);
	a.exe = big;
	a.comm = "\xff\xfe";
	a.args = {big, hostile, ""};
	sink.seccomp(a, nullptr, kLayerSeccomp, kLayerSeccomp);
	ASSERT_EQ(out.v.size(), 2u);
	for (const auto &l : out.v) {
		all_lines().push_back(l);
		EXPECT_EQ(l.find('\n'), std::string::npos);
	}
	auto j = nlohmann::json::parse(out.v[0]);
	EXPECT_EQ(j["file"]["path"], "/tmp/\"quoted\"\\back\nnew\tline\x01\x7f/\xef\xbf\xbd/\xef\xbf\xbd\xef\xbf\xbd/"
				     "\xef\xbf\xbd\xef\xbf\xbd/caf\xc3\xa9");
	EXPECT_EQ(j["process"]["executable"], std::string(256, 'A'));
	EXPECT_EQ(j["process"]["name"], std::string(16, '\n'));
	auto k = nlohmann::json::parse(out.v[1]);
	EXPECT_EQ(k["process"]["executable"], big) << "valid UTF-8 round-trips exactly";
	EXPECT_EQ(k["process"]["args"][0], big);
	EXPECT_EQ(k["process"]["args"][2], "");
	EXPECT_EQ(k["process"]["name"], "\xef\xbf\xbd\xef\xbf\xbd");
}

// --- ECS: Elastic's own schema ----------------------------------------------

// One event of every hook, enforced and audited, and every seccomp kind, so
// the schema check below sees each category bulwark can write.
TEST(Events, EveryHookInEveryModeWritesOneEvent)
{
	Lines out;
	{
		EventSink sink(&out, pol(), opts());
		for (const auto &h : policy::hooks()) {
			for (bool audit : {false, true}) {
				bw_event e = base_event(h.id, audit ? kKeyring : kShadow);
				e.verdict = audit ? BW_VERDICT_AUDIT : BW_VERDICT_DENY;
				e.err = audit ? 0 : -EPERM;
				std::strcpy(e.target, "/x");
				e.family = AF_INET;
				e.port = 22;
				sink.lsm(e, kLayerLsm, kLayerSeccomp | kLayerLsm);
			}
		}
		bw_event k = base_event(0, 0);
		k.kind = BW_KIND_SECCOMP_KILL;
		k.sc.nr = 246; // kexec_load
		sink.seccomp_kernel(k, "syscalls:kexec_load", false);
		k.kind = BW_KIND_LSM;
		k.sc.ret = -EPERM;
		sink.seccomp_kernel(k, "syscalls[0]", true);
	}
	EXPECT_EQ(out.v.size(), 2 * policy::hooks().size() + 2);
	for (const auto &l : out.v)
		all_lines().push_back(l);
}

namespace {

// A field's JSON value fits its ECS datatype as Elasticsearch would index
// it; arrays are checked per element (any ECS field may hold several).
std::string type_mismatch(const std::string &ecs_type, const nlohmann::json &v)
{
	if (v.is_array()) {
		for (const auto &x : v) {
			std::string why = type_mismatch(ecs_type, x);
			if (!why.empty())
				return why;
		}
		return "";
	}
	if (ecs_type == "keyword" || ecs_type == "wildcard" || ecs_type == "constant_keyword" ||
	    ecs_type == "match_only_text" || ecs_type == "text")
		return v.is_string() ? "" : "is not a string";
	if (ecs_type == "long")
		return v.is_number_integer() ? "" : "is not an integer";
	if (ecs_type == "float" || ecs_type == "scaled_float")
		return v.is_number() ? "" : "is not a number";
	if (ecs_type == "boolean")
		return v.is_boolean() ? "" : "is not a boolean";
	if (ecs_type == "ip") {
		unsigned char buf[16];
		std::string s = v.is_string() ? v.get<std::string>() : "";
		return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1
			       ? ""
			       : "is not an IP address";
	}
	if (ecs_type == "date") {
		// RFC 3339 in UTC, as Elasticsearch's strict_date_optional_time
		// reads it.
		static const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z)");
		return v.is_string() && std::regex_match(v.get<std::string>(), rfc3339) ? ""
											: "is not an RFC 3339 date";
	}
	return "has ECS type " + ecs_type + ", which no bulwark field should use";
}

std::set<std::string> allowed_names(const nlohmann::json &field)
{
	std::set<std::string> names;
	for (const auto &a : field.at("allowed_values"))
		names.insert(a.at("name").get<std::string>());
	return names;
}

void check_against_schema(const nlohmann::json &event, const nlohmann::json &schema, const std::string &line)
{
	std::map<std::string, nlohmann::json> fields;
	std::function<void(const nlohmann::json &, const std::string &)> flatten = [&](const nlohmann::json &j,
										       const std::string &prefix) {
		if (j.is_object() && !(schema.contains(prefix) && schema[prefix]["type"] == "flattened")) {
			for (auto it = j.begin(); it != j.end(); ++it)
				flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key());
			return;
		}
		fields[prefix] = j;
	};
	flatten(event, "");
	for (const auto &[name, value] : fields) {
		if (name.rfind("bulwark.", 0) == 0)
			continue;
		if (!schema.contains(name)) {
			ADD_FAILURE() << name << " is not an ECS field\n" << line;
			continue;
		}
		const auto &def = schema[name];
		std::string why = type_mismatch(def.at("type").get<std::string>(), value);
		EXPECT_EQ(why, "") << name << " " << why << ": " << value << "\n" << line;
		const auto &norm = def.value("normalize", nlohmann::json::array());
		bool must_be_array = std::find(norm.begin(), norm.end(), "array") != norm.end();
		EXPECT_TRUE(value.is_array() || !must_be_array) << name << " must be an array\n" << line;
		if (def.contains("allowed_values")) {
			auto allowed = allowed_names(def);
			for (const auto &x : value.is_array() ? value : nlohmann::json::array({value}))
				EXPECT_TRUE(x.is_string() && allowed.count(x.get<std::string>()))
					<< name << " = " << x << " is not an allowed value\n"
					<< line;
		}
	}
	// Each event.type must be one that every event.category of the event
	// expects (ECS's expected_event_types).
	ASSERT_TRUE(event["event"]["kind"].is_string()) << line;
	ASSERT_TRUE(event["event"]["category"].is_array() && !event["event"]["category"].empty()) << line;
	ASSERT_TRUE(event["event"]["type"].is_array() && !event["event"]["type"].empty()) << line;
	for (const auto &cat : event["event"]["category"]) {
		for (const auto &a : schema["event.category"]["allowed_values"]) {
			if (a["name"] != cat)
				continue;
			const auto &expected = a.at("expected_event_types");
			for (const auto &t : event["event"]["type"])
				EXPECT_TRUE(std::find(expected.begin(), expected.end(), t) != expected.end())
					<< "event.type " << t << " is not one event.category " << cat << " expects\n"
					<< line;
		}
	}
}

} // namespace

// Runs last in this file (gtest keeps definition order): it checks the
// lines the tests above produced, against Elastic's published field
// definitions (tests/consumers/fetch-ecs-schema.sh fetches them; ctest's
// fixture ecs_schema runs it first).
TEST(EventsZEcs, EveryEventFitsElasticsEcsSchema)
{
	const std::string dir = BULWARK_ECS_DIR;
	std::ifstream in(dir + "/ecs_flat.json");
	ASSERT_TRUE(in.good()) << dir << "/ecs_flat.json is missing: run tests/consumers/fetch-ecs-schema.sh " << dir
			       << " (ctest runs it as ecs.fetch-schema)";
	nlohmann::json schema = nlohmann::json::parse(in);
	ASSERT_TRUE(schema.contains("event.category") && schema.size() > 1000) << "not ECS's ecs_flat";
	std::string version = slurp(dir + "/ecs_flat.version");
	ASSERT_GE(version.size(), 5u);
	// Golden files too, so the check holds when run alone.
	std::vector<std::string> lines = all_lines();
	for (const char *g : {"lsm-file-open", "lsm-socket-connect", "lsm-exec", "seccomp-listener-deny",
			      "seccomp-listener-audit-merged", "seccomp-listener-table-entry", "seccomp-kernel-kill",
			      "lost", "rate-limit-summary"}) {
		std::istringstream f(slurp(std::string(BULWARK_TEST_DATA) + "/golden/events/" + g + ".json"));
		for (std::string l; std::getline(f, l);)
			lines.push_back(l);
	}
	ASSERT_GT(lines.size(), 9u);
	std::set<std::string> seen_kinds, seen_categories;
	for (const auto &l : lines) {
		auto j = nlohmann::json::parse(l);
		// The version the events name is the schema's minor release.
		EXPECT_EQ(j["ecs"]["version"].get<std::string>().substr(0, 5), version.substr(0, 5)) << l;
		check_against_schema(j, schema, l);
		seen_kinds.insert(j["event"]["kind"].get<std::string>());
		for (const auto &c : j["event"]["category"])
			seen_categories.insert(c.get<std::string>());
	}
	// Run with the other event tests (ctest's unit.events-ecs), every
	// category the catalog names has been checked.
	if (all_lines().empty())
		return;
	for (const auto &h : policy::hooks())
		EXPECT_TRUE(seen_categories.count(h.category)) << h.category;
	EXPECT_EQ(seen_kinds, (std::set<std::string>{"alert", "event"}));
}
