// SPDX-License-Identifier: Apache-2.0
// bulwark-probe: the workload the kernel tests confine. Each command tries
// one thing and prints one line, "ok" or "err <step> <ERRNO>", so a test can
// tell which layer stopped which step. Exit 0 on ok, 1 on err.
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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

int main(int argc, char **argv)
{
	setvbuf(stdout, nullptr, _IOLBF, 0);
	if (argc < 2) {
		std::fprintf(stderr, "usage: bulwark-probe pid|open|mount|fsmount|umount|fork-open|exec|hold|exit ...\n");
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
	if (cmd == "x32") {
		// getpid through the x32 ABI: same arch token as x86_64, so only
		// the filter's syscall-number check can catch it.
		long rc = syscall(0x40000000L | SYS_getpid);
		return rc < 0 ? report_err("x32-getpid", errno) : report_ok();
	}
	if (cmd == "exit" && argc == 3)
		return std::atoi(argv[2]);
	std::fprintf(stderr, "bulwark-probe: bad arguments\n");
	return 2;
}
