// SPDX-License-Identifier: Apache-2.0
//
// `bulwark import systemd`.
//
// The conformance tests import filters built from this host's systemd sets
// and run the policy's seccomp filter (exported BPF, seccomp/cbpf.cc) for
// every syscall number of x86_64 (and of x32 and i386, allowed or killed)
// against an evaluator written here from systemd.exec(5): its own reading
// of `systemd-analyze syscall-filter` and its own combination of the lines.
// It shares nothing with policy/import/systemd.cc but libseccomp's
// number -> name table.
#include <gtest/gtest.h>

#include <linux/audit.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "policy/import/systemd.h"
#include "policy/policy.h"
#include "seccomp/cbpf.h"
#include "seccomp/filter.h"

using namespace bulwark;

namespace {

// A stand-in for `systemd-analyze syscall-filter`, small enough to check by
// eye, in its layout: header, description, members, a trailing section.
const char *kSets = R"(@default
    # System calls that are always permitted
    brk
    execve
    exit_group

@basic-io
    # Basic IO
    close
    read
    write

@mount
    # Mounting and unmounting of file systems
    mount
    umount2

@reboot
    # Reboot and reboot preparation/kexec
    reboot

@privileged
    # All system calls which need super-user capabilities
    @mount
    @reboot
    chroot

@odd
    # Names this host's filter cannot hold
    no_such_call
    socketcall

# Ungrouped System Calls (known but not included in any of the groups except @known):
#   arc_gettls
)";

SyscallSets small_sets()
{
	return parse_syscall_sets(kSets);
}

Imported unit(const std::string &text)
{
	return import_systemd_unit(text, small_sets(), {}, "/etc/systemd/system/t.service");
}

std::string unit_error(const std::string &text)
{
	try {
		unit(text);
	} catch (const ImportError &e) {
		return e.what();
	}
	return "(no error)";
}

using K = policy::SyscallActionKind;

// name -> action, read from the policy's entries.
std::map<std::string, std::string> actions(const policy::Policy &p)
{
	std::map<std::string, std::string> out;
	for (const auto &e : p.syscalls)
		for (const auto &n : e.names)
			out[n] = policy::to_string(e.action);
	return out;
}

} // namespace

TEST(ImportSystemd, SetsListingIsRead)
{
	SyscallSets s = small_sets();
	EXPECT_EQ(s.size(), 6u);
	EXPECT_EQ(s["@privileged"], (std::vector<std::string>{"@mount", "@reboot", "chroot"}));
	EXPECT_EQ(s["@default"], (std::vector<std::string>{"brk", "execve", "exit_group"}));
	EXPECT_THROW(parse_syscall_sets("@aio\n    io_setup\n"), ImportError); // no @default
	try {
		parse_syscall_sets("@default\n    brk\nstray\n");
		FAIL();
	} catch (const ImportError &e) {
		EXPECT_STREQ(e.what(), "systemd-analyze syscall-filter:3: unexpected line \"stray\"");
	}
}

TEST(ImportSystemd, AllowListStartsWithDefault)
{
	Imported r = unit("[Service]\nExecStart=/bin/true\nSystemCallFilter=@basic-io\n");
	EXPECT_EQ(r.policy.name, "t");
	EXPECT_EQ(policy::to_string(r.policy.defaults.syscalls), "kill-process");
	EXPECT_EQ(r.policy.architectures, (std::vector<std::string>{"x86_64", "x86", "x32"}));
	ASSERT_EQ(r.policy.syscalls.size(), 1u);
	EXPECT_EQ(r.policy.syscalls[0].names,
		  (std::vector<std::string>{"brk", "close", "execve", "exit_group", "read", "write"}));
	EXPECT_EQ(r.policy.syscalls[0].action.kind, K::Allow);
	EXPECT_NE(r.yaml.find("# SystemCallErrorNumber= not set: a denied call kills the process"), std::string::npos)
		<< r.yaml;
}

TEST(ImportSystemd, DenyListWithErrorNumber)
{
	Imported r = unit("[Service]\nSystemCallFilter=~@privileged\nSystemCallErrorNumber=EPERM\n");
	EXPECT_EQ(policy::to_string(r.policy.defaults.syscalls), "allow");
	ASSERT_EQ(r.policy.syscalls.size(), 1u);
	EXPECT_EQ(r.policy.syscalls[0].names, (std::vector<std::string>{"chroot", "mount", "reboot", "umount2"}));
	EXPECT_EQ(policy::to_string(r.policy.syscalls[0].action), "errno(EPERM)");
	// Without it, kill; "kill" and an empty assignment say the same.
	for (const char *e :
	     {"", "SystemCallErrorNumber=kill\n", "SystemCallErrorNumber=EPERM\nSystemCallErrorNumber=\n"})
		EXPECT_EQ(policy::to_string(unit(std::string("[Service]\nSystemCallFilter=~@mount\n") + e)
						    .policy.syscalls[0]
						    .action),
			  "kill-process")
			<< e;
	EXPECT_EQ(policy::to_string(unit("[Service]\nSystemCallErrorNumber=38\nSystemCallFilter=~@mount\n")
					    .policy.syscalls[0]
					    .action),
		  "errno(ENOSYS)");
}

TEST(ImportSystemd, LinesCombine)
{
	// An allow-list: ~ lines take out, even what @default brought.
	auto a = actions(unit("[Service]\nSystemCallFilter=@basic-io\nSystemCallFilter=~write execve\n"
			      "SystemCallFilter=@mount\n")
				 .policy);
	EXPECT_EQ(a, (std::map<std::string, std::string>{{"brk", "allow"},
							 {"close", "allow"},
							 {"exit_group", "allow"},
							 {"mount", "allow"},
							 {"read", "allow"},
							 {"umount2", "allow"}}));
	// A deny-list: lines without ~ take out, and no @default is added.
	a = actions(unit("[Service]\nSystemCallFilter=~@privileged\nSystemCallFilter=@reboot umount2\n").policy);
	EXPECT_EQ(a, (std::map<std::string, std::string>{{"chroot", "kill-process"}, {"mount", "kill-process"}}));
	// Several words on a line, continuation lines, comments, other sections.
	a = actions(unit("[Unit]\nSystemCallFilter=@mount\n[Service]\n# SystemCallFilter=@reboot\n"
			 "SystemCallFilter = ~read \\\n; a comment inside\n  write\n")
			    .policy);
	EXPECT_EQ(a, (std::map<std::string, std::string>{{"read", "kill-process"}, {"write", "kill-process"}}));
}

TEST(ImportSystemd, EmptyAssignmentResets)
{
	Imported r = unit("[Service]\nSystemCallFilter=@basic-io\nSystemCallFilter=\nSystemCallFilter=~@mount\n");
	EXPECT_EQ(policy::to_string(r.policy.defaults.syscalls), "allow");
	EXPECT_EQ(actions(r.policy),
		  (std::map<std::string, std::string>{{"mount", "kill-process"}, {"umount2", "kill-process"}}));
	EXPECT_EQ(unit_error("[Service]\nSystemCallFilter=@basic-io\nSystemCallFilter=\n"),
		  "/etc/systemd/system/t.service:3: SystemCallFilter= is reset here and not set again: nothing to "
		  "import");
}

TEST(ImportSystemd, ErrnoSuffixes)
{
	Imported r = unit("[Service]\nSystemCallErrorNumber=EPERM\nSystemCallFilter=~@privileged:EACCES read\n"
			  "SystemCallFilter=~mount:ENOSYS reboot:kill write:EPERM\n");
	EXPECT_EQ(actions(r.policy), (std::map<std::string, std::string>{{"chroot", "errno(EACCES)"},
									 {"mount", "errno(ENOSYS)"},
									 {"read", "errno(EPERM)"},
									 {"reboot", "kill-process"},
									 {"umount2", "errno(EACCES)"},
									 {"write", "errno(EPERM)"}}));
	// One entry per action; :EPERM joins the SystemCallErrorNumber= one.
	EXPECT_EQ(r.policy.syscalls.size(), 4u);
	EXPECT_EQ(r.policy.syscalls[0].names, (std::vector<std::string>{"read", "write"}));
}

TEST(ImportSystemd, Architectures)
{
	auto arches = [](const std::string &lines) {
		return unit("[Service]\nSystemCallFilter=~@mount\n" + lines).policy.architectures;
	};
	using V = std::vector<std::string>;
	EXPECT_EQ(arches(""), (V{"x86_64", "x86", "x32"}));
	EXPECT_EQ(arches("SystemCallArchitectures=native\n"), V{"x86_64"});
	EXPECT_EQ(arches("SystemCallArchitectures=x32\nSystemCallArchitectures=x86 x86-64\n"),
		  (V{"x86_64", "x86", "x32"}));
	EXPECT_EQ(arches("SystemCallArchitectures=native\nSystemCallArchitectures=\n"), (V{"x86_64", "x86", "x32"}));
	Imported r = unit("[Service]\nSystemCallFilter=~@mount\nSystemCallArchitectures=native arm64\n");
	EXPECT_EQ(r.policy.architectures, V{"x86_64"});
	EXPECT_NE(r.yaml.find("# architecture arm64 left out: an x86_64 kernel never runs it"), std::string::npos);
	EXPECT_NE(r.yaml.find("calls of other ABIs are killed"), std::string::npos);
}

TEST(ImportSystemd, NamesTheFilterCannotHoldAreLeftOutWithAComment)
{
	Imported r = unit("[Service]\nSystemCallFilter=~@odd mount\nSystemCallArchitectures=native\n");
	EXPECT_EQ(actions(r.policy), (std::map<std::string, std::string>{{"mount", "kill-process"}}));
	EXPECT_NE(r.yaml.find("  #   left out, unknown to libseccomp (systemd skips them too): no_such_call\n"),
		  std::string::npos)
		<< r.yaml;
	EXPECT_NE(r.yaml.find("  #   left out, not a syscall on x86_64: socketcall\n"), std::string::npos) << r.yaml;
	// x86 has socketcall.
	r = unit("[Service]\nSystemCallFilter=~@odd mount\n");
	EXPECT_EQ(actions(r.policy).count("socketcall"), 1u);
}

TEST(ImportSystemd, YamlParsesToTheSamePolicy)
{
	for (const char *text : {"[Service]\nSystemCallFilter=@basic-io @mount\nSystemCallErrorNumber=EPERM\n"
				 "SystemCallArchitectures=native\n",
				 "[Service]\nSystemCallFilter=~@privileged:EACCES read\nSystemCallFilter=~@odd\n"}) {
		SCOPED_TRACE(text);
		Imported imp = unit(text);
		auto r = policy::parse_string(imp.yaml, "imported.yaml");
		ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].str()) << "\n" << imp.yaml;
		EXPECT_EQ(r.policy->name, imp.policy.name);
		EXPECT_EQ(policy::to_string(r.policy->defaults.syscalls),
			  policy::to_string(imp.policy.defaults.syscalls));
		EXPECT_EQ(actions(*r.policy), actions(imp.policy));
	}
}

TEST(ImportSystemd, Errors)
{
	const std::string f = "/etc/systemd/system/t.service";
	EXPECT_EQ(unit_error("[Service]\nExecStart=/bin/true\n"),
		  f + ": no SystemCallFilter= in [Service]: nothing to import");
	EXPECT_EQ(unit_error("[Service]\nSystemCallFilter=@basic-io\nSystemCallFilter=~@nope\n"),
		  f + ":3: unknown syscall set @nope (`systemd-analyze syscall-filter` lists this host's sets)");
	EXPECT_EQ(unit_error("[Service]\nSystemCallFilter\n"), f + ":2: expected KEY=VALUE, got \"SystemCallFilter\"");
	EXPECT_EQ(unit_error("[Service\nSystemCallFilter=read\n"), f + ":1: malformed section header \"[Service\"");
	EXPECT_EQ(unit_error("SystemCallFilter=read\n"), f + ":1: assignment outside of a [Section]");
	EXPECT_EQ(unit_error("[Service]\nSystemCallFilter=~read:EBOGUS\n"),
		  f + ":2: unknown error number \"EBOGUS\" (expected a name like EPERM, a number 1..4095, or kill)");
	EXPECT_EQ(unit_error("[Service]\nSystemCallFilter=~read:0\n").rfind(f + ":2: errno 0 cannot be expressed", 0),
		  0u);
	EXPECT_EQ(unit_error("[Service]\nSystemCallFilter=read:EPERM\n"),
		  f + ":2: read:EPERM: only deny-listed (~) entries take an error number (systemd ignores this one)");
	EXPECT_EQ(unit_error("[Service]\nSystemCallFilter=read\nSystemCallFilter=~write:EPERM\n")
			  .rfind(f + ":3: write:EPERM: an error number on a ~ line of an allow-list", 0),
		  0u);
	EXPECT_EQ(unit_error("[Service]\nSystemCallFilter=~\"read\"\n"),
		  f + ":2: not a syscall or @set name: \"\\\"read\\\"\"");
	EXPECT_EQ(unit_error("[Service]\nSystemCallFilter=~read\nSystemCallArchitectures=vax\n"),
		  f + ":3: unknown architecture \"vax\"");
	EXPECT_EQ(unit_error("[Service]\nSystemCallFilter=~read\nSystemCallErrorNumber=nope\n"),
		  f + ":3: unknown error number \"nope\" (expected a name like EPERM, a number 1..4095, or kill)");
	// A set naming a set that does not exist is the listing's fault.
	SyscallSets bad = small_sets();
	bad["@mount"].push_back("@gone");
	try {
		import_systemd_unit("[Service]\nSystemCallFilter=~@privileged\n", bad, {}, "u.service");
		FAIL();
	} catch (const ImportError &e) {
		EXPECT_STREQ(e.what(), "systemd-analyze syscall-filter: @mount names an unknown set @gone");
	}
}

TEST(ImportSystemd, SetOption)
{
	SystemdImportOptions o;
	// Two lines: "@basic-io @mount" and "~write umount2".
	o.sets = {"@basic-io @mount ~write umount2"};
	o.error_number = "EPERM";
	o.arches = {"native"};
	Imported r = import_systemd_sets(small_sets(), o);
	EXPECT_EQ(r.policy.name, "systemd-filter");
	EXPECT_EQ(policy::to_string(r.policy.defaults.syscalls), "errno(EPERM)");
	EXPECT_EQ(r.policy.architectures, std::vector<std::string>{"x86_64"});
	EXPECT_EQ(r.policy.syscalls[0].names,
		  (std::vector<std::string>{"brk", "close", "execve", "exit_group", "mount", "read"}));
	// A --set that starts with ~ is a deny-list, all of it.
	o = {};
	o.sets = {"~@mount @reboot", "@reboot"};
	EXPECT_EQ(actions(import_systemd_sets(small_sets(), o).policy),
		  (std::map<std::string, std::string>{{"mount", "kill-process"}, {"umount2", "kill-process"}}));
	o.sets = {"~@mount", "~@nope"};
	try {
		import_systemd_sets(small_sets(), o);
		FAIL();
	} catch (const ImportError &e) {
		EXPECT_EQ(std::string(e.what()).rfind("--set:2: unknown syscall set @nope", 0), 0u) << e.what();
	}
}

// The subcommand on bad input: exit 2, FILE:LINE on stderr, no output file.
TEST(ImportSystemd, SubcommandFailsWithoutWriting)
{
	char dir[] = "/tmp/bulwark-import-systemd-XXXXXX";
	ASSERT_NE(mkdtemp(dir), nullptr);
	std::string in = std::string(dir) + "/x.service", out = std::string(dir) + "/x.yaml";
	std::ofstream(in) << "[Service]\nExecStart=/bin/true\nSystemCallFilter=@system-service @no-such-set\n";
	SystemdImportOptions o;
	o.unit = in;
	o.output = out;
	testing::internal::CaptureStderr();
	EXPECT_EQ(run_import_systemd(o), 2);
	std::string err = testing::internal::GetCapturedStderr();
	EXPECT_NE(err.find("bulwark: import systemd: " + in + ":3: unknown syscall set @no-such-set"),
		  std::string::npos)
		<< err;
	EXPECT_NE(access(out.c_str(), F_OK), 0);
	EXPECT_NE(access((out + ".tmp").c_str(), F_OK), 0);
	// And a good one is written.
	std::ofstream(in) << "[Service]\nSystemCallFilter=@system-service\nSystemCallErrorNumber=EPERM\n";
	EXPECT_EQ(run_import_systemd(o), 0);
	std::ifstream y(out);
	std::stringstream ss;
	ss << y.rdbuf();
	EXPECT_NE(ss.str().find("name: x\n"), std::string::npos) << ss.str();
	EXPECT_NE(ss.str().find("  syscalls: errno(EPERM)\n"), std::string::npos) << ss.str();
	unlink(in.c_str());
	unlink(out.c_str());
	rmdir(dir);
}

// --- conformance against this host's systemd ------------------------------

namespace {

std::string run_analyze()
{
	FILE *p = popen("systemd-analyze --no-pager syscall-filter 2>/dev/null", "r");
	if (!p)
		return "";
	std::string text;
	char buf[4096];
	for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;)
		text.append(buf, n);
	return pclose(p) == 0 ? text : "";
}

// The listing read without the importer: a set is a line "@name" at the
// left margin; its members are the indented lines that are not "# ..."
// comments, up to the next blank line.
std::map<std::string, std::vector<std::string>> read_listing(const std::string &text)
{
	std::map<std::string, std::vector<std::string>> sets;
	std::string cur;
	std::istringstream in(text);
	for (std::string line; std::getline(in, line);) {
		if (line.empty()) {
			cur.clear();
			continue;
		}
		if (line[0] == '@') {
			cur = line;
			continue;
		}
		size_t i = line.find_first_not_of(' ');
		if (cur.empty() || i == 0 || i == std::string::npos || line[i] == '#')
			continue;
		sets[cur].push_back(line.substr(i));
	}
	return sets;
}

const uint32_t kKillProcess = SECCOMP_RET_KILL_PROCESS;

// systemd.exec(5), SystemCallFilter=: "If the first character of the list
// is ~, the effect is inverted"; "the first encountered will take
// precedence and will dictate the default action"; "the next occurrences
// ... will add or delete the listed system calls ... depending of its type
// and the default action"; allow-lists always contain @default; "name:errno"
// on deny-listed entries takes precedence over SystemCallErrorNumber=, which
// defaults to killing the process.
class SystemdEval {
public:
	SystemdEval(const std::map<std::string, std::vector<std::string>> &sets, const std::vector<std::string> &lines,
		    int error_number)
	    : sets_(sets)
	{
		denied_ = error_number ? SECCOMP_RET_ERRNO | static_cast<uint32_t>(error_number) : kKillProcess;
		bool first = true;
		for (std::string line : lines) {
			bool deny = line[0] == '~';
			if (deny)
				line.erase(0, 1);
			if (first) {
				allow_list_ = !deny;
				if (allow_list_)
					for (const auto &n : members("@default"))
						listed_[n] = denied_;
				first = false;
			}
			std::istringstream w(line);
			for (std::string word; w >> word;) {
				uint32_t ret = denied_;
				auto colon = word.find(':');
				if (colon != std::string::npos) {
					std::string e = word.substr(colon + 1);
					ret = e == "kill" ? kKillProcess : SECCOMP_RET_ERRNO | errno_of(e);
					word.resize(colon);
				}
				for (const auto &n : members(word)) {
					if (deny != allow_list_)
						listed_[n] = ret;
					else
						listed_.erase(n);
				}
			}
		}
	}

	uint32_t eval(const char *name) const
	{
		auto it = name ? listed_.find(name) : listed_.end();
		if (allow_list_)
			return it != listed_.end() ? SECCOMP_RET_ALLOW : denied_;
		return it != listed_.end() ? it->second : SECCOMP_RET_ALLOW;
	}

private:
	std::set<std::string> members(const std::string &word) const
	{
		std::set<std::string> out;
		if (word[0] != '@') {
			out.insert(word);
			return out;
		}
		auto it = sets_.find(word);
		if (it == sets_.end())
			throw std::runtime_error("evaluator: no set " + word + " in the listing");
		for (const auto &m : it->second)
			for (const auto &n : members(m))
				out.insert(n);
		return out;
	}

	static uint32_t errno_of(const std::string &e)
	{
		for (int i = 1; i < 4096; i++)
			if (strerrorname_np(i) && e == strerrorname_np(i))
				return static_cast<uint32_t>(i);
		throw std::runtime_error("evaluator: errno " + e);
	}

	const std::map<std::string, std::vector<std::string>> &sets_;
	bool allow_list_ = false;
	uint32_t denied_ = 0;
	std::map<std::string, uint32_t> listed_;
};

seccomp::FilterStack filter_bpf(const policy::Policy &p)
{
	seccomp::Filter f(p, seccomp::DenyAction::Errno);
	seccomp::FilterStack stack;
	for (bool table : {true, false}) {
		if (table && !f.has_table())
			continue;
		int fd = memfd_create("bulwark-test-bpf", MFD_CLOEXEC);
		if (fd < 0)
			throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
		int rc = table ? f.export_table_bpf(fd) : f.export_bpf(fd);
		if (rc < 0) {
			close(fd);
			throw std::runtime_error(std::string("export_bpf: ") + std::strerror(-rc));
		}
		stack.push_back(seccomp::read_bpf(fd));
		close(fd);
	}
	return stack;
}

struct Abi {
	const char *name;
	const char *bulwark;
	uint32_t audit_arch, scmp_arch, nr_bits;
};
const Abi kAbis[] = {
	{"x86_64", "x86_64", AUDIT_ARCH_X86_64, SCMP_ARCH_X86_64, 0},
	{"x32", "x32", AUDIT_ARCH_X86_64, SCMP_ARCH_X32, 0x40000000u},
	{"i386", "x86", AUDIT_ARCH_I386, SCMP_ARCH_X86, 0},
};

struct Scenario {
	const char *label;
	std::vector<std::string> lines; // SystemCallFilter= values
	const char *error_number;       // SystemCallErrorNumber=, "" = unset
	int error_value;
	bool native_only; // SystemCallArchitectures=native
};

class SystemdConformance : public ::testing::Test {
protected:
	void SetUp() override
	{
		listing_ = run_analyze();
		ASSERT_FALSE(listing_.empty())
			<< "`systemd-analyze syscall-filter` gave nothing: install Debian's systemd "
			   "package (scripts/install-deps.sh)";
		sets_ = read_listing(listing_);
		ASSERT_GT(sets_["@system-service"].size(), 10u) << listing_.substr(0, 2000);
	}

	void run(const Scenario &s)
	{
		std::string text = "[Unit]\nDescription=test\n\n[Service]\nExecStart=/bin/true\n";
		for (const auto &l : s.lines)
			text += "SystemCallFilter=" + l + "\n";
		if (*s.error_number)
			text += std::string("SystemCallErrorNumber=") + s.error_number + "\n";
		if (s.native_only)
			text += "SystemCallArchitectures=native\n";
		Imported imp = import_systemd_unit(text, host_syscall_sets(), {}, "conformance.service");
		// What the file says, not just what the converter meant.
		auto parsed = policy::parse_string(imp.yaml, "imported.yaml");
		ASSERT_TRUE(parsed.ok()) << (parsed.diagnostics.empty() ? "" : parsed.diagnostics[0].str()) << "\n"
					 << imp.yaml;
		auto prog = filter_bpf(*parsed.policy);
		SystemdEval eval(sets_, s.lines, s.error_value);

		size_t cases = 0, mismatches = 0, allowed = 0, denied = 0;
		std::string failures;
		for (const Abi &abi : kAbis) {
			bool filtered = !s.native_only || std::string(abi.name) == "x86_64";
			for (uint32_t n = 0; n < 1024; n++) {
				uint32_t nr = n | abi.nr_bits;
				char *name = seccomp_syscall_resolve_num_arch(abi.scmp_arch, static_cast<int>(nr));
				// systemd's architecture filter kills the thread; bulwark
				// kills the process (said in the policy's header).
				uint32_t want = filtered ? eval.eval(name) : kKillProcess;
				for (uint64_t args : {0ull, ~0ull}) {
					seccomp_data d{};
					d.nr = static_cast<int>(nr);
					d.arch = abi.audit_arch;
					for (auto &a : d.args)
						a = abi.audit_arch == AUDIT_ARCH_I386 ? args & 0xffffffffu : args;
					uint32_t got = seccomp::run_cbpf(prog, d);
					cases++;
					(want == SECCOMP_RET_ALLOW ? allowed : denied)++;
					if (got != want && ++mismatches <= 20) {
						char buf[256];
						std::snprintf(buf, sizeof(buf),
							      "%s nr %#x (%s): filter %s, systemd %s\n", abi.name, nr,
							      name ? name : "?", seccomp::describe_ret(got).c_str(),
							      seccomp::describe_ret(want).c_str());
						failures += buf;
					}
				}
				free(name);
			}
		}
		size_t insns = 0;
		for (const auto &p : prog)
			insns += p.size();
		std::printf("[ conform  ] %s: %zu cases (%zu allowed, %zu denied), %zu BPF instructions\n", s.label,
			    cases, allowed, denied, insns);
		EXPECT_EQ(mismatches, 0u) << failures << imp.yaml;
		EXPECT_GT(allowed, 100u);
		EXPECT_GT(denied, 100u);
	}

	std::string listing_;
	std::map<std::string, std::vector<std::string>> sets_;
};

} // namespace

TEST_F(SystemdConformance, SystemServiceAllowList)
{
	run({"@system-service, EPERM, native", {"@system-service"}, "EPERM", EPERM, true});
}

TEST_F(SystemdConformance, PrivilegedAndResourcesDenyList)
{
	run({"~@privileged @resources, kill, all ABIs", {"~@privileged @resources"}, "", 0, false});
}

TEST_F(SystemdConformance, DefaultAndBasicIo)
{
	run({"@default @basic-io, ENOSYS, all ABIs", {"@default @basic-io"}, "ENOSYS", ENOSYS, false});
}

TEST_F(SystemdConformance, LinesCombined)
{
	// An allow-list narrowed and widened again; a deny-list with per-entry
	// actions, then partly taken back.
	run({"@system-service ~@privileged @resources, then @clock",
	     {"@system-service", "~@privileged @resources", "@clock"},
	     "EACCES",
	     EACCES,
	     true});
	run({"~@mount:EPERM @reboot:kill @swap @debug, then @swap",
	     {"~@mount:EPERM @reboot:kill @swap @debug", "@swap"},
	     "",
	     0,
	     false});
}
