// SPDX-License-Identifier: Apache-2.0
// Learn mode against the real kernel: learn a workload, check the policy
// against a second run, enforce it, and see that what the workload never
// did is stopped. Native.* runs on any host (seccomp layer only); Learn.*
// needs BPF-LSM (the VM).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "harness.h"

namespace {

using ktest::bulwark;
using ktest::Cmd;
using ktest::probe;

std::string describe(const Cmd &c)
{
	return "status " + std::to_string(c.status) + "\n--- out:\n" + c.out + "\n--- err:\n" + c.err;
}

std::string slurp(const std::string &p)
{
	std::ifstream in(p);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

struct TempDir {
	std::string path;
	TempDir()
	{
		char t[] = "/tmp/bwlearn-test.XXXXXX";
		path = mkdtemp(t);
	}
	~TempDir() { std::system(("rm -rf " + path).c_str()); }
};

} // namespace

// An audit-mode syscall allow-list routes every unlisted call of the
// child to the listener, its own calls between the filter and exec too:
// those must be answered, not wait for a listener nobody holds yet.
TEST(Native, AuditedAllowListStartsTheCommandAndReportsIt)
{
	const char *pol = "name: t\nmode: audit\ndefault:\n  syscalls: errno(EPERM)\n"
			  "syscalls:\n  - names: [read, write]\n    action: allow\n";
	ktest::Result r = ktest::run(pol, "seccomp", {probe(), "getppid-many", "3"});
	ASSERT_EQ(r.status, 0) << r.err;
	int getppid = 0;
	for (const auto &e : r.events)
		if (e["bulwark"]["syscall"]["name"] == "getppid") {
			EXPECT_EQ(e["bulwark"]["action"], "audit");
			EXPECT_EQ(e["rule"]["id"], "default:syscalls");
			getppid++;
		}
	EXPECT_EQ(getppid, 3);
}

TEST(Native, LearnSeccompRoundTrip)
{
	TempDir d;
	std::string pol = d.path + "/learned.yaml";
	Cmd l = bulwark({"learn", "--layers", "seccomp", "-o", pol, "--", probe(), "getppid-many", "3"});
	ASSERT_EQ(l.status, 0) << describe(l);
	std::string text = slurp(pol);
	EXPECT_NE(text.find("      - getppid   # 3x "), std::string::npos) << text;
	EXPECT_NE(text.find("deny: [mount, ptrace, kernel-modules, bpf, perf, kexec, keyring, user-namespaces, "
			    "setuid, raw-sockets]"),
		  std::string::npos)
		<< text;
	// The output exists: refused without --force, and nothing runs.
	Cmd again = bulwark({"learn", "--layers", "seccomp", "-o", pol, "--", probe(), "exit", "0"});
	EXPECT_EQ(again.status, 2) << describe(again);
	EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;

	// Another run with other inputs: nothing would be denied, and
	// enforced it runs.
	Cmd ok = bulwark({"learn", "--layers", "seccomp", "--check", pol, "--", probe(), "getppid-many", "7"});
	EXPECT_EQ(ok.status, 0) << describe(ok);
	EXPECT_NE(ok.out.find("nothing would have been denied"), std::string::npos) << ok.out;
	Cmd run = bulwark({"run", "--layers", "seccomp", "--policy", pol, "--", probe(), "getppid-many", "5"});
	EXPECT_EQ(run.status, 0) << describe(run);

	// What it never did: the check names the rule and fails, and
	// enforced, the kernel refuses it.
	Cmd bad = bulwark({"learn", "--layers", "seccomp", "--check", pol, "--", probe(), "mount", "/mnt"});
	EXPECT_EQ(bad.status, 1) << describe(bad);
	// The allow-list's default answers first in the seccomp layer.
	EXPECT_NE(bad.out.find("default:syscalls"), std::string::npos) << bad.out;
	EXPECT_NE(bad.out.find("  mount (by "), std::string::npos) << bad.out;
	Cmd mnt = bulwark({"run", "--layers", "seccomp", "--policy", pol, "--", probe(), "mount", "/mnt"});
	EXPECT_NE(mnt.out.find("mount EPERM"), std::string::npos) << describe(mnt);
	Cmd ns = bulwark({"run", "--layers", "seccomp", "--policy", pol, "--", probe(), "unshare-user"});
	EXPECT_NE(ns.out.find("EPERM"), std::string::npos) << describe(ns);
}

TEST(Native, LearnMergeAddsEvidenceAndRefusesOtherFiles)
{
	TempDir d;
	std::string a = d.path + "/a.yaml", b = d.path + "/b.yaml";
	ASSERT_EQ(bulwark({"learn", "--layers", "seccomp", "-o", a, "--", probe(), "getppid-many", "2"}).status, 0);
	Cmd m = bulwark({"learn", "--layers", "seccomp", "--merge", a, "-o", b, "--", probe(), "getppid-many", "5"});
	ASSERT_EQ(m.status, 0) << describe(m);
	std::string text = slurp(b);
	EXPECT_NE(text.find("from 2 runs"), std::string::npos) << text;
	EXPECT_NE(text.find("      - getppid   # 7x "), std::string::npos) << text;
	// A policy bulwark learn did not write is refused with file:line,
	// and nothing is run or written.
	std::string plain = d.path + "/plain.yaml", out = d.path + "/out.yaml";
	std::ofstream(plain) << "name: plain\nrules:\n  - id: m\n    deny: mount\n";
	Cmd bad = bulwark({"learn", "--layers", "seccomp", "--merge", plain, "-o", out, "--", probe(), "exit", "0"});
	EXPECT_EQ(bad.status, 2) << describe(bad);
	EXPECT_NE(bad.err.find(plain + ":1: learn: not a learned policy"), std::string::npos) << bad.err;
	EXPECT_NE(access(out.c_str(), F_OK), 0);
	// A workload that cannot start: nothing written.
	Cmd none = bulwark({"learn", "--layers", "seccomp", "-o", out, "--", "/nonexistent/cmd"});
	EXPECT_EQ(none.status, 2) << describe(none);
	EXPECT_NE(access(out.c_str(), F_OK), 0);
}

// Both layers: files, executables and the kernel surface, learned once and
// enforced on a second run with other inputs.
TEST(Learn, BothLayersRoundTripStopsWhatTheWorkloadNeverDid)
{
	TempDir d;
	std::string data = d.path + "/data";
	mkdir(data.c_str(), 0755);
	for (const char *f : {"a.txt", "b.txt", "c.txt"})
		std::ofstream(data + "/" + f) << "x\n";
	std::string secret = d.path + "/secret";
	std::ofstream(secret) << "s\n";
	std::string pol = d.path + "/learned.yaml";
	// The workload reads every file of data/ (the probe, then cat) and
	// writes a report named after its argument.
	std::string script = d.path + "/work.sh";
	std::ofstream(script) << "#!/bin/bash\nfor f in " << data << "/*.txt; do " << probe()
			      << " open \"$f\" r; done\ncat " << data << "/*.txt > " << d.path << "/out-$1.txt\n";
	chmod(script.c_str(), 0755);
	Cmd l = bulwark({"learn", "-o", pol, "--", script, "one"});
	ASSERT_EQ(l.status, 0) << describe(l);
	std::string text = slurp(pol);
	EXPECT_NE(text.find("exec: deny"), std::string::npos) << text;
	EXPECT_NE(text.find("read: deny"), std::string::npos) << text;
	EXPECT_NE(text.find("\"" + data + "/**\""), std::string::npos) << text;
	EXPECT_NE(text.find("/usr/bin/cat\""), std::string::npos) << text;
	EXPECT_EQ(text.find(secret), std::string::npos) << text;

	// Other inputs (another report name): nothing would be denied, and
	// enforced it runs.
	Cmd ok = bulwark({"learn", "--check", pol, "--", script, "two"});
	EXPECT_EQ(ok.status, 0) << describe(ok);
	Cmd run = bulwark({"run", "--policy", pol, "--", script, "three"});
	EXPECT_EQ(run.status, 0) << describe(run);

	// A file never read, the kernel surface never used, a shell never run.
	auto in_bash = [&](const std::string &cmd) {
		return bulwark({"run", "--policy", pol, "--", "/bin/bash", "-c", cmd});
	};
	Cmd r = in_bash(probe() + " open " + secret + " r");
	EXPECT_NE(r.out.find("open E"), std::string::npos) << describe(r);
	Cmd m = in_bash(probe() + " mount /mnt");
	EXPECT_NE(m.out.find("mount EPERM"), std::string::npos) << describe(m);
	Cmd u = in_bash(probe() + " unshare-user");
	EXPECT_NE(u.out.find("EPERM"), std::string::npos) << describe(u);
	Cmd sh = in_bash("/bin/dash -c 'echo ran'");
	EXPECT_EQ(sh.out.find("ran"), std::string::npos) << describe(sh);
	EXPECT_NE(sh.status, 0) << describe(sh);
	Cmd check = bulwark({"learn", "--check", pol, "--", "/bin/bash", "-c", probe() + " open " + secret + " r"});
	EXPECT_EQ(check.status, 1) << describe(check);
	EXPECT_NE(check.out.find("default:read"), std::string::npos) << check.out;
}
