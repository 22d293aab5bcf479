// SPDX-License-Identifier: Apache-2.0
// bulwark-bench-open: open()+close() latency of one path (or, with PATH
// --getpid, of a bare getpid()), median of several repetitions, in ns per
// call. Run confined and unconfined in the same boot; bench/lsm_bench.sh
// and bench/engine_bench.sh report the ratios.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
	if (argc < 3) {
		std::fprintf(stderr, "usage: bulwark-bench-open PATH ITERATIONS [REPS]\n");
		return 2;
	}
	const char *path = argv[1];
	long iters = std::atol(argv[2]);
	int reps = argc > 3 ? std::atoi(argv[3]) : 5;
	bool getpid_only = std::string(path) == "--getpid";
	std::vector<double> ns;
	for (int r = 0; r < reps; r++) {
		auto t0 = std::chrono::steady_clock::now();
		for (long i = 0; i < iters; i++) {
			if (getpid_only) {
				// Not getpid(): glibc may not cache it, but the
				// syscall itself is what is measured.
				syscall(SYS_getpid);
				continue;
			}
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				std::perror(path);
				return 1;
			}
			close(fd);
		}
		auto t1 = std::chrono::steady_clock::now();
		ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(iters));
	}
	std::sort(ns.begin(), ns.end());
	std::printf("%.1f\n", ns[ns.size() / 2]);
	return 0;
}
