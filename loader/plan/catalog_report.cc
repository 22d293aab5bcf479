// SPDX-License-Identifier: Apache-2.0
#include "loader/plan/catalog_report.h"

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "loader/kernel/lsm.h"
#include "policy/catalog.h"

namespace bulwark {

namespace {

using json = nlohmann::ordered_json;

const char *target_name(policy::HookTarget t)
{
	switch (t) {
	case policy::HookTargetName:
		return "bulwark.target";
	case policy::HookTargetPath:
		return "file.path";
	case policy::HookTargetDestination:
		return "destination";
	case policy::HookTargetSource:
		return "source";
	}
	return "?";
}

const char *detail_name(policy::HookDetail d)
{
	switch (d) {
	case policy::HookDetailNone:
		return "";
	case policy::HookDetailMountFlags:
		return "bulwark.mount_flags";
	case policy::HookDetailSocket:
		return "bulwark.socket";
	case policy::HookDetailArg:
		return "bulwark.arg";
	}
	return "?";
}

json strings(const std::vector<const char *> &v)
{
	json a = json::array();
	for (const char *s : v)
		a.push_back(s);
	return a;
}

json catalog()
{
	json words = json::array();
	for (const auto &w : policy::words())
		words.push_back({{"word", w.name},
				 {"syscalls", strings(w.syscalls)},
				 {"seccomp", w.seccomp_how},
				 {"hooks", strings(w.hooks)},
				 {"lsm", w.lsm_how},
				 {"gap", w.gap}});
	auto programs = lsm_programs_by_hook();
	json hooks = json::array();
	for (const auto &h : policy::hooks()) {
		auto it = programs.find(h.name);
		json progs = json::array();
		if (it != programs.end())
			for (const auto &p : it->second)
				progs.push_back(p);
		hooks.push_back({{"id", h.id},
				 {"hook", h.name},
				 {"category", h.category},
				 {"target", target_name(h.target)},
				 {"detail", detail_name(h.detail)},
				 {"escape", h.escape},
				 {"programs", progs}});
	}
	json builtins = json::array();
	for (const auto &b : policy::builtin_rules())
		builtins.push_back({{"index", b.index}, {"id", b.id}, {"description", b.description}});
	return {{"words", words}, {"hooks", hooks}, {"builtin_rules", builtins}};
}

std::string join(const json &a)
{
	std::string s;
	for (const auto &x : a)
		s += (s.empty() ? "" : ", ") + x.get<std::string>();
	return s.empty() ? "-" : s;
}

} // namespace

std::string catalog_json()
{
	return catalog().dump();
}

std::string catalog_text()
{
	json c = catalog();
	std::string out = "words (what a rule says; each layer that can see it enforces it):\n";
	for (const auto &w : c["words"]) {
		out += "  " + w["word"].get<std::string>() + "\n";
		out += "    seccomp: " + (w["seccomp"] == "" ? std::string("-") : w["seccomp"].get<std::string>()) +
		       "\n";
		out += "    lsm:     " + (w["lsm"] == "" ? std::string("-") : w["lsm"].get<std::string>()) + "\n";
		if (w["gap"] != "")
			out += "    gap:     " + w["gap"].get<std::string>() + "\n";
	}
	out += "hooks (LSM hook: event.category, where the target goes; programs):\n";
	for (const auto &h : c["hooks"]) {
		char line[256];
		std::snprintf(line, sizeof(line), "  %-3u %-22s %-14s %-15s %s\n", h["id"].get<unsigned>(),
			      h["hook"].get<std::string>().c_str(), h["category"].get<std::string>().c_str(),
			      h["target"].get<std::string>().c_str(), join(h["programs"]).c_str());
		out += line;
	}
	out += "built-in rules (denials bulwark makes on its own):\n";
	for (const auto &b : c["builtin_rules"])
		out += "  " + b["id"].get<std::string>() + ": " + b["description"].get<std::string>() + "\n";
	return out;
}

int run_catalog(const CatalogOptions &o)
{
	try {
		std::string s = o.json ? catalog_json() + "\n" : catalog_text();
		std::fputs(s.c_str(), stdout);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "%s\n", e.what());
		return 1;
	}
	return 0;
}

} // namespace bulwark
