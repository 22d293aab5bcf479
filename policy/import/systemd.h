// SPDX-License-Identifier: Apache-2.0
//
// `bulwark import systemd`: a unit's SystemCallFilter= (with
// SystemCallErrorNumber= and SystemCallArchitectures=) turned into a bulwark
// policy with the same seccomp behaviour on x86_64. systemd's @sets are
// expanded with the host's own definitions (`systemd-analyze syscall-filter`),
// because they change between systemd versions and the unit means the ones
// of the systemd that runs it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "policy/import/docker.h"

namespace bulwark {

struct SystemdImportOptions {
	std::string unit;                // the unit file; "" with --set
	std::vector<std::string> sets;   // --set: SystemCallFilter= values instead of a unit
	std::string error_number;        // --errno, with --set: SystemCallErrorNumber=
	std::vector<std::string> arches; // --arch, with --set: SystemCallArchitectures=
	std::string output;              // "" or "-" = stdout
	std::string name;                // policy name; "" = the unit's name
};

// systemd's syscall sets, "@mount" -> its members (syscall names and other
// "@sets"), as `systemd-analyze syscall-filter` prints them.
using SyscallSets = std::map<std::string, std::vector<std::string>>;

// Reads that command's output. Throws ImportError (where: "systemd-analyze
// syscall-filter:LINE").
SyscallSets parse_syscall_sets(const std::string &text);
// Runs it. Throws ImportError when it cannot be run.
SyscallSets host_syscall_sets();

// Converts a unit file's text. `source` names it in errors ("SOURCE:LINE:
// ...") and in the output's header. Throws ImportError.
Imported import_systemd_unit(const std::string &unit_text, const SyscallSets &sets, const SystemdImportOptions &opts,
			     const std::string &source);
// Converts opts.sets, opts.error_number and opts.arches. Each --set is one
// SystemCallFilter= line, and a word starting with "~" after the first
// starts another, whose words the "~" covers as it would in a unit:
// "@system-service ~@privileged @resources" allows @system-service but
// neither @privileged nor @resources. Errors say "--set:N" for the Nth --set.
Imported import_systemd_sets(const SyscallSets &sets, const SystemdImportOptions &opts);

// The subcommand. 0 on success; 2 with a message on stderr, and nothing
// written, when the unit (or an option) cannot be used.
int run_import_systemd(const SystemdImportOptions &opts);

} // namespace bulwark
