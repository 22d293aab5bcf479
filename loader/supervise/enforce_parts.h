// SPDX-License-Identifier: Apache-2.0
// What the enforcer's parts share: locks on a pin directory, the scope on
// this machine, and the checks a policy passes before it is in force.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "loader/kernel/fd.h"
#include "loader/kernel/lsm.h"
#include "policy/policy.h"

namespace bulwark {

void say(const std::string &line);
std::string abs_path(const std::string &p);
// Parses file, printing its diagnostics; nullopt when it has errors.
std::optional<policy::Policy> load_policy(const std::string &file);

// --- pins.cc: one writer and one enforcer per pin directory
// One writer at a time per pin directory: the enforcer's SIGHUP and any
// number of `bulwark reload` runs all fill the inactive generation.
Fd lock_pins(const std::string &pin_dir);
// One enforcer per pin directory, for its whole life.
Fd hold_enforcer_lock(const std::string &pin_dir);

// --- scope.cc: the scope while enforcing
// Marks running processes of an exe scope (and descendants) through
// confine (which throws Error, ESRCH for one gone); returns how many.
int adopt_running_exe(const LsmScope &scope, const std::function<void(pid_t)> &confine);
// Marks the enforcer itself: never a subject of its own scope.
void mark_supervisor(const LsmMaps &m);

// Follows the scope's path: a package upgrade replaces the binary (new
// inode), a service restart recreates its cgroup (new id). Re-resolves it
// and, when it names something else now, points the config there (one
// update of the config value; other fields as read). Called every tick.
struct ScopeFollower {
	LsmScope scope;
	std::string pin_dir;
	bool gone_said = false;

	// locked: the caller holds the pin lock already.
	void tick(const LsmMaps &m, bool locked = false);
	// What the path names now (false: nothing yet, said once); what says
	// it for the log.
	bool resolve(LsmScope &now, std::string &what);
	void say_moved(const std::string &what) const;
};

// --- reload.cc: what a policy must pass to be put in force
// One line per missing piece, each with its fix. Fatal ones make enforce
// exit; hooks missing from this kernel are fatal unless --allow-degraded.
struct Probe {
	std::vector<std::string> fatal;
	std::vector<std::string> missing_hooks;
};
Probe probe(const LsmNeeds &needs);

// The one check before a policy replaces the running one, for SIGHUP and
// `bulwark reload` alike: no rule that no layer can enforce under this
// scope (unless allow_degraded), and none that needs a hook this kernel
// lacks. Says why not.
// pin_dir: where the running programs are pinned ("" for an unpinned
// enforcer, whose process has the kernel's BTF parsed already).
bool reload_allowed(const policy::Policy &pol, const LsmScope &scope, bool allow_degraded,
		    const std::string &pin_dir = "");

} // namespace bulwark
