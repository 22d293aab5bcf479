// SPDX-License-Identifier: Apache-2.0
//
// What Docker's default profile, compiled by bulwark, costs per syscall.
// Each measurement runs in a fresh child (a seccomp filter cannot be taken
// off again), baseline and filtered children alternate so that drift in CPU
// frequency or load hits both alike, and medians are reported.
//
//   bulwark-bench-seccomp [PROFILE.json] [--reps N]
#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "policy/import/docker.h"
#include "policy/policy.h"
#include "seccomp/filter.h"

using namespace bulwark;

namespace {

constexpr long kGetpidIters = 1000000;
constexpr long kOpenIters = 100000;

double now_ns()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); // vDSO: no syscall, so no filter run
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct Sample {
	double getpid_ns = 0;
	double open_ns = 0;
	char cache[160] = {}; // what /proc/self/seccomp_cache says about getpid
};

// The child's side: optionally confine itself, then time both loops.
Sample measure(const seccomp::Filter *filter)
{
	Sample s;
	if (filter) {
		int rc = filter->load();
		if (rc < 0) {
			std::fprintf(stderr, "seccomp load: %s\n", std::strerror(-rc));
			_exit(3);
		}
	}
	// Warm up caches and the dentry for /dev/null before timing.
	for (int i = 0; i < 1000; i++)
		syscall(SYS_getpid);
	double t0 = now_ns();
	for (long i = 0; i < kGetpidIters; i++)
		syscall(SYS_getpid);
	s.getpid_ns = (now_ns() - t0) / kGetpidIters;

	t0 = now_ns();
	for (long i = 0; i < kOpenIters; i++) {
		int fd = openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(4);
		close(fd);
	}
	s.open_ns = (now_ns() - t0) / kOpenIters;

	if (filter) {
		// Only kernels built with CONFIG_SECCOMP_CACHE_DEBUG have this file;
		// it lists "<arch> <nr> ALLOW" for what the cache decides alone.
		std::ifstream in("/proc/self/seccomp_cache");
		if (!in) {
			std::snprintf(s.cache, sizeof(s.cache), "n/a");
		} else {
			std::string line, want = "x86_64 " + std::to_string(SYS_getpid) + " ";
			bool found = false;
			while (std::getline(in, line))
				found = found || line.rfind(want, 0) == 0;
			std::snprintf(s.cache, sizeof(s.cache), "%s", found ? "yes" : "no");
		}
	}
	return s;
}

bool run_child(const seccomp::Filter *filter, Sample &out)
{
	int p[2];
	if (pipe(p) != 0)
		return false;
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		close(p[0]);
		Sample s = measure(filter);
		ssize_t n = write(p[1], &s, sizeof(s));
		_exit(n == static_cast<ssize_t>(sizeof(s)) ? 0 : 5);
	}
	close(p[1]);
	ssize_t n = read(p[0], &out, sizeof(out));
	close(p[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	return n == static_cast<ssize_t>(sizeof(out)) && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

double median(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	size_t n = v.size();
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string slurp(const std::string &path)
{
	std::ifstream in(path);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

} // namespace

int main(int argc, char **argv)
{
	std::string profile = BULWARK_SOURCE_DIR "/../shared/profiles/docker-default.json";
	int reps = 7;
	for (int i = 1; i < argc; i++) {
		if (!std::strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = std::max(1, std::atoi(argv[++i]));
		else
			profile = argv[i];
	}

	// The bundled policy when the parser reads its seccomp sections, else
	// the same policy straight from the converter.
	policy::Policy pol;
	std::string source;
	auto parsed = policy::parse_file(BULWARK_SOURCE_DIR "/policy/bundled/docker-default.yaml");
	if (parsed.ok() && !parsed.policy->syscalls.empty()) {
		pol = *parsed.policy;
		source = "policy/bundled/docker-default.yaml";
	} else {
		std::string text = slurp(profile);
		if (text.empty()) {
			std::fprintf(stderr, "bulwark-bench-seccomp: cannot read %s\n", profile.c_str());
			return 2;
		}
		try {
			pol = import_docker(text, ImportOptions{}, profile).policy;
		} catch (const ImportError &e) {
			std::fprintf(stderr, "bulwark-bench-seccomp: %s: %s\n", profile.c_str(), e.what());
			return 2;
		}
		source = profile + " via import_docker (parser does not read syscalls: yet)";
	}
	seccomp::Filter filter(pol, seccomp::DenyAction::Errno);

	// The same filter with getpid behind an argument check that always
	// holds: the kernel's action cache only decides calls whose result does
	// not depend on arguments, so this one runs the BPF program every time.
	// The difference between the two is what the cache saves.
	policy::Policy uncached = pol;
	for (auto &e : uncached.syscalls)
		e.names.erase(std::remove(e.names.begin(), e.names.end(), "getpid"), e.names.end());
	policy::SyscallEntry gp;
	gp.names = {"getpid"};
	gp.action.kind = policy::SyscallActionKind::Allow;
	gp.args.push_back({0, policy::ArgOp::MaskedEq, 0, 0, {}});
	uncached.syscalls.push_back(gp);
	seccomp::Filter filter_nc(uncached, seccomp::DenyAction::Errno);
	size_t names = 0;
	for (const auto &e : pol.syscalls)
		names += e.names.size();

	// One CPU for every child, so the comparison is not across cores.
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set)) {
				CPU_ZERO(&set);
				CPU_SET(c, &set);
				sched_setaffinity(0, sizeof(set), &set);
				break;
			}
	}

	std::vector<double> bg, bo, fg, fo, ng;
	std::string cache = "n/a";
	for (int r = 0; r < reps; r++) {
		Sample b, f, n;
		if (!run_child(nullptr, b) || !run_child(&filter, f) || !run_child(&filter_nc, n)) {
			std::fprintf(stderr, "bulwark-bench-seccomp: a measuring child failed\n");
			return 1;
		}
		bg.push_back(b.getpid_ns);
		bo.push_back(b.open_ns);
		fg.push_back(f.getpid_ns);
		fo.push_back(f.open_ns);
		ng.push_back(n.getpid_ns);
		cache = f.cache;
	}

	utsname u{};
	uname(&u);
	std::printf("bulwark seccomp benchmark\n");
	std::printf("  policy:  %s\n", source.c_str());
	std::printf("           %zu entries, %zu syscall names, architectures:", pol.syscalls.size(), names);
	for (const auto &a : pol.architectures)
		std::printf(" %s", a.c_str());
	std::printf("\n  kernel:  %s, %d repetitions, medians, one CPU\n\n", u.release, reps);
	std::printf("  %-26s %14s %14s %8s\n", "syscall", "baseline ns/op", "filter ns/op", "ratio");
	std::printf("  %-26s %14.1f %14.1f %7.2fx\n", "getpid (1e6 iterations)", median(bg), median(fg),
		    median(fg) / median(bg));
	std::printf("  %-26s %14.1f %14.1f %7.2fx\n", "openat+close (1e5)", median(bo), median(fo),
		    median(fo) / median(bo));
	std::printf("  %-26s %14.1f %14.1f %7.2fx   (getpid behind an always-true\n"
		    "  %-26s %14s %14s %8s    argument check: BPF runs every call)\n",
		    "getpid, cache defeated", median(bg), median(ng), median(ng) / median(bg), "", "", "", "");
	std::printf("\n");

	int maj = 0, min = 0;
	std::sscanf(u.release, "%d.%d", &maj, &min);
	bool cache_kernel = maj > 5 || (maj == 5 && min >= 11);
	if (cache == "yes")
		std::printf("  seccomp action cache: decides getpid without running the filter "
			    "(/proc/self/seccomp_cache lists it)\n");
	else if (cache == "no")
		std::printf("  seccomp action cache: does NOT cover getpid (/proc/self/seccomp_cache)\n");
	else if (cache_kernel) {
		// Half the spread of the baseline runs: differences below it say
		// nothing on this machine.
		double noise = (*std::max_element(bg.begin(), bg.end()) - *std::min_element(bg.begin(), bg.end())) / 2;
		double diff = median(ng) - median(fg);
		std::printf("  seccomp action cache: not observable directly (no /proc/<pid>/seccomp_cache: kernel\n"
			    "  built without CONFIG_SECCOMP_CACHE_DEBUG). Kernel >= 5.11 and getpid is allowed\n"
			    "  without argument checks, so the cache should decide it. Running the program instead\n"
			    "  (the cache-defeated row) costs %+.1f ns; run-to-run noise here is about +-%.1f ns%s.\n",
			    diff, noise, std::abs(diff) <= noise ? ",\n  so the two cannot be told apart" : "");
	} else
		std::printf("  seccomp action cache: not observable (no /proc/<pid>/seccomp_cache: kernel built "
			    "without CONFIG_SECCOMP_CACHE_DEBUG).\n  %s\n",
			    cache_kernel ? "Kernel >= 5.11 and getpid is allowed without argument checks, so the "
					   "cache should decide it without running the BPF program."
					 : "Kernel < 5.11: no action cache; every syscall runs the BPF program.");
	return 0;
}
