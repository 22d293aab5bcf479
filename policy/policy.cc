// SPDX-License-Identifier: Apache-2.0

#include "policy/policy.h"

#include <arpa/inet.h>
#include <seccomp.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "policy/catalog.h"
#include "policy/constants.h"

namespace bulwark::policy {

std::string Diagnostic::str() const
{
	std::string out = loc.file + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.col) + ": ";
	if (severity == Severity::Warning)
		out += "warning: ";
	return out + message;
}

bool ParseResult::ok() const
{
	return std::none_of(diagnostics.begin(), diagnostics.end(),
			    [](const Diagnostic &d) { return d.severity == Diagnostic::Severity::Error; });
}

const char *to_string(Mode mode)
{
	return mode == Mode::Audit ? "audit" : "enforce";
}

namespace {

const char *const kTopKeys = "name, mode, extends, architectures, default, rules, syscalls, hooks, scope";
const char *const kRuleKeys = "id, deny, allow, paths, families, ports, addresses, when, mode";
const char *const kDefaultKeys = "syscalls, exec";
const char *const kWhenKeys = "exe, parent_exe, uid, cgroup";
const char *const kSyscallKeys = "name, names, action, args, mode";
const char *const kArgKeys = "index, op, value, mask";
const char *const kHookKeys = "hook, errno, id, mode";
const char *const kArchitectures = "x86_64, x86, x32";
const char *const kArgOps = "eq, ne, lt, le, gt, ge, masked-eq";
const char *const kSyscallActions = "allow, errno(NAME), kill-process, kill-thread, log, trap";
const char *const kDefaultActions = "allow, deny, errno(NAME), kill-process, kill-thread, log, trap";
const char *const kNameChars = "A-Z a-z 0-9 . _ -";

// The highest errno strerrorname_np() names on the glibc we target.
constexpr int kMaxErrno = 133;
constexpr uint64_t kMaxUid = 4294967294u; // (uid_t)-1 means "no change" to the kernel

std::set<std::string> split_list(const char *list)
{
	std::set<std::string> out;
	std::string s(list);
	std::size_t start = 0;
	while (start < s.size()) {
		std::size_t end = s.find(", ", start);
		if (end == std::string::npos)
			end = s.size();
		out.insert(s.substr(start, end - start));
		start = end + 2;
	}
	return out;
}

std::string join(const std::vector<const char *> &items)
{
	std::string out;
	for (const char *i : items) {
		if (!out.empty())
			out += ", ";
		out += i;
	}
	return out;
}

std::string where(const Location &l)
{
	return l.file + ":" + std::to_string(l.line);
}

bool before(const Location &a, const Location &b)
{
	return std::make_pair(a.line, a.col) < std::make_pair(b.line, b.col);
}

enum class Num { Ok, Bad, Overflow };

// Unsigned decimal or 0x hex; no sign, no octal (a leading 0 is decimal, as
// a reader would expect).
Num parse_uint(const std::string &s, uint64_t &out)
{
	int base = 10;
	std::size_t i = 0;
	if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i >= s.size())
		return Num::Bad;
	uint64_t v = 0;
	bool overflow = false;
	for (; i < s.size(); ++i) {
		const char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return Num::Bad;
		if (v > (UINT64_MAX - d) / base)
			overflow = true;
		v = v * base + d;
	}
	if (overflow)
		return Num::Overflow;
	out = v;
	return Num::Ok;
}

std::optional<int> find_errno(const std::string &name)
{
	for (int e = 1; e <= kMaxErrno; ++e) {
		const char *n = strerrorname_np(e);
		if (n && name == n)
			return e;
	}
	return std::nullopt;
}

std::string action_str(const SyscallAction &a)
{
	switch (a.kind) {
	case SyscallActionKind::Allow:
		return "allow";
	case SyscallActionKind::KillProcess:
		return "kill-process";
	case SyscallActionKind::KillThread:
		return "kill-thread";
	case SyscallActionKind::Log:
		return "log";
	case SyscallActionKind::Trap:
		return "trap";
	case SyscallActionKind::Errno: {
		const char *n = strerrorname_np(a.errno_value);
		return std::string("errno(") + (n ? n : std::to_string(a.errno_value).c_str()) + ")";
	}
	}
	return "?";
}

bool same_action(const SyscallAction &a, const SyscallAction &b)
{
	return a.kind == b.kind && (a.kind != SyscallActionKind::Errno || a.errno_value == b.errno_value);
}

// One file's own content, before its bases are merged in.
struct FileResult {
	Policy policy;
	bool exec_set = false;         // `default: exec:` was written (Defaults has no flag for it)
	std::vector<Location> id_locs; // parallel to policy.rules; the id's own position
	std::vector<std::pair<std::string, Location>> extends; // as written
	std::optional<Location> rules_value;                   // where `rules:` is, for the "no rules" warning
	// A list or an entry was unusable: emptiness then has a reason the
	// author already sees, so "no rules" would only be noise.
	bool dropped = false;
};

class Parser {
public:
	explicit Parser(std::string file) : file_(std::move(file)) {}

	// nullopt only when the document has no usable top-level mapping.
	std::optional<FileResult> run(const std::string &text);
	std::vector<Diagnostic> &diagnostics() { return diags_; }

private:
	// A key/value pair; the key node is kept because missing or null values
	// have no useful position of their own.
	struct Entry {
		YAML::Node key;
		YAML::Node value;
	};
	using Entries = std::map<std::string, Entry>;

	Location loc(const YAML::Mark &m) const
	{
		// yaml-cpp leaves the mark unset for some synthesized nodes; 1:1 is the
		// least surprising fallback.
		if (m.is_null() || m.line < 0)
			return {file_, 1, 1};
		return {file_, m.line + 1, m.column + 1};
	}
	Location loc(const YAML::Node &n) const { return loc(n.Mark()); }

	// yaml-cpp marks an empty value (`key:` followed by a newline) at the next
	// token, which is usually the following line's key. Point at our own key
	// instead whenever the value did not start on the key's line.
	Location value_loc(const Entry &e) const
	{
		if (e.value.IsNull() && e.value.Mark().line != e.key.Mark().line)
			return loc(e.key);
		return loc(e.value);
	}

	void error(const Location &l, std::string msg)
	{
		diags_.push_back({Diagnostic::Severity::Error, l, std::move(msg)});
	}
	void warning(const Location &l, std::string msg)
	{
		diags_.push_back({Diagnostic::Severity::Warning, l, std::move(msg)});
	}

	Entries read_mapping(const YAML::Node &map, const char *what, const char *known);
	// A scalar or a non-empty list of anything; the error names `what`.
	std::optional<std::vector<YAML::Node>> items(const Entry &e, const std::string &what);
	std::optional<std::string> scalar(const Entry &e, const char *key);
	std::optional<Mode> parse_mode(const Entry &e);
	bool check_identifier(const std::string &value, const Location &l, const char *what);

	void parse_extends(const Entry &e, FileResult &out);
	void parse_architectures(const Entry &e, Policy &p);
	void parse_scope(const Entry &e, Policy &p);
	void parse_defaults(const Entry &e, FileResult &out);
	std::optional<SyscallAction> parse_action(const Entry &e, bool allow_deny);

	std::optional<Rule> parse_rule(const YAML::Node &node, Mode default_mode, std::map<std::string, int> &seen_ids,
				       Location &id_loc);
	std::vector<std::pair<std::string, YAML::Node>> parse_words(const Entry &e, const char *key);
	std::vector<PathSpec> parse_paths(const Entry &e, const std::string &rule_id, bool patterns);
	std::vector<int> parse_families(const Entry &e);
	std::vector<PortRange> parse_ports(const Entry &e);
	std::vector<Address> parse_addresses(const Entry &e);
	When parse_when(const Entry &e, const std::string &rule_id);
	static std::optional<std::string> path_problem(const std::string &path, PathSpec &out, bool patterns);

	std::optional<SyscallEntry> parse_syscall(const YAML::Node &node, Mode default_mode);
	std::optional<ArgCondition> parse_arg(const YAML::Node &node);
	std::optional<uint64_t> parse_value(const Entry &e);
	std::optional<HookEntry> parse_hook(const YAML::Node &node, Mode default_mode);

	std::string file_;
	std::vector<Diagnostic> diags_;
};

Parser::Entries Parser::read_mapping(const YAML::Node &map, const char *what, const char *known)
{
	const std::set<std::string> allowed = split_list(known);
	Entries out;
	for (auto it = map.begin(); it != map.end(); ++it) {
		// By value: yaml-cpp's iterator yields a temporary pair, so a reference
		// to it->first dangles after this statement.
		YAML::Node key = it->first;
		YAML::Node value = it->second;
		if (!key.IsScalar()) {
			error(loc(key), std::string(what) + " keys must be plain strings");
			continue;
		}
		const std::string &k = key.Scalar();
		if (!allowed.count(k)) {
			error(loc(key),
			      "unknown " + std::string(what) + " key '" + k + "' (expected one of: " + known + ")");
			continue;
		}
		// yaml-cpp keeps both entries of a repeated key; silently picking one
		// would hide a likely editing mistake.
		if (auto prev = out.find(k); prev != out.end()) {
			error(loc(key), "duplicate key '" + k + "' (first defined at line " +
						std::to_string(loc(prev->second.key).line) + ")");
			continue;
		}
		out.emplace(k, Entry{key, value});
	}
	return out;
}

std::optional<std::vector<YAML::Node>> Parser::items(const Entry &e, const std::string &what)
{
	std::vector<YAML::Node> out;
	if (e.value.IsScalar()) {
		out.push_back(e.value);
	} else if (e.value.IsSequence() && e.value.size() > 0) {
		for (const auto &n : e.value)
			out.push_back(n);
	} else {
		error(value_loc(e), what);
		return std::nullopt;
	}
	return out;
}

std::optional<std::string> Parser::scalar(const Entry &e, const char *key)
{
	if (!e.value.IsScalar() || e.value.Scalar().empty()) {
		error(value_loc(e), "'" + std::string(key) + "' must be a non-empty string");
		return std::nullopt;
	}
	return e.value.Scalar();
}

std::optional<Mode> Parser::parse_mode(const Entry &e)
{
	if (e.value.IsScalar()) {
		if (e.value.Scalar() == "enforce")
			return Mode::Enforce;
		if (e.value.Scalar() == "audit")
			return Mode::Audit;
		error(loc(e.value), "invalid mode '" + e.value.Scalar() + "' (expected one of: enforce, audit)");
		return std::nullopt;
	}
	error(value_loc(e), "'mode' must be one of: enforce, audit");
	return std::nullopt;
}

bool Parser::check_identifier(const std::string &value, const Location &l, const char *what)
{
	if (value.size() > kMaxNameLength) {
		error(l, std::string(what) + " is " + std::to_string(value.size()) + " characters long (limit is " +
				 std::to_string(kMaxNameLength) + ")");
		return false;
	}
	for (char c : value) {
		// Spelled out rather than isalnum() so the result cannot depend on locale.
		const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				     c == '.' || c == '_' || c == '-';
		if (!allowed) {
			error(l, "invalid " + std::string(what) + " '" + value +
					 "' (allowed characters: " + kNameChars + ")");
			return false;
		}
	}
	return true;
}

// --------------------------------------------------------------- top level

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

std::optional<SyscallAction> Parser::parse_action(const Entry &e, bool allow_deny)
{
	const char *expected = allow_deny ? kDefaultActions : kSyscallActions;
	if (!e.value.IsScalar()) {
		error(value_loc(e), std::string("action must be one of: ") + expected);
		return std::nullopt;
	}
	const std::string &s = e.value.Scalar();
	SyscallAction a;
	if (s == "allow") {
		a.kind = SyscallActionKind::Allow;
	} else if (s == "deny" && allow_deny) {
		a.kind = SyscallActionKind::Errno;
		a.errno_value = EPERM;
	} else if (s == "kill-process") {
		a.kind = SyscallActionKind::KillProcess;
	} else if (s == "kill-thread") {
		a.kind = SyscallActionKind::KillThread;
	} else if (s == "log") {
		a.kind = SyscallActionKind::Log;
	} else if (s == "trap") {
		a.kind = SyscallActionKind::Trap;
	} else if (s.size() > 7 && s.compare(0, 6, "errno(") == 0 && s.back() == ')') {
		const std::string name = s.substr(6, s.size() - 7);
		auto err = find_errno(name);
		if (!err) {
			error(loc(e.value), "unknown errno name '" + name + "'");
			return std::nullopt;
		}
		a.kind = SyscallActionKind::Errno;
		a.errno_value = *err;
	} else {
		error(loc(e.value), "invalid action '" + s + "' (expected one of: " + expected + ")");
		return std::nullopt;
	}
	return a;
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
	if (auto it = m.find("exec"); it != m.end()) {
		const YAML::Node &v = it->second.value;
		if (v.IsScalar() && (v.Scalar() == "allow" || v.Scalar() == "deny")) {
			d.exec_deny = v.Scalar() == "deny";
			out.exec_set = true;
		} else {
			error(value_loc(it->second), (v.IsScalar() ? "invalid exec default '" + v.Scalar() + "'"
								   : std::string("'exec' default must be a string")) +
							     " (expected one of: allow, deny)");
		}
	}
}

// --------------------------------------------------------------- rules

std::vector<std::pair<std::string, YAML::Node>> Parser::parse_words(const Entry &e, const char *key)
{
	std::vector<std::pair<std::string, YAML::Node>> out;
	auto list = items(e, "'" + std::string(key) + "' must be a rule word or a non-empty list of rule words (" +
				     word_list() + ")");
	if (!list)
		return out;
	std::set<std::string> seen;
	for (const auto &w : *list) {
		if (!w.IsScalar()) {
			error(loc(w), "rule word must be a string (expected one of: " + word_list() + ")");
			continue;
		}
		const std::string &word = w.Scalar();
		if (!seen.insert(word).second) {
			error(loc(w), "duplicate rule word '" + word + "'");
			continue;
		}
		if (!find_word(word)) {
			error(loc(w), "unknown rule word '" + word + "' (expected one of: " + word_list() + ")");
			continue;
		}
		out.emplace_back(word, w);
	}
	return out;
}

std::optional<std::string> Parser::path_problem(const std::string &p, PathSpec &out, bool patterns)
{
	// Checked first so that later messages can quote the path verbatim.
	if (p.find('\0') != std::string::npos || p.find('\n') != std::string::npos)
		return std::string("path contains a NUL or newline character");
	if (p.size() > kMaxPathLength)
		return "path is " + std::to_string(p.size()) + " bytes long (limit is " +
		       std::to_string(kMaxPathLength) + ")";
	if (p.empty())
		return std::string("path is empty");
	if (p[0] != '/')
		return "path '" + p + "' is not absolute";
	if (p == "/")
		return std::string("path '/' is the root directory, not a file");
	if (!patterns && p.find('*') != std::string::npos)
		return "path '" + p + "' must be exact here (no '*' or '/**')";
	if (auto pos = p.find_first_of("?["); pos != std::string::npos)
		return "path patterns: only '*' and a final '/**' are supported (found '" + std::string(1, p[pos]) +
		       "' in '" + p + "')";
	if (p.back() == '/')
		return "path '" + p + "' has a trailing '/'";
	bool glob = false, subtree = false;
	// p starts with '/' and does not end with one, so splitting after the
	// leading slash yields every component.
	std::size_t start = 1;
	while (start <= p.size()) {
		std::size_t end = p.find('/', start);
		if (end == std::string::npos)
			end = p.size();
		const std::string comp = p.substr(start, end - start);
		if (comp.empty())
			return "path '" + p + "' has an empty component ('//')";
		if (comp == "." || comp == "..")
			return "path '" + p + "' has a '" + comp + "' component";
		if (comp.find("**") != std::string::npos) {
			// Anything else would need a matcher that walks an unbounded number
			// of components, which the BPF side cannot do.
			if (comp != "**" || end != p.size())
				return "path '" + p +
				       "': '**' is only supported as the whole last component ('/dir/**')";
			subtree = true;
		} else if (comp.find('*') != std::string::npos) {
			glob = true;
		}
		start = end + 1;
	}
	if (subtree) {
		if (p == "/**")
			return std::string("path '/**' would match every file; name narrower subtrees instead");
		if (glob)
			return "path '" + p + "': '*' cannot be combined with a final '/**'";
		out.path = p.substr(0, p.size() - 3);
		out.kind = PathKind::Subtree;
	} else {
		out.path = p;
		out.kind = glob ? PathKind::Glob : PathKind::Exact;
	}
	return std::nullopt;
}

std::vector<PathSpec> Parser::parse_paths(const Entry &e, const std::string &rule_id, bool patterns)
{
	const std::string key = e.key.Scalar();
	auto list = items(e, "'" + key + "' must be a path or a non-empty list of paths");
	if (!list)
		return {};

	std::vector<PathSpec> out;
	std::map<std::string, int> seen; // path as written -> line first listed
	for (const auto &item : *list) {
		if (!item.IsScalar()) {
			error(loc(item), "path must be a string");
			continue;
		}
		const std::string &p = item.Scalar();
		PathSpec spec;
		if (auto problem = path_problem(p, spec, patterns)) {
			error(loc(item), *problem);
			continue;
		}
		if (auto prev = seen.find(p); prev != seen.end()) {
			warning(loc(item), "duplicate path '" + p + "' in rule '" + rule_id +
						   "' (first listed at line " + std::to_string(prev->second) + ")");
			continue;
		}
		seen.emplace(p, loc(item).line);
		spec.loc = loc(item);
		out.push_back(std::move(spec));
	}
	return out;
}

std::vector<int> Parser::parse_families(const Entry &e)
{
	const std::string expected = "(expected a name such as unix, inet, inet6, netlink, packet, "
				     "or a number 0.." +
				     std::to_string(kMaxAddressFamily) + ")";
	std::vector<int> out;
	auto list = items(e, "'families' must be an address family or a non-empty list of them " + expected);
	if (!list)
		return out;
	for (const auto &n : *list) {
		if (!n.IsScalar()) {
			error(loc(n), "address family must be a string or a number " + expected);
			continue;
		}
		const std::string &s = n.Scalar();
		int fam;
		uint64_t v;
		if (Num r = parse_uint(s, v); r != Num::Bad) {
			if (r == Num::Overflow || v > static_cast<uint64_t>(kMaxAddressFamily)) {
				error(loc(n), "address family " + s + " is out of range (0.." +
						      std::to_string(kMaxAddressFamily) + ")");
				continue;
			}
			fam = static_cast<int>(v);
		} else if (auto f = find_address_family(s)) {
			fam = *f;
		} else {
			error(loc(n), "unknown address family '" + s + "' " + expected);
			continue;
		}
		if (std::find(out.begin(), out.end(), fam) != out.end()) {
			error(loc(n), "duplicate address family '" + s + "'");
			continue;
		}
		out.push_back(fam);
	}
	return out;
}

std::vector<PortRange> Parser::parse_ports(const Entry &e)
{
	std::vector<PortRange> out;
	auto list = items(e, "'ports' must be a port or a non-empty list of ports and ranges "
			     "('lo-hi')");
	if (!list)
		return out;
	for (const auto &n : *list) {
		const std::string s = n.IsScalar() ? n.Scalar() : "";
		const std::size_t dash = s.find('-');
		const std::string lo_s = s.substr(0, dash);
		const std::string hi_s = dash == std::string::npos ? lo_s : s.substr(dash + 1);
		uint64_t lo, hi;
		Num rl = parse_uint(lo_s, lo), rh = parse_uint(hi_s, hi);
		if (!n.IsScalar() || rl == Num::Bad || rh == Num::Bad) {
			error(loc(n), "invalid port '" + s + "' (expected a number 1..65535 or a range 'lo-hi')");
			continue;
		}
		bool bad = false;
		for (auto [r, v, t] : {std::make_tuple(rl, lo, lo_s), std::make_tuple(rh, hi, hi_s)}) {
			if (!bad && (r == Num::Overflow || v < 1 || v > 65535)) {
				error(loc(n), "port " + t + " is out of range (1..65535)");
				bad = true;
			}
		}
		if (bad)
			continue;
		if (lo > hi) {
			error(loc(n), "port range '" + s + "' is reversed (" + lo_s + " > " + hi_s + ")");
			continue;
		}
		out.push_back({static_cast<uint16_t>(lo), static_cast<uint16_t>(hi), loc(n)});
	}
	return out;
}

std::vector<Address> Parser::parse_addresses(const Entry &e)
{
	std::vector<Address> out;
	auto list = items(e, "'addresses' must be an address or a non-empty list of addresses");
	if (!list)
		return out;
	for (const auto &n : *list) {
		const std::string s = n.IsScalar() ? n.Scalar() : "";
		const std::size_t slash = s.find('/');
		const std::string host = s.substr(0, slash);
		Address a;
		a.text = s;
		a.loc = loc(n);
		if (inet_pton(AF_INET, host.c_str(), a.bytes.data()) == 1) {
			a.family = AF_INET;
		} else if (inet_pton(AF_INET6, host.c_str(), a.bytes.data()) == 1) {
			a.family = AF_INET6;
		} else {
			error(loc(n), "invalid address '" + s +
					      "' (expected an IPv4 or IPv6 address, optionally with a /prefix)");
			continue;
		}
		const int max = a.family == AF_INET ? 32 : 128;
		a.prefix = max;
		if (slash != std::string::npos) {
			uint64_t v;
			const std::string ps = s.substr(slash + 1);
			// Hex prefixes would only ever be typos.
			if (ps.find_first_not_of("0123456789") != std::string::npos || parse_uint(ps, v) != Num::Ok ||
			    v > static_cast<uint64_t>(max)) {
				error(loc(n), "invalid prefix '/" + ps + "' in '" + s + "' (expected 0.." +
						      std::to_string(max) + ")");
				continue;
			}
			a.prefix = static_cast<int>(v);
		}
		// A set host bit usually means the author wrote a host where they meant
		// a network; the rule matches the network either way.
		bool host_bits = false;
		for (int i = 0; i < max / 8; ++i) {
			const int keep = std::clamp(a.prefix - i * 8, 0, 8);
			const uint8_t mask = static_cast<uint8_t>(0xff00 >> keep);
			if (a.bytes[i] & ~mask)
				host_bits = true;
			a.bytes[i] &= mask;
		}
		if (host_bits)
			warning(loc(n), "address '" + s + "' has bits set beyond its /" + std::to_string(a.prefix) +
						" prefix; they are ignored");
		out.push_back(std::move(a));
	}
	return out;
}

When Parser::parse_when(const Entry &e, const std::string &rule_id)
{
	When w;
	w.loc = loc(e.value);
	if (!e.value.IsMap() || e.value.size() == 0) {
		error(value_loc(e), std::string("'when' must be a mapping with one or more of: ") + kWhenKeys);
		return w;
	}
	Entries m = read_mapping(e.value, "when", kWhenKeys);
	if (auto it = m.find("exe"); it != m.end())
		w.exe = parse_paths(it->second, rule_id, false);
	if (auto it = m.find("parent_exe"); it != m.end())
		w.parent_exe = parse_paths(it->second, rule_id, false);
	if (auto it = m.find("uid"); it != m.end()) {
		if (auto list = items(it->second, "'uid' must be a uid or a non-empty list of uids")) {
			for (const auto &n : *list) {
				uint64_t v;
				Num r = n.IsScalar() ? parse_uint(n.Scalar(), v) : Num::Bad;
				if (r == Num::Bad) {
					error(loc(n), "invalid uid '" + (n.IsScalar() ? n.Scalar() : std::string()) +
							      "' (expected a number 0.." + std::to_string(kMaxUid) +
							      ")");
				} else if (r == Num::Overflow || v > kMaxUid) {
					error(loc(n), "uid " + n.Scalar() + " is out of range (0.." +
							      std::to_string(kMaxUid) + ")");
				} else {
					w.uid.push_back(static_cast<uint32_t>(v));
				}
			}
		}
	}
	if (auto it = m.find("cgroup"); it != m.end()) {
		// Same syntax rules as file paths: they name cgroupfs directories.
		for (auto &p : parse_paths(it->second, rule_id, false))
			w.cgroup.push_back(p.path);
	}
	return w;
}

std::optional<Rule> Parser::parse_rule(const YAML::Node &node, Mode default_mode, std::map<std::string, int> &seen_ids,
				       Location &id_loc)
{
	if (!node.IsMap()) {
		error(loc(node), "rule must be a mapping with keys: " + std::string(kRuleKeys));
		return std::nullopt;
	}
	Entries e = read_mapping(node, "rule", kRuleKeys);

	Rule rule;
	rule.loc = loc(node);
	rule.mode = default_mode;
	id_loc = rule.loc;
	const std::size_t diags_before = diags_.size();

	if (auto it = e.find("id"); it == e.end()) {
		error(loc(node), "rule is missing required key 'id'");
	} else if (auto id = scalar(it->second, "id")) {
		id_loc = loc(it->second.value);
		if (check_identifier(*id, id_loc, "rule id")) {
			if (auto prev = seen_ids.find(*id); prev != seen_ids.end()) {
				error(id_loc, "duplicate rule id '" + *id + "' (first defined at line " +
						      std::to_string(prev->second) + ")");
			} else {
				seen_ids.emplace(*id, id_loc.line);
			}
		}
		rule.id = *id;
	}

	if (auto it = e.find("mode"); it != e.end()) {
		if (auto m = parse_mode(it->second))
			rule.mode = *m;
	}

	auto deny = e.find("deny");
	auto allow = e.find("allow");
	const Entry *verb = nullptr;
	if (deny != e.end() && allow != e.end()) {
		const Entry &later =
			before(loc(deny->second.key), loc(allow->second.key)) ? allow->second : deny->second;
		error(loc(later.key), "a rule has either 'deny' or 'allow', not both");
	} else if (deny != e.end()) {
		verb = &deny->second;
	} else if (allow != e.end()) {
		verb = &allow->second;
		rule.verb = Verb::Allow;
	} else {
		error(loc(node), "rule is missing required key 'deny' or 'allow' (rule words: " + word_list() + ")");
	}

	std::vector<std::pair<std::string, YAML::Node>> words;
	if (verb)
		words = parse_words(*verb, rule.verb == Verb::Allow ? "allow" : "deny");
	if (rule.verb == Verb::Allow) {
		// An allow only means something against a default of deny, and exec is
		// the only word with such a default.
		auto keep = std::remove_if(words.begin(), words.end(), [&](const auto &w) {
			if (w.first == "exec")
				return false;
			error(loc(w.second), "'allow' only takes 'exec' (found '" + w.first +
						     "'); other words are denied with 'deny'");
			return true;
		});
		words.erase(keep, words.end());
	}

	const WordInfo *standalone = nullptr;
	const char *first_action = nullptr;
	bool any_file = false;
	unsigned takes = 0;
	for (const auto &[w, n] : words) {
		const WordInfo *info = find_word(w);
		takes |= info->takes;
		if (is_file_word(w)) {
			any_file = true;
			rule.access |= w == "read" ? AccessRead : w == "write" ? AccessWrite : AccessExec;
		} else {
			if (!first_action)
				first_action = info->name;
			if (info->takes != TakesNothing && !standalone)
				standalone = info;
		}
		rule.words.push_back(w);
	}
	rule.kind = any_file && !first_action ? RuleKind::File : RuleKind::Action;

	// Each word family is enforced by different hooks on different objects,
	// so a mixed rule would have no single meaning for its extra keys.
	bool combo_ok = !words.empty();
	if (standalone && words.size() > 1) {
		error(loc(verb->value), "'" + std::string(standalone->name) + "' must be the only word in its rule");
		combo_ok = false;
	} else if (any_file && first_action) {
		error(loc(verb->value),
		      "'" + std::string(first_action) + "' cannot be combined with read, write or exec in one rule");
		combo_ok = false;
	}

	struct Extra {
		const char *key;
		unsigned flag;
	};
	const Extra extras[] = {{"paths", TakesPaths},
				{"families", TakesFamilies},
				{"ports", TakesPorts},
				{"addresses", TakesAddresses}};
	std::set<std::string> parse; // extra keys whose contents get checked
	for (const auto &x : extras) {
		auto it = e.find(x.key);
		if (it == e.end())
			continue;
		// With bad or mixed words it is unclear which keys belong, but the
		// contents can still be checked.
		if (combo_ok && !(takes & x.flag)) {
			error(loc(it->second.key),
			      "'" + rule.words[0] + "' rules take no '" + std::string(x.key) + "'");
			continue;
		}
		parse.insert(x.key);
	}
	if (combo_ok) {
		const Location at = loc(verb->value);
		if ((takes & TakesPaths) && !e.count("paths"))
			error(at, rule.verb == Verb::Allow ? "'allow: exec' rules require 'paths'"
							   : "rules denying read, write or exec require 'paths'");
		if ((takes & TakesFamilies) && !e.count("families"))
			error(at, "'" + rule.words[0] + "' rules require 'families'");
		if ((takes & TakesPorts) && !e.count("ports") && !e.count("addresses"))
			error(at, "'" + rule.words[0] + "' rules require 'ports' and/or 'addresses'");
	}

	if (parse.count("paths"))
		rule.paths = parse_paths(e.at("paths"), rule.id, true);
	if (parse.count("families"))
		rule.families = parse_families(e.at("families"));
	if (parse.count("ports"))
		rule.ports = parse_ports(e.at("ports"));
	if (parse.count("addresses"))
		rule.addresses = parse_addresses(e.at("addresses"));
	if (auto it = e.find("when"); it != e.end())
		rule.when = parse_when(it->second, rule.id);

	// How a broken rule would be enforced is noise next to what breaks it.
	if (std::any_of(diags_.begin() + diags_before, diags_.end(),
			[](const Diagnostic &d) { return d.severity == Diagnostic::Severity::Error; }))
		return rule;
	for (const auto &[w, n] : words) {
		if (w == "connect" || w == "bind")
			warning(loc(n), "rule '" + rule.id + "': only the LSM layer can enforce '" + w +
						"' (seccomp cannot read the address)");
	}
	if (auto it = e.find("when"); it != e.end() && !rule.when.empty()) {
		const bool seccomp_side = std::any_of(words.begin(), words.end(), [](const auto &w) {
			return *find_word(w.first)->seccomp_how != '\0';
		});
		if (seccomp_side)
			warning(loc(it->second.key), "rule '" + rule.id +
							     "': seccomp cannot evaluate 'when:'; only the LSM "
							     "layer enforces this rule");
	}
	return rule;
}

// --------------------------------------------------------------- escape hatches

std::optional<uint64_t> Parser::parse_value(const Entry &e)
{
	const std::string key = e.key.Scalar();
	if (!e.value.IsScalar() || e.value.Scalar().empty()) {
		error(value_loc(e), "'" + key + "' must be a number or named constants joined with '|'");
		return std::nullopt;
	}
	const std::string &s = e.value.Scalar();
	uint64_t total = 0;
	std::size_t start = 0;
	while (start <= s.size()) {
		std::size_t end = s.find('|', start);
		if (end == std::string::npos)
			end = s.size();
		std::string term = s.substr(start, end - start);
		term.erase(0, term.find_first_not_of(' '));
		term.erase(term.find_last_not_of(' ') + 1);
		uint64_t v;
		Num r = parse_uint(term, v);
		if (r == Num::Overflow) {
			error(loc(e.value), "value " + term + " does not fit in 64 bits");
			return std::nullopt;
		}
		if (r == Num::Bad) {
			const bool name_like =
				!term.empty() && (std::isupper(static_cast<unsigned char>(term[0])) || term[0] == '_');
			if (!name_like) {
				error(loc(e.value), "invalid " + key + " '" + s +
							    "' (expected a number, 0x hex, or named constants joined "
							    "with '|')");
				return std::nullopt;
			}
			auto c = find_constant(term);
			if (!c) {
				error(loc(e.value), "unknown constant '" + term + "'");
				return std::nullopt;
			}
			v = *c;
		}
		total |= v;
		start = end + 1;
	}
	return total;
}

std::optional<ArgCondition> Parser::parse_arg(const YAML::Node &node)
{
	if (!node.IsMap()) {
		error(loc(node), std::string("argument condition must be a mapping with keys: ") + kArgKeys);
		return std::nullopt;
	}
	Entries m = read_mapping(node, "argument condition", kArgKeys);
	ArgCondition c;
	c.loc = loc(node);
	bool ok = true;
	for (const char *k : {"index", "op", "value"}) {
		if (!m.count(k)) {
			error(loc(node), "argument condition is missing required key '" + std::string(k) + "'");
			ok = false;
		}
	}
	if (auto it = m.find("index"); it != m.end()) {
		const YAML::Node &v = it->second.value;
		uint64_t i;
		if (!v.IsScalar() || parse_uint(v.Scalar(), i) != Num::Ok || i > 5) {
			error(value_loc(it->second),
			      "argument index '" + (v.IsScalar() ? v.Scalar() : "") + "' is out of range (0..5)");
			ok = false;
		} else {
			c.index = static_cast<unsigned>(i);
		}
	}
	if (auto it = m.find("op"); it != m.end()) {
		static const std::map<std::string, ArgOp> ops = {{"eq", ArgOp::Eq},
								 {"ne", ArgOp::Ne},
								 {"lt", ArgOp::Lt},
								 {"le", ArgOp::Le},
								 {"gt", ArgOp::Gt},
								 {"ge", ArgOp::Ge},
								 {"masked-eq", ArgOp::MaskedEq}};
		const YAML::Node &v = it->second.value;
		auto op = v.IsScalar() ? ops.find(v.Scalar()) : ops.end();
		if (op == ops.end()) {
			error(value_loc(it->second), "invalid op '" + (v.IsScalar() ? v.Scalar() : "") +
							     "' (expected one of: " + kArgOps + ")");
			ok = false;
		} else {
			c.op = op->second;
			auto mask = m.find("mask");
			if (c.op == ArgOp::MaskedEq && mask == m.end()) {
				error(loc(node), "op 'masked-eq' requires 'mask'");
				ok = false;
			} else if (c.op != ArgOp::MaskedEq && mask != m.end()) {
				error(loc(mask->second.key), "'mask' is only used with op 'masked-eq'");
				ok = false;
			}
		}
	}
	if (auto it = m.find("value"); it != m.end()) {
		if (auto v = parse_value(it->second))
			c.value = *v;
		else
			ok = false;
	}
	if (auto it = m.find("mask"); it != m.end() && c.op == ArgOp::MaskedEq) {
		if (auto v = parse_value(it->second))
			c.mask = *v;
		else
			ok = false;
	}
	if (!ok)
		return std::nullopt;
	return c;
}

std::optional<SyscallEntry> Parser::parse_syscall(const YAML::Node &node, Mode default_mode)
{
	if (!node.IsMap()) {
		error(loc(node), std::string("syscall entry must be a mapping with keys: ") + kSyscallKeys);
		return std::nullopt;
	}
	Entries m = read_mapping(node, "syscall entry", kSyscallKeys);
	SyscallEntry s;
	s.loc = loc(node);
	s.mode = default_mode;
	bool ok = true;

	auto name = m.find("name");
	auto names = m.find("names");
	if (name != m.end() && names != m.end()) {
		const Entry &later =
			before(loc(name->second.key), loc(names->second.key)) ? names->second : name->second;
		error(loc(later.key), "use either 'name' or 'names', not both");
		ok = false;
	} else if (name == m.end() && names == m.end()) {
		error(loc(node), "syscall entry is missing required key 'names'");
		ok = false;
	} else {
		const Entry &n = name != m.end() ? name->second : names->second;
		std::vector<YAML::Node> list;
		if (name != m.end()) {
			if (scalar(n, "name"))
				list.push_back(n.value);
		} else if (auto l = items(n, "'names' must be a syscall name or a non-empty list of them")) {
			list = *l;
		}
		if (list.empty())
			ok = false;
		for (const auto &item : list) {
			const std::string sc = item.IsScalar() ? item.Scalar() : "";
			if (seccomp_syscall_resolve_name(sc.c_str()) == __NR_SCMP_ERROR) {
				error(loc(item), item.IsScalar() ? "unknown syscall '" + sc + "'"
								 : std::string("syscall name must be a string"));
				ok = false;
			} else if (std::find(s.names.begin(), s.names.end(), sc) != s.names.end()) {
				error(loc(item), "duplicate syscall '" + sc + "'");
				ok = false;
			} else {
				s.names.push_back(sc);
			}
		}
	}

	if (auto it = m.find("action"); it == m.end()) {
		error(loc(node),
		      std::string("syscall entry is missing required key 'action' (one of: ") + kSyscallActions + ")");
		ok = false;
	} else if (auto a = parse_action(it->second, false)) {
		s.action = *a;
	} else {
		ok = false;
	}

	if (auto it = m.find("args"); it != m.end()) {
		const YAML::Node &v = it->second.value;
		if (!v.IsSequence() || v.size() == 0) {
			error(value_loc(it->second), "'args' must be a non-empty list of argument conditions");
			ok = false;
		} else {
			for (const auto &a : v) {
				if (auto c = parse_arg(a))
					s.args.push_back(*c);
				else
					ok = false;
			}
		}
	}
	if (auto it = m.find("mode"); it != m.end()) {
		if (auto md = parse_mode(it->second))
			s.mode = *md;
	}
	if (!ok)
		return std::nullopt;
	return s;
}

std::optional<HookEntry> Parser::parse_hook(const YAML::Node &node, Mode default_mode)
{
	if (!node.IsMap()) {
		error(loc(node), std::string("hook entry must be a mapping with keys: ") + kHookKeys);
		return std::nullopt;
	}
	Entries m = read_mapping(node, "hook entry", kHookKeys);
	HookEntry h;
	h.loc = loc(node);
	h.mode = default_mode;
	bool ok = true;
	if (auto it = m.find("hook"); it == m.end()) {
		error(loc(node),
		      "hook entry is missing required key 'hook' (one of: " + join(lsm_escape_hooks()) + ")");
		ok = false;
	} else if (auto name = scalar(it->second, "hook")) {
		const auto &known = lsm_escape_hooks();
		if (std::none_of(known.begin(), known.end(), [&](const char *k) { return *name == k; })) {
			error(loc(it->second.value),
			      "unknown hook '" + *name + "' (expected one of: " + join(known) + ")");
			ok = false;
		}
		h.hook = *name;
		h.id = "hook:" + *name;
	} else {
		ok = false;
	}
	if (auto it = m.find("errno"); it != m.end()) {
		if (auto name = scalar(it->second, "errno")) {
			if (auto err = find_errno(*name)) {
				h.errno_value = *err;
			} else {
				error(loc(it->second.value), "unknown errno name '" + *name + "'");
				ok = false;
			}
		} else {
			ok = false;
		}
	}
	if (auto it = m.find("id"); it != m.end()) {
		auto id = scalar(it->second, "id");
		if (id && check_identifier(*id, loc(it->second.value), "hook id"))
			h.id = *id;
		else
			ok = false;
	}
	if (auto it = m.find("mode"); it != m.end()) {
		if (auto md = parse_mode(it->second))
			h.mode = *md;
	}
	if (!ok)
		return std::nullopt;
	return h;
}

// --------------------------------------------------------------- document

// Records where each document starts, nothing else. yaml-cpp 0.7's LoadAll
// never returns on a stray ',' (it keeps producing empty documents: found by
// the fuzzer, fixed upstream after 0.7), so documents are counted with the
// event API, which lets us stop after the second.
class DocumentStarts : public YAML::EventHandler {
public:
	std::vector<YAML::Mark> marks;
	void OnDocumentStart(const YAML::Mark &mark) override { marks.push_back(mark); }
	void OnDocumentEnd() override {}
	void OnNull(const YAML::Mark &, YAML::anchor_t) override {}
	void OnAlias(const YAML::Mark &, YAML::anchor_t) override {}
	void OnScalar(const YAML::Mark &, const std::string &, YAML::anchor_t, const std::string &) override {}
	void OnSequenceStart(const YAML::Mark &, const std::string &, YAML::anchor_t,
			     YAML::EmitterStyle::value) override
	{
	}
	void OnSequenceEnd() override {}
	void OnMapStart(const YAML::Mark &, const std::string &, YAML::anchor_t, YAML::EmitterStyle::value) override {}
	void OnMapEnd() override {}
};

std::optional<FileResult> Parser::run(const std::string &text)
{
	std::vector<YAML::Node> docs;
	try {
		std::istringstream in(text);
		YAML::Parser events(in);
		DocumentStarts starts;
		for (int i = 0; i < 2 && events.HandleNextDocument(starts); i++) {
		}
		YAML::Node first = YAML::Load(text);
		if (!starts.marks.empty() || !first.IsNull())
			docs.push_back(first);
		// A second document would be silently ignored by a single-document
		// load, and the author almost certainly expected it to take effect.
		if (starts.marks.size() > 1)
			error(loc(starts.marks[1]), "policy file must contain exactly one YAML document");
	} catch (const YAML::Exception &ex) {
		error(loc(ex.mark), ex.msg);
		return std::nullopt;
	}

	if (docs.empty() || docs[0].IsNull()) {
		error({file_, 1, 1}, "policy is empty");
		return std::nullopt;
	}

	const YAML::Node &root = docs[0];
	if (!root.IsMap()) {
		error(loc(root), "policy must be a mapping with keys: " + std::string(kTopKeys));
		return std::nullopt;
	}

	FileResult out;
	Policy &policy = out.policy;
	policy.file = file_;
	policy.loc = loc(root);
	policy.architectures = {"x86_64"};
	Entries e = read_mapping(root, "top-level", kTopKeys);

	if (auto it = e.find("name"); it == e.end()) {
		error(loc(root), "policy is missing required key 'name'");
	} else if (auto name = scalar(it->second, "name")) {
		check_identifier(*name, loc(it->second.value), "policy name");
		policy.name = *name;
	}

	// Parsed before the rules because it is their default.
	if (auto it = e.find("mode"); it != e.end()) {
		if (auto m = parse_mode(it->second))
			policy.mode = *m;
	}
	if (auto it = e.find("extends"); it != e.end())
		parse_extends(it->second, out);
	if (auto it = e.find("architectures"); it != e.end())
		parse_architectures(it->second, policy);
	if (auto it = e.find("default"); it != e.end())
		parse_defaults(it->second, out);
	if (auto it = e.find("scope"); it != e.end())
		parse_scope(it->second, policy);

	if (auto it = e.find("rules"); it != e.end()) {
		out.rules_value = value_loc(it->second);
		if (!it->second.value.IsSequence()) {
			error(value_loc(it->second), "'rules' must be a list of rules");
			out.dropped = true;
		} else {
			std::map<std::string, int> seen_ids;
			for (const auto &r : it->second.value) {
				Location id_loc;
				if (auto rule = parse_rule(r, policy.mode, seen_ids, id_loc)) {
					policy.rules.push_back(std::move(*rule));
					out.id_locs.push_back(id_loc);
				} else {
					out.dropped = true;
				}
			}
		}
	}
	if (auto it = e.find("syscalls"); it != e.end()) {
		if (!it->second.value.IsSequence()) {
			error(value_loc(it->second), "'syscalls' must be a list of syscall entries");
			out.dropped = true;
		} else {
			for (const auto &s : it->second.value) {
				if (auto entry = parse_syscall(s, policy.mode))
					policy.syscalls.push_back(*entry);
				else
					out.dropped = true;
			}
		}
	}
	if (auto it = e.find("hooks"); it != e.end()) {
		if (!it->second.value.IsSequence()) {
			error(value_loc(it->second), "'hooks' must be a list of hook entries");
			out.dropped = true;
		} else {
			for (const auto &h : it->second.value) {
				if (auto entry = parse_hook(h, policy.mode))
					policy.hooks.push_back(*entry);
				else
					out.dropped = true;
			}
		}
	}
	return out;
}

// --------------------------------------------------------------- extends

// What an `extends:` entry resolved to; error is set instead on failure.
struct Source {
	std::string file;
	std::string text;
	std::string error;
};
using SourceFn = std::function<Source(const std::string &name, const std::string &from)>;

std::string normal(const std::string &file)
{
	return std::filesystem::path(file).lexically_normal().string();
}

bool read_text(const std::string &path, std::string &text, int &err)
{
	std::FILE *f = std::fopen(path.c_str(), "rb");
	if (!f) {
		err = errno;
		return false;
	}
	char buf[4096];
	std::size_t n;
	while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
		text.append(buf, n);
	// fopen succeeds on a directory; the error (EISDIR) only shows up on read.
	if (std::ferror(f)) {
		err = errno;
		std::fclose(f);
		return false;
	}
	std::fclose(f);
	return true;
}

Source default_source(const std::string &name, const std::string &from)
{
	const bool is_file = name.find('/') != std::string::npos ||
			     (name.size() > 5 && name.compare(name.size() - 5, 5, ".yaml") == 0);
	if (!is_file) {
		const char *text = bundled_policy(name);
		if (!text)
			return {"", "", "unknown bundled policy '" + name + "'"};
		return {"bundled:" + name, text, ""};
	}
	std::string path = name;
	if (name[0] != '/') {
		const std::size_t slash = from.rfind('/');
		if (slash != std::string::npos)
			path = from.substr(0, slash + 1) + name;
	}
	path = normal(path);
	std::string text;
	int err = 0;
	if (!read_text(path, text, err))
		return {"", "", "cannot read policy '" + path + "': " + std::strerror(err)};
	return {path, std::move(text), ""};
}

class Loader {
public:
	explicit Loader(SourceFn source) : source_(std::move(source)) {}
	ParseResult run(const std::string &text, const std::string &file);

private:
	// Loads `file` and everything it extends; nullopt if the file itself had
	// no usable top level.
	std::optional<FileResult> load(const std::string &text, const std::string &file);
	void merge(FileResult &into, FileResult &&from, bool from_base);
	void check_whole(const FileResult &root);

	void error(const Location &l, std::string msg)
	{
		diags_.push_back({Diagnostic::Severity::Error, l, std::move(msg)});
	}
	void warning(const Location &l, std::string msg)
	{
		diags_.push_back({Diagnostic::Severity::Warning, l, std::move(msg)});
	}

	SourceFn source_;
	std::vector<std::pair<std::string, std::string>> stack_; // {normal key, display}
	std::set<std::string> loaded_;                           // a base reached twice (a diamond) is merged once
	std::vector<std::string> order_;                         // files in load order, for sorting diagnostics
	std::vector<Diagnostic> diags_;
};

void Loader::merge(FileResult &into, FileResult &&from, bool from_base)
{
	Policy &p = into.policy;
	Policy &f = from.policy;
	// Rule ids name events, so they must stay unique across files.
	std::map<std::string, Location> ids;
	for (const auto &r : p.rules)
		ids.emplace(r.id, r.loc);
	for (std::size_t i = 0; i < f.rules.size(); ++i) {
		auto prev = ids.find(f.rules[i].id);
		// Within one file the parser has already said so, with a line number.
		if (prev != ids.end() && prev->second.file != f.rules[i].loc.file) {
			error(from.id_locs[i], "duplicate rule id '" + f.rules[i].id + "' (first defined at " +
						       where(prev->second) + ")");
			continue;
		}
		ids.emplace(f.rules[i].id, f.rules[i].loc);
		p.rules.push_back(std::move(f.rules[i]));
		into.id_locs.push_back(from.id_locs[i]);
	}
	for (auto &s : f.syscalls)
		p.syscalls.push_back(std::move(s));
	for (auto &h : f.hooks)
		p.hooks.push_back(std::move(h));
	for (const auto &a : f.architectures)
		if (std::find(p.architectures.begin(), p.architectures.end(), a) == p.architectures.end())
			p.architectures.push_back(a);
	if (f.defaults.syscalls_set) {
		p.defaults.syscalls = f.defaults.syscalls;
		p.defaults.syscalls_set = true;
		p.defaults.loc = f.defaults.loc;
	}
	// The naming file's scope wins over its bases' (it is merged last).
	if (f.scope_set) {
		p.scope = f.scope;
		p.scope_loc = f.scope_loc;
		p.scope_set = true;
	}
	if (from.exec_set) {
		p.defaults.exec_deny = f.defaults.exec_deny;
		into.exec_set = true;
		p.defaults.loc = f.defaults.loc;
	}
	if (from_base) {
		for (auto &x : f.extends)
			p.extends.push_back(std::move(x));
		p.extends.push_back(f.file);
	} else {
		p.file = f.file;
		p.name = f.name;
		p.mode = f.mode;
		p.loc = f.loc;
		into.rules_value = from.rules_value;
	}
	into.dropped = into.dropped || from.dropped;
}

std::optional<FileResult> Loader::load(const std::string &text, const std::string &file)
{
	order_.push_back(file);
	Parser parser(file);
	std::optional<FileResult> own = parser.run(text);
	for (auto &d : parser.diagnostics())
		diags_.push_back(std::move(d));
	if (!own)
		return std::nullopt;

	stack_.emplace_back(normal(file), file);
	loaded_.insert(normal(file));
	FileResult merged;
	merged.policy.architectures = {"x86_64"};
	for (const auto &[name, at] : own->extends) {
		Source src = source_(name, file);
		if (!src.error.empty()) {
			error(at, src.error);
			merged.dropped = true;
			continue;
		}
		const std::string key = normal(src.file);
		auto on_stack =
			std::find_if(stack_.begin(), stack_.end(), [&](const auto &s) { return s.first == key; });
		if (on_stack != stack_.end()) {
			std::string chain;
			for (auto it = on_stack; it != stack_.end(); ++it)
				chain += it->second + " -> ";
			error(at, "extends cycle: " + chain + src.file);
			merged.dropped = true;
			continue;
		}
		if (loaded_.count(key))
			continue;
		if (auto base = load(src.text, src.file))
			merge(merged, std::move(*base), true);
		else
			merged.dropped = true;
	}
	stack_.pop_back();
	merge(merged, std::move(*own), false);
	return merged;
}

void Loader::check_whole(const FileResult &root)
{
	const Policy &p = root.policy;
	// An exec path both allow-listed and denied outright is a contradiction;
	// a deny with `when:` only narrows the allow-list, which is fine.
	std::map<std::string, std::pair<const Rule *, const PathSpec *>> allowed, denied;
	for (const auto &r : p.rules) {
		if (!(r.access & AccessExec))
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
							(allow ? "allowed" : "denied") + " to run by rule '" + r.id +
							"' and " + (allow ? "denied" : "allowed") + " by rule '" +
							o->second.first->id + "' (" + where(o->second.second->loc) +
							")");
				continue;
			}
			mine.emplace(path.path, std::make_pair(&r, &path));
		}
	}

	// Entries with argument conditions select different calls, so only
	// unconditional ones can disagree.
	std::map<std::string, const SyscallEntry *> plain;
	for (const auto &s : p.syscalls) {
		if (!s.args.empty())
			continue;
		for (const auto &name : s.names) {
			auto [it, fresh] = plain.emplace(name, &s);
			if (!fresh && !same_action(it->second->action, s.action))
				error(s.loc, "contradictory rules: syscall '" + name + "' is " + action_str(s.action) +
						     " here but " + action_str(it->second->action) + " at " +
						     where(it->second->loc));
		}
	}

	if (!root.exec_set || !p.defaults.exec_deny) {
		for (const auto &r : p.rules)
			if (r.verb == Verb::Allow)
				warning(r.loc,
					"rule '" + r.id +
						"': 'allow: exec' has no effect without 'default: {exec: deny}'");
	}

	if (!root.dropped && p.rules.empty() && p.syscalls.empty() && p.hooks.empty() && !p.defaults.syscalls_set &&
	    !p.defaults.exec_deny)
		warning(root.rules_value.value_or(p.loc), "policy has no rules");
}

ParseResult Loader::run(const std::string &text, const std::string &file)
{
	ParseResult result;
	std::optional<FileResult> root = load(text, file);
	if (root)
		check_whole(*root);

	// Checks run in an order chosen for data dependencies (mode before rules,
	// missing keys after the scan, merges after both files); report each file
	// in document order instead, the file named on the command line first.
	auto rank = [&](const std::string &f) { return std::find(order_.begin(), order_.end(), f) - order_.begin(); };
	std::stable_sort(diags_.begin(), diags_.end(), [&](const Diagnostic &a, const Diagnostic &b) {
		return std::make_tuple(rank(a.loc.file), a.loc.line, a.loc.col) <
		       std::make_tuple(rank(b.loc.file), b.loc.line, b.loc.col);
	});
	result.diagnostics = std::move(diags_);
	if (root && result.ok())
		result.policy = std::move(root->policy);
	return result;
}

SourceFn wrap(const ExtendsResolver &resolver)
{
	return [resolver](const std::string &name, const std::string &from) -> Source {
		auto r = resolver(name, from);
		if (!r)
			return {"", "", "cannot find policy '" + name + "'"};
		return {r->first, r->second, ""};
	};
}

} // namespace

ParseResult parse_string(const std::string &text, const std::string &filename)
{
	return Loader(default_source).run(text, filename);
}

ParseResult parse_string(const std::string &text, const std::string &filename, const ExtendsResolver &resolver)
{
	return Loader(wrap(resolver)).run(text, filename);
}

namespace {

ParseResult load_file(const std::string &path, SourceFn source)
{
	std::string text;
	int err = 0;
	if (!read_text(path, text, err)) {
		ParseResult r;
		r.diagnostics.push_back({Diagnostic::Severity::Error,
					 {path, 1, 1},
					 std::string("cannot read policy: ") + std::strerror(err)});
		return r;
	}
	return Loader(std::move(source)).run(text, path);
}

} // namespace

ParseResult parse_file(const std::string &path)
{
	return load_file(path, default_source);
}

ParseResult parse_file(const std::string &path, const ExtendsResolver &resolver)
{
	return load_file(path, wrap(resolver));
}

} // namespace bulwark::policy
