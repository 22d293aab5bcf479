// SPDX-License-Identifier: Apache-2.0
//
// `bulwark import docker` and the seccomp escape hatch it targets.
//
// The conformance tests run the filter bulwark builds from Docker's default
// profile (as exported BPF, through seccomp/cbpf.cc) against an evaluator
// of the JSON profile written here from Docker's documented semantics, for
// every syscall number of x86_64, x32 and i386 and a set of argument vectors.
// The evaluator shares nothing with policy/import/docker.cc but libseccomp's
// number <-> name tables.
#include <gtest/gtest.h>

#include <linux/audit.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "policy/import/docker.h"
#include "policy/policy.h"
#include "seccomp/cbpf.h"
#include "seccomp/filter.h"
#include "seccomp/syscalls.h"

using namespace bulwark;
using nlohmann::json;

namespace {

std::string profile_path()
{
	return std::string(BULWARK_TEST_DATA) + "/../../../shared/profiles/docker-default.json";
}

std::string slurp(const std::string &path)
{
	std::ifstream in(path);
	if (!in)
		return "";
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

// The filters seccomp::Filter builds, as the BPF programs the kernel would
// get: the syscall table (if any) and the rule-word filter stacked on it.
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

// --- an independent reading of Docker's profile semantics -------------------
//
// moby (profiles/seccomp) keeps an entry for a container when none of its
// excludes hold (Go arch listed, any listed cap held, kernel >= minKernel) and
// all of its includes hold (Go arch listed, every listed cap held, kernel >=
// minKernel). runc then skips entries whose action equals the default,
// ignores names libseccomp does not know, and turns conditions on the same
// argument into separate rules (any may hold); otherwise all conditions must
// hold.
//
// Several kept entries can match one call. When they agree that is the
// answer. When they disagree, what the kernel sees depends on the order the
// rules reach libseccomp (it keeps the first of two identical rules, and an
// unconditional rule overrides conditional ones), which is no semantics a
// profile author can rely on: the evaluator reports such a call as a
// conflict and the test fails. Docker's default profile has none for the
// capability sets and kernels tested here.
class DockerEval {
public:
	DockerEval(const json &doc, std::set<std::string> caps, int kmaj, int kmin)
	{
		def_ = ret_for(doc["defaultAction"].get<std::string>(),
			       doc.contains("defaultErrnoRet") ? doc["defaultErrnoRet"].get<int>() : -1);
		for (const auto &e : doc["syscalls"]) {
			if (!kept(e, caps, kmaj, kmin))
				continue;
			Entry x;
			x.ret = ret_for(e["action"].get<std::string>(),
					e.contains("errnoRet") ? e["errnoRet"].get<int>() : -1);
			if (x.ret == def_)
				continue;
			std::map<unsigned, int> per_index;
			for (const auto &a : e.value("args", json::array())) {
				Cond c{a["index"].get<unsigned>(), a["op"].get<std::string>(),
				       a.value("value", uint64_t{0}), a.value("valueTwo", uint64_t{0})};
				per_index[c.index]++;
				x.conds.push_back(c);
			}
			for (const auto &kv : per_index)
				x.any_of |= kv.second > 1;
			std::vector<std::string> names;
			if (e.contains("names"))
				names = e["names"].get<std::vector<std::string>>();
			if (e.contains("name"))
				names.push_back(e["name"].get<std::string>());
			size_t idx = entries_.size();
			entries_.push_back(x);
			for (const auto &n : names)
				by_name_[n].push_back(idx);
		}
	}

	// SECCOMP_RET_* for a call, or sets *conflict.
	uint32_t eval(const char *name, const uint64_t args[6], bool *conflict) const
	{
		*conflict = false;
		if (!name)
			return def_;
		auto it = by_name_.find(name);
		if (it == by_name_.end())
			return def_;
		bool any = false;
		uint32_t ret = def_;
		for (size_t idx : it->second) {
			const Entry &e = entries_[idx];
			if (!matches(e, args))
				continue;
			// The one order libseccomp does define: the first
			// unconditional rule for a call stands, and overrides any
			// conditional one (podman's profile lists setns as allowed
			// and, without CAP_SYS_ADMIN, denied).
			if (e.conds.empty())
				return e.ret;
			if (any && ret != e.ret)
				*conflict = true;
			any = true;
			ret = e.ret;
		}
		return ret;
	}

	uint32_t default_ret() const { return def_; }

	// Every (index, value) the profile's conditions talk about, and values
	// on either side of them.
	static std::map<unsigned, std::set<uint64_t>> probe_values(const json &doc)
	{
		std::map<unsigned, std::set<uint64_t>> out;
		for (const auto &e : doc["syscalls"])
			for (const auto &a : e.value("args", json::array())) {
				unsigned i = a["index"].get<unsigned>();
				uint64_t v = a.value("value", uint64_t{0}), two = a.value("valueTwo", uint64_t{0});
				auto &s = out[i];
				for (uint64_t x : std::initializer_list<uint64_t>{v, v - 1, v + 1, two, v | two, ~v,
										  v | (uint64_t{1} << 32)})
					s.insert(x);
				if (a["op"] == "SCMP_CMP_MASKED_EQ")
					for (int b = 0; b < 64; b++)
						if (v & (1ull << b)) {
							s.insert(two | (1ull << b));
							s.insert((two | (1ull << b)) |
								 0x01200011); // fork's usual flags
						}
			}
		return out;
	}

private:
	struct Cond {
		unsigned index;
		std::string op;
		uint64_t value, two;
	};
	struct Entry {
		uint32_t ret = 0;
		std::vector<Cond> conds;
		bool any_of = false;
	};

	static uint32_t ret_for(const std::string &act, int errno_ret)
	{
		if (act == "SCMP_ACT_ALLOW")
			return SECCOMP_RET_ALLOW;
		if (act == "SCMP_ACT_ERRNO")
			return SECCOMP_RET_ERRNO | static_cast<uint32_t>(errno_ret < 0 ? EPERM : errno_ret);
		if (act == "SCMP_ACT_KILL" || act == "SCMP_ACT_KILL_THREAD")
			return SECCOMP_RET_KILL_THREAD;
		if (act == "SCMP_ACT_KILL_PROCESS")
			return SECCOMP_RET_KILL_PROCESS;
		if (act == "SCMP_ACT_LOG")
			return SECCOMP_RET_LOG;
		if (act == "SCMP_ACT_TRAP")
			return SECCOMP_RET_TRAP;
		throw std::runtime_error("evaluator: action " + act);
	}

	static bool kernel_at_least(const json &v, int kmaj, int kmin)
	{
		int maj = 0, min = 0;
		std::sscanf(v.get<std::string>().c_str(), "%d.%d", &maj, &min);
		return kmaj != maj ? kmaj > maj : kmin >= min;
	}

	static bool kept(const json &e, const std::set<std::string> &caps, int kmaj, int kmin)
	{
		auto list = [](const json &f, const char *k) {
			std::vector<std::string> v;
			if (f.contains(k) && !f[k].is_null())
				v = f[k].get<std::vector<std::string>>();
			return v;
		};
		if (e.contains("excludes")) {
			const json &x = e["excludes"];
			for (const auto &a : list(x, "arches"))
				if (a == "amd64")
					return false;
			for (const auto &c : list(x, "caps"))
				if (caps.count(c))
					return false;
			if (x.contains("minKernel") && kernel_at_least(x["minKernel"], kmaj, kmin))
				return false;
		}
		if (e.contains("includes")) {
			const json &x = e["includes"];
			auto arches = list(x, "arches");
			if (!arches.empty() && std::find(arches.begin(), arches.end(), "amd64") == arches.end())
				return false;
			for (const auto &c : list(x, "caps"))
				if (!caps.count(c))
					return false;
			if (x.contains("minKernel") && !kernel_at_least(x["minKernel"], kmaj, kmin))
				return false;
		}
		return true;
	}

	static bool holds(const Cond &c, uint64_t a)
	{
		if (c.op == "SCMP_CMP_EQ")
			return a == c.value;
		if (c.op == "SCMP_CMP_NE")
			return a != c.value;
		if (c.op == "SCMP_CMP_LT")
			return a < c.value;
		if (c.op == "SCMP_CMP_LE")
			return a <= c.value;
		if (c.op == "SCMP_CMP_GT")
			return a > c.value;
		if (c.op == "SCMP_CMP_GE")
			return a >= c.value;
		if (c.op == "SCMP_CMP_MASKED_EQ")
			return (a & c.value) == c.two;
		throw std::runtime_error("evaluator: op " + c.op);
	}

	static bool matches(const Entry &e, const uint64_t args[6])
	{
		if (e.conds.empty())
			return true;
		for (const auto &c : e.conds) {
			bool h = holds(c, args[c.index]);
			if (e.any_of && h)
				return true;
			if (!e.any_of && !h)
				return false;
		}
		return !e.any_of;
	}

	uint32_t def_ = 0;
	std::vector<Entry> entries_;
	std::map<std::string, std::vector<size_t>> by_name_;
};

struct Abi {
	const char *name;
	uint32_t audit_arch;
	uint32_t scmp_arch;
	uint32_t nr_bits;  // or-ed into the number (x32's __X32_SYSCALL_BIT)
	uint64_t arg_mask; // what the kernel passes for this ABI's registers
	// What a syscall of this ABI reads: x32 passes 64-bit registers, but
	// its `long` arguments are 32 bits wide and the upper half is not part
	// of the call. libseccomp compares only the low word there, and so
	// must the evaluator.
	uint64_t arg_width;
};

const Abi kAbis[] = {
	{"x86_64", AUDIT_ARCH_X86_64, SCMP_ARCH_X86_64, 0, ~0ull, ~0ull},
	{"x32", AUDIT_ARCH_X86_64, SCMP_ARCH_X32, 0x40000000u, ~0ull, 0xffffffffull},
	{"i386", AUDIT_ARCH_I386, SCMP_ARCH_X86, 0, 0xffffffffull, 0xffffffffull},
};

struct Conformance {
	size_t cases = 0;
	size_t mismatches = 0;
	size_t conflicts = 0;
	std::string first_failures;
};

// Compares the filter and the evaluator for every syscall number of every
// ABI and the argument vectors the profile's conditions suggest.
Conformance compare(const seccomp::FilterStack &prog, const DockerEval &eval, const json &doc)
{
	Conformance r;
	auto probes = DockerEval::probe_values(doc);
	// Values the profile's conditions are about, named so a reader can see
	// they are covered: personality domains, socket families, clone flags.
	for (uint64_t v : {0x0ull, 0x8ull, 0x20000ull, 0x20008ull, 0xffffffffull, 0x100000008ull})
		probes[0].insert(v);
	for (uint64_t v : {2ull, 10ull, 16ull, 17ull, 40ull, 0x100000028ull})
		probes[0].insert(v);
	for (uint64_t v : std::initializer_list<uint64_t>{CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET | 0x11, 0x3d0f00,
							  0x3d0f00 | CLONE_NEWUSER, 0x01200011})
		for (unsigned i : {0u, 1u})
			probes[i].insert(v);

	for (const Abi &abi : kAbis) {
		std::vector<std::array<uint64_t, 6>> vectors;
		std::set<std::array<uint64_t, 6>> seen;
		auto add = [&](std::array<uint64_t, 6> a) {
			for (auto &x : a)
				x &= abi.arg_mask;
			if (seen.insert(a).second)
				vectors.push_back(a);
		};
		add({0, 0, 0, 0, 0, 0});
		add({~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull});
		for (const auto &kv : probes)
			for (uint64_t v : kv.second)
				for (uint64_t rest : {0ull, ~0ull}) {
					std::array<uint64_t, 6> a;
					a.fill(rest);
					a[kv.first] = v;
					add(a);
				}

		std::vector<int64_t> nrs;
		for (int64_t n = 0; n < 1024; n++)
			nrs.push_back(n);
		nrs.push_back(0x3fffffff);
		nrs.push_back(-1);
		for (int64_t n : nrs) {
			uint32_t nr = static_cast<uint32_t>(n) | abi.nr_bits;
			char *name = seccomp_syscall_resolve_num_arch(abi.scmp_arch, static_cast<int>(nr));
			for (const auto &a : vectors) {
				seccomp_data d{};
				d.nr = static_cast<int>(nr);
				d.arch = abi.audit_arch;
				for (int i = 0; i < 6; i++)
					d.args[i] = a[i];
				uint32_t got = seccomp::run_cbpf(prog, d);
				bool conflict = false;
				uint64_t seen_args[6];
				for (int i = 0; i < 6; i++)
					seen_args[i] = a[i] & abi.arg_width;
				uint32_t want = eval.eval(name, seen_args, &conflict);
				r.cases++;
				if (conflict || got != want) {
					(conflict ? r.conflicts : r.mismatches)++;
					if (r.conflicts + r.mismatches <= 20) {
						char buf[512];
						std::snprintf(buf, sizeof(buf),
							      "%s nr %#x (%s) args %#llx %#llx %#llx: filter %s, "
							      "profile %s%s\n",
							      abi.name, nr, name ? name : "?", (unsigned long long)a[0],
							      (unsigned long long)a[1], (unsigned long long)a[2],
							      seccomp::describe_ret(got).c_str(),
							      seccomp::describe_ret(want).c_str(),
							      conflict ? " (conflict)" : "");
						r.first_failures += buf;
					}
				}
			}
			free(name);
		}
	}
	return r;
}

std::set<std::string> cap_set(const std::vector<std::string> &v)
{
	return std::set<std::string>(v.begin(), v.end());
}

const std::vector<std::string> kAllCaps = {
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

struct Scenario {
	const char *label;
	std::vector<std::string> caps; // empty: Docker's default set
	const char *kernel;
	int kmaj, kmin;
};

const Scenario kScenarios[] = {
	{"default caps, kernel 6.1", {}, "6.1", 6, 1},
	{"default caps, kernel 4.4", {}, "4.4", 4, 4},
	{"default caps + CAP_SYS_ADMIN", {}, "6.1", 6, 1}, // caps filled in below
	{"all caps", kAllCaps, "6.1", 6, 1},
};

class ImportConformance : public ::testing::Test {
protected:
	void SetUp() override
	{
		text_ = slurp(profile_path());
		if (text_.empty())
			GTEST_SKIP() << "Docker's profile is not at " << profile_path()
				     << " (the conformance tests read it from the shared checkout; it is not part of "
					"the repo)";
		doc_ = json::parse(text_);
	}

	void run(const Scenario &s, std::vector<std::string> caps, bool via_yaml)
	{
		ImportOptions o;
		o.caps = caps;
		o.kernel = s.kernel;
		Imported imp = import_docker(text_, o, "docker-default.json");
		policy::Policy p = imp.policy;
		if (via_yaml) {
			auto r = policy::parse_string(imp.yaml, "imported.yaml");
			ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].str());
			p = *r.policy;
		}
		auto prog = filter_bpf(p);
		DockerEval eval(doc_, cap_set(caps.empty() ? docker_default_caps() : caps), s.kmaj, s.kmin);
		Conformance c = compare(prog, eval, doc_);
		std::printf("[ conform  ] %s%s: %zu (syscall, args) cases, %zu BPF instructions\n", s.label,
			    via_yaml ? " (via YAML)" : "", c.cases, prog.size());
		EXPECT_EQ(c.conflicts, 0u) << c.first_failures;
		EXPECT_EQ(c.mismatches, 0u) << c.first_failures;
		EXPECT_GT(c.cases, 100000u);
	}

	std::string text_;
	json doc_;
};

std::vector<std::string> default_plus(const char *cap)
{
	auto v = docker_default_caps();
	v.push_back(cap);
	return v;
}

// The parser reads `syscalls:` entries once the escape hatch's parsing lands;
// until then the YAML half of the conformance test has nothing to check.
bool parser_reads_syscalls()
{
	auto r = policy::parse_string(
		"name: probe\narchitectures: [x86_64, x86]\ndefault:\n  syscalls: errno(EPERM)\nsyscalls:\n"
		"  - names: [read]\n    action: allow\n    args:\n      - {index: 0, op: masked-eq, mask: 0x7E020000, "
		"value: 0}\n",
		"probe.yaml");
	return r.ok() && r.policy->syscalls.size() == 1 && r.policy->syscalls[0].args.size() == 1;
}

} // namespace

// podman's profile: containers-common's seccomp.json (Debian's
// golang-github-containers-common), with podman's default capabilities
// read from the containers.conf shipped beside it.
class PodmanConformance : public ImportConformance {
protected:
	static constexpr const char *kDir = "/usr/share/containers";

	void SetUp() override
	{
		text_ = slurp(std::string(kDir) + "/seccomp.json");
		ASSERT_FALSE(text_.empty())
			<< kDir << "/seccomp.json is missing: install golang-github-containers-common "
			<< "(scripts/install-deps.sh --consumers)";
		doc_ = json::parse(text_);
		std::string conf = slurp(std::string(kDir) + "/containers.conf");
		auto at = conf.find("\ndefault_capabilities = [");
		ASSERT_NE(at, std::string::npos) << "no default_capabilities in containers.conf";
		std::string list = conf.substr(at, conf.find(']', at) - at);
		for (size_t q = list.find('"'); q != std::string::npos; q = list.find('"', list.find('"', q + 1) + 1))
			caps_.push_back("CAP_" + list.substr(q + 1, list.find('"', q + 1) - q - 1));
		ASSERT_GE(caps_.size(), 5u) << list;
	}

	std::vector<std::string> caps_;
};

TEST_F(PodmanConformance, DefaultCaps)
{
	run({"podman: default caps, kernel 6.1", {}, "6.1", 6, 1}, caps_, false);
}
TEST_F(PodmanConformance, OldKernelAndSysAdmin)
{
	caps_.push_back("CAP_SYS_ADMIN");
	run({"podman: default caps + CAP_SYS_ADMIN, kernel 4.4", {}, "4.4", 4, 4}, caps_, false);
}
TEST_F(PodmanConformance, AllCaps)
{
	run({"podman: all caps", {}, "6.1", 6, 1}, kAllCaps, false);
}

TEST_F(ImportConformance, DefaultCaps)
{
	run(kScenarios[0], {}, false);
}
TEST_F(ImportConformance, OldKernelDropsMinKernelEntries)
{
	run(kScenarios[1], {}, false);
}
TEST_F(ImportConformance, SysAdmin)
{
	run(kScenarios[2], default_plus("CAP_SYS_ADMIN"), false);
}
TEST_F(ImportConformance, AllCaps)
{
	run(kScenarios[3], kAllCaps, false);
}

TEST_F(ImportConformance, ViaYaml)
{
	if (!parser_reads_syscalls())
		GTEST_SKIP() << "policy parser does not read syscalls:/architectures:/default.syscalls yet";
	run(kScenarios[0], {}, true);
	run(kScenarios[3], kAllCaps, true);
}

TEST_F(ImportConformance, YamlParsesToTheSamePolicy)
{
	if (!parser_reads_syscalls())
		GTEST_SKIP() << "policy parser does not read syscalls:/architectures:/default.syscalls yet";
	ImportOptions o;
	o.kernel = "6.1";
	Imported imp = import_docker(text_, o, "docker-default.json");
	auto r = policy::parse_string(imp.yaml, "imported.yaml");
	ASSERT_TRUE(r.ok()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].str());
	const policy::Policy &a = imp.policy, &b = *r.policy;
	EXPECT_EQ(a.name, b.name);
	// The native architecture is in every filter; whether the policy lists
	// it too is the parser's business.
	auto non_native = [](std::vector<std::string> v) {
		v.erase(std::remove(v.begin(), v.end(), "x86_64"), v.end());
		return v;
	};
	EXPECT_EQ(non_native(a.architectures), non_native(b.architectures));
	EXPECT_TRUE(b.defaults.syscalls_set);
	EXPECT_EQ(a.defaults.syscalls.kind, b.defaults.syscalls.kind);
	EXPECT_EQ(a.defaults.syscalls.errno_value, b.defaults.syscalls.errno_value);
	ASSERT_EQ(a.syscalls.size(), b.syscalls.size());
	for (size_t i = 0; i < a.syscalls.size(); i++) {
		SCOPED_TRACE("entry " + std::to_string(i));
		EXPECT_EQ(a.syscalls[i].names, b.syscalls[i].names);
		EXPECT_EQ(a.syscalls[i].action.kind, b.syscalls[i].action.kind);
		EXPECT_EQ(a.syscalls[i].action.errno_value, b.syscalls[i].action.errno_value);
		ASSERT_EQ(a.syscalls[i].args.size(), b.syscalls[i].args.size());
		for (size_t k = 0; k < a.syscalls[i].args.size(); k++) {
			EXPECT_EQ(a.syscalls[i].args[k].index, b.syscalls[i].args[k].index);
			EXPECT_EQ(a.syscalls[i].args[k].op, b.syscalls[i].args[k].op);
			EXPECT_EQ(a.syscalls[i].args[k].value, b.syscalls[i].args[k].value);
			if (a.syscalls[i].args[k].op == policy::ArgOp::MaskedEq) {
				EXPECT_EQ(a.syscalls[i].args[k].mask, b.syscalls[i].args[k].mask);
			}
		}
	}
}

// An ABI the filter was not built for is killed, not evaluated against the
// x86_64 numbers. (Docker's runtime kills the thread; bulwark the process.)
TEST_F(ImportConformance, ForeignArchIsKilled)
{
	ImportOptions o;
	o.kernel = "6.1";
	auto prog = filter_bpf(import_docker(text_, o, "docker-default.json").policy);
	seccomp_data d{};
	d.nr = 39; // getpid on x86_64, something else on aarch64
	d.arch = AUDIT_ARCH_AARCH64;
	EXPECT_EQ(seccomp::run_cbpf(prog, d), SECCOMP_RET_KILL_PROCESS);
	d.arch = AUDIT_ARCH_X86_64;
	EXPECT_EQ(seccomp::run_cbpf(prog, d), SECCOMP_RET_ALLOW);
}

// Spot checks a reader can verify against the profile by eye.
TEST_F(ImportConformance, KnownAnswers)
{
	ImportOptions o;
	o.kernel = "6.1";
	auto prog = filter_bpf(import_docker(text_, o, "docker-default.json").policy);
	auto ask = [&](uint32_t arch, int nr, uint64_t a0, uint64_t a1 = 0) {
		seccomp_data d{};
		d.arch = arch;
		d.nr = nr;
		d.args[0] = a0;
		d.args[1] = a1;
		return seccomp::run_cbpf(prog, d);
	};
	const uint32_t eperm = SECCOMP_RET_ERRNO | EPERM, enosys = SECCOMP_RET_ERRNO | ENOSYS;
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_personality, 0x8), SECCOMP_RET_ALLOW);
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_personality, 0x100000008), eperm);
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_personality, 0x9), eperm);
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_clone, 0x01200011), SECCOMP_RET_ALLOW);
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_clone, 0x01200011 | CLONE_NEWUSER), eperm);
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_clone3, 0), enosys);
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_socket, 40), eperm); // AF_VSOCK
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_socket, 2), SECCOMP_RET_ALLOW);
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_mount, 0), eperm);
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_read | 0x40000000, 0), SECCOMP_RET_ALLOW); // x32 read
	EXPECT_EQ(ask(AUDIT_ARCH_I386, 102, 1), SECCOMP_RET_ALLOW);                      // i386 socketcall
	EXPECT_EQ(ask(AUDIT_ARCH_I386, 359, 40), eperm);                                 // i386 socket(AF_VSOCK)
	EXPECT_EQ(ask(AUDIT_ARCH_I386, 384, 0), SECCOMP_RET_ALLOW);                      // i386 arch_prctl
}

// The bundled policy is this converter's output for the profile, so a change
// in either shows up here instead of drifting silently.
TEST_F(ImportConformance, BundledPolicyIsCurrent)
{
	std::string bundled = slurp(std::string(BULWARK_TEST_DATA) + "/../../policy/bundled/docker-default.yaml");
	ASSERT_FALSE(bundled.empty());
	// The header records the kernel the file was generated for.
	auto k = bundled.find("#   kernel: ");
	ASSERT_NE(k, std::string::npos);
	std::string kernel = bundled.substr(k + 12, bundled.find(' ', k + 12) - (k + 12));
	ImportOptions o;
	o.kernel = kernel;
	Imported imp = import_docker(text_, o, "docker-default.json");
	// The generated text follows the license header; only the kernel line
	// differs (it says where the version came from).
	std::string want = imp.yaml;
	auto wk = want.find("#   kernel: ");
	want.replace(wk, want.find('\n', wk) - wk, bundled.substr(k, bundled.find('\n', k) - k));
	auto start = bundled.find("# Generated by `bulwark import docker`");
	ASSERT_NE(start, std::string::npos);
	EXPECT_EQ(bundled.substr(start), want);
}

// --- converter: semantics on small profiles -------------------------------

namespace {

Imported imp(const std::string &text, std::vector<std::string> caps = {}, const char *kernel = "6.1")
{
	ImportOptions o;
	o.caps = caps;
	o.kernel = kernel;
	return import_docker(text, o, "t.json");
}

std::string import_error(const std::string &text, ImportOptions o = {})
{
	if (o.kernel.empty())
		o.kernel = "6.1";
	try {
		import_docker(text, o, "t.json");
	} catch (const ImportError &e) {
		return e.what();
	}
	return "(no error)";
}

} // namespace

TEST(Import, MapsActionsErrnoAndOps)
{
	auto r = imp(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
		{"name": "ptrace", "action": "SCMP_ACT_KILL"},
		{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
		{"names": ["clone"], "action": "SCMP_ACT_ALLOW",
		 "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"},
		          {"index": 2, "value": 7, "op": "SCMP_CMP_LE"}]}]})");
	const auto &p = r.policy;
	EXPECT_EQ(p.defaults.syscalls.kind, policy::SyscallActionKind::Errno);
	EXPECT_EQ(p.defaults.syscalls.errno_value, EPERM); // runc's default errno
	ASSERT_EQ(p.syscalls.size(), 4u);
	EXPECT_EQ(p.syscalls[1].action.kind, policy::SyscallActionKind::KillThread);
	EXPECT_EQ(p.syscalls[2].action.errno_value, ENOSYS);
	ASSERT_EQ(p.syscalls[3].args.size(), 2u);
	EXPECT_EQ(p.syscalls[3].args[0].op, policy::ArgOp::MaskedEq);
	EXPECT_EQ(p.syscalls[3].args[0].mask, 0x7E020000u);
	EXPECT_EQ(p.syscalls[3].args[0].value, 0u);
	EXPECT_EQ(p.syscalls[3].args[1].op, policy::ArgOp::Le);
	EXPECT_EQ(p.syscalls[3].args[1].value, 7u);
	EXPECT_NE(r.yaml.find("  syscalls: errno(EPERM)\n"), std::string::npos);
	EXPECT_NE(r.yaml.find("    action: errno(ENOSYS)\n"), std::string::npos);
	EXPECT_NE(r.yaml.find("    action: kill-thread\n"), std::string::npos);
	EXPECT_NE(r.yaml.find("      - {index: 0, op: masked-eq, mask: 0x7E020000, value: 0}\n"), std::string::npos);
	EXPECT_NE(r.yaml.find("      - {index: 2, op: le, value: 7}\n"), std::string::npos);
	EXPECT_NE(r.yaml.find("architectures: [x86_64]\n"), std::string::npos);
}

TEST(Import, SameArgumentTwiceBecomesSeparateEntries)
{
	auto r = imp(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["personality"], "action": "SCMP_ACT_ALLOW",
		 "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]})");
	ASSERT_EQ(r.policy.syscalls.size(), 2u);
	EXPECT_EQ(r.policy.syscalls[0].args.size(), 1u);
	EXPECT_EQ(r.policy.syscalls[1].args[0].value, 8u);
	EXPECT_NE(r.yaml.find("one rule per condition"), std::string::npos);
}

TEST(Import, IncludesAndExcludesAreDecided)
{
	const std::string text = R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["a1"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
		{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
		{"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
		{"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
		{"names": ["swapcontext"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["ppc64le"]}}]})";
	auto names = [](const Imported &r) {
		std::vector<std::string> v;
		for (const auto &e : r.policy.syscalls)
			v.push_back(e.names[0]);
		return v;
	};
	auto r = imp(text, {}, "4.4");
	EXPECT_EQ(names(r), (std::vector<std::string>{"clone", "arch_prctl"}));
	EXPECT_NE(r.yaml.find("syscalls[0] (a1): needs CAP_SYS_ADMIN"), std::string::npos) << r.yaml;
	EXPECT_NE(r.yaml.find("syscalls[1] (ptrace): needs kernel 4.8, kernel is 4.4"), std::string::npos) << r.yaml;
	EXPECT_NE(r.yaml.find("syscalls[4] (swapcontext): only for arches ppc64le, not amd64"), std::string::npos);
	// --cap replaces the default set; the CAP_ prefix is optional.
	r = imp(text, {"sys_admin"}, "5.10");
	EXPECT_EQ(names(r), (std::vector<std::string>{"ptrace", "arch_prctl"}));
	EXPECT_NE(r.yaml.find("syscalls[0] (a1): none of its syscalls exist here"), std::string::npos) << r.yaml;
	EXPECT_NE(r.yaml.find("syscalls[2] (clone): excluded with CAP_SYS_ADMIN"), std::string::npos) << r.yaml;
	EXPECT_NE(r.yaml.find("#     CAP_SYS_ADMIN\n"), std::string::npos) << r.yaml;
}

TEST(Import, ArchitecturesAndNames)
{
	auto r = imp(R"({"defaultAction": "SCMP_ACT_ALLOW",
		"archMap": [{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
		            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
		"syscalls": [{"names": ["socketcall", "no_such_call", "riscv_flush_icache", "mount"], "action": "SCMP_ACT_ERRNO"},
		             {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]})");
	EXPECT_EQ(r.policy.architectures, (std::vector<std::string>{"x86_64", "x86", "x32"}));
	ASSERT_EQ(r.policy.syscalls.size(), 1u);
	EXPECT_EQ(r.policy.syscalls[0].names, (std::vector<std::string>{"socketcall", "mount"}));
	EXPECT_NE(r.yaml.find("unknown to libseccomp (Docker's runtime skips them too): no_such_call"),
		  std::string::npos);
	EXPECT_NE(r.yaml.find("not a syscall on x86_64, x86, x32: riscv_flush_icache"), std::string::npos);
	EXPECT_NE(r.yaml.find("syscalls[1] (getpid): same action as the default"), std::string::npos);
	EXPECT_NE(r.yaml.find("  syscalls: allow\n"), std::string::npos);

	r = imp(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"]})");
	EXPECT_EQ(r.policy.architectures, (std::vector<std::string>{"x86_64", "x86"}));
	EXPECT_NE(r.yaml.find("SCMP_ARCH_AARCH64 left out"), std::string::npos);
	EXPECT_NE(r.yaml.find("syscalls: []"), std::string::npos);
}

TEST(Import, Errors)
{
	EXPECT_EQ(import_error("{\"defaultAction\": "), import_error("{\"defaultAction\": ")); // deterministic
	EXPECT_EQ(import_error("{\"defaultAction\": ").rfind("not valid JSON: ", 0), 0u)
		<< import_error("{\"defaultAction\": ");
	EXPECT_EQ(import_error("[]"), "expected an object, got array");
	EXPECT_EQ(import_error("{}"), "(top level): missing \"defaultAction\"");
	EXPECT_EQ(
		import_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "bogus": 1})"),
		"bogus: unknown key (known here: defaultAction, defaultErrnoRet, defaultErrno, architectures, archMap, "
		"syscalls, flags, listenerPath, listenerMetadata)");
	// podman's errno names: only beside, and agreeing with, the number.
	EXPECT_EQ(
		import_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrno": "ENOSYS", "defaultErrnoRet": 1})"),
		"defaultErrno: \"ENOSYS\" but defaultErrnoRet is 1 (EPERM)");
	EXPECT_EQ(import_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrno": "ENOSYS"})"),
		  "defaultErrno: \"ENOSYS\" without defaultErrnoRet: containers/common ignores the name (EPERM), give "
		  "defaultErrnoRet");
	EXPECT_EQ(
		import_error(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], )"
			     R"("action": "SCMP_ACT_ERRNO", "errno": "EINVAL", "errnoRet": 22}, {"names": ["write"], )"
			     R"("action": "SCMP_ACT_ERRNO", "errno": "EPERM", "errnoRet": 22}]})"),
		"syscalls[1].errno: \"EPERM\" but errnoRet is 22 (EINVAL)");
	EXPECT_EQ(import_error(R"({"defaultAction": "SCMP_ACT_EXPLODE"})")
			  .rfind("defaultAction: unknown action \"SCMP_ACT_EXPLODE\"", 0),
		  0u);
	EXPECT_EQ(import_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1})"),
		  "defaultErrnoRet: expected an unsigned integer, got -1");
	const std::string head =
		R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}, )";
	EXPECT_EQ(
		import_error(
			head +
			R"({"names": ["x"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ALMOST"}]}]})")
			.rfind("syscalls[1].args[0].op: unknown operator \"SCMP_CMP_ALMOST\"", 0),
		0u);
	EXPECT_EQ(
		import_error(
			head +
			R"({"names": ["x"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})"),
		"syscalls[1].args[0].index: argument index 6 out of range 0..5");
	EXPECT_EQ(
		import_error(
			head +
			R"({"names": ["x"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": "1", "op": "SCMP_CMP_EQ"}]}]})"),
		"syscalls[1].args[0].value: expected an unsigned integer, got string");
	EXPECT_EQ(import_error(head + R"({"names": ["x"], "action": "SCMP_ACT_NOTIFY"}]})")
			  .rfind("syscalls[1].action: SCMP_ACT_NOTIFY is not supported", 0),
		  0u);
	EXPECT_EQ(import_error(head + R"({"names": ["x"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0}]})")
			  .rfind("syscalls[1].errnoRet: errno 0 cannot be expressed", 0),
		  0u);
	EXPECT_EQ(import_error(head + R"({"name": "x", "names": ["y"], "action": "SCMP_ACT_ALLOW"}]})"),
		  "syscalls[1]: both \"name\" and \"names\" are given; Docker refuses that too");
	EXPECT_EQ(import_error(head +
			       R"({"names": ["x"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "four"}}]})"),
		  "syscalls[1].includes.minKernel: expected a kernel version like \"4.8\", got \"four\"");
	EXPECT_EQ(import_error(head + R"({"names": ["x"], "action": "SCMP_ACT_ALLOW", "includes": {"kaps": []}}]})")
			  .rfind("syscalls[1].includes.kaps: unknown key", 0),
		  0u);
	EXPECT_EQ(import_error(head + R"({"names": ["x y"], "action": "SCMP_ACT_ALLOW"}]})"),
		  "syscalls[1].names[0]: not a syscall name: \"x y\"");
	EXPECT_EQ(
		import_error(
			R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})"),
		"both \"architectures\" and \"archMap\" are given; Docker refuses that too");
	EXPECT_EQ(
		import_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "archMap": [{"architecture": "SCMP_ARCH_VAX"}]})"),
		"archMap[0].architecture: unknown architecture \"SCMP_ARCH_VAX\"");
	ImportOptions bad_kernel;
	bad_kernel.kernel = "six";
	EXPECT_EQ(import_error(R"({"defaultAction": "SCMP_ACT_ALLOW"})", bad_kernel),
		  "--kernel \"six\": expected a version like 5.15");
	ImportError e("syscalls[3].action", "x");
	EXPECT_EQ(e.where(), "syscalls[3].action");
}

TEST(Import, SubcommandExitsTwoOnBadInput)
{
	char path[] = "/tmp/bulwark-import-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	const std::string bad =
		R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_NOPE"}]})";
	ASSERT_EQ(write(fd, bad.data(), bad.size()), static_cast<ssize_t>(bad.size()));
	close(fd);
	ImportOptions o;
	o.profile = path;
	o.kernel = "6.1";
	testing::internal::CaptureStderr();
	EXPECT_EQ(run_import_docker(o), 2);
	std::string err = testing::internal::GetCapturedStderr();
	EXPECT_NE(err.find(std::string("bulwark: import docker: ") + path + ": syscalls[0].action: unknown action"),
		  std::string::npos)
		<< err;
	o.profile = std::string(path) + ".missing";
	testing::internal::CaptureStderr();
	EXPECT_EQ(run_import_docker(o), 2);
	err = testing::internal::GetCapturedStderr();
	EXPECT_NE(err.find("cannot read"), std::string::npos) << err;
	unlink(path);
}

TEST(Import, SubcommandWritesOutputFile)
{
	char dir[] = "/tmp/bulwark-import-XXXXXX";
	ASSERT_NE(mkdtemp(dir), nullptr);
	std::string in = std::string(dir) + "/p.json", out = std::string(dir) + "/p.yaml";
	std::ofstream(in)
		<< R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})";
	ImportOptions o;
	o.profile = in;
	o.output = out;
	o.kernel = "6.1";
	EXPECT_EQ(run_import_docker(o), 0);
	std::string y = slurp(out);
	EXPECT_NE(y.find("name: p\n"), std::string::npos) << y;
	EXPECT_NE(y.find("  syscalls: errno(ENOSYS)\n"), std::string::npos) << y;
	unlink(in.c_str());
	unlink(out.c_str());
	rmdir(dir);
}

// --- seccomp/syscalls.cc ---------------------------------------------------

namespace {

policy::Policy small_policy(std::vector<std::string> arches)
{
	policy::Policy p;
	p.architectures = std::move(arches);
	p.defaults.syscalls = {policy::SyscallActionKind::Errno, EPERM};
	p.defaults.syscalls_set = true;
	return p;
}

std::string build_error(const policy::Policy &p)
{
	try {
		seccomp::Filter f(p, seccomp::DenyAction::Errno);
	} catch (const std::runtime_error &e) {
		return e.what();
	}
	return "(no error)";
}

} // namespace

TEST(SeccompSyscalls, Actions)
{
	using K = policy::SyscallActionKind;
	EXPECT_EQ(seccomp::scmp_action({K::Allow, 0}), SCMP_ACT_ALLOW);
	EXPECT_EQ(seccomp::scmp_action({K::Errno, ENOSYS}), SCMP_ACT_ERRNO(ENOSYS));
	EXPECT_EQ(seccomp::scmp_action({K::KillProcess, 0}), SCMP_ACT_KILL_PROCESS);
	EXPECT_EQ(seccomp::scmp_action({K::KillThread, 0}), SCMP_ACT_KILL_THREAD);
	EXPECT_EQ(seccomp::scmp_action({K::Log, 0}), SCMP_ACT_LOG);
	EXPECT_EQ(seccomp::scmp_action({K::Trap, 0}), SCMP_ACT_TRAP);
	EXPECT_THROW(seccomp::scmp_action({K::Errno, 0}), std::runtime_error);
	policy::Policy p;
	EXPECT_EQ(seccomp::default_action(p), SCMP_ACT_ALLOW);
	p = small_policy({});
	EXPECT_EQ(seccomp::default_action(p), SCMP_ACT_ERRNO(EPERM));
	p.mode = policy::Mode::Audit;
	EXPECT_EQ(seccomp::default_action(p), SCMP_ACT_LOG);
}

TEST(SeccompSyscalls, NamesResolvePerArchitecture)
{
	auto p = small_policy({"x86_64"});
	p.syscalls.push_back({{"getpid", "socketcall"}, {policy::SyscallActionKind::Allow, 0}, {}, {}, {}});
	// socketcall is i386-only: with x86_64 alone it can never match.
	EXPECT_EQ(build_error(p), "seccomp: syscall socketcall does not exist on any architecture in the filter");
	p.architectures = {"x86_64", "x86"};
	EXPECT_EQ(build_error(p), "(no error)");
	p.syscalls[0].names = {"no_such_call"};
	EXPECT_EQ(build_error(p), "seccomp: syscall no_such_call does not exist on any architecture in the filter");
	p.architectures = {"x86_64", "arm"};
	EXPECT_EQ(build_error(p), "seccomp: unsupported architecture arm (supported: x86_64, x86, x32)");
}

TEST(SeccompSyscalls, EntriesAndDefault)
{
	auto p = small_policy({"x86_64", "x86", "x32"});
	policy::SyscallEntry allow{{"getpid"}, {policy::SyscallActionKind::Allow, 0}, {}, {}, {}};
	policy::SyscallEntry same{{"mount"}, {policy::SyscallActionKind::Errno, EPERM}, {}, {}, {}};
	policy::SyscallEntry cond{{"personality"}, {policy::SyscallActionKind::Allow, 0}, {}, {}, {}};
	cond.args.push_back({0, policy::ArgOp::Ne, 5, 0, {}});
	policy::SyscallEntry masked{{"clone"}, {policy::SyscallActionKind::KillProcess, 0}, {}, {}, {}};
	masked.args.push_back({0, policy::ArgOp::MaskedEq, CLONE_NEWUSER, CLONE_NEWUSER, {}});
	p.syscalls = {allow, same, cond, masked};
	auto prog = filter_bpf(p);
	auto ask = [&](uint32_t arch, int nr, uint64_t a0) {
		seccomp_data d{};
		d.arch = arch;
		d.nr = nr;
		d.args[0] = a0;
		return seccomp::run_cbpf(prog, d);
	};
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_getpid, 0), SECCOMP_RET_ALLOW);
	EXPECT_EQ(ask(AUDIT_ARCH_I386, 20, 0), SECCOMP_RET_ALLOW);                         // i386 getpid
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_getpid | 0x40000000, 0), SECCOMP_RET_ALLOW); // x32 getpid
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_mount, 0), SECCOMP_RET_ERRNO | EPERM);
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_personality, 5), SECCOMP_RET_ERRNO | EPERM);
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_personality, 6), SECCOMP_RET_ALLOW);
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_clone, CLONE_NEWUSER | 0x11), SECCOMP_RET_KILL_PROCESS);
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_clone, 0x11), SECCOMP_RET_ERRNO | EPERM);

	// Audit mode logs instead of denying.
	p.syscalls = {masked};
	p.syscalls[0].mode = policy::Mode::Audit;
	prog = filter_bpf(p);
	EXPECT_EQ(ask(AUDIT_ARCH_X86_64, __NR_clone, CLONE_NEWUSER), SECCOMP_RET_LOG);

	// Two entries for the same call and arguments with different actions.
	p = small_policy({});
	policy::SyscallEntry a = allow, b = allow;
	b.action = {policy::SyscallActionKind::KillThread, 0};
	a.args = b.args = cond.args;
	p.syscalls = {a, b};
	EXPECT_EQ(build_error(p),
		  "seccomp: syscall getpid: conflicts with an earlier rule for the same call and arguments");
}
