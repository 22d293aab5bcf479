// SPDX-License-Identifier: Apache-2.0
// What a policy must pass before it is in force, at start, on SIGHUP and
// through `bulwark reload`: one check for all three.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "loader/supervise/enforce.h"
#include "loader/supervise/enforce_parts.h"
#include "policy/catalog.h"

namespace bulwark {

void say(const std::string &line)
{
	std::fprintf(stderr, "%s\n", line.c_str());
}

std::string abs_path(const std::string &p)
{
	char buf[PATH_MAX];
	return realpath(p.c_str(), buf) ? std::string(buf) : p;
}

std::optional<policy::Policy> load_policy(const std::string &file)
{
	auto parsed = policy::parse_file(file);
	for (const auto &d : parsed.diagnostics)
		say(d.str());
	if (!parsed.ok())
		return std::nullopt;
	return *parsed.policy;
}

Probe probe(const LsmNeeds &needs)
{
	Probe p;
	std::string r = LsmLayer::lsm_inactive_reason();
	if (!r.empty())
		p.fatal.push_back(r);
	// No BTF is one of lsm_inactive_reason()'s lines.
	if (have_vmlinux_btf())
		for (const auto &h : hooks_needed(needs))
			if (!hook_exists(h))
				p.missing_hooks.push_back(h);
	// Whether program load is permitted is probed by the real load: a
	// separate probe would verify every program twice (seconds on a slow
	// machine); its failure is reported the same way (see run_enforce).
	return p;
}

namespace {

// A hook is on this kernel if a program of the running set is attached to
// it; only a hook without one is looked up in the kernel's BTF (a parse of
// several MiB, seconds on a slow machine, for `bulwark reload`).
bool hook_present(const std::string &hook, const std::string &pin_dir,
		  const std::map<std::string, std::vector<std::string>> &programs)
{
	if (!pin_dir.empty()) {
		auto it = programs.find(hook);
		if (it != programs.end())
			for (const auto &prog : it->second)
				if (access((pin_dir + "/link_" + prog).c_str(), F_OK) == 0)
					return true;
	}
	return !have_vmlinux_btf() || hook_exists(hook);
}

} // namespace

bool reload_allowed(const policy::Policy &pol, const LsmScope &scope, bool allow_degraded, const std::string &pin_dir)
{
	bool ok = true;
	for (const auto &n : policy::scope_notes(pol, scope.str()))
		if (n.lost && !allow_degraded) {
			say(n.loc.file + ":" + std::to_string(n.loc.line) + ": " + n.message);
			ok = false;
		}
	// Even degraded: the running programs are all there is, and a rule on
	// a hook this kernel lacks would be enforced by nothing.
	auto programs = pin_dir.empty() ? std::map<std::string, std::vector<std::string>>{} : lsm_programs_by_hook();
	for (const auto &h : hooks_needed(plan_lsm(pol).needs))
		if (!hook_present(h, pin_dir, programs)) {
			say("lsm: the new policy needs hook " + h + ", which this kernel lacks");
			ok = false;
		}
	return ok;
}

int run_reload(const ReloadOptions &o)
{
	auto pol = load_policy(o.policy);
	if (!pol)
		return 1;
	try {
		Fd lock = lock_pins(o.pin_dir);
		LsmMaps m = LsmMaps::open_pinned(o.pin_dir);
		bw_config cfg = m.read_config();
		LsmScope pinned;
		pinned.kind = cfg.scope;
		pinned.path.assign(cfg.scope_path, strnlen(cfg.scope_path, sizeof(cfg.scope_path)));
		if (!reload_allowed(*pol, pinned, o.allow_degraded, o.pin_dir)) {
			say("reload: refused; the running policy stays");
			return 1;
		}
		uint32_t gen = replace_policy(m, *pol, abs_path(o.policy), fnv1a(read_text(o.policy)));
		std::printf("enforce: %s now enforces %s (generation %u)\n", o.pin_dir.c_str(), o.policy.c_str(), gen);
	} catch (const std::exception &e) {
		say(e.what());
		say("reload: the running policy stays");
		return 1;
	}
	return 0;
}

} // namespace bulwark
