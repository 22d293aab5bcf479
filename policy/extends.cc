// SPDX-License-Identifier: Apache-2.0
//
// `extends:`: finding the policies a file names, loading them (and theirs)
// base first, and merging each into the file that names it.

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "policy/parse_internal.h"

namespace bulwark::policy::internal {

namespace {

std::string normal(const std::string &file)
{
	return std::filesystem::path(file).lexically_normal().string();
}

} // namespace

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

SourceFn wrap(const ExtendsResolver &resolver)
{
	return [resolver](const std::string &name, const std::string &from) -> Source {
		auto r = resolver(name, from);
		if (!r)
			return {"", "", "cannot find policy '" + name + "'"};
		return {r->first, r->second, ""};
	};
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
		const std::string problem = src.error.empty() ? cycle(src.file) : src.error;
		if (!problem.empty()) {
			error(at, problem);
			merged.dropped = true;
			continue;
		}
		if (loaded_.count(normal(src.file)))
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

std::string Loader::cycle(const std::string &base_file) const
{
	const std::string key = normal(base_file);
	auto on_stack = std::find_if(stack_.begin(), stack_.end(), [&](const auto &s) { return s.first == key; });
	if (on_stack == stack_.end())
		return "";
	std::string chain;
	for (auto it = on_stack; it != stack_.end(); ++it)
		chain += it->second + " -> ";
	return "extends cycle: " + chain + base_file;
}

void Loader::merge_rules(FileResult &into, FileResult &from)
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
}

void Loader::merge(FileResult &into, FileResult &&from, bool from_base)
{
	Policy &p = into.policy;
	Policy &f = from.policy;
	merge_rules(into, from);
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
	if (from.access_set & AccessRead)
		p.defaults.read_deny = f.defaults.read_deny;
	if (from.access_set & AccessWrite)
		p.defaults.write_deny = f.defaults.write_deny;
	if (from.access_set & AccessExec)
		p.defaults.exec_deny = f.defaults.exec_deny;
	if (from.access_set) {
		into.access_set |= from.access_set;
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

} // namespace bulwark::policy::internal
