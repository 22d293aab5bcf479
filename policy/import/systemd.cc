// SPDX-License-Identifier: Apache-2.0
//
// The conversion: the unit's lines (or --set), SystemCallFilter= combined
// the way systemd's unit loader combines it, the sets expanded, and the
// resulting map of syscall -> action written as `syscalls:` entries.
#include "policy/import/systemd.h"

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "policy/import/common.h"
#include "policy/import/docker_profile.h"

namespace bulwark {

using docker_profile::errno_name;
using docker_profile::join;

namespace {

constexpr const char *kAnalyze = "systemd-analyze syscall-filter";

std::string trim(const std::string &s)
{
	size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
	return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> words(const std::string &s)
{
	std::vector<std::string> out;
	std::istringstream in(s);
	for (std::string w; in >> w;)
		out.push_back(w);
	return out;
}

// One setting that matters here, with where it was read ("FILE:LINE").
struct Assignment {
	std::string key;
	std::string value;
	std::string where;
};

bool is_filter_key(const std::string &k)
{
	return k == "SystemCallFilter" || k == "SystemCallErrorNumber" || k == "SystemCallArchitectures";
}

// systemd's unit syntax (systemd.syntax(7)): [Section] headers, KEY=VALUE,
// comments starting with # or ;, a trailing backslash continuing a line
// (comment lines inside a continuation are dropped). Only [Service] counts.
std::vector<Assignment> read_unit(const std::string &text, const std::string &source)
{
	std::vector<Assignment> out;
	std::istringstream in(text);
	std::string section, raw;
	int lineno = 0;
	while (std::getline(in, raw)) {
		int first = ++lineno;
		std::string line = trim(raw);
		if (line.empty() || line[0] == '#' || line[0] == ';')
			continue;
		while (!line.empty() && line.back() == '\\') {
			line.pop_back();
			std::string next;
			while (std::getline(in, next)) {
				lineno++;
				std::string t = trim(next);
				if (t.empty() || (t[0] != '#' && t[0] != ';')) {
					next = t;
					break;
				}
				next.clear();
			}
			line = trim(line) + " " + next;
		}
		std::string where = source + ":" + std::to_string(first);
		if (line[0] == '[') {
			if (line.back() != ']' || line.size() < 3)
				throw ImportError(where, "malformed section header " + docker_profile::quote(line));
			section = line.substr(1, line.size() - 2);
			continue;
		}
		auto eq = line.find('=');
		if (eq == std::string::npos || trim(line.substr(0, eq)).empty())
			throw ImportError(where, "expected KEY=VALUE, got " + docker_profile::quote(line));
		if (section.empty())
			throw ImportError(where, "assignment outside of a [Section]");
		std::string key = trim(line.substr(0, eq));
		if (section == "Service" && is_filter_key(key))
			out.push_back({key, trim(line.substr(eq + 1)), where});
	}
	return out;
}

// errno names glibc does not print but systemd reads (aliases of others).
struct ErrnoAlias {
	const char *name;
	int value;
};
constexpr ErrnoAlias kErrnoAliases[] = {{"EWOULDBLOCK", EWOULDBLOCK}, {"EDEADLOCK", EDEADLOCK}, {"ENOTSUP", ENOTSUP}};

// What a denied call gets: an errno, or (kKill) the process killed.
constexpr int kKill = -2;

// "EPERM", "1", "kill" (when `kill_ok`): systemd's parse_errno plus its
// "kill" keyword.
int parse_errno(const std::string &s, bool kill_ok, const std::string &where)
{
	if (kill_ok && s == "kill")
		return kKill;
	if (!s.empty() &&
	    std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
		uint64_t e = s.size() > 5 ? 99999 : std::stoull(s);
		errno_name(e, where);
		return static_cast<int>(e);
	}
	for (const auto &a : kErrnoAliases)
		if (s == a.name)
			return a.value;
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);
		if (n && s == n)
			return e;
	}
	throw ImportError(where, "unknown error number " + docker_profile::quote(s) +
					 (kill_ok ? " (expected a name like EPERM, a number 1..4095, or kill)"
						  : " (expected a name like EPERM or a number 1..4095)"));
}

bool valid_name(const std::string &n)
{
	if (n.empty())
		return false;
	for (char c : n)
		if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '@'))
			return false;
	return n.find('@', 1) == std::string::npos;
}

// Expands "@sets" (nested ones too) into syscall names.
class Expander {
public:
	explicit Expander(const SyscallSets &sets) : sets_(sets) {}

	std::vector<std::string> expand(const std::string &name, const std::string &where)
	{
		std::set<std::string> out;
		std::vector<std::string> stack;
		add(name, where, out, stack);
		return {out.begin(), out.end()};
	}

private:
	void add(const std::string &name, const std::string &where, std::set<std::string> &out,
		 std::vector<std::string> &stack)
	{
		if (name[0] != '@') {
			out.insert(name);
			return;
		}
		auto it = sets_.find(name);
		if (it == sets_.end()) {
			if (stack.empty())
				throw ImportError(where, "unknown syscall set " + name + " (`" + kAnalyze +
								 "` lists this host's sets)");
			throw ImportError(std::string(kAnalyze), stack.back() + " names an unknown set " + name);
		}
		if (std::find(stack.begin(), stack.end(), name) != stack.end())
			throw ImportError(std::string(kAnalyze), "set " + name + " contains itself");
		stack.push_back(name);
		for (const auto &m : it->second)
			add(m, where, out, stack);
		stack.pop_back();
	}

	const SyscallSets &sets_;
};

// SystemCallFilter= as systemd's unit loader builds it: the first line
// decides allow-list or deny-list (an allow-list starts with @default);
// later lines add to it when they agree and remove from it when they do
// not; an empty assignment starts over. Values: -1 (SystemCallErrorNumber=
// decides), kKill or an errno.
struct Filter {
	bool set = false;
	bool allow_list = false;
	std::map<std::string, int> calls;
	std::vector<std::string> lines; // "WHERE: VALUE" for the header
	std::string reset_at;           // where the last empty assignment was

	void apply(const Assignment &a, Expander &ex)
	{
		std::string v = a.value;
		if (v.empty()) {
			*this = Filter{};
			reset_at = a.where;
			return;
		}
		lines.push_back(a.where + ": " + v);
		bool invert = v[0] == '~';
		if (invert)
			v = v.substr(1);
		if (!set) {
			set = true;
			allow_list = !invert;
			if (allow_list)
				for (const auto &n : ex.expand("@default", a.where))
					calls[n] = -1;
		}
		for (const auto &w : words(v)) {
			auto colon = w.find(':');
			std::string name = w.substr(0, colon);
			if (!valid_name(name))
				throw ImportError(a.where, "not a syscall or @set name: " + docker_profile::quote(w));
			int err = -1;
			if (colon != std::string::npos) {
				if (!invert)
					throw ImportError(a.where, w + ": only deny-listed (~) entries take an error "
								       "number (systemd ignores this one)");
				if (allow_list)
					throw ImportError(
						a.where,
						w +
							": an error number on a ~ line of an allow-list means "
							"\"remove\" to older systemd and \"deny with it\" to newer "
							"ones; write " +
							name + " without it, or start with a ~ line");
				err = parse_errno(w.substr(colon + 1), true, a.where);
			}
			// systemd: added when the line agrees with the list's kind,
			// removed otherwise.
			bool add = !invert == allow_list;
			for (const auto &n : ex.expand(name, a.where)) {
				if (add)
					calls[n] = err;
				else
					calls.erase(n);
			}
		}
	}
};

struct ArchSetting {
	std::vector<std::string> arches = {"x86_64", "x86", "x32"};
	bool set = false;
	std::string text; // what the unit said, for the header
	std::vector<std::string> notes;
};

// systemd's names (seccomp_arch_from_string) -> bulwark's; nullptr for an
// ABI an x86_64 kernel never runs.
struct ArchName {
	const char *systemd;
	const char *bulwark;
};
constexpr ArchName kArches[] = {
	{"native", "x86_64"},       {"x86-64", "x86_64"},  {"x86", "x86"},           {"x32", "x32"},
	{"arm", nullptr},           {"arm64", nullptr},    {"loongarch64", nullptr}, {"mips", nullptr},
	{"mips-le", nullptr},       {"mips64", nullptr},   {"mips64-le", nullptr},   {"mips64-n32", nullptr},
	{"mips64-le-n32", nullptr}, {"parisc", nullptr},   {"parisc64", nullptr},    {"ppc", nullptr},
	{"ppc64", nullptr},         {"ppc64-le", nullptr}, {"riscv64", nullptr},     {"s390", nullptr},
	{"s390x", nullptr},
};

// SystemCallArchitectures=: lines add up, an empty one resets. Unset, the
// filter is installed for every ABI the kernel runs and none is blocked;
// set, the native one and the listed ones run and the others are blocked.
ArchSetting read_arches(const std::vector<Assignment> &as)
{
	ArchSetting s;
	std::vector<std::string> listed;
	for (const auto &a : as) {
		if (a.key != "SystemCallArchitectures")
			continue;
		if (a.value.empty()) {
			s = ArchSetting{};
			listed.clear();
			continue;
		}
		s.set = true;
		s.text += (s.text.empty() ? "" : " ") + a.value;
		for (const auto &w : words(a.value)) {
			const ArchName *found = nullptr;
			for (const auto &k : kArches)
				if (w == k.systemd)
					found = &k;
			if (!found)
				throw ImportError(a.where, "unknown architecture " + docker_profile::quote(w));
			if (!found->bulwark)
				s.notes.push_back("architecture " + w + " left out: an x86_64 kernel never runs it");
			else
				listed.push_back(found->bulwark);
		}
	}
	if (s.set) {
		s.arches = {"x86_64"};
		for (const char *a : {"x86", "x32"})
			if (std::find(listed.begin(), listed.end(), a) != listed.end())
				s.arches.push_back(a);
	}
	return s;
}

std::string policy_name(const SystemdImportOptions &opts, const std::string &source)
{
	if (!opts.name.empty())
		return opts.name;
	std::string base = source.substr(source.find_last_of('/') + 1);
	auto dot = base.rfind('.');
	if (dot != std::string::npos && dot > 0)
		base.resize(dot);
	for (auto &c : base)
		if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
			c = '-';
	return base.empty() ? "imported" : base;
}

struct Group {
	policy::SyscallAction action;
	std::vector<std::string> names;
	std::string comment;
};

Imported convert(const std::vector<Assignment> &as, const SyscallSets &sets, const SystemdImportOptions &opts,
		 const std::string &source, const std::string &shown_source)
{
	Expander ex(sets);
	Filter f;
	int deny_errno = kKill;
	std::string errno_text;
	bool any_filter = false;
	for (const auto &a : as) {
		if (a.key == "SystemCallFilter") {
			f.apply(a, ex);
			any_filter = true;
		} else if (a.key == "SystemCallErrorNumber") {
			deny_errno = a.value.empty() ? kKill : parse_errno(a.value, true, a.where);
			errno_text = a.value.empty() ? "" : a.value + " (" + a.where + ")";
		}
	}
	if (!any_filter)
		throw ImportError(source, "no SystemCallFilter= in [Service]: nothing to import");
	if (!f.set)
		throw ImportError(f.reset_at, "SystemCallFilter= is reset here and not set again: nothing to import");
	ArchSetting arch = read_arches(as);

	using K = policy::SyscallActionKind;
	auto action_for = [](int e) {
		return e == kKill ? policy::SyscallAction{K::KillProcess, 0} : policy::SyscallAction{K::Errno, e};
	};
	policy::SyscallAction denied = action_for(deny_errno);

	Imported out;
	policy::Policy &pol = out.policy;
	pol.name = policy_name(opts, source);
	pol.architectures = arch.arches;
	pol.defaults.syscalls_set = true;
	std::vector<Group> groups;
	if (f.allow_list) {
		pol.defaults.syscalls = denied;
		Group g{{K::Allow, 0}, {}, "the allow-list (with @default, which systemd puts in every allow-list)"};
		for (const auto &kv : f.calls)
			g.names.push_back(kv.first);
		groups.push_back(g);
	} else {
		pol.defaults.syscalls = {K::Allow, 0};
		groups.push_back({denied, {}, "the deny-list"});
		for (const auto &kv : f.calls) {
			policy::SyscallAction act = kv.second == -1 ? denied : action_for(kv.second);
			auto g = std::find_if(groups.begin(), groups.end(),
					      [&](const Group &x) { return policy::same_action(x.action, act); });
			if (g == groups.end()) {
				groups.push_back({act, {}, "deny-list entries with their own action (:ERRNO, :kill)"});
				g = groups.end() - 1;
			}
			g->names.push_back(kv.first);
		}
	}

	std::ostringstream y;
	y << "# Generated by `bulwark import systemd` from " << shown_source << ".\n";
	y << "# systemd's syscall sets as this host's `" << kAnalyze << "` defines them.\n";
	y << "# SystemCallFilter=" << (f.allow_list ? " (an allow-list)" : " (a deny-list)") << ":\n";
	for (const auto &l : f.lines)
		import_common::write_comment(y, l);
	if (errno_text.empty())
		y << "# SystemCallErrorNumber= not set: a denied call kills the process (SIGSYS).\n";
	else
		y << "# SystemCallErrorNumber=" << errno_text << "\n";
	if (!arch.set) {
		y << "# SystemCallArchitectures= not set: systemd filters x86_64, x86 and x32 calls alike and\n";
		y << "# blocks no ABI.\n";
	} else {
		y << "# SystemCallArchitectures=" << arch.text << ": calls of other ABIs are killed (systemd's\n";
		y << "# architecture filter kills the thread, bulwark the process).\n";
	}
	for (const auto &n : arch.notes)
		y << "# " << n << "\n";
	y << "name: " << pol.name << "\n";
	y << "architectures: [" << join(pol.architectures) << "]\n";
	y << "default:\n  syscalls: " << policy::to_string(pol.defaults.syscalls) << "\n";
	std::ostringstream entries;
	for (const auto &g : groups) {
		import_common::NameSplit s = import_common::split_names(g.names, pol.architectures);
		if (g.names.empty())
			continue;
		entries << "  # " << g.comment << "\n";
		if (!s.unknown.empty())
			import_common::write_comment(
				entries, "left out, unknown to libseccomp (systemd skips them too): " + join(s.unknown),
				"  ");
		if (!s.absent.empty())
			import_common::write_comment(
				entries,
				"left out, not a syscall on " + join(pol.architectures) + ": " + join(s.absent), "  ");
		if (s.kept.empty())
			continue;
		import_common::write_names(entries, s.kept);
		entries << "    action: " << policy::to_string(g.action) << "\n";
		pol.syscalls.push_back({s.kept, g.action, {}, {}, {}});
	}
	if (pol.syscalls.empty())
		y << "syscalls: []\n" << entries.str();
	else
		y << "syscalls:\n" << entries.str();
	out.yaml = y.str();
	return out;
}

} // namespace

SyscallSets parse_syscall_sets(const std::string &text)
{
	SyscallSets sets;
	std::istringstream in(text);
	std::string line, current;
	int lineno = 0;
	while (std::getline(in, line)) {
		lineno++;
		std::string t = trim(line);
		std::string where = std::string(kAnalyze) + ":" + std::to_string(lineno);
		if (t.empty()) {
			current.clear();
		} else if (line[0] == '@') {
			if (!valid_name(t) || sets.count(t))
				throw ImportError(where, (sets.count(t) ? "set listed twice: " : "not a set name: ") +
								 docker_profile::quote(t));
			current = t;
			sets[t];
		} else if (line[0] == '#') {
			// The trailing "# Ungrouped ..." / "# Unlisted ..." sections.
			current.clear();
		} else if (t[0] == '#') {
			continue; // a set's description
		} else if (line[0] == ' ' || line[0] == '\t') {
			if (current.empty() || !valid_name(t))
				throw ImportError(where, "unexpected line " + docker_profile::quote(line));
			sets[current].push_back(t);
		} else {
			throw ImportError(where, "unexpected line " + docker_profile::quote(line));
		}
	}
	if (!sets.count("@default"))
		throw ImportError(kAnalyze, "no @default set in its output; is this systemd's syscall-filter listing?");
	return sets;
}

SyscallSets host_syscall_sets()
{
	// --no-pager: it would otherwise start less when run on a terminal.
	FILE *p = popen("systemd-analyze --no-pager syscall-filter 2>&1", "r");
	if (!p)
		throw ImportError(kAnalyze, std::string("cannot run it: ") + std::strerror(errno));
	std::string text;
	char buf[4096];
	for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;)
		text.append(buf, n);
	int status = pclose(p);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		std::string why = WIFEXITED(status) && WEXITSTATUS(status) == 127
					  ? "not found (Debian's systemd package has it; scripts/install-deps.sh)"
					  : "failed: " + trim(text.substr(0, 200));
		throw ImportError(kAnalyze, why);
	}
	return parse_syscall_sets(text);
}

Imported import_systemd_unit(const std::string &unit_text, const SyscallSets &sets, const SystemdImportOptions &opts,
			     const std::string &source)
{
	std::string shown = source.substr(source.find_last_of('/') + 1);
	return convert(read_unit(unit_text, source), sets, opts, source, shown);
}

Imported import_systemd_sets(const SyscallSets &sets, const SystemdImportOptions &opts)
{
	std::vector<Assignment> as;
	for (size_t i = 0; i < opts.sets.size(); i++) {
		std::string where = "--set:" + std::to_string(i + 1);
		std::string line;
		for (const auto &w : words(opts.sets[i])) {
			if (w[0] == '~' && !line.empty()) {
				as.push_back({"SystemCallFilter", line, where});
				line.clear();
			}
			line += (line.empty() ? "" : " ") + w;
		}
		as.push_back({"SystemCallFilter", line, where});
	}
	if (!opts.error_number.empty())
		as.push_back({"SystemCallErrorNumber", opts.error_number, "--errno"});
	for (const auto &a : opts.arches)
		as.push_back({"SystemCallArchitectures", a, "--arch"});
	SystemdImportOptions o = opts;
	if (o.name.empty())
		o.name = "systemd-filter";
	std::string shown = "--set " + join(opts.sets, " --set ");
	return convert(as, sets, o, "--set", shown);
}

int run_import_systemd(const SystemdImportOptions &opts)
{
	const std::string prefix = "bulwark: import systemd: ";
	if (opts.unit.empty() == opts.sets.empty()) {
		std::cerr << prefix
			  << (opts.unit.empty() ? "give a unit file or --set\n"
						: "give a unit file or --set, not both\n");
		return 2;
	}
	if (!opts.unit.empty() && (!opts.error_number.empty() || !opts.arches.empty())) {
		std::cerr << prefix
			  << "--errno and --arch go with --set; a unit says SystemCallErrorNumber= and "
			     "SystemCallArchitectures=\n";
		return 2;
	}
	std::string text;
	if (!opts.unit.empty()) {
		std::ifstream in(opts.unit, std::ios::binary);
		if (!in) {
			std::cerr << prefix << opts.unit << ": cannot read: " << std::strerror(errno) << "\n";
			return 2;
		}
		std::stringstream buf;
		buf << in.rdbuf();
		text = buf.str();
	}
	Imported imp;
	try {
		SyscallSets sets = host_syscall_sets();
		imp = opts.unit.empty() ? import_systemd_sets(sets, opts)
					: import_systemd_unit(text, sets, opts, opts.unit);
	} catch (const ImportError &e) {
		std::cerr << prefix << e.what() << "\n";
		return 2;
	}
	return import_common::write_output(imp.yaml, opts.output, prefix);
}

} // namespace bulwark
