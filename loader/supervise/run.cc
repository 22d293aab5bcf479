// SPDX-License-Identifier: Apache-2.0
#include "loader/supervise/run.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "loader/events/generations.h"
#include "loader/events/stream.h"
#include "loader/kernel/fd.h"
#include "loader/kernel/lsm.h"
#include "loader/sinks/ecs.h"
#include "loader/sinks/metrics.h"
#include "loader/sinks/output.h"
#include "loader/supervise/engine.h"
#include "loader/supervise/loop.h"
#include "loader/supervise/procfs.h"
#include "policy/policy.h"
#include "seccomp/filter.h"

namespace bulwark {

namespace {

pid_t g_command_pid = -1;

// What the child reports back when it cannot get to exec.
struct ChildFailure {
	int stage; // 1 = seccomp load, 2 = fd handoff, 3 = exec, 4 = seccomp not in force
	int err;
};

[[noreturn]] void child_fail(int fd, int stage, int err, int status)
{
	ChildFailure f{stage, err};
	ssize_t unused = ::write(fd, &f, sizeof(f));
	(void)unused;
	_exit(status);
}

// The listener's way from child to parent. Once the filter is loaded every
// syscall of the child may be routed to the listener (an audit policy, a
// syscall allow-list, learn mode), so the child cannot send it: nobody would
// answer its sendmsg. The child names the fd number the filter's listener
// will get before loading it, and the parent takes the listener with
// pidfd_getfd(2) while the child waits in its first routed call.
bool is_listener(int fd)
{
	char link[64];
	std::string path = "/proc/self/fd/" + std::to_string(fd);
	ssize_t n = readlink(path.c_str(), link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = 0;
	return std::strcmp(link, "anon_inode:seccomp notify") == 0;
}

// Bulwark's own calls between the filter and exec (its check of the
// filter, execve itself) are let through unreported: the command has not
// started, and the policy is the command's.
void pass_through(int nfd)
{
	seccomp_notif *req = nullptr;
	seccomp_notif_resp *resp = nullptr;
	if (seccomp_notify_alloc(&req, &resp) < 0)
		return;
	if (seccomp_notify_receive(nfd, req) == 0) {
		resp->id = req->id;
		resp->val = 0;
		resp->error = 0;
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		seccomp_notify_respond(nfd, resp);
	}
	seccomp_notify_free(req, resp);
}

int exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 125;
}

void log(const RunOptions &o, const std::string &msg)
{
	if (o.verbose)
		std::fprintf(stderr, "%s\n", msg.c_str());
}

// Reaps children that were reparented to us, so they do not linger as
// zombies while the command runs.
void reap_orphans()
{
	// Only pids other than the command itself: its status is read by the
	// main loop. waitid with WNOWAIT tells us who is waitable first.
	for (;;) {
		siginfo_t si{};
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
			return;
		if (si.si_pid == g_command_pid)
			return;
		waitpid(si.si_pid, nullptr, 0);
	}
}

// SIGKILLs every remaining descendant, round after round: each round's
// victims' children are reparented to us for the next one. Returns how many
// were killed.
int kill_descendants()
{
	int killed = 0;
	pid_t self = getpid();
	// No child at all means no descendant: a subreaper inherits any that
	// outlived their parents. The common case, decided without /proc.
	siginfo_t si{};
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD)
		return 0;
	for (int round = 0; round < 1000; round++) {
		// Our children now: what the sandbox left behind (we are its subreaper).
		auto kids = children_of({self});
		if (kids.empty())
			break;
		for (pid_t k : kids)
			if (kill(k, SIGKILL) == 0)
				killed++;
		for (pid_t k : kids)
			waitpid(k, nullptr, 0);
	}
	while (waitpid(-1, nullptr, WNOHANG) > 0) {
	}
	return killed;
}

// What `run` builds before the child exists: everything that can fail, so
// a failure leaves nothing applied.
struct Built {
	bool use_seccomp = false, use_lsm = false;
	std::unique_ptr<Output> out;
	std::unique_ptr<MetricsServer> metrics;
	std::optional<seccomp::Filter> filter;
	std::unique_ptr<LsmLayer> lsm;
	// The ring buffer's callback is fixed at load, before the pipeline
	// exists; it reaches the pipeline through this.
	EventStream *stream = nullptr;
};

// Without the LSM layer, only the syscall tracepoints, to report what the
// `syscalls:` table denies. The filter enforces without them, so their
// absence costs events, not protection.
void load_trace_only(const RunOptions &o, const policy::Policy &pol, Built &b, const LsmLayer::EventFn &on_record)
{
	BpfOptions bo;
	bo.lsm = false;
	bo.trace = true;
	bo.ringbuf_bytes = o.ringbuf_bytes;
	try {
		b.lsm = std::make_unique<LsmLayer>(pol, on_record, bo);
		log(o, "seccomp: " + std::to_string(b.lsm->attached()) + " syscall tracepoints attached");
	} catch (const std::exception &e) {
		std::fprintf(
			stderr,
			"seccomp: syscall tracepoints unavailable (%s); denials by the syscalls: table will not be "
			"reported\n",
			e.what());
	}
}

std::string absolute(const std::string &p)
{
	if (!p.empty() && p[0] == '/')
		return p;
	char buf[4096];
	return getcwd(buf, sizeof(buf)) ? std::string(buf) + "/" + p : p;
}

// Throws on anything that keeps a layer from being in force.
void build(const RunOptions &o, const policy::Policy &pol, Built &b)
{
	b.use_seccomp = o.layers != Layers::Lsm;
	b.use_lsm = o.layers != Layers::Seccomp;
	if (!o.events.empty())
		b.out = open_outputs(o.events);
	if (!o.metrics.empty())
		b.metrics = std::make_unique<MetricsServer>(o.metrics);
	// Built even when not applied: events say what it would answer.
	b.filter.emplace(pol, seccomp::DenyAction::Notify);
	if (b.use_seccomp)
		log(o, "seccomp: filter built, " + std::to_string(b.filter->rules().size()) +
			       " syscalls routed to the supervisor");
	auto on_record = [&b](const bw_event &e) {
		if (b.stream)
			b.stream->on_record(e);
	};
	// With an engine running, this sandbox is a few map updates in it.
	std::string said;
	b.lsm = connect_engine({o.audit ? std::string("off") : o.engine}, absolute(o.policy),
			       fnv1a(read_text(o.policy)), b.use_lsm, on_record, &said);
	if (!said.empty() && (o.verbose || !b.lsm))
		std::fprintf(stderr, "%s\n", said.c_str());
	if (b.lsm)
		return;
	if (!b.use_lsm) {
		if (b.use_seccomp)
			load_trace_only(o, pol, b, on_record);
		return;
	}
	clear_dead_runs();
	BpfOptions bo;
	bo.trace = b.use_seccomp;
	bo.ringbuf_bytes = o.ringbuf_bytes;
	bo.pin_dir = std::string("/sys/fs/bpf/") + kRunPinsPrefix + std::to_string(getpid());
	b.lsm = std::make_unique<LsmLayer>(pol, on_record, bo);
	for (const auto &w : b.lsm->plan().warnings)
		std::fprintf(stderr, "%s\n", w.c_str());
	log(o, "lsm: " + std::to_string(b.lsm->attached()) + " programs attached, " +
		       std::to_string(b.lsm->file_entries().size()) + " file map entries");
}

// The child's side of the handshake: parked until the parent has marked
// it, then its seccomp filter, then exec. Never runs the command
// unconfined.
struct Pipes {
	Fd go_r, go_w, st_r, st_w, sk_p, sk_c;
};

[[noreturn]] void child_main(const RunOptions &o, Built &b, Pipes &p, pid_t parent, const sigset_t &oldmask)
{
	// Fail closed if the supervisor dies: its exit detaches the LSM
	// layer, so the child must not outlive it.
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	// Whatever the layers: a setuid binary must not raise privileges
	// inside the sandbox (and its exec would clear PDEATHSIG).
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		_exit(125);
	if (getppid() != parent)
		_exit(125);
	sigprocmask(SIG_SETMASK, &oldmask, nullptr);
	signal(SIGPIPE, SIG_DFL);
	p.go_w.reset();
	p.st_r.reset();
	p.sk_p.reset();
	char c;
	if (read(p.go_r.get(), &c, 1) != 1)
		_exit(125); // the parent gave up: never run unconfined
	if (b.use_seccomp) {
		// The lowest free fd is the one the listener will get: this
		// task is single-threaded and opens nothing in between.
		int slot = -1;
		if (b.filter->has_listener()) {
			// Not an open(): the LSM layer may already refuse those.
			slot = fcntl(p.sk_c.get(), F_DUPFD_CLOEXEC, 0);
			if (slot < 0 || close(slot) != 0 || write(p.sk_c.get(), &slot, sizeof(slot)) != sizeof(slot))
				child_fail(p.st_w.get(), 2, errno, 125);
		}
		int rc = b.filter->load();
		if (rc < 0)
			child_fail(p.st_w.get(), 1, -rc, 125);
		// From here on a call may wait for the parent, which takes the
		// listener from us (pidfd_getfd) and answers.
		if (b.filter->has_listener()) {
			if (b.filter->notify_fd() != slot)
				child_fail(p.st_w.get(), 2, EBADF, 125);
			// Not before the parent holds the listener: exec would
			// close ours, and with it the only one.
			if (read(p.go_r.get(), &c, 1) != 1)
				_exit(125);
		}
		// Trust, but verify: exec only once the kernel says this task
		// is in filter mode.
		if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2)
			child_fail(p.st_w.get(), 4, errno ? errno : EPERM, 125);
	}
	p.sk_c.reset();
	std::vector<char *> argv;
	for (const auto &a : o.command)
		argv.push_back(const_cast<char *>(a.c_str()));
	argv.push_back(nullptr);
	execvp(argv[0], argv.data());
	int err = errno;
	child_fail(p.st_w.get(), 3, err, err == ENOENT ? 127 : 126);
}

int abort_child(pid_t child, const std::string &msg)
{
	std::fprintf(stderr, "%s\n", msg.c_str());
	kill(child, SIGKILL);
	waitpid(child, nullptr, 0);
	return 125;
}

// What the child said when it could not get to exec.
int report_child_failure(const RunOptions &o, pid_t child, const ChildFailure &f, int notify = -1)
{
	int ws = 0;
	// Its way out (exit_group) may wait for the listener too.
	while (notify >= 0 && waitpid(child, &ws, WNOHANG) == 0) {
		pollfd pf{notify, POLLIN, 0};
		if (poll(&pf, 1, 10) == 1 && (pf.revents & POLLIN))
			pass_through(notify);
		else if (pf.revents & (POLLHUP | POLLERR))
			notify = -1;
	}
	if (notify < 0)
		waitpid(child, &ws, 0);
	if (f.stage == 1)
		std::fprintf(stderr, "seccomp: failed to load the filter: %s\n", std::strerror(f.err));
	else if (f.stage == 4)
		std::fprintf(stderr,
			     "seccomp: filter loaded but PR_GET_SECCOMP does not report filter mode (%s); not running "
			     "the command\n",
			     std::strerror(f.err));
	else if (f.stage == 2)
		std::fprintf(stderr, "seccomp: failed to hand the listener to the supervisor: %s\n",
			     std::strerror(f.err));
	else
		std::fprintf(stderr, "bulwark: %s: %s\n", o.command[0].c_str(), std::strerror(f.err));
	return exit_status(ws);
}

// Takes the child's listener, which it loads at fd number `slot`: tried
// until the child's status pipe says it failed or the fd is there. Returns
// the listener, or -1 with *failed set when the child reported a failure.
int take_listener(pid_t child, int slot, int st_r, ChildFailure &f, bool &failed)
{
	Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, child, 0)));
	if (!pidfd)
		return -1;
	for (int tries = 0; tries < 30000; tries++) {
		pollfd pf{st_r, POLLIN, 0};
		if (poll(&pf, 1, tries ? 1 : 0) == 1) {
			ssize_t n = read(st_r, &f, sizeof(f));
			failed = n == static_cast<ssize_t>(sizeof(f));
			return -1; // a failure, or EOF: exec'd without handing it over
		}
		int fd = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), slot, 0));
		if (fd < 0)
			continue; // not loaded yet
		if (is_listener(fd)) {
			fcntl(fd, F_SETFD, FD_CLOEXEC);
			return fd;
		}
		close(fd); // something else of the child's, before the load
	}
	return -1;
}

// Marks the child, lets it go, takes its listener and waits for its exec,
// answering its own calls on the way. Returns -1 once the command runs,
// else run's exit status.
int release_child(const RunOptions &o, Built &b, Pipes &p, pid_t child, Fd &notify)
{
	if (b.lsm) {
		try {
			b.lsm->confine(child);
		} catch (const std::exception &e) {
			return abort_child(child, std::string(e.what()) + "\nbulwark: child killed before it ran");
		}
	}
	if (write(p.go_w.get(), "g", 1) != 1)
		return abort_child(child, std::string("bulwark: cannot release the child: ") + std::strerror(errno));
	bool want_listener = b.use_seccomp && b.filter->has_listener();
	ChildFailure f{};
	if (want_listener) {
		int slot = -1;
		ssize_t n;
		do
			n = read(p.sk_p.get(), &slot, sizeof(slot));
		while (n < 0 && errno == EINTR);
		bool failed = false;
		int fd = -1;
		if (n == static_cast<ssize_t>(sizeof(slot)))
			fd = take_listener(child, slot, p.st_r.get(), f, failed);
		else if (read(p.st_r.get(), &f, sizeof(f)) == static_cast<ssize_t>(sizeof(f)))
			failed = true;
		if (failed)
			return report_child_failure(o, child, f);
		if (fd < 0)
			// It may be parked in a call nobody answers: never let it
			// run on without its supervisor.
			return abort_child(child, "seccomp: cannot take the child's listener; not running the command");
		notify.reset(fd);
		if (write(p.go_w.get(), "t", 1) != 1)
			return abort_child(child,
					   std::string("bulwark: cannot release the child: ") + std::strerror(errno));
	}
	p.go_w.reset();
	p.sk_p.reset();
	for (;;) {
		pollfd pf[2] = {{p.st_r.get(), POLLIN, 0}, {notify ? notify.get() : -1, POLLIN, 0}};
		int k = poll(pf, notify ? 2 : 1, -1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return abort_child(child, std::string("bulwark: poll: ") + std::strerror(errno));
		// The status pipe first: once it is closed, the command runs and
		// what it asks is the policy's to answer.
		if (pf[0].revents) {
			ssize_t n;
			do
				n = read(p.st_r.get(), &f, sizeof(f));
			while (n < 0 && errno == EINTR);
			if (n == static_cast<ssize_t>(sizeof(f)))
				return report_child_failure(o, child, f, notify.get());
			break;
		}
		if (pf[1].revents & POLLIN)
			pass_through(notify.get());
		else if (pf[1].revents)
			return abort_child(child, "seccomp: the child's listener closed before exec");
	}
	p.st_r.reset();
	return -1;
}

// Until the command exits: events, signals forwarded to it (not acted on:
// our exit would detach the LSM layer under it), orphans reaped.
int supervise(Built &b, EventStream &stream, pid_t child, Fd &notify, const sigset_t &fwd)
{
	Supervision sup(fwd);
	sup.serve(stream, b.lsm.get(), b.out.get(), b.metrics.get());
	if (notify)
		sup.watch(notify.get(), [&](uint32_t events) {
			if (events & (EPOLLHUP | EPOLLERR))
				sup.unwatch(notify.get());
			else
				stream.on_notification(notify.get());
		});
	int wstatus = 0;
	auto on_signal = [&](const signalfd_siginfo &si) {
		// SIGHUP also reopens the events file (logrotate).
		if (si.ssi_signo == SIGHUP && b.out)
			b.out->reopen();
		// A terminal's ^C (sent by the kernel to the whole foreground
		// group) already reached the child.
		if (si.ssi_signo != SIGCHLD && si.ssi_code != SI_KERNEL)
			kill(child, static_cast<int>(si.ssi_signo));
	};
	// A missed SIGCHLD (it may arrive before the signalfd exists) must
	// not hang us: the child is checked every tick as well.
	sup.run(200, on_signal, [&] {
		if (waitpid(child, &wstatus, WNOHANG) == child)
			sup.stop();
		reap_orphans();
	});
	return wstatus;
}

// The command is done. Whatever it left running is still confined only
// while our programs are attached, and they detach when we exit: end the
// tree first, as a container ends when its init exits.
void finish(const RunOptions &o, EventStream &stream, Fd &notify)
{
	int leftover = kill_descendants();
	if (leftover)
		std::fprintf(stderr, "bulwark: %s exited; killed %d process%s it left running in the sandbox\n",
			     o.command[0].c_str(), leftover, leftover == 1 ? "" : "es");
	if (notify) {
		pollfd p{notify.get(), POLLIN, 0};
		while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN))
			stream.on_notification(notify.get());
	}
	// Deliver what the kernel wrote before the child exited.
	stream.finish();
	if (stream.lost())
		std::fprintf(stderr, "bulwark: %llu events lost (ring buffer full); the stream says where\n",
			     static_cast<unsigned long long>(stream.lost()));
	log(o, "bulwark: " + std::to_string(stream.written()) + " events");
}

} // namespace

int run_run(const RunOptions &o)
{
	auto parsed = policy::parse_file(o.policy);
	for (const auto &d : parsed.diagnostics)
		std::fprintf(stderr, "%s\n", d.str().c_str());
	if (!parsed.ok())
		return 125;
	if (o.audit) {
		policy::Policy &p = *parsed.policy;
		p.mode = policy::Mode::Audit;
		for (auto &r : p.rules)
			r.mode = policy::Mode::Audit;
		for (auto &s : p.syscalls)
			s.mode = policy::Mode::Audit;
		for (auto &h : p.hooks)
			h.mode = policy::Mode::Audit;
		if (o.engine != "off" && o.engine != "auto") {
			std::fprintf(stderr, "bulwark: --audit runs without the engine (it reads the policy file as "
					     "written); nothing was applied\n");
			return 125;
		}
	}
	const policy::Policy &pol = *parsed.policy;
	Built b;
	try {
		build(o, pol, b);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "%s\n", e.what());
		std::fprintf(stderr, "bulwark: nothing was applied; %s was not started\n", o.command[0].c_str());
		return 125;
	}
	SinkOptions so;
	so.layers_active = (b.use_seccomp ? kLayerSeccomp : 0u) | (b.use_lsm ? kLayerLsm : 0u);
	so.rate_limit = o.rate_limit;
	Generations gens(b.out.get(), pol, so);
	EventStream stream(gens, &*b.filter, b.lsm.get());
	b.stream = &stream;

	// A consumer of --events - that goes away must not kill us (our exit
	// would detach the LSM layer under a running sandbox); the output
	// sees EPIPE instead. The child gets the default back before exec.
	signal(SIGPIPE, SIG_IGN);
	sigset_t fwd, oldmask;
	sigemptyset(&fwd);
	for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD})
		sigaddset(&fwd, sig);
	sigprocmask(SIG_BLOCK, &fwd, &oldmask);

	int go[2], status[2], sock[2];
	if (pipe2(go, O_CLOEXEC) || pipe2(status, O_CLOEXEC) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock)) {
		std::fprintf(stderr, "bulwark: pipe: %s\n", std::strerror(errno));
		return 125;
	}
	Pipes p{Fd(go[0]), Fd(go[1]), Fd(status[0]), Fd(status[1]), Fd(sock[0]), Fd(sock[1])};
	// Orphans of the sandbox become our children, so none can outlive the
	// layers unnoticed (see kill_descendants()).
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	pid_t parent = getpid();
	pid_t child = fork();
	if (child < 0) {
		std::fprintf(stderr, "bulwark: fork: %s\n", std::strerror(errno));
		return 125;
	}
	if (child == 0)
		child_main(o, b, p, parent, oldmask);
	g_command_pid = child;
	p.go_r.reset();
	p.st_w.reset();
	p.sk_c.reset();
	Fd notify;
	int rc = release_child(o, b, p, child, notify);
	if (rc >= 0)
		return rc;
	int wstatus;
	try {
		wstatus = supervise(b, stream, child, notify, fwd);
	} catch (const std::exception &e) {
		int rc = abort_child(child,
				     std::string(e.what()) + "\nbulwark: cannot supervise; the sandbox is killed");
		kill_descendants();
		return rc;
	}
	finish(o, stream, notify);
	return exit_status(wstatus);
}

} // namespace bulwark
