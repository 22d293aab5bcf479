// SPDX-License-Identifier: Apache-2.0
// Who the programs apply to: the scope a policy names, resolved on this
// machine into the ids bw_config carries.
#pragma once

#include <linux/types.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

extern "C" {
#include "bulwark.h"
}

namespace bulwark {

// Who the programs apply to (bw_config's scope fields).
struct LsmScope {
	uint32_t kind = BW_SCOPE_RUN; // enum bw_scope
	std::string path;             // cgroup directory or executable, as given
	uint64_t cgroup_id = 0;
	uint32_t cgroup_level = 0;
	uint32_t exe_dev = 0; // kernel dev_t
	uint64_t exe_ino = 0;

	// Resolves "run", "host", "cgroup:PATH", "exe:PATH" on this machine.
	// Throws Error("enforce: ...").
	static LsmScope parse(const std::string &spec);
	std::string str() const;
};

// The kernel's dev_t encoding (MAJOR << 20 | MINOR) of a userspace dev_t.
uint32_t kdev(dev_t d);
// "run", "cgroup", "exe", "host".
const char *scope_name(uint32_t kind);
// cgroup scope: fills s.cgroup_id and s.cgroup_level from s.path. strict
// (parse time): also checks that the path is a cgroup v2 directory named
// without "." / ".." or symlinks. Returns false (errno set) when the
// directory does not exist now; throws Error on a bad path.
bool resolve_cgroup(LsmScope &s, bool strict);

} // namespace bulwark
