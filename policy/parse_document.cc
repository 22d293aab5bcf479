// SPDX-License-Identifier: Apache-2.0
//
// One file's document: its top-level keys, and the lists of rules, syscall
// and hook entries handed to the steps that parse each entry.

#include "policy/parse_internal.h"

namespace bulwark::policy::internal {

namespace {

const char *const kTopKeys = "name, mode, extends, architectures, default, rules, syscalls, hooks, scope";
const char *const kDefaultKeys = "syscalls, read, write, exec";
const char *const kArchitectures = "x86_64, x86, x32";

} // namespace

std::optional<FileResult> Parser::run(const std::string &text)
{
	std::optional<YAML::Node> doc = load_document(text);
	if (!doc)
		return std::nullopt;
	const YAML::Node &root = *doc;
	if (!root.IsMap()) {
		error(loc(root), "policy must be a mapping with keys: " + std::string(kTopKeys));
		return std::nullopt;
	}

	FileResult out;
	out.policy.file = file_;
	out.policy.loc = loc(root);
	out.policy.architectures = {"x86_64"};
	Entries e = read_mapping(root, "top-level", kTopKeys);
	parse_top_level(root, e, out);
	parse_sections(e, out);
	return out;
}

void Parser::parse_top_level(const YAML::Node &root, const Entries &e, FileResult &out)
{
	Policy &policy = out.policy;
	if (auto it = e.find("name"); it == e.end()) {
		error(loc(root), "policy is missing required key 'name'");
	} else if (auto name = scalar(it->second, "name")) {
		check_identifier(*name, loc(it->second.value), "policy name");
		policy.name = *name;
	}

	// Parsed before the rules because it is their default.
	read_mode(e, policy.mode);
	if (auto it = e.find("extends"); it != e.end())
		parse_extends(it->second, out);
	if (auto it = e.find("architectures"); it != e.end())
		parse_architectures(it->second, policy);
	if (auto it = e.find("default"); it != e.end())
		parse_defaults(it->second, out);
	if (auto it = e.find("scope"); it != e.end())
		parse_scope(it->second, policy);
}

// Calls each(item) for every item of a list; false when the value is not a
// list (reported as `what`) or some item was dropped.
template <typename Each> bool Parser::parse_list(const Entry &e, const char *what, Each each)
{
	if (!e.value.IsSequence()) {
		error(value_loc(e), what);
		return false;
	}
	bool all = true;
	for (const auto &n : e.value)
		all = each(n) && all;
	return all;
}

// The entries of an escape-hatch list that parse, in the policy's mode
// unless they say otherwise.
template <typename T>
void Parser::parse_entries(const Entry &e, const char *what,
			   std::optional<T> (Parser::*parse)(const YAML::Node &, Mode), std::vector<T> &into,
			   FileResult &out)
{
	auto each = [&](const YAML::Node &n) {
		std::optional<T> entry = (this->*parse)(n, out.policy.mode);
		if (entry)
			into.push_back(*entry);
		return entry.has_value();
	};
	if (!parse_list(e, what, each))
		out.dropped = true;
}

void Parser::parse_sections(const Entries &e, FileResult &out)
{
	Policy &policy = out.policy;
	if (auto it = e.find("rules"); it != e.end()) {
		out.rules_value = value_loc(it->second);
		std::map<std::string, int> seen_ids;
		auto each = [&](const YAML::Node &n) {
			Location id_loc;
			auto rule = parse_rule(n, policy.mode, seen_ids, id_loc);
			if (!rule)
				return false;
			policy.rules.push_back(std::move(*rule));
			out.id_locs.push_back(id_loc);
			return true;
		};
		if (!parse_list(it->second, "'rules' must be a list of rules", each))
			out.dropped = true;
	}
	if (auto it = e.find("syscalls"); it != e.end())
		parse_entries(it->second, "'syscalls' must be a list of syscall entries", &Parser::parse_syscall,
			      policy.syscalls, out);
	if (auto it = e.find("hooks"); it != e.end())
		parse_entries(it->second, "'hooks' must be a list of hook entries", &Parser::parse_hook, policy.hooks,
			      out);
}

void Parser::parse_extends(const Entry &e, FileResult &out)
{
	auto list = items(e, "'extends' must be a policy name or a non-empty list of them");
	if (!list)
		return;
	for (const auto &n : *list) {
		if (!n.IsScalar() || n.Scalar().empty()) {
			error(loc(n), "'extends' entries must be non-empty strings");
			continue;
		}
		out.extends.emplace_back(n.Scalar(), loc(n));
	}
}

// scope: run | host | cgroup:/PATH | exe:/PATH, or {cgroup: /PATH} / {exe: /PATH}.
void Parser::parse_scope(const Entry &e, Policy &p)
{
	const char *expect =
		"'scope' must be run, host, {cgroup: /PATH} or {exe: /PATH} (or \"cgroup:/PATH\", \"exe:/PATH\")";
	std::string kind, path;
	Location l = value_loc(e);
	if (e.value.IsScalar()) {
		std::string v = e.value.Scalar();
		auto colon = v.find(':');
		kind = v.substr(0, colon);
		if (colon != std::string::npos)
			path = v.substr(colon + 1);
	} else if (e.value.IsMap() && e.value.size() == 1) {
		auto it = e.value.begin();
		kind = it->first.as<std::string>("");
		if (!it->second.IsScalar()) {
			error(loc(it->second), expect);
			return;
		}
		path = it->second.Scalar();
		l = loc(it->second);
	} else {
		error(l, expect);
		return;
	}
	if (kind == "run" || kind == "host") {
		if (!path.empty()) {
			error(l, "scope '" + kind + "' takes no path");
			return;
		}
		p.scope = kind;
	} else if (kind == "cgroup" || kind == "exe") {
		if (path.empty() || path[0] != '/') {
			error(l, "scope '" + kind + "' needs an absolute path, e.g. " +
					 (kind == "cgroup" ? "{cgroup: /system.slice/nginx.service}"
							   : "{exe: /usr/sbin/nginx}"));
			return;
		}
		if (path.size() > kMaxPathLength) {
			error(l, "scope path longer than " + std::to_string(kMaxPathLength) + " bytes");
			return;
		}
		p.scope = kind + ":" + path;
	} else {
		error(l, expect);
		return;
	}
	p.scope_set = true;
	p.scope_loc = l;
}

void Parser::parse_architectures(const Entry &e, Policy &p)
{
	auto list = items(e, std::string("'architectures' must be an architecture or a non-empty "
					 "list of them (") +
				     kArchitectures + ")");
	if (!list)
		return;
	const std::set<std::string> known = split_list(kArchitectures);
	std::set<std::string> seen;
	for (const auto &n : *list) {
		const std::string a = n.IsScalar() ? n.Scalar() : "";
		if (!known.count(a)) {
			error(loc(n), (n.IsScalar() ? "unknown architecture '" + a + "'"
						    : std::string("architecture must be a string")) +
					      " (expected one of: " + kArchitectures + ")");
			continue;
		}
		if (!seen.insert(a).second) {
			error(loc(n), "duplicate architecture '" + a + "'");
			continue;
		}
		// x86_64 is already there: the loader always runs native code.
		if (a != "x86_64")
			p.architectures.push_back(a);
	}
}

void Parser::parse_defaults(const Entry &e, FileResult &out)
{
	if (!e.value.IsMap()) {
		error(value_loc(e), std::string("'default' must be a mapping with keys: ") + kDefaultKeys);
		return;
	}
	Defaults &d = out.policy.defaults;
	d.loc = loc(e.value);
	Entries m = read_mapping(e.value, "default", kDefaultKeys);
	if (auto it = m.find("syscalls"); it != m.end()) {
		if (auto a = parse_action(it->second, true)) {
			d.syscalls = *a;
			d.syscalls_set = true;
		}
	}
	const struct {
		const char *key;
		Access bit;
		bool Defaults::*deny;
	} access_defaults[] = {{"read", AccessRead, &Defaults::read_deny},
			       {"write", AccessWrite, &Defaults::write_deny},
			       {"exec", AccessExec, &Defaults::exec_deny}};
	for (const auto &a : access_defaults) {
		auto it = m.find(a.key);
		if (it == m.end())
			continue;
		const YAML::Node &v = it->second.value;
		if (v.IsScalar() && (v.Scalar() == "allow" || v.Scalar() == "deny")) {
			d.*a.deny = v.Scalar() == "deny";
			out.access_set |= a.bit;
		} else {
			error(value_loc(it->second),
			      (v.IsScalar() ? "invalid " + std::string(a.key) + " default '" + v.Scalar() + "'"
					    : "'" + std::string(a.key) + "' default must be a string") +
				      " (expected one of: allow, deny)");
		}
	}
}

} // namespace bulwark::policy::internal
