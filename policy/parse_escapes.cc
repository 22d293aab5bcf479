// SPDX-License-Identifier: Apache-2.0
//
// The escape hatches: `syscalls:` entries (names, action, argument
// conditions) for the seccomp layer, `hooks:` entries for the LSM layer, and
// the actions `default: {syscalls: ...}` shares with them.

#include <seccomp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "policy/catalog.h"
#include "policy/constants.h"
#include "policy/parse_internal.h"

namespace bulwark::policy::internal {

namespace {

const char *const kSyscallKeys = "name, names, action, args, mode";
const char *const kArgKeys = "index, op, value, mask";
const char *const kHookKeys = "hook, errno, id, mode";
const char *const kArgOps = "eq, ne, lt, le, gt, ge, masked-eq";
const char *const kSyscallActions = "allow, errno(NAME), kill-process, kill-thread, log, trap";
const char *const kDefaultActions = "allow, deny, errno(NAME), kill-process, kill-thread, log, trap";

} // namespace

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

bool Parser::parse_op(const YAML::Node &node, const Entries &m, ArgCondition &c)
{
	auto it = m.find("op");
	if (it == m.end())
		return true; // reported as missing by parse_arg
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
		error(value_loc(it->second),
		      "invalid op '" + (v.IsScalar() ? v.Scalar() : "") + "' (expected one of: " + kArgOps + ")");
		return false;
	}
	c.op = op->second;
	auto mask = m.find("mask");
	if (c.op == ArgOp::MaskedEq && mask == m.end()) {
		error(loc(node), "op 'masked-eq' requires 'mask'");
		return false;
	}
	if (c.op != ArgOp::MaskedEq && mask != m.end()) {
		error(loc(mask->second.key), "'mask' is only used with op 'masked-eq'");
		return false;
	}
	return true;
}

std::optional<ArgCondition> Parser::parse_arg(const YAML::Node &node)
{
	std::optional<Entries> mapping = entry_mapping(node, "argument condition", kArgKeys);
	if (!mapping)
		return std::nullopt;
	const Entries &m = *mapping;
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
	ok = parse_op(node, m, c) && ok;
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

// `name: X` or `names: [X, ...]`, each a syscall libseccomp knows.
bool Parser::parse_syscall_names(const YAML::Node &node, const Entries &m, SyscallEntry &s)
{
	auto name = m.find("name");
	auto names = m.find("names");
	if (name != m.end() && names != m.end()) {
		error(loc(later_of(name->second, names->second).key), "use either 'name' or 'names', not both");
		return false;
	}
	if (name == m.end() && names == m.end()) {
		error(loc(node), "syscall entry is missing required key 'names'");
		return false;
	}
	std::vector<YAML::Node> list;
	if (name != m.end()) {
		if (scalar(name->second, "name"))
			list.push_back(name->second.value);
	} else if (auto l = items(names->second, "'names' must be a syscall name or a non-empty list of them")) {
		list = *l;
	}
	bool ok = !list.empty();
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
	return ok;
}

bool Parser::parse_args(const Entry &e, SyscallEntry &s)
{
	const YAML::Node &v = e.value;
	if (!v.IsSequence() || v.size() == 0) {
		error(value_loc(e), "'args' must be a non-empty list of argument conditions");
		return false;
	}
	bool ok = true;
	for (const auto &a : v) {
		if (auto c = parse_arg(a))
			s.args.push_back(*c);
		else
			ok = false;
	}
	return ok;
}

std::optional<SyscallEntry> Parser::parse_syscall(const YAML::Node &node, Mode default_mode)
{
	std::optional<Entries> mapping = entry_mapping(node, "syscall entry", kSyscallKeys);
	if (!mapping)
		return std::nullopt;
	const Entries &m = *mapping;
	SyscallEntry s;
	s.loc = loc(node);
	s.mode = default_mode;
	bool ok = parse_syscall_names(node, m, s);

	if (auto it = m.find("action"); it == m.end()) {
		error(loc(node),
		      std::string("syscall entry is missing required key 'action' (one of: ") + kSyscallActions + ")");
		ok = false;
	} else if (auto a = parse_action(it->second, false)) {
		s.action = *a;
	} else {
		ok = false;
	}
	if (auto it = m.find("args"); it != m.end())
		ok = parse_args(it->second, s) && ok;
	read_mode(m, s.mode);
	if (!ok)
		return std::nullopt;
	return s;
}

std::optional<HookEntry> Parser::parse_hook(const YAML::Node &node, Mode default_mode)
{
	std::optional<Entries> mapping = entry_mapping(node, "hook entry", kHookKeys);
	if (!mapping)
		return std::nullopt;
	const Entries &m = *mapping;
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
	read_mode(m, h.mode);
	if (!ok)
		return std::nullopt;
	return h;
}

} // namespace bulwark::policy::internal
