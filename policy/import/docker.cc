// SPDX-License-Identifier: Apache-2.0
#include "policy/import/docker.h"

#include <seccomp.h>
#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace bulwark {

using nlohmann::json;

ImportError::ImportError(const std::string &where, const std::string &message)
    : std::runtime_error(where.empty() ? message : where + ": " + message), where_(where)
{
}

const std::vector<std::string> &docker_default_caps()
{
	static const std::vector<std::string> caps = {
		"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
		"CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
		"CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
		"CAP_KILL",    "CAP_AUDIT_WRITE",
	};
	return caps;
}

namespace {

// The container this conversion is for. Docker compares includes/excludes
// arches against the Go name of the host architecture.
constexpr const char *kGoArch = "amd64";

struct Version {
	int v[3] = {0, 0, 0};
	bool operator<(const Version &o) const { return std::lexicographical_compare(v, v + 3, o.v, o.v + 3); }
	std::string str() const
	{
		return std::to_string(v[0]) + "." + std::to_string(v[1]) + (v[2] ? "." + std::to_string(v[2]) : "");
	}
};

// "4.8", "6.1.0", "6.18.44-fc-v669": two or three numbers, anything after.
bool parse_version(const std::string &s, Version &out)
{
	size_t i = 0;
	for (int part = 0; part < 3; part++) {
		if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i])))
			return part >= 2;
		int n = 0;
		while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
			n = n * 10 + (s[i++] - '0');
			if (n > 100000)
				return false;
		}
		out.v[part] = n;
		if (part < 2) {
			if (i >= s.size() || s[i] != '.')
				return part == 1;
			i++;
		} else if (i < s.size() && s[i] == '.') {
			// A fourth component is not a kernel release.
			return false;
		}
	}
	return true;
}

std::string quote(const std::string &s)
{
	return json(s).dump();
}

std::string type_name(const json &j)
{
	return j.is_null() ? "null" : j.type_name();
}

const json &need(const json &obj, const char *key, const std::string &where)
{
	auto it = obj.find(key);
	if (it == obj.end())
		throw ImportError(where, std::string("missing \"") + key + "\"");
	return *it;
}

std::string get_string(const json &j, const std::string &where)
{
	if (!j.is_string())
		throw ImportError(where, "expected a string, got " + type_name(j));
	return j.get<std::string>();
}

uint64_t get_u64(const json &j, const std::string &where)
{
	if (j.is_number_unsigned())
		return j.get<uint64_t>();
	if (j.is_number_integer() && j.get<int64_t>() >= 0)
		return static_cast<uint64_t>(j.get<int64_t>());
	throw ImportError(where, "expected an unsigned integer, got " + (j.is_number() ? j.dump() : type_name(j)));
}

std::vector<std::string> get_strings(const json &j, const std::string &where)
{
	std::vector<std::string> out;
	// Go's encoding/json reads null as an empty slice, and profiles in the
	// wild say `"subArchitectures": null`.
	if (j.is_null())
		return out;
	if (!j.is_array())
		throw ImportError(where, "expected an array of strings, got " + type_name(j));
	for (size_t i = 0; i < j.size(); i++)
		out.push_back(get_string(j[i], where + "[" + std::to_string(i) + "]"));
	return out;
}

void check_keys(const json &obj, std::initializer_list<const char *> known, const std::string &where)
{
	if (!obj.is_object())
		throw ImportError(where, "expected an object, got " + type_name(obj));
	for (auto it = obj.begin(); it != obj.end(); ++it) {
		bool ok = false;
		for (const char *k : known)
			ok = ok || it.key() == k;
		if (!ok) {
			std::string list;
			for (const char *k : known)
				list += (list.empty() ? "" : ", ") + std::string(k);
			throw ImportError(where.empty() ? it.key() : where + "." + it.key(),
					  "unknown key (known here: " + list + ")");
		}
	}
}

std::string errno_name(uint64_t e, const std::string &where)
{
	if (e == 0 || e > 4095)
		throw ImportError(where, "errno " + std::to_string(e) +
						 " cannot be expressed (bulwark takes 1..4095; 0 would make the call "
						 "succeed without running)");
	const char *n = strerrorname_np(static_cast<int>(e));
	if (!n)
		throw ImportError(where, "errno " + std::to_string(e) + " has no name on this system");
	return n;
}

// libseccomp's action names as the OCI spec spells them. errnoRet only means
// something to ERRNO (and TRACE); runc ignores it elsewhere, and so do we.
policy::SyscallAction parse_action(const std::string &name, const json *errno_ret, const std::string &where,
				   const std::string &errno_where)
{
	policy::SyscallAction a;
	using K = policy::SyscallActionKind;
	if (name == "SCMP_ACT_ALLOW")
		a.kind = K::Allow;
	else if (name == "SCMP_ACT_ERRNO") {
		a.kind = K::Errno;
		// runc's default when the profile gives none.
		uint64_t e = errno_ret ? get_u64(*errno_ret, errno_where) : EPERM;
		errno_name(e, errno_where);
		a.errno_value = static_cast<int>(e);
	} else if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD")
		a.kind = K::KillThread; // libseccomp's SCMP_ACT_KILL is the thread kill
	else if (name == "SCMP_ACT_KILL_PROCESS")
		a.kind = K::KillProcess;
	else if (name == "SCMP_ACT_LOG")
		a.kind = K::Log;
	else if (name == "SCMP_ACT_TRAP")
		a.kind = K::Trap;
	else if (name == "SCMP_ACT_TRACE" || name == "SCMP_ACT_NOTIFY")
		throw ImportError(
			where, name + " is not supported by bulwark (no tracer or seccomp agent to hand the call to)");
	else
		throw ImportError(
			where, "unknown action " + quote(name) +
				       " (expected SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, "
				       "SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_LOG or SCMP_ACT_TRAP)");
	return a;
}

std::string action_yaml(const policy::SyscallAction &a)
{
	using K = policy::SyscallActionKind;
	switch (a.kind) {
	case K::Allow:
		return "allow";
	case K::Errno:
		return "errno(" + std::string(strerrorname_np(a.errno_value)) + ")";
	case K::KillProcess:
		return "kill-process";
	case K::KillThread:
		return "kill-thread";
	case K::Log:
		return "log";
	case K::Trap:
		return "trap";
	}
	return "?";
}

bool same_action(const policy::SyscallAction &a, const policy::SyscallAction &b)
{
	return a.kind == b.kind && (a.kind != policy::SyscallActionKind::Errno || a.errno_value == b.errno_value);
}

struct OpName {
	const char *docker;
	const char *yaml;
	policy::ArgOp op;
};
constexpr OpName kOps[] = {
	{"SCMP_CMP_EQ", "eq", policy::ArgOp::Eq},
	{"SCMP_CMP_NE", "ne", policy::ArgOp::Ne},
	{"SCMP_CMP_LT", "lt", policy::ArgOp::Lt},
	{"SCMP_CMP_LE", "le", policy::ArgOp::Le},
	{"SCMP_CMP_GT", "gt", policy::ArgOp::Gt},
	{"SCMP_CMP_GE", "ge", policy::ArgOp::Ge},
	{"SCMP_CMP_MASKED_EQ", "masked-eq", policy::ArgOp::MaskedEq},
};

const char *op_yaml(policy::ArgOp op)
{
	for (const auto &o : kOps)
		if (o.op == op)
			return o.yaml;
	return "?";
}

std::string number(uint64_t v)
{
	if (v < 4096)
		return std::to_string(v);
	char buf[24];
	std::snprintf(buf, sizeof(buf), "0x%llX", static_cast<unsigned long long>(v));
	return buf;
}

policy::ArgCondition parse_arg(const json &j, const std::string &where)
{
	check_keys(j, {"index", "value", "valueTwo", "op"}, where);
	policy::ArgCondition c;
	uint64_t index = get_u64(need(j, "index", where), where + ".index");
	if (index > 5)
		throw ImportError(where + ".index", "argument index " + std::to_string(index) + " out of range 0..5");
	c.index = static_cast<unsigned>(index);
	std::string op = get_string(need(j, "op", where), where + ".op");
	const OpName *found = nullptr;
	for (const auto &o : kOps)
		if (op == o.docker)
			found = &o;
	if (!found)
		throw ImportError(where + ".op",
				  "unknown operator " + quote(op) +
					  " (expected SCMP_CMP_EQ, SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, "
					  "SCMP_CMP_GT, SCMP_CMP_GE or SCMP_CMP_MASKED_EQ)");
	c.op = found->op;
	// Go zero-values absent fields; libseccomp reads the mask from `value`
	// and the datum from `valueTwo` for SCMP_CMP_MASKED_EQ.
	uint64_t value = j.contains("value") ? get_u64(j["value"], where + ".value") : 0;
	uint64_t two = j.contains("valueTwo") ? get_u64(j["valueTwo"], where + ".valueTwo") : 0;
	if (c.op == policy::ArgOp::MaskedEq) {
		c.mask = value;
		c.value = two;
	} else {
		c.value = value;
	}
	return c;
}

std::string join(const std::vector<std::string> &v, const char *sep = ", ")
{
	std::string out;
	for (const auto &s : v)
		out += (out.empty() ? "" : sep) + s;
	return out;
}

// A syscall name in the filter's ABIs, as seccomp/syscalls.cc decides it:
// x86 reaches socket and IPC calls through its multiplexers.
bool exists_on_any(const std::string &name, const std::vector<uint32_t> &arches)
{
	for (uint32_t arch : arches) {
		int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
		if (nr >= 0 || (arch == SCMP_ARCH_X86 && nr <= -101 && nr >= -299))
			return true;
	}
	return false;
}

std::string arch_list_yaml(const std::vector<std::string> &v)
{
	return "[" + join(v) + "]";
}

// Wraps a flow list so the file stays readable; YAML allows breaks anywhere
// between flow items as long as continuation lines are indented.
void write_names(std::ostringstream &out, const std::vector<std::string> &names)
{
	const size_t width = 96;
	std::string line = "  - names: [";
	for (size_t i = 0; i < names.size(); i++) {
		std::string item = names[i] + (i + 1 < names.size() ? "," : "]");
		if (line.size() + 1 + item.size() > width && line.back() != '[') {
			out << line << "\n";
			line = "      ";
		} else if (line.back() != '[' && line != "      ") {
			line += " ";
		}
		line += item;
	}
	if (names.empty())
		line += "]";
	out << line << "\n";
}

// "#   text", broken after ", " so no line runs past ~100 columns.
void write_comment(std::ostringstream &out, const std::string &text)
{
	const size_t width = 96;
	std::string line = "#   ";
	size_t i = 0;
	while (i < text.size()) {
		size_t next = text.find(", ", i);
		next = next == std::string::npos ? text.size() : next + 2;
		std::string piece = text.substr(i, next - i);
		if (line.size() + piece.size() > width && line != "#   " && line != "#       ") {
			while (!line.empty() && line.back() == ' ')
				line.pop_back();
			out << line << "\n";
			line = "#       ";
		}
		line += piece;
		i = next;
	}
	out << line << "\n";
}

struct Context {
	std::vector<std::string> caps;
	Version kernel;
};

bool has_cap(const Context &ctx, const std::string &cap)
{
	return std::find(ctx.caps.begin(), ctx.caps.end(), cap) != ctx.caps.end();
}

std::string normalize_cap(std::string c)
{
	for (auto &ch : c)
		ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
	if (c.rfind("CAP_", 0) != 0)
		c = "CAP_" + c;
	if (c.size() <= 4)
		throw ImportError("", "--cap: empty capability name");
	for (char ch : c)
		if (!(std::isupper(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) ||
		      ch == '_'))
			throw ImportError("", "--cap " + quote(c) + ": not a capability name");
	return c;
}

Version parse_min_kernel(const json &j, const std::string &where)
{
	Version v;
	if (!parse_version(get_string(j, where), v))
		throw ImportError(where, "expected a kernel version like \"4.8\", got " + j.dump());
	return v;
}

// Docker's own filter: why an entry does not apply to this container, or "".
std::string not_applicable(const json &entry, const Context &ctx, const std::string &where)
{
	std::string why;
	auto filter = [&](const char *key, bool include) {
		std::string w = where + "." + key;
		auto it = entry.find(key);
		if (it == entry.end() || it->is_null())
			return;
		check_keys(*it, {"caps", "arches", "minKernel"}, w);
		std::vector<std::string> arches = it->contains("arches") ? get_strings((*it)["arches"], w + ".arches")
									 : std::vector<std::string>{};
		std::vector<std::string> caps =
			it->contains("caps") ? get_strings((*it)["caps"], w + ".caps") : std::vector<std::string>{};
		bool has_min = it->contains("minKernel") && !(*it)["minKernel"].is_null() &&
			       !((*it)["minKernel"].is_string() && (*it)["minKernel"].get<std::string>().empty());
		Version min;
		if (has_min)
			min = parse_min_kernel((*it)["minKernel"], w + ".minKernel");
		if (!why.empty())
			return;
		bool arch_in = std::find(arches.begin(), arches.end(), kGoArch) != arches.end();
		if (include) {
			if (!arches.empty() && !arch_in)
				why = "only for arches " + join(arches) + ", not " + kGoArch;
			for (const auto &c : caps)
				if (why.empty() && !has_cap(ctx, c))
					why = "needs " + c + ", which the container does not have";
			if (why.empty() && has_min && ctx.kernel < min)
				why = "needs kernel " + min.str() + ", kernel is " + ctx.kernel.str();
		} else {
			if (arch_in)
				why = std::string("excluded on ") + kGoArch;
			for (const auto &c : caps)
				if (why.empty() && has_cap(ctx, c))
					why = "excluded with " + c + ", which the container has";
			if (why.empty() && has_min && !(ctx.kernel < min))
				why = "excluded from kernel " + min.str() + " on, kernel is " + ctx.kernel.str();
		}
	};
	// Docker checks excludes first; either way the entry is out, and the
	// first reason found is the one worth reporting.
	filter("excludes", false);
	filter("includes", true);
	return why;
}

struct ArchInfo {
	const char *scmp;
	const char *bulwark; // nullptr: an ABI an x86_64 kernel never runs
};
constexpr ArchInfo kKnownArches[] = {
	{"SCMP_ARCH_X86_64", "x86_64"},     {"SCMP_ARCH_X86", "x86"},        {"SCMP_ARCH_X32", "x32"},
	{"SCMP_ARCH_ARM", nullptr},         {"SCMP_ARCH_AARCH64", nullptr},  {"SCMP_ARCH_LOONGARCH64", nullptr},
	{"SCMP_ARCH_M68K", nullptr},        {"SCMP_ARCH_MIPS", nullptr},     {"SCMP_ARCH_MIPS64", nullptr},
	{"SCMP_ARCH_MIPS64N32", nullptr},   {"SCMP_ARCH_MIPSEL", nullptr},   {"SCMP_ARCH_MIPSEL64", nullptr},
	{"SCMP_ARCH_MIPSEL64N32", nullptr}, {"SCMP_ARCH_PPC", nullptr},      {"SCMP_ARCH_PPC64", nullptr},
	{"SCMP_ARCH_PPC64LE", nullptr},     {"SCMP_ARCH_S390", nullptr},     {"SCMP_ARCH_S390X", nullptr},
	{"SCMP_ARCH_PARISC", nullptr},      {"SCMP_ARCH_PARISC64", nullptr}, {"SCMP_ARCH_RISCV64", nullptr},
	{"SCMP_ARCH_SH", nullptr},          {"SCMP_ARCH_SHEB", nullptr},
};

const ArchInfo &find_arch(const std::string &name, const std::string &where)
{
	for (const auto &a : kKnownArches)
		if (name == a.scmp)
			return a;
	throw ImportError(where, "unknown architecture " + quote(name));
}

uint32_t arch_token(const std::string &bulwark_name)
{
	if (bulwark_name == "x86")
		return SCMP_ARCH_X86;
	if (bulwark_name == "x32")
		return SCMP_ARCH_X32;
	return SCMP_ARCH_X86_64;
}

} // namespace

Imported import_docker(const std::string &json_text, const ImportOptions &opts, const std::string &source)
{
	Context ctx;
	if (opts.caps.empty()) {
		ctx.caps = docker_default_caps();
	} else {
		for (const auto &c : opts.caps)
			ctx.caps.push_back(normalize_cap(c));
	}
	std::sort(ctx.caps.begin(), ctx.caps.end());
	ctx.caps.erase(std::unique(ctx.caps.begin(), ctx.caps.end()), ctx.caps.end());
	if (!opts.kernel.empty()) {
		if (!parse_version(opts.kernel, ctx.kernel))
			throw ImportError("", "--kernel " + quote(opts.kernel) + ": expected a version like 5.15");
	} else {
		struct utsname u;
		if (uname(&u) != 0 || !parse_version(u.release, ctx.kernel))
			throw ImportError("", "cannot tell the running kernel's version; pass --kernel X.Y");
	}

	json doc;
	try {
		doc = json::parse(json_text);
	} catch (const json::parse_error &e) {
		// e.what() has nlohmann's "[json.exception.parse_error.101] " prefix.
		std::string msg = e.what();
		auto p = msg.find("] ");
		throw ImportError("", "not valid JSON: " + (p == std::string::npos ? msg : msg.substr(p + 2)));
	}
	check_keys(doc,
		   {"defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls", "flags", "listenerPath",
		    "listenerMetadata"},
		   "");

	Imported out;
	policy::Policy &pol = out.policy;
	std::vector<std::string> notes; // comment lines for the header

	std::string def_name = get_string(need(doc, "defaultAction", "(top level)"), "defaultAction");
	pol.defaults.syscalls =
		parse_action(def_name, doc.contains("defaultErrnoRet") ? &doc["defaultErrnoRet"] : nullptr,
			     "defaultAction", "defaultErrnoRet");
	pol.defaults.syscalls_set = true;

	if (doc.contains("flags")) {
		auto flags = get_strings(doc["flags"], "flags");
		for (size_t i = 0; i < flags.size(); i++)
			// TSYNC is implied (bulwark loads before exec, single-threaded);
			// LOG and SPEC_ALLOW change what the kernel does.
			if (flags[i] != "SECCOMP_FILTER_FLAG_TSYNC")
				throw ImportError("flags[" + std::to_string(i) + "]",
						  "filter flag " + flags[i] + " is not supported");
	}
	if (doc.contains("listenerPath") && !doc["listenerPath"].is_null() &&
	    !get_string(doc["listenerPath"], "listenerPath").empty())
		throw ImportError("listenerPath", "seccomp agents (SCMP_ACT_NOTIFY) are not supported");

	// The filter's ABIs, as Docker would pick them on an x86_64 host.
	std::vector<std::string> arches = {"x86_64"};
	auto add_arch = [&](const std::string &scmp, const std::string &where) {
		const ArchInfo &a = find_arch(scmp, where);
		if (!a.bulwark) {
			notes.push_back("architecture " + scmp + " left out: an x86_64 kernel never runs it");
			return;
		}
		if (std::find(arches.begin(), arches.end(), a.bulwark) == arches.end())
			arches.push_back(a.bulwark);
	};
	bool has_list =
		doc.contains("architectures") && !doc["architectures"].is_null() && !doc["architectures"].empty();
	bool has_map = doc.contains("archMap") && !doc["archMap"].is_null() && !doc["archMap"].empty();
	if (has_list && has_map)
		throw ImportError("", "both \"architectures\" and \"archMap\" are given; Docker refuses that too");
	if (has_list) {
		auto list = get_strings(doc["architectures"], "architectures");
		for (size_t i = 0; i < list.size(); i++)
			add_arch(list[i], "architectures[" + std::to_string(i) + "]");
	} else if (has_map) {
		const json &map = doc["archMap"];
		if (!map.is_array())
			throw ImportError("archMap", "expected an array, got " + type_name(map));
		bool seen = false;
		for (size_t i = 0; i < map.size(); i++) {
			std::string w = "archMap[" + std::to_string(i) + "]";
			check_keys(map[i], {"architecture", "subArchitectures"}, w);
			std::string arch = get_string(need(map[i], "architecture", w), w + ".architecture");
			find_arch(arch, w + ".architecture");
			auto subs = map[i].contains("subArchitectures")
					    ? get_strings(map[i]["subArchitectures"], w + ".subArchitectures")
					    : std::vector<std::string>{};
			for (size_t k = 0; k < subs.size(); k++)
				find_arch(subs[k], w + ".subArchitectures[" + std::to_string(k) + "]");
			// Docker takes the first entry for the host's architecture.
			if (arch != "SCMP_ARCH_X86_64" || seen)
				continue;
			seen = true;
			for (size_t k = 0; k < subs.size(); k++)
				add_arch(subs[k], w + ".subArchitectures[" + std::to_string(k) + "]");
		}
	}
	pol.architectures = arches;
	std::vector<uint32_t> tokens;
	for (const auto &a : arches)
		tokens.push_back(arch_token(a));

	struct Out {
		std::string comment; // "syscalls[3]" plus notes
		policy::SyscallEntry entry;
	};
	std::vector<Out> entries;
	std::vector<std::string> dropped;

	const json empty = json::array();
	const json &calls = doc.contains("syscalls") && !doc["syscalls"].is_null() ? doc["syscalls"] : empty;
	if (!calls.is_array())
		throw ImportError("syscalls", "expected an array, got " + type_name(calls));
	for (size_t i = 0; i < calls.size(); i++) {
		const std::string w = "syscalls[" + std::to_string(i) + "]";
		const json &c = calls[i];
		check_keys(c, {"names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes"}, w);

		std::vector<std::string> names;
		bool has_names = c.contains("names") && !c["names"].is_null() && !c["names"].empty();
		bool has_name =
			c.contains("name") && !c["name"].is_null() && !get_string(c["name"], w + ".name").empty();
		if (has_names && has_name)
			throw ImportError(w, "both \"name\" and \"names\" are given; Docker refuses that too");
		if (has_names)
			names = get_strings(c["names"], w + ".names");
		else if (has_name)
			names = {c["name"].get<std::string>()};
		else
			throw ImportError(w, "no syscall names (\"names\" or \"name\")");
		for (size_t k = 0; k < names.size(); k++)
			if (names[k].empty() || names[k].find_first_of(" \t\n,[]{}:#'\"") != std::string::npos)
				throw ImportError(w + ".names[" + std::to_string(k) + "]",
						  "not a syscall name: " + quote(names[k]));

		policy::SyscallAction act =
			parse_action(get_string(need(c, "action", w), w + ".action"),
				     c.contains("errnoRet") && !c["errnoRet"].is_null() ? &c["errnoRet"] : nullptr,
				     w + ".action", w + ".errnoRet");

		std::vector<policy::ArgCondition> args;
		if (c.contains("args") && !c["args"].is_null()) {
			if (!c["args"].is_array())
				throw ImportError(w + ".args", "expected an array, got " + type_name(c["args"]));
			for (size_t k = 0; k < c["args"].size(); k++)
				args.push_back(parse_arg(c["args"][k], w + ".args[" + std::to_string(k) + "]"));
		}

		std::string why = not_applicable(c, ctx, w);
		if (!why.empty()) {
			dropped.push_back(w + " (" + join(names) + "): " + why);
			continue;
		}
		// runc's rule: an entry that repeats the default is not added.
		if (same_action(act, pol.defaults.syscalls)) {
			dropped.push_back(w + " (" + join(names) + "): same action as the default");
			continue;
		}

		std::string note;
		std::vector<std::string> kept, unknown, absent;
		for (const auto &n : names) {
			// runc skips names libseccomp does not know; libseccomp skips
			// names an ABI lacks.
			if (seccomp_syscall_resolve_name(n.c_str()) == __NR_SCMP_ERROR)
				unknown.push_back(n);
			else if (!exists_on_any(n, tokens))
				absent.push_back(n);
			else
				kept.push_back(n);
		}
		if (!unknown.empty())
			note += "\n  # left out, unknown to libseccomp (Docker's runtime skips them too): " +
				join(unknown);
		if (!absent.empty())
			note += "\n  # left out, not a syscall on " + join(arches) + ": " + join(absent);
		if (kept.empty()) {
			dropped.push_back(w + " (" + join(names) + "): none of its syscalls exist here");
			continue;
		}

		// runc: two conditions on the same argument become separate rules,
		// i.e. either may hold.
		bool repeated = false;
		for (size_t a = 0; a < args.size(); a++)
			for (size_t b = a + 1; b < args.size(); b++)
				repeated = repeated || args[a].index == args[b].index;
		std::vector<std::vector<policy::ArgCondition>> groups;
		if (repeated) {
			for (const auto &a : args)
				groups.push_back({a});
			note += "\n  # conditions on the same argument: Docker's runtime adds one rule per condition "
				"(any may hold)";
		} else {
			groups.push_back(args);
		}
		for (size_t g = 0; g < groups.size(); g++) {
			Out o;
			o.comment = w + (groups.size() > 1 ? " args[" + std::to_string(g) + "]" : "") +
				    (g == 0 ? note : "");
			o.entry.names = kept;
			o.entry.action = act;
			o.entry.args = groups[g];
			entries.push_back(std::move(o));
		}
	}

	for (const auto &o : entries)
		pol.syscalls.push_back(o.entry);
	pol.name = opts.name;
	if (pol.name.empty()) {
		std::string base = source.substr(source.find_last_of('/') + 1);
		if (base.size() > 5 && base.compare(base.size() - 5, 5, ".json") == 0)
			base.resize(base.size() - 5);
		pol.name = base.empty() ? "imported" : base;
	}

	std::ostringstream y;
	std::string src = source.substr(source.find_last_of('/') + 1);
	y << "# Generated by `bulwark import docker` from " << src << ".\n";
	y << "# Docker decides a profile's includes/excludes when it starts a container; this\n";
	y << "# file is that decision made for one container:\n";
	y << "#   architecture: x86_64 (Go arch " << kGoArch << ")\n";
	y << "#   kernel: " << ctx.kernel.str()
	  << (opts.kernel.empty() ? " (the running kernel; --kernel X.Y to change)" : " (--kernel)") << "\n";
	y << "#   capabilities: " << (opts.caps.empty() ? "Docker's default set" : "from --cap") << "\n";
	{
		std::string line = "#    ";
		for (size_t i = 0; i < ctx.caps.size(); i++) {
			std::string item = " " + ctx.caps[i] + (i + 1 < ctx.caps.size() ? "," : "");
			if (line.size() + item.size() > 96) {
				y << line << "\n";
				line = "#    ";
			}
			line += item;
		}
		y << line << "\n";
	}
	if (opts.caps.empty())
		y << "#   (--cap CAP, repeatable, for a container started with other capabilities)\n";
	for (const auto &n : notes)
		y << "# " << n << "\n";
	if (!dropped.empty()) {
		y << "# Entries that do not apply to this container:\n";
		for (const auto &d : dropped)
			write_comment(y, d);
	}
	y << "name: " << pol.name << "\n";
	y << "architectures: " << arch_list_yaml(arches) << "\n";
	y << "default:\n  syscalls: " << action_yaml(pol.defaults.syscalls) << "\n";
	if (entries.empty()) {
		y << "syscalls: []\n";
	} else {
		y << "syscalls:\n";
		for (const auto &o : entries) {
			y << "  # " << o.comment << "\n";
			write_names(y, o.entry.names);
			y << "    action: " << action_yaml(o.entry.action) << "\n";
			if (!o.entry.args.empty()) {
				y << "    args:\n";
				for (const auto &a : o.entry.args) {
					y << "      - {index: " << a.index << ", op: " << op_yaml(a.op);
					if (a.op == policy::ArgOp::MaskedEq)
						y << ", mask: " << number(a.mask);
					y << ", value: " << number(a.value) << "}\n";
				}
			}
		}
	}
	out.yaml = y.str();
	return out;
}

int run_import_docker(const ImportOptions &opts)
{
	const std::string prefix = "bulwark: import docker: ";
	std::ifstream in(opts.profile, std::ios::binary);
	if (!in) {
		std::cerr << prefix << opts.profile << ": cannot read: " << std::strerror(errno) << "\n";
		return 2;
	}
	std::stringstream buf;
	buf << in.rdbuf();
	Imported imp;
	try {
		imp = import_docker(buf.str(), opts, opts.profile);
	} catch (const ImportError &e) {
		std::cerr << prefix << opts.profile << ": " << e.what() << "\n";
		return 2;
	}
	if (opts.output.empty() || opts.output == "-") {
		std::cout << imp.yaml << std::flush;
		return std::cout ? 0 : 2;
	}
	// Written next to the target and renamed, so a failed run never leaves
	// half a policy behind.
	std::string tmp = opts.output + ".tmp";
	{
		std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
		o << imp.yaml;
		o.close();
		if (!o) {
			std::cerr << prefix << opts.output << ": cannot write: " << std::strerror(errno) << "\n";
			std::remove(tmp.c_str());
			return 2;
		}
	}
	if (std::rename(tmp.c_str(), opts.output.c_str()) != 0) {
		std::cerr << prefix << opts.output << ": cannot write: " << std::strerror(errno) << "\n";
		std::remove(tmp.c_str());
		return 2;
	}
	return 0;
}

} // namespace bulwark
