// SPDX-License-Identifier: Apache-2.0
#include "loader/supervise/procfs.h"

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace bulwark {

std::vector<pid_t> children_of(const std::set<pid_t> &parents)
{
	std::vector<pid_t> out;
	DIR *d = opendir("/proc");
	if (!d)
		return out;
	while (dirent *e = readdir(d)) {
		char *end;
		long pid = std::strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		std::ifstream st("/proc/" + std::string(e->d_name) + "/stat");
		std::string line;
		if (!std::getline(st, line))
			continue;
		// The ppid is the second field after the parenthesised comm,
		// which may itself hold spaces and parentheses.
		auto close_paren = line.rfind(')');
		if (close_paren == std::string::npos || line.size() < close_paren + 2)
			continue;
		std::istringstream rest(line.substr(close_paren + 2));
		char state;
		long ppid;
		if (rest >> state >> ppid && parents.count(static_cast<pid_t>(ppid)))
			out.push_back(static_cast<pid_t>(pid));
	}
	closedir(d);
	return out;
}

} // namespace bulwark
