// SPDX-License-Identifier: Apache-2.0
// Learn mode without a kernel: events to facts, paths made general, the
// written policy (golden files; BULWARK_UPDATE_GOLDEN=1 rewrites them, and
// the diff is reviewed like code), and the evidence a merge reads back.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "loader/learn/learn.h"
#include "policy/policy.h"

namespace {

using namespace bulwark::learn;

// A filesystem of listed directories; everything listed exists.
FsView fake_fs(const std::map<std::string, std::vector<std::string>> &dirs)
{
	FsView fs;
	fs.list = [dirs](const std::string &d) -> std::optional<std::vector<std::string>> {
		auto it = dirs.find(d);
		if (it == dirs.end())
			return std::nullopt;
		return it->second;
	};
	fs.exists = [dirs](const std::string &p) {
		if (dirs.count(p))
			return true;
		auto slash = p.rfind('/');
		auto it = dirs.find(slash == 0 ? "/" : p.substr(0, slash));
		if (it == dirs.end())
			return false;
		for (const auto &e : it->second)
			if (e == p.substr(slash + 1))
				return true;
		return false;
	};
	return fs;
}

void seen(Record &r, const std::string &fact, uint64_t n = 1, const std::string &proc = "/usr/bin/app")
{
	r.facts[fact].see("2026-12-07T10:00:00.000000001Z", proc, n);
}

std::string slurp(const std::string &p)
{
	std::ifstream in(p);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

void expect_golden(const std::string &text, const std::string &name)
{
	std::string path = std::string(BULWARK_TEST_DATA) + "/golden/learn/" + name;
	if (std::getenv("BULWARK_UPDATE_GOLDEN")) {
		std::ofstream(path) << text;
		return;
	}
	EXPECT_EQ(text, slurp(path)) << "golden " << path << " differs (BULWARK_UPDATE_GOLDEN=1 rewrites it)";
}

// The policy a typical small service leaves behind, on both layers.
Record service()
{
	Record r;
	r.runs = 1;
	r.events = 1234;
	r.lsm = true;
	r.commands = {"/usr/sbin/app --port 8080"};
	for (const char *s :
	     {"read", "write", "openat", "close", "mmap", "exit_group", "clone", "socket", "bind", "accept4"})
		seen(r, std::string("syscall x86_64 ") + s, 10);
	seen(r, "syscall x86 read", 2);
	seen(r, "arg x86_64 clone 0 0x0", 4);
	seen(r, "arg x86_64 socket 0 0x2", 1);
	seen(r, "arg x86_64 socket 1 0x1", 1);
	seen(r, "exec /usr/sbin/app");
	seen(r, "read /etc/app/app.conf");
	seen(r, "read /srv/www/index.html");
	seen(r, "read /srv/www/style.css");
	seen(r, "read /srv/www/img/logo.png");
	seen(r, "read /srv/www/img/bg.png");
	seen(r, "read /srv/other/a.txt");
	seen(r, "read /proc/4242/status", 3);
	seen(r, "read /proc/4243/status", 2);
	seen(r, "write /var/log/app.log", 5);
	seen(r, "write /tmp/ccA1b2C3.o");
	seen(r, "write /home/u/out/report-1.txt");
	seen(r, "family inet");
	seen(r, "family unix");
	seen(r, "bind 0.0.0.0 8080");
	seen(r, "connect 10.0.0.5 5432");
	return r;
}

FsView service_fs()
{
	return fake_fs({{"/srv/www", {"index.html", "style.css", "img"}},
			{"/srv/www/img", {"logo.png", "bg.png"}},
			{"/srv/other", {"a.txt", "b.txt"}},
			{"/etc/app", {"app.conf", "secret.key"}},
			{"/tmp", {}},
			{"/home/u/out", {"report-1.txt"}}});
}

bool v4_in(const std::string &cidr, const std::string &ip)
{
	auto slash = cidr.find('/');
	in_addr net{}, a{};
	inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &net);
	inet_pton(AF_INET, ip.c_str(), &a);
	int len = std::stoi(cidr.substr(slash + 1));
	uint32_t mask = len ? ~0u << (32 - len) : 0;
	return (ntohl(net.s_addr) & mask) == (ntohl(a.s_addr) & mask);
}

} // namespace

TEST(Learn, GeneraliseProcessNamesAndTemporaryFiles)
{
	FsView fs = fake_fs({{"/tmp", {"keep.txt"}}});
	EXPECT_EQ(generalise("/proc/1234/status", fs), "/proc/*/status");
	EXPECT_EQ(generalise("/proc/1234/task/1235/stat", fs), "/proc/*/task/*/stat");
	EXPECT_EQ(generalise("/var/lib/c/0123456789abcdef0123456789abcdef/config.json", fs),
		  "/var/lib/c/*/config.json");
	EXPECT_EQ(generalise("/etc/ssl/certs/ca-certificates.crt", fs), "/etc/ssl/certs/ca-certificates.crt");
	EXPECT_EQ(generalise("/usr/lib/python3.11/os.py", fs), "/usr/lib/python3.11/os.py");
	// A version directory is not a process.
	EXPECT_EQ(generalise("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", fs), "/usr/lib/gcc/x86_64-linux-gnu/12/cc1");
	// Gone by the end: another name next time, the same kind of file.
	EXPECT_EQ(generalise("/tmp/ccA1b2C3.s", fs), "/tmp/*.s");
	EXPECT_EQ(generalise("/tmp/tmp.Xa81kQ0pZz/in", fs), "/tmp/*/*");
	EXPECT_EQ(generalise("/tmp/keep.txt", fs), "/tmp/keep.txt");
	EXPECT_EQ(generalise("/dev/shm/sem.Xyz123", fs), "/dev/shm/*.Xyz123");
}

TEST(Learn, WritesTheServicePolicyBothLayers)
{
	std::string text = write_policy(service(), {"svc", true}, service_fs());
	expect_golden(text, "service.yaml");
	auto parsed = bulwark::policy::parse_string(text, "service.yaml");
	// Warnings only: connect and bind are the LSM layer's alone.
	for (const auto &d : parsed.diagnostics)
		if (d.severity == bulwark::policy::Diagnostic::Severity::Error ||
		    d.message.find("only the LSM layer can enforce") == std::string::npos)
			ADD_FAILURE() << d.str();
	ASSERT_TRUE(parsed.ok());
	// A directory read whole is a subtree; one read in part is not.
	EXPECT_NE(text.find("\"/srv/www/**\""), std::string::npos);
	EXPECT_NE(text.find("\"/srv/other/a.txt\""), std::string::npos);
	EXPECT_EQ(text.find("/srv/other/**"), std::string::npos);
	EXPECT_EQ(text.find("secret.key"), std::string::npos);
	EXPECT_NE(text.find("\"/proc/*/status\"   # 5x "), std::string::npos);
	// Written in the user's directory: what it writes next has another name.
	EXPECT_NE(text.find("\"/home/u/out/*.txt\""), std::string::npos);
	EXPECT_NE(text.find("\"/tmp/*.o\""), std::string::npos);
}

TEST(Learn, NetworkIsTheComplementOfWhatWasSeen)
{
	std::string text = write_policy(service(), {"svc", true}, service_fs());
	auto at = text.find("id: learned-connect-addresses");
	ASSERT_NE(at, std::string::npos) << text;
	std::vector<std::string> cidrs;
	std::istringstream in(text.substr(at));
	std::string line;
	std::getline(in, line);
	while (std::getline(in, line) && line.find("  - id:") == std::string::npos)
		if (line.find("      - \"") == 0 && line.find('.') != std::string::npos)
			cidrs.push_back(line.substr(9, line.rfind('"') - 9));
	ASSERT_FALSE(cidrs.empty());
	auto covered = [&](const std::string &ip) {
		for (const auto &c : cidrs)
			if (v4_in(c, ip))
				return true;
		return false;
	};
	EXPECT_FALSE(covered("10.0.0.5"));
	for (const char *ip : {"10.0.0.4", "10.0.0.6", "0.0.0.0", "255.255.255.255", "127.0.0.1"})
		EXPECT_TRUE(covered(ip)) << ip;
	EXPECT_NE(text.find("ports: [\"1-5431\", \"5433-65535\"]"), std::string::npos) << text;
	EXPECT_NE(text.find("deny: socket"), std::string::npos);
	EXPECT_EQ(text.find("families: [inet,"), std::string::npos) << "a family seen must stay allowed";
}

TEST(Learn, SeccompOnlyWritesNoLsmAllowLists)
{
	Record r = service();
	r.lsm = false;
	std::string text = write_policy(r, {"svc", true}, service_fs());
	expect_golden(text, "seccomp-only.yaml");
	EXPECT_EQ(text.find("read: deny"), std::string::npos);
	EXPECT_EQ(text.find("allow: read"), std::string::npos);
	auto parsed = bulwark::policy::parse_string(text, "seccomp-only.yaml");
	EXPECT_TRUE(parsed.ok());
	// clone and socket were only used with one flag value: checked.
	EXPECT_NE(text.find("- name: clone\n    action: allow\n    args:\n      - {index: 0, op: masked-eq, mask: "
			    "0x7e020000, value: 0x0}"),
		  std::string::npos)
		<< text;
	EXPECT_NE(text.find("architectures: [x86, x86_64]"), std::string::npos);
}

TEST(Learn, WordsUsedAreNotDenied)
{
	Record r = service();
	seen(r, "syscall x86_64 mount");
	seen(r, "arg x86_64 unshare 0 0x10000000");
	seen(r, "arg x86_64 socket 0 0x11");
	std::string text = write_policy(r, {"svc", true}, service_fs());
	EXPECT_NE(text.find("# mount used: 1x"), std::string::npos) << text;
	EXPECT_NE(text.find("# user-namespaces used: 1x"), std::string::npos) << text;
	EXPECT_NE(text.find("# raw-sockets used: 1x"), std::string::npos) << text;
	EXPECT_NE(text.find("deny: [ptrace, kernel-modules, bpf, perf, kexec, keyring, setuid]"), std::string::npos)
		<< text;
}

TEST(Learn, EvidenceRoundTripsAndMergesAddUp)
{
	Record r = service();
	std::string text = write_policy(r, {"svc", true}, service_fs());
	Record back = read_evidence(text, "svc.yaml");
	EXPECT_EQ(back.runs, 1u);
	EXPECT_EQ(back.events, 1234u);
	EXPECT_TRUE(back.lsm);
	ASSERT_EQ(back.facts.size(), r.facts.size());
	for (const auto &[k, v] : r.facts) {
		ASSERT_TRUE(back.facts.count(k)) << k;
		EXPECT_EQ(back.facts[k].count, v.count) << k;
		EXPECT_EQ(back.facts[k].first, v.first) << k;
	}
	Record later;
	later.runs = 1;
	later.lost = 3;
	later.facts["read /etc/app/app.conf"].see("2026-12-08T00:00:00Z", "/usr/sbin/app", 2);
	later.facts["read /etc/app/extra.conf"].see("2026-12-08T00:00:00Z", "/usr/sbin/app");
	back.merge(later);
	EXPECT_EQ(back.runs, 2u);
	EXPECT_EQ(back.facts["read /etc/app/app.conf"].count, 3u);
	EXPECT_EQ(back.facts["read /etc/app/app.conf"].last, "2026-12-08T00:00:00Z");
	EXPECT_EQ(back.facts["read /etc/app/app.conf"].first, "2026-12-07T10:00:00.000000001Z");
	std::string merged = write_policy(back, {"svc", true}, service_fs());
	// Losses are said at the top.
	EXPECT_NE(merged.find("# WARNING: 3 events were lost"), std::string::npos);
	EXPECT_NE(merged.find("from 2 runs"), std::string::npos);
}

TEST(Learn, MergeRefusesWhatLearnDidNotWrite)
{
	try {
		read_evidence("name: x\nrules: []\n", "plain.yaml");
		FAIL() << "accepted a policy without evidence";
	} catch (const std::runtime_error &e) {
		EXPECT_EQ(std::string(e.what()).rfind("plain.yaml:1: learn: not a learned policy", 0), 0u) << e.what();
	}
	try {
		read_evidence("name: x\n#@ {\"bulwark-learn\":1}\n#@ {broken\n", "bad.yaml");
		FAIL() << "accepted a broken evidence line";
	} catch (const std::runtime_error &e) {
		EXPECT_EQ(std::string(e.what()).rfind("bad.yaml:3: ", 0), 0u) << e.what();
	}
}

TEST(Learn, EventsBecomeFacts)
{
	Record r;
	std::string dir = std::string(BULWARK_TEST_DATA) + "/golden/events/";
	std::istringstream lines(slurp(dir + "lsm-file-open.json") + slurp(dir + "lsm-exec.json") +
				 slurp(dir + "lsm-socket-connect.json") + slurp(dir + "lost.json"));
	std::string line;
	while (std::getline(lines, line))
		if (!line.empty())
			EXPECT_TRUE(observe(line, r)) << line;
	EXPECT_TRUE(r.facts.count("read /etc/shadow"));
	EXPECT_TRUE(r.facts.count("exec /usr/bin/dash"));
	EXPECT_TRUE(r.facts.count("connect 10.0.0.5 22"));
	EXPECT_EQ(r.facts["read /etc/shadow"].process, "/usr/bin/worker");
	EXPECT_EQ(r.lost, 12u);
	EXPECT_TRUE(r.lsm);
	EXPECT_FALSE(observe("not json", r));
}

TEST(Learn, ScopeLearnedThroughEnforceKeepsItsScopeAndNoSyscallList)
{
	Record r = service();
	r.seccomp = false;
	r.scope = "cgroup:/system.slice/app.service";
	std::string text = write_policy(r, {"svc", true}, service_fs());
	EXPECT_NE(text.find("scope: {cgroup: \"/system.slice/app.service\"}\n"), std::string::npos) << text;
	// seccomp saw nothing of a scope: no allow-list would be right.
	EXPECT_EQ(text.find("syscalls:"), std::string::npos) << text;
	EXPECT_NE(text.find("  read: deny\n"), std::string::npos) << text;
	auto parsed = bulwark::policy::parse_string(text, "scope.yaml");
	for (const auto &d : parsed.diagnostics)
		if (d.severity == bulwark::policy::Diagnostic::Severity::Error)
			ADD_FAILURE() << d.str();
	EXPECT_EQ(parsed.policy->scope, "cgroup:/system.slice/app.service");
	Record back = read_evidence(text, "scope.yaml");
	EXPECT_FALSE(back.seccomp);
	EXPECT_EQ(back.scope, r.scope);
}

TEST(Learn, NoMorePatternsPerDirectoryThanTheLsmLayerTakes)
{
	Record r = service();
	for (const char *ext : {"s", "o", "c", "res", "ld", "le"})
		seen(r, std::string("write /tmp/ccQ1w2E3.") + ext);
	for (const char *f : {"status", "stat", "maps", "cmdline", "environ"})
		seen(r, std::string("read /proc/77/") + f);
	std::string text = write_policy(r, {"svc", true}, service_fs());
	EXPECT_NE(text.find("\"/tmp/*\""), std::string::npos) << text;
	EXPECT_EQ(text.find("\"/tmp/*.s\""), std::string::npos) << text;
	EXPECT_NE(text.find("\"/proc/*/*\""), std::string::npos) << text;
	auto parsed = bulwark::policy::parse_string(text, "globs.yaml");
	EXPECT_TRUE(parsed.ok());
}

TEST(Learn, Clone3AlsoAllowsTheCloneGlibcFallsBackTo)
{
	Record r;
	r.runs = 1;
	seen(r, "syscall x86_64 clone3", 3);
	seen(r, "syscall x86_64 exit_group");
	std::string text = write_policy(r, {"t", true}, fake_fs({}));
	EXPECT_NE(text.find("- name: clone\n    action: allow\n    args:\n      - {index: 0, op: masked-eq, mask: "
			    "0x7e020000, value: 0x0}"),
		  std::string::npos)
		<< text;
	EXPECT_NE(text.find("      - clone3   # 3x"), std::string::npos) << text;
}
