// SPDX-License-Identifier: Apache-2.0
//
// The conversion, step by step: the container (capabilities, kernel), the
// profile's default and filter-wide settings, its architectures, each
// syscall group with its args and includes/excludes, and the YAML written
// out with what was left out and why.
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

#include "policy/import/common.h"
#include "policy/import/docker_profile.h"

namespace bulwark {

using nlohmann::json;
using namespace docker_profile;

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

std::string number(uint64_t v)
{
	if (v < 4096)
		return std::to_string(v);
	char buf[24];
	std::snprintf(buf, sizeof(buf), "0x%llX", static_cast<unsigned long long>(v));
	return buf;
}

std::string arch_list_yaml(const std::vector<std::string> &v)
{
	return "[" + join(v) + "]";
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

// Why one "includes" (include) or "excludes" object rules an entry out for
// this container, or "".
std::string filter_reason(const json &f, bool include, const Context &ctx, const std::string &w)
{
	check_keys(f, {"caps", "arches", "minKernel"}, w);
	std::vector<std::string> arches =
		f.contains("arches") ? get_strings(f["arches"], w + ".arches") : std::vector<std::string>{};
	std::vector<std::string> caps =
		f.contains("caps") ? get_strings(f["caps"], w + ".caps") : std::vector<std::string>{};
	bool has_min = f.contains("minKernel") && !f["minKernel"].is_null() &&
		       !(f["minKernel"].is_string() && f["minKernel"].get<std::string>().empty());
	Version min;
	if (has_min)
		min = parse_min_kernel(f["minKernel"], w + ".minKernel");
	std::string why;
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
	return why;
}

// Docker's own filter: why an entry does not apply to this container, or "".
std::string not_applicable(const json &entry, const Context &ctx, const std::string &where)
{
	// Docker checks excludes first; either way the entry is out, and the
	// first reason found is the one worth reporting. Both are read, so that
	// a malformed one is reported whatever the other says.
	std::string why;
	for (const auto &[key, include] : {std::make_pair("excludes", false), std::make_pair("includes", true)}) {
		auto it = entry.find(key);
		if (it == entry.end() || it->is_null())
			continue;
		std::string reason = filter_reason(*it, include, ctx, where + "." + key);
		if (why.empty())
			why = reason;
	}
	return why;
}

// The container the profile is decided for: its capabilities and kernel.
Context make_context(const ImportOptions &opts)
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
	return ctx;
}

json read_profile(const std::string &json_text)
{
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
		   {"defaultAction", "defaultErrnoRet", "defaultErrno", "architectures", "archMap", "syscalls", "flags",
		    "listenerPath", "listenerMetadata"},
		   "");
	check_errno_name(doc, "defaultErrno", "defaultErrnoRet", "");
	return doc;
}

policy::SyscallAction read_default(const json &doc)
{
	std::string name = get_string(need(doc, "defaultAction", "(top level)"), "defaultAction");
	return parse_action(name, doc.contains("defaultErrnoRet") ? &doc["defaultErrnoRet"] : nullptr, "defaultAction",
			    "defaultErrnoRet");
}

// What the filter would do differently from a plain seccomp load.
void check_unsupported(const json &doc)
{
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
}

// The filter's ABIs, as Docker would pick them on an x86_64 host; the ones
// left out are said in `notes`.
class ArchPicker {
public:
	explicit ArchPicker(std::vector<std::string> &notes) : notes_(notes) {}

	std::vector<std::string> pick(const json &doc)
	{
		bool has_list = non_empty(doc, "architectures"), has_map = non_empty(doc, "archMap");
		if (has_list && has_map)
			throw ImportError("",
					  "both \"architectures\" and \"archMap\" are given; Docker refuses that too");
		if (has_list) {
			auto list = get_strings(doc["architectures"], "architectures");
			for (size_t i = 0; i < list.size(); i++)
				add(list[i], "architectures[" + std::to_string(i) + "]");
		} else if (has_map) {
			pick_from_map(doc["archMap"]);
		}
		return arches_;
	}

private:
	void add(const std::string &scmp, const std::string &where)
	{
		const ArchInfo &a = find_arch(scmp, where);
		if (!a.bulwark) {
			notes_.push_back("architecture " + scmp + " left out: an x86_64 kernel never runs it");
			return;
		}
		if (std::find(arches_.begin(), arches_.end(), a.bulwark) == arches_.end())
			arches_.push_back(a.bulwark);
	}

	void pick_from_map(const json &map)
	{
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
				add(subs[k], w + ".subArchitectures[" + std::to_string(k) + "]");
		}
	}

	std::vector<std::string> &notes_;
	std::vector<std::string> arches_ = {"x86_64"};
};

std::vector<std::string> entry_names(const json &c, const std::string &w)
{
	std::vector<std::string> names;
	bool has_names = non_empty(c, "names");
	bool has_name = c.contains("name") && !c["name"].is_null() && !get_string(c["name"], w + ".name").empty();
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
	return names;
}

std::vector<policy::ArgCondition> entry_args(const json &c, const std::string &w)
{
	std::vector<policy::ArgCondition> args;
	if (!c.contains("args") || c["args"].is_null())
		return args;
	if (!c["args"].is_array())
		throw ImportError(w + ".args", "expected an array, got " + type_name(c["args"]));
	for (size_t k = 0; k < c["args"].size(); k++)
		args.push_back(parse_arg(c["args"][k], w + ".args[" + std::to_string(k) + "]"));
	return args;
}

// One policy entry: "syscalls[3]" plus notes for the comment above it.
struct Out {
	std::string comment;
	policy::SyscallEntry entry;
};

// The profile's `syscalls` turned into policy entries, and the reasons
// for those left out.
class Translator {
public:
	Translator(const Context &ctx, const policy::SyscallAction &def, const std::vector<std::string> &arches)
	    : ctx_(ctx), def_(def), arches_(arches)
	{
	}

	void translate(const json &doc)
	{
		const json empty = json::array();
		const json &calls = doc.contains("syscalls") && !doc["syscalls"].is_null() ? doc["syscalls"] : empty;
		if (!calls.is_array())
			throw ImportError("syscalls", "expected an array, got " + type_name(calls));
		for (size_t i = 0; i < calls.size(); i++)
			translate_entry(calls[i], "syscalls[" + std::to_string(i) + "]");
	}

	std::vector<Out> entries;
	std::vector<std::string> dropped;

private:
	void translate_entry(const json &c, const std::string &w)
	{
		check_keys(c,
			   {"names", "name", "action", "errnoRet", "errno", "args", "comment", "includes", "excludes"},
			   w);
		check_errno_name(c, "errno", "errnoRet", w);
		std::vector<std::string> names = entry_names(c, w);
		policy::SyscallAction act =
			parse_action(get_string(need(c, "action", w), w + ".action"),
				     c.contains("errnoRet") && !c["errnoRet"].is_null() ? &c["errnoRet"] : nullptr,
				     w + ".action", w + ".errnoRet");
		std::vector<policy::ArgCondition> args = entry_args(c, w);

		std::string why = not_applicable(c, ctx_, w);
		// runc's rule: an entry that repeats the default is not added.
		if (why.empty() && policy::same_action(act, def_))
			why = "same action as the default";
		std::string note;
		std::vector<std::string> kept = why.empty() ? present(names, note) : std::vector<std::string>{};
		if (why.empty() && kept.empty())
			why = "none of its syscalls exist here";
		if (!why.empty()) {
			dropped.push_back(w + " (" + join(names) + "): " + why);
			return;
		}
		add(w, kept, act, args, note);
	}

	// The names the filter can hold; the others are said in `note`.
	std::vector<std::string> present(const std::vector<std::string> &names, std::string &note) const
	{
		// runc skips names libseccomp does not know; libseccomp skips
		// names an ABI lacks.
		import_common::NameSplit s = import_common::split_names(names, arches_);
		if (!s.unknown.empty())
			note += "\n  # left out, unknown to libseccomp (Docker's runtime skips them too): " +
				join(s.unknown);
		if (!s.absent.empty())
			note += "\n  # left out, not a syscall on " + join(arches_) + ": " + join(s.absent);
		return s.kept;
	}

	void add(const std::string &w, const std::vector<std::string> &kept, const policy::SyscallAction &act,
		 const std::vector<policy::ArgCondition> &args, std::string note)
	{
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

	const Context &ctx_;
	policy::SyscallAction def_;
	const std::vector<std::string> &arches_;
};

std::string policy_name(const ImportOptions &opts, const std::string &source)
{
	if (!opts.name.empty())
		return opts.name;
	std::string base = source.substr(source.find_last_of('/') + 1);
	if (base.size() > 5 && base.compare(base.size() - 5, 5, ".json") == 0)
		base.resize(base.size() - 5);
	return base.empty() ? "imported" : base;
}

// The comment block: the container the file was decided for, and what was
// left out of it.
void write_header(std::ostringstream &y, const Context &ctx, const ImportOptions &opts, const std::string &source,
		  const std::vector<std::string> &notes, const std::vector<std::string> &dropped)
{
	std::string src = source.substr(source.find_last_of('/') + 1);
	y << "# Generated by `bulwark import docker` from " << src << ".\n";
	y << "# Docker decides a profile's includes/excludes when it starts a container; this\n";
	y << "# file is that decision made for one container:\n";
	y << "#   architecture: x86_64 (Go arch " << kGoArch << ")\n";
	y << "#   kernel: " << ctx.kernel.str()
	  << (opts.kernel.empty() ? " (the running kernel; --kernel X.Y to change)" : " (--kernel)") << "\n";
	y << "#   capabilities: " << (opts.caps.empty() ? "Docker's default set" : "from --cap") << "\n";
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
	if (opts.caps.empty())
		y << "#   (--cap CAP, repeatable, for a container started with other capabilities)\n";
	for (const auto &n : notes)
		y << "# " << n << "\n";
	if (!dropped.empty()) {
		y << "# Entries that do not apply to this container:\n";
		for (const auto &d : dropped)
			import_common::write_comment(y, d);
	}
}

void write_entries(std::ostringstream &y, const std::vector<Out> &entries)
{
	if (entries.empty()) {
		y << "syscalls: []\n";
		return;
	}
	y << "syscalls:\n";
	for (const auto &o : entries) {
		y << "  # " << o.comment << "\n";
		import_common::write_names(y, o.entry.names);
		y << "    action: " << policy::to_string(o.entry.action) << "\n";
		if (o.entry.args.empty())
			continue;
		y << "    args:\n";
		for (const auto &a : o.entry.args) {
			y << "      - {index: " << a.index << ", op: " << op_yaml(a.op);
			if (a.op == policy::ArgOp::MaskedEq)
				y << ", mask: " << number(a.mask);
			y << ", value: " << number(a.value) << "}\n";
		}
	}
}

} // namespace

Imported import_docker(const std::string &json_text, const ImportOptions &opts, const std::string &source)
{
	const Context ctx = make_context(opts);
	const json doc = read_profile(json_text);

	Imported out;
	policy::Policy &pol = out.policy;
	std::vector<std::string> notes; // comment lines for the header
	pol.defaults.syscalls = read_default(doc);
	pol.defaults.syscalls_set = true;
	check_unsupported(doc);
	pol.architectures = ArchPicker(notes).pick(doc);

	Translator t(ctx, pol.defaults.syscalls, pol.architectures);
	t.translate(doc);
	for (const auto &o : t.entries)
		pol.syscalls.push_back(o.entry);
	pol.name = policy_name(opts, source);

	std::ostringstream y;
	write_header(y, ctx, opts, source, notes, t.dropped);
	y << "name: " << pol.name << "\n";
	y << "architectures: " << arch_list_yaml(pol.architectures) << "\n";
	y << "default:\n  syscalls: " << policy::to_string(pol.defaults.syscalls) << "\n";
	write_entries(y, t.entries);
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
	return import_common::write_output(imp.yaml, opts.output, prefix);
}

} // namespace bulwark
