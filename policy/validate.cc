// SPDX-License-Identifier: Apache-2.0
//
// The last step: checks only the merged policy can answer (contradictions
// between files, allow rules without a deny default, an empty policy), and
// the report in the order the author reads the files.

#include <algorithm>
#include <tuple>

#include "policy/parse_internal.h"

namespace bulwark::policy::internal {

ParseResult Loader::run(const std::string &text, const std::string &file)
{
	ParseResult result;
	std::optional<FileResult> root = load(text, file);
	if (root)
		check_whole(*root);
	sort_diagnostics();
	result.diagnostics = std::move(diags_);
	if (root && result.ok())
		result.policy = std::move(root->policy);
	return result;
}

// A path both allow-listed and denied outright for one access is a
// contradiction; a deny with `when:` only narrows the allow-list, which is
// fine.
void Loader::check_allow_paths(const Policy &p)
{
	const std::pair<Access, const char *> accesses[] = {
		{AccessRead, "for reading"}, {AccessWrite, "for writing"}, {AccessExec, "to run"}};
	for (const auto &[bit, what] : accesses)
		check_allow_paths(p, bit, what);
}

void Loader::check_allow_paths(const Policy &p, unsigned access, const char *what)
{
	std::map<std::string, std::pair<const Rule *, const PathSpec *>> allowed, denied;
	for (const auto &r : p.rules) {
		if (!(r.access & access))
			continue;
		const bool allow = r.verb == Verb::Allow;
		if (!allow && !r.when.empty())
			continue;
		auto &mine = allow ? allowed : denied;
		auto &other = allow ? denied : allowed;
		for (const auto &path : r.paths) {
			if (path.kind != PathKind::Exact)
				continue;
			if (auto o = other.find(path.path); o != other.end()) {
				error(path.loc, "contradictory rules: '" + path.path + "' is " +
							(allow ? "allowed" : "denied") + " " + what + " by rule '" +
							r.id + "' and " + (allow ? "denied" : "allowed") +
							" by rule '" + o->second.first->id + "' (" +
							where(o->second.second->loc) + ")");
				continue;
			}
			mine.emplace(path.path, std::make_pair(&r, &path));
		}
	}
}

// Entries with argument conditions select different calls, so only
// unconditional ones can disagree.
void Loader::check_syscall_entries(const Policy &p)
{
	std::map<std::string, const SyscallEntry *> plain;
	for (const auto &s : p.syscalls) {
		if (!s.args.empty())
			continue;
		for (const auto &name : s.names) {
			auto [it, fresh] = plain.emplace(name, &s);
			if (!fresh && !same_action(it->second->action, s.action))
				error(s.loc, "contradictory rules: syscall '" + name + "' is " + to_string(s.action) +
						     " here but " + to_string(it->second->action) + " at " +
						     where(it->second->loc));
		}
	}
}

void Loader::check_whole(const FileResult &root)
{
	const Policy &p = root.policy;
	check_allow_paths(p);
	check_syscall_entries(p);

	for (const auto &r : p.rules) {
		if (r.verb != Verb::Allow)
			continue;
		for (const auto &w : r.words) {
			const unsigned bit = w == "read" ? AccessRead : w == "write" ? AccessWrite : AccessExec;
			if (!(p.defaults.deny_access() & bit))
				warning(r.loc, "rule '" + r.id + "': 'allow: " + w +
						       "' has no effect without 'default: {" + w + ": deny}'");
		}
	}

	if (!root.dropped && p.rules.empty() && p.syscalls.empty() && p.hooks.empty() && !p.defaults.syscalls_set &&
	    !p.defaults.deny_access())
		warning(root.rules_value.value_or(p.loc), "policy has no rules");
}

// Checks run in an order chosen for data dependencies (mode before rules,
// missing keys after the scan, merges after both files); report each file in
// document order instead, the file named on the command line first.
void Loader::sort_diagnostics()
{
	auto rank = [&](const std::string &f) { return std::find(order_.begin(), order_.end(), f) - order_.begin(); };
	std::stable_sort(diags_.begin(), diags_.end(), [&](const Diagnostic &a, const Diagnostic &b) {
		return std::make_tuple(rank(a.loc.file), a.loc.line, a.loc.col) <
		       std::make_tuple(rank(b.loc.file), b.loc.line, b.loc.col);
	});
}

} // namespace bulwark::policy::internal
