// SPDX-License-Identifier: Apache-2.0
//
// `bulwark import docker`: a Docker/OCI seccomp profile (moby's JSON format)
// turned into a bulwark policy with the same seccomp behaviour, for one
// concrete container: x86_64, a given capability set and kernel version.
// Docker decides includes/excludes when it starts the container; a bulwark
// policy has no such conditions, so they are decided here instead.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace bulwark {

struct ImportOptions {
	std::string profile;           // the JSON file
	std::string output;            // "" or "-" = stdout
	std::vector<std::string> caps; // --cap, repeatable; empty = docker_default_caps()
	std::string kernel;            // --kernel X.Y[.Z]; "" = the running kernel
	std::string name;              // policy name; "" = the profile's file name without .json
};

// What Docker grants a container unless told otherwise (moby's
// oci/caps/defaults.go), "CAP_" spelling.
const std::vector<std::string> &docker_default_caps();

// A profile the converter cannot translate faithfully. where() is a JSON path
// ("syscalls[12].args[0].op", "" for the whole document); what() starts with it.
class ImportError : public std::runtime_error {
public:
	ImportError(const std::string &where, const std::string &message);
	const std::string &where() const { return where_; }

private:
	std::string where_;
};

struct Imported {
	policy::Policy policy; // what the YAML parses to (names, actions, args, arches, default)
	std::string yaml;      // the policy file, with comments on what was left out and why
};

// Converts profile text. `source` names the profile in the output's header.
// Throws ImportError.
Imported import_docker(const std::string &json_text, const ImportOptions &opts,
		       const std::string &source = "profile.json");

// The subcommand: reads opts.profile, writes the YAML. 0 on success; 2 with a
// message on stderr when the profile (or an option) cannot be used.
int run_import_docker(const ImportOptions &opts);

} // namespace bulwark
