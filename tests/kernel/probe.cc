// SPDX-License-Identifier: Apache-2.0
// bulwark-probe: the workload the kernel tests confine. Each command tries
// one thing and prints one line, "ok" or "err <step> <ERRNO>", so a test can
// tell which layer stopped which step. Exit 0 on ok, 1 on err.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

static int report_ok()
{
	std::printf("ok\n");
	return 0;
}

static int report_err(const char *step, int err)
{
	const char *name = strerrorname_np(err);
	std::printf("err %s %s\n", step, name ? name : std::to_string(err).c_str());
	return 1;
}

static int do_open(const char *path, const char *how)
{
	int flags = std::strcmp(how, "w") == 0 ? O_WRONLY : std::strcmp(how, "rw") == 0 ? O_RDWR : O_RDONLY;
	int fd = open(path, flags);
	if (fd < 0)
		return report_err("open", errno);
	close(fd);
	return report_ok();
}

static int do_mount(const char *target)
{
	if (mount("none", target, "tmpfs", 0, nullptr) < 0)
		return report_err("mount", errno);
	umount2(target, MNT_DETACH);
	return report_ok();
}

// The new mount API, step by step: a filter that only knows mount(2) lets
// all of this through; the LSM sees the final move_mount.
static int do_fsmount(const char *target)
{
	int fs = static_cast<int>(syscall(SYS_fsopen, "tmpfs", 0));
	if (fs < 0)
		return report_err("fsopen", errno);
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
		return report_err("fsconfig", errno);
	int mnt = static_cast<int>(syscall(SYS_fsmount, fs, 0, 0));
	if (mnt < 0)
		return report_err("fsmount", errno);
	if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return report_err("move_mount", errno);
	umount2(target, MNT_DETACH);
	return report_ok();
}

static int do_ptrace_attach()
{
	std::fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	long rc = ptrace(PTRACE_SEIZE, child, nullptr, nullptr);
	int err = errno;
	kill(child, SIGKILL);
	waitpid(child, nullptr, 0);
	return rc < 0 ? report_err("ptrace", err) : report_ok();
}

static int do_traceme()
{
	if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) < 0)
		return report_err("ptrace", errno);
	return report_ok();
}

static int open_for(const char *step, const char *path, int *fd)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	return *fd < 0 ? report_err(step, errno) : 0;
}

// A file that is not a module: with no layer in the way the kernel reads it
// and rejects it (ENOEXEC), so EPERM can only come from a layer.
static int do_finit_module(const char *path)
{
	int fd;
	if (open_for("open", path, &fd))
		return 1;
	if (syscall(SYS_finit_module, fd, "", 0) < 0)
		return report_err("finit_module", errno);
	return report_ok();
}

static int do_kexec(const char *path)
{
	int fd;
	if (open_for("open", path, &fd))
		return 1;
	// KEXEC_FILE_NO_INITRAMFS
	if (syscall(SYS_kexec_file_load, fd, -1, 1, "", 4UL) < 0)
		return report_err("kexec_file_load", errno);
	return report_ok();
}

static int do_bpf_map()
{
	union bpf_attr attr {
	};
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		return report_err("bpf", errno);
	close(static_cast<int>(fd));
	return report_ok();
}

static int do_perf()
{
	perf_event_attr attr{};
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_TASK_CLOCK;
	attr.disabled = 1;
	long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	if (fd < 0)
		return report_err("perf_event_open", errno);
	close(static_cast<int>(fd));
	return report_ok();
}

static int do_add_key()
{
	// KEY_SPEC_THREAD_KEYRING: a keyring of our own, so nothing persists.
	long id = syscall(SYS_add_key, "user", "bulwark-probe", "x", 1, -1);
	if (id < 0)
		return report_err("add_key", errno);
	return report_ok();
}

static int do_unshare_user()
{
	if (unshare(CLONE_NEWUSER) < 0)
		return report_err("unshare", errno);
	return report_ok();
}

// Threads go through clone3 first in glibc; with clone3 failed as ENOSYS
// glibc must fall back to clone and still work.
static int do_thread()
{
	pthread_t t;
	int rc = pthread_create(
		&t, nullptr, [](void *) -> void * { return nullptr; }, nullptr);
	if (rc)
		return report_err("pthread_create", rc);
	pthread_join(t, nullptr);
	return report_ok();
}

// A second thread waits for flag to exist, then opens path for reading;
// the line reports that thread's open. Proves a scope reaches threads
// that existed before it was applied.
static int do_thread_open(const char *flag, const char *path)
{
	struct Arg {
		const char *flag, *path;
		int err;
	} a{flag, path, 0};
	pthread_t t;
	int rc = pthread_create(
		&t, nullptr,
		[](void *p) -> void * {
			auto *a = static_cast<Arg *>(p);
			while (access(a->flag, F_OK) != 0)
				usleep(20000);
			int fd = open(a->path, O_RDONLY);
			a->err = fd < 0 ? errno : 0;
			if (fd >= 0)
				close(fd);
			return nullptr;
		},
		&a);
	if (rc)
		return report_err("pthread_create", rc);
	pthread_join(t, nullptr);
	return a.err ? report_err("open", a.err) : report_ok();
}

static int do_setuid(const char *uid)
{
	if (setuid(static_cast<uid_t>(std::atoi(uid))) < 0)
		return report_err("setuid", errno);
	return report_ok();
}

static int do_socket(const char *family, const char *type)
{
	int fd = socket(std::atoi(family), std::atoi(type), 0);
	if (fd < 0)
		return report_err("socket", errno);
	close(fd);
	return report_ok();
}

static int do_net(bool connect_, const char *ip, const char *port)
{
	sockaddr_storage ss{};
	socklen_t len;
	int family = std::strchr(ip, ':') ? AF_INET6 : AF_INET;
	if (family == AF_INET) {
		auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(static_cast<uint16_t>(std::atoi(port)));
		inet_pton(AF_INET, ip, &sin->sin_addr);
		len = sizeof(*sin);
	} else {
		auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(static_cast<uint16_t>(std::atoi(port)));
		inet_pton(AF_INET6, ip, &sin6->sin6_addr);
		len = sizeof(*sin6);
	}
	int fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return report_err("socket", errno);
	int rc = connect_ ? connect(fd, reinterpret_cast<sockaddr *>(&ss), len)
			  : bind(fd, reinterpret_cast<sockaddr *>(&ss), len);
	int err = errno;
	close(fd);
	if (rc < 0)
		return report_err(connect_ ? "connect" : "bind", err);
	return report_ok();
}

static int do_syslog()
{
	// SYSLOG_ACTION_SIZE_BUFFER: harmless, and still passes the hook.
	if (klogctl(10, nullptr, 0) < 0)
		return report_err("syslog", errno);
	return report_ok();
}

// openat relative to a directory fd, and openat2: different entry points,
// the same file_open underneath.
static int do_openat(const char *dir, const char *name)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return report_err("open-dir", errno);
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	int err = errno;
	close(dfd);
	if (fd < 0)
		return report_err("openat", err);
	close(fd);
	return report_ok();
}

static int do_openat2(const char *path)
{
	open_how how{};
	how.flags = O_RDONLY | O_CLOEXEC;
	long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0)
		return report_err("openat2", errno);
	close(static_cast<int>(fd));
	return report_ok();
}

// IORING_OP_OPENAT never enters the openat syscall, so a syscall filter
// cannot see it; the LSM's file_open still runs. Raw syscalls: no liburing.
static int do_uring_open(const char *path)
{
	io_uring_params p{};
	int ring = static_cast<int>(syscall(SYS_io_uring_setup, 4, &p));
	if (ring < 0)
		return report_err("io_uring_setup", errno);
	size_t sq_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cq_sz = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
	bool single = p.features & IORING_FEAT_SINGLE_MMAP;
	if (single)
		sq_sz = cq_sz = std::max(sq_sz, cq_sz);
	auto *sq = static_cast<char *>(
		mmap(nullptr, sq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING));
	auto *cq = single ? sq
			  : static_cast<char *>(mmap(nullptr, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
						     ring, IORING_OFF_CQ_RING));
	auto *sqes =
		static_cast<io_uring_sqe *>(mmap(nullptr, p.sq_entries * sizeof(io_uring_sqe), PROT_READ | PROT_WRITE,
						 MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES));
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return report_err("io_uring_mmap", errno);
	auto *tail = reinterpret_cast<unsigned *>(sq + p.sq_off.tail);
	unsigned mask = *reinterpret_cast<unsigned *>(sq + p.sq_off.ring_mask);
	auto *array = reinterpret_cast<unsigned *>(sq + p.sq_off.array);
	unsigned t = *tail, idx = t & mask;
	io_uring_sqe *sqe = &sqes[idx];
	std::memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_OPENAT;
	sqe->fd = AT_FDCWD;
	sqe->addr = reinterpret_cast<uint64_t>(path);
	sqe->open_flags = O_RDONLY | O_CLOEXEC;
	array[idx] = idx;
	__atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, nullptr, 0) < 0)
		return report_err("io_uring_enter", errno);
	auto *head = reinterpret_cast<unsigned *>(cq + p.cq_off.head);
	unsigned cmask = *reinterpret_cast<unsigned *>(cq + p.cq_off.ring_mask);
	auto *cqes = reinterpret_cast<io_uring_cqe *>(cq + p.cq_off.cqes);
	int res = cqes[__atomic_load_n(head, __ATOMIC_ACQUIRE) & cmask].res;
	close(ring);
	if (res < 0)
		return report_err("io_uring_openat", -res);
	close(res);
	return report_ok();
}

// A syscall through the i386 ABI (int 0x80) from this 64-bit process.
static long int80(long nr, long a = 0, long b = 0, long c = 0)
{
	long ret;
	asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

static int do_i386(const char *what)
{
	long rc;
	if (std::strcmp(what, "getpid") == 0)
		rc = int80(20);
	else if (std::strcmp(what, "mount") == 0)
		rc = int80(21); // null pointers: EFAULT if it ever ran
	else if (std::strcmp(what, "setuid32") == 0)
		rc = int80(213, 65534);
	else
		return report_err("i386", EINVAL);
	if (rc < 0 && rc > -4096)
		return report_err(what, static_cast<int>(-rc));
	return report_ok();
}

// A UDP datagram with a destination: no connect(2) involved.
static int do_sendto(const char *ip, const char *port)
{
	sockaddr_in sin{};
	sin.sin_family = AF_INET;
	sin.sin_port = htons(static_cast<uint16_t>(std::atoi(port)));
	inet_pton(AF_INET, ip, &sin.sin_addr);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return report_err("socket", errno);
	ssize_t n = sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr *>(&sin), sizeof(sin));
	int err = errno;
	close(fd);
	return n < 0 ? report_err("sendto", err) : report_ok();
}

static int do_chroot(const char *dir)
{
	if (chroot(dir) < 0)
		return report_err("chroot", errno);
	return report_ok();
}

static int do_umount(const char *target)
{
	if (umount2(target, 0) < 0)
		return report_err("umount2", errno);
	return report_ok();
}

// Forks, lets the child try the open, and reports the child's line: proves
// that confinement follows fork.
static int do_fork_open(const char *path)
{
	std::fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(do_open(path, "r"));
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}

static int do_exec(int argc, char **argv)
{
	std::fflush(stdout);
	execv(argv[0], argv);
	(void)argc;
	return report_err("execve", errno);
}

// Blocks until `flag` disappears: lets a test act outside the confined tree
// while this one is alive.
// Self-protection probes: reach for the enforcer's objects from inside.
static int do_obj_get(const char *path)
{
	union bpf_attr attr;
	std::memset(&attr, 0, sizeof(attr));
	attr.pathname = reinterpret_cast<__u64>(path);
	long fd = syscall(SYS_bpf, BPF_OBJ_GET, &attr, sizeof(attr));
	if (fd < 0)
		return report_err("obj_get", errno);
	close(static_cast<int>(fd));
	return report_ok();
}

static int do_ptrace_pid(const char *pid)
{
	if (ptrace(PTRACE_SEIZE, std::atoi(pid), nullptr, nullptr) < 0)
		return report_err("ptrace", errno);
	return report_ok();
}

static int do_connect_unix(const char *path)
{
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	std::strncpy(a.sun_path, path, sizeof(a.sun_path) - 1);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0)
		return report_err("socket", errno);
	if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) < 0)
		return report_err("connect", errno);
	close(fd);
	return report_ok();
}

// Ways to weaken another process short of a signal.
static int do_weaken(const char *how, const char *pid_s)
{
	pid_t pid = std::atoi(pid_s);
	if (std::strcmp(how, "prlimit") == 0) {
		rlimit one{1, 1};
		return prlimit(pid, RLIMIT_NOFILE, &one, nullptr) < 0 ? report_err("prlimit", errno) : report_ok();
	}
	if (std::strcmp(how, "renice") == 0)
		return setpriority(PRIO_PROCESS, static_cast<id_t>(pid), 19) < 0 ? report_err("setpriority", errno)
										 : report_ok();
	if (std::strcmp(how, "sched-idle") == 0) {
		sched_param sp{};
		return sched_setscheduler(pid, SCHED_IDLE, &sp) < 0 ? report_err("sched_setscheduler", errno)
								    : report_ok();
	}
	if (std::strcmp(how, "ioprio") == 0) {
		// IOPRIO_WHO_PROCESS, class idle.
		return syscall(SYS_ioprio_set, 1, pid, 3 << 13) < 0 ? report_err("ioprio_set", errno) : report_ok();
	}
	return report_err("weaken", EINVAL);
}

static int do_kill(const char *pid, const char *sig)
{
	if (kill(std::atoi(pid), std::atoi(sig)) < 0)
		return report_err("kill", errno);
	return report_ok();
}

// Opens path for reading in a loop until flag disappears; prints how many
// opens succeeded and how many were denied.
static int do_open_loop(const char *path, const char *flag)
{
	long opened = 0, denied = 0, other = 0;
	int fd0 = open(flag, O_CREAT | O_WRONLY, 0600);
	if (fd0 >= 0)
		close(fd0);
	std::string ready = std::string(flag) + ".ready";
	fd0 = open(ready.c_str(), O_CREAT | O_WRONLY, 0600);
	if (fd0 >= 0)
		close(fd0);
	while (access(flag, F_OK) == 0) {
		int fd = open(path, O_RDONLY);
		if (fd >= 0) {
			opened++;
			close(fd);
		} else if (errno == EPERM) {
			denied++;
		} else {
			other++;
		}
	}
	std::printf("loop opened=%ld denied=%ld other=%ld\n", opened, denied, other);
	return 0;
}

static int do_hold(const char *flag)
{
	int fd = open(flag, O_CREAT | O_WRONLY, 0600);
	if (fd < 0)
		return report_err("hold", errno);
	close(fd);
	struct stat st;
	for (int i = 0; i < 3000 && stat(flag, &st) == 0; i++)
		usleep(10000);
	return report_ok();
}

// N opens of path (read): how many failed with EPERM, how many succeeded.
int do_open_many(long n, const char *path)
{
	long denied = 0, ok = 0, other = 0;
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			ok++;
		} else if (errno == EPERM) {
			denied++;
		} else {
			other++;
		}
	}
	std::printf("denied %ld ok %ld other %ld\n", denied, ok, other);
	return 0;
}

// N raw getppid() calls: the seccomp table test's target (harmless).
int do_getppid_many(long n)
{
	long denied = 0, ok = 0;
	for (long i = 0; i < n; i++) {
		if (syscall(SYS_getppid) < 0 && errno == EPERM)
			denied++;
		else
			ok++;
	}
	std::printf("denied %ld ok %ld\n", denied, ok);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, nullptr, _IOLBF, 0);
	if (argc < 2) {
		std::fprintf(stderr,
			     "usage: bulwark-probe pid|open|mount|fsmount|umount|fork-open|exec|hold|exit ...\n");
		return 2;
	}
	std::string cmd = argv[1];
	if (cmd == "pid") {
		// Identity line, so a test can match events against this process.
		std::printf("pid %d ppid %d\n", getpid(), getppid());
		if (argc > 2)
			return main(argc - 1, argv + 1);
		return 0;
	}
	if (cmd == "open" && argc == 4)
		return do_open(argv[2], argv[3]);
	if (cmd == "mount" && argc == 3)
		return do_mount(argv[2]);
	if (cmd == "fsmount" && argc == 3)
		return do_fsmount(argv[2]);
	if (cmd == "umount" && argc == 3)
		return do_umount(argv[2]);
	if (cmd == "fork-open" && argc == 3)
		return do_fork_open(argv[2]);
	if (cmd == "exec" && argc >= 3)
		return do_exec(argc - 2, argv + 2);
	if (cmd == "hold" && argc == 3)
		return do_hold(argv[2]);
	if (cmd == "obj-get" && argc == 3)
		return do_obj_get(argv[2]);
	if (cmd == "unlink" && argc == 3)
		return unlink(argv[2]) < 0 ? report_err("unlink", errno) : report_ok();
	if (cmd == "ptrace-pid" && argc == 3)
		return do_ptrace_pid(argv[2]);
	if (cmd == "kill" && argc == 4)
		return do_kill(argv[2], argv[3]);
	if (cmd == "connect-unix" && argc == 3)
		return do_connect_unix(argv[2]);
	if (cmd == "weaken" && argc == 4)
		return do_weaken(argv[2], argv[3]);
	if (cmd == "open-loop" && argc == 4)
		return do_open_loop(argv[2], argv[3]);
	if (cmd == "x32") {
		// getpid through the x32 ABI: same arch token as x86_64, so only
		// the filter's syscall-number check can catch it.
		long rc = syscall(0x40000000L | SYS_getpid);
		return rc < 0 ? report_err("x32-getpid", errno) : report_ok();
	}
	if (cmd == "ptrace-attach")
		return do_ptrace_attach();
	if (cmd == "traceme")
		return do_traceme();
	if (cmd == "finit-module" && argc == 3)
		return do_finit_module(argv[2]);
	if (cmd == "kexec" && argc == 3)
		return do_kexec(argv[2]);
	if (cmd == "bpf-map")
		return do_bpf_map();
	if (cmd == "perf")
		return do_perf();
	if (cmd == "add-key")
		return do_add_key();
	if (cmd == "unshare-user")
		return do_unshare_user();
	if (cmd == "thread-open" && argc == 4)
		return do_thread_open(argv[2], argv[3]);
	if (cmd == "umount-lazy" && argc == 3)
		return umount2(argv[2], MNT_DETACH) < 0 ? report_err("umount2", errno) : report_ok();
	if (cmd == "thread")
		return do_thread();
	if (cmd == "setuid" && argc >= 3) {
		int rc = do_setuid(argv[2]);
		if (rc || argc == 3)
			return rc;
		return main(argc - 2, argv + 2); // then act as the new user
	}
	if (cmd == "socket" && argc == 4)
		return do_socket(argv[2], argv[3]);
	if ((cmd == "connect" || cmd == "bind") && argc == 4)
		return do_net(cmd == "connect", argv[2], argv[3]);
	if (cmd == "openat" && argc == 4)
		return do_openat(argv[2], argv[3]);
	if (cmd == "openat2" && argc == 3)
		return do_openat2(argv[2]);
	if (cmd == "uring-open" && argc == 3)
		return do_uring_open(argv[2]);
	if (cmd == "i386" && argc == 3)
		return do_i386(argv[2]);
	if (cmd == "sendto" && argc == 4)
		return do_sendto(argv[2], argv[3]);
	if (cmd == "chroot" && argc == 3)
		return do_chroot(argv[2]);
	if (cmd == "syslog")
		return do_syslog();
	if (cmd == "open-many" && argc == 4)
		return do_open_many(std::strtol(argv[2], nullptr, 10), argv[3]);
	if (cmd == "getppid-many" && argc == 3)
		return do_getppid_many(std::strtol(argv[2], nullptr, 10));
	if (cmd == "exit" && argc == 3)
		return std::atoi(argv[2]);
	std::fprintf(stderr, "bulwark-probe: bad arguments\n");
	return 2;
}
