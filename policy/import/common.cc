// SPDX-License-Identifier: Apache-2.0
#include "policy/import/common.h"

#include <seccomp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "policy/import/docker_profile.h"

namespace bulwark::import_common {

namespace {

// x86 reaches socket and IPC calls through its multiplexers, so a negative
// (multiplexed) number there still names a call the filter can match.
bool exists_on_any(const std::string &name, const std::vector<uint32_t> &arches)
{
	for (uint32_t arch : arches) {
		int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
		if (nr >= 0 || (arch == SCMP_ARCH_X86 && nr <= -101 && nr >= -299))
			return true;
	}
	return false;
}

} // namespace

NameSplit split_names(const std::vector<std::string> &names, const std::vector<std::string> &arches)
{
	std::vector<uint32_t> tokens;
	for (const auto &a : arches)
		tokens.push_back(docker_profile::arch_token(a));
	NameSplit s;
	for (const auto &n : names) {
		if (seccomp_syscall_resolve_name(n.c_str()) == __NR_SCMP_ERROR)
			s.unknown.push_back(n);
		else if (!exists_on_any(n, tokens))
			s.absent.push_back(n);
		else
			s.kept.push_back(n);
	}
	return s;
}

// YAML allows breaks anywhere between flow items as long as continuation
// lines are indented.
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

void write_comment(std::ostringstream &out, const std::string &text, const std::string &indent)
{
	const size_t width = 96 - indent.size();
	std::string line = "#   ";
	size_t i = 0;
	while (i < text.size()) {
		size_t next = text.find(", ", i);
		next = next == std::string::npos ? text.size() : next + 2;
		std::string piece = text.substr(i, next - i);
		if (line.size() + piece.size() > width && line != "#   " && line != "#       ") {
			while (!line.empty() && line.back() == ' ')
				line.pop_back();
			out << indent << line << "\n";
			line = "#       ";
		}
		line += piece;
		i = next;
	}
	out << indent << line << "\n";
}

int write_output(const std::string &text, const std::string &output, const std::string &prefix)
{
	if (output.empty() || output == "-") {
		std::cout << text << std::flush;
		return std::cout ? 0 : 2;
	}
	std::string tmp = output + ".tmp";
	{
		std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
		o << text;
		o.close();
		if (!o) {
			std::cerr << prefix << output << ": cannot write: " << std::strerror(errno) << "\n";
			std::remove(tmp.c_str());
			return 2;
		}
	}
	if (std::rename(tmp.c_str(), output.c_str()) != 0) {
		std::cerr << prefix << output << ": cannot write: " << std::strerror(errno) << "\n";
		std::remove(tmp.c_str());
		return 2;
	}
	return 0;
}

} // namespace bulwark::import_common
