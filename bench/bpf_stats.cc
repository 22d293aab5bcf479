// SPDX-License-Identifier: Apache-2.0
// bulwark-bench-bpfstats: the kernel's own accounting of every loaded
// program whose name starts with a prefix (default "bw_"): "name run_cnt
// run_time_ns", one line each. Needs kernel.bpf_stats_enabled=1; the
// numbers are cumulative, so a benchmark takes two readings and divides
// the differences (far steadier under emulation than wall time).
#include <bpf/bpf.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char **argv)
{
	std::string prefix = argc > 1 ? argv[1] : "bw_";
	__u32 id = 0;
	while (bpf_prog_get_next_id(id, &id) == 0) {
		int fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		bpf_prog_info info{};
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    std::strncmp(info.name, prefix.c_str(), prefix.size()) == 0)
			std::printf("%s %llu %llu\n", info.name, static_cast<unsigned long long>(info.run_cnt),
				    static_cast<unsigned long long>(info.run_time_ns));
		close(fd);
	}
	return 0;
}
