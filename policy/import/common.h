// SPDX-License-Identifier: Apache-2.0
//
// What every `bulwark import` converter shares: which syscall names a
// filter can hold, the YAML's layout, and writing the result. Not an API.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace bulwark::import_common {

// A converter's names sorted by what a filter on `arches` (bulwark names)
// can do with them, as seccomp/syscalls.cc decides it.
struct NameSplit {
	std::vector<std::string> kept;
	std::vector<std::string> unknown; // libseccomp has never heard of them
	std::vector<std::string> absent;  // known, but not a syscall of any of the arches
};
NameSplit split_names(const std::vector<std::string> &names, const std::vector<std::string> &arches);

// "  - names: [a, b, ...]" wrapped at ~100 columns.
void write_names(std::ostringstream &out, const std::vector<std::string> &names);
// "#   text", broken after ", " so no line runs past ~100 columns; every
// line starts with `indent`.
void write_comment(std::ostringstream &out, const std::string &text, const std::string &indent = "");

// Writes `text` to `output` ("" or "-": stdout). 0, or 2 with
// "<prefix>OUTPUT: cannot write: ..." on stderr. A file is written next to
// the target and renamed, so a failed run never leaves half a policy behind.
int write_output(const std::string &text, const std::string &output, const std::string &prefix);

} // namespace bulwark::import_common
