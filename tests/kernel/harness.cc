// SPDX-License-Identifier: Apache-2.0
#include "harness.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ktest {

std::vector<nlohmann::json> Result::layer(const std::string &l) const
{
	std::vector<nlohmann::json> v;
	for (const auto &e : events)
		if (e["bulwark"]["layer"] == l)
			v.push_back(e);
	return v;
}

std::string bin_dir()
{
	if (const char *d = std::getenv("BULWARK_BIN_DIR"))
		return d;
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		throw std::runtime_error("readlink /proc/self/exe");
	std::string self(buf, static_cast<size_t>(n));
	return self.substr(0, self.rfind('/'));
}

std::string runtime_reads_rule()
{
	std::string p = probe(), dir = p.substr(0, p.rfind('/'));
	return "  - id: runtime\n    allow: read\n    paths: [\"" + dir +
	       "/**\", \"/usr/lib/**\", \"/usr/lib64/**\", /etc/ld.so.cache]\n";
}

std::string probe()
{
	// Tests/ build dir layout on the host, flat layout in the VM.
	std::string d = bin_dir();
	for (const char *rel : {"/bulwark-probe", "/tests/bulwark-probe"})
		if (access((d + rel).c_str(), X_OK) == 0)
			return d + rel;
	return d + "/bulwark-probe";
}

std::string bulwark_bin()
{
	std::string d = bin_dir();
	for (const char *rel : {"/bulwark", "/../bulwark"})
		if (access((d + rel).c_str(), X_OK) == 0)
			return d + rel;
	return d + "/bulwark";
}

static std::string slurp(const std::string &p)
{
	std::ifstream in(p);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

Run::Run(const std::string &policy_yaml, const std::string &layers, const std::vector<std::string> &cmd,
	 const std::vector<std::string> &extra)
{
	char tmpl[] = "/tmp/bwtest.XXXXXX";
	if (!mkdtemp(tmpl))
		throw std::runtime_error("mkdtemp");
	dir_ = tmpl;
	std::ofstream(dir_ + "/policy.yaml") << policy_yaml;
	std::vector<std::string> args = {
		bulwark_bin(),          "run",      "--policy", dir_ + "/policy.yaml", "--events",
		dir_ + "/events.jsonl", "--layers", layers};
	args.insert(args.end(), extra.begin(), extra.end());
	args.push_back("--");
	args.insert(args.end(), cmd.begin(), cmd.end());
	pid_ = fork();
	if (pid_ == 0) {
		int out = open((dir_ + "/out").c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
		int err = open((dir_ + "/err").c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
		dup2(out, 1);
		dup2(err, 2);
		std::vector<char *> argv;
		for (auto &a : args)
			argv.push_back(const_cast<char *>(a.c_str()));
		argv.push_back(nullptr);
		execv(argv[0], argv.data());
		_exit(99);
	}
}

Run::~Run()
{
	if (pid_ > 0) {
		kill(pid_, SIGKILL);
		waitpid(pid_, nullptr, 0);
	}
	if (!dir_.empty())
		std::system(("rm -rf " + dir_).c_str());
}

Result Run::wait()
{
	Result r;
	int st = 0;
	waitpid(pid_, &st, 0);
	pid_ = -1;
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r.out = slurp(dir_ + "/out");
	r.err = slurp(dir_ + "/err");
	std::istringstream ev(slurp(dir_ + "/events.jsonl"));
	std::string line;
	while (std::getline(ev, line))
		if (!line.empty())
			r.events.push_back(nlohmann::json::parse(line));
	return r;
}

static Cmd run_capture(const std::vector<std::string> &args)
{
	char tmpl[] = "/tmp/bwcmd.XXXXXX";
	if (!mkdtemp(tmpl))
		throw std::runtime_error("mkdtemp");
	std::string dir = tmpl;
	pid_t pid = fork();
	if (pid == 0) {
		int out = open((dir + "/out").c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
		int err = open((dir + "/err").c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
		dup2(out, 1);
		dup2(err, 2);
		std::vector<char *> argv;
		for (auto &a : args)
			argv.push_back(const_cast<char *>(a.c_str()));
		argv.push_back(nullptr);
		execv(argv[0], argv.data());
		_exit(99);
	}
	// A command that should fail at once but hangs (say, an enforce that
	// was meant to be refused) must fail the test, not stall the suite
	// with a policy in force: after 120 s it is killed.
	int st = 0;
	bool timed_out = false;
	for (int i = 0; waitpid(pid, &st, WNOHANG) == 0; i++) {
		if (i == 12000) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			timed_out = true;
			break;
		}
		usleep(10000);
	}
	Cmd c;
	c.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	c.out = slurp(dir + "/out");
	c.err = slurp(dir + "/err");
	if (timed_out)
		c.err += "\n[ktest: killed after 120 s]\n";
	std::system(("rm -rf " + dir).c_str());
	return c;
}

Cmd bulwark(const std::vector<std::string> &args)
{
	std::vector<std::string> a = {bulwark_bin()};
	a.insert(a.end(), args.begin(), args.end());
	return run_capture(a);
}

Cmd shell(const std::string &cmd)
{
	return run_capture({"/usr/bin/bash", "-c", cmd});
}

Enforcer::Enforcer(const std::vector<std::string> &args, bool via_keeper, bool events)
{
	char tmpl[] = "/tmp/bwenf.XXXXXX";
	if (!mkdtemp(tmpl))
		throw std::runtime_error("mkdtemp");
	dir_ = tmpl;
	std::vector<std::string> a = {bulwark_bin(), "enforce"};
	if (events) {
		a.push_back("--events");
		a.push_back(dir_ + "/events.jsonl");
	}
	a.insert(a.end(), args.begin(), args.end());
	auto exec_it = [&] {
		int err = open((dir_ + "/err").c_str(), O_CREAT | O_WRONLY | O_APPEND, 0600);
		int devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(err, 2);
		std::vector<char *> argv;
		for (auto &x : a)
			argv.push_back(const_cast<char *>(x.c_str()));
		argv.push_back(nullptr);
		execv(argv[0], argv.data());
		_exit(99);
	};
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		throw std::runtime_error("pipe");
	pid_t child = fork();
	if (child == 0) {
		if (!via_keeper)
			exec_it();
		pid_t e = fork();
		if (e == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			exec_it();
		}
		ssize_t unused = write(p[1], &e, sizeof(e));
		(void)unused;
		waitpid(e, nullptr, 0);
		_exit(0);
	}
	close(p[1]);
	if (via_keeper) {
		keeper_ = child;
		if (read(p[0], &pid_, sizeof(pid_)) != sizeof(pid_))
			pid_ = -1;
	} else {
		pid_ = child;
	}
	close(p[0]);
}

Enforcer::~Enforcer()
{
	if (keeper_ > 0) {
		kill(keeper_, SIGKILL);
		waitpid(keeper_, nullptr, 0);
	}
	if (pid_ > 0 && !reaped_) {
		kill(pid_, SIGKILL);
		if (keeper_ <= 0)
			waitpid(pid_, nullptr, 0);
	}
	if (!dir_.empty())
		std::system(("rm -rf " + dir_).c_str());
}

static bool pid_running(pid_t pid)
{
	std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
	auto cp = stat.rfind(')');
	return cp != std::string::npos && stat.size() > cp + 2 && stat[cp + 2] != 'Z';
}

int Enforcer::stop_via_keeper()
{
	if (keeper_ <= 0)
		return -1;
	kill(keeper_, SIGKILL);
	waitpid(keeper_, nullptr, 0);
	keeper_ = -1;
	// The enforcer was the keeper's child, now init's: poll /proc.
	for (int i = 0; i < 400; i++) {
		if (!pid_running(pid_)) {
			reaped_ = true;
			return 0;
		}
		usleep(50 * 1000);
	}
	return -1;
}

std::string Enforcer::err() const
{
	return slurp(dir_ + "/err");
}

bool Enforcer::alive() const
{
	if (reaped_ || pid_ <= 0)
		return false;
	if (keeper_ > 0)
		return pid_running(pid_);
	int st;
	if (waitpid(pid_, &st, WNOHANG) == pid_) {
		const_cast<Enforcer *>(this)->reaped_ = true;
		return false;
	}
	return true;
}

bool Enforcer::wait_ready(int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 50) {
		if (err().find(" in force for scope ") != std::string::npos)
			return true;
		if (!alive())
			return false;
		usleep(50 * 1000);
	}
	return false;
}

int Enforcer::stop(int sig)
{
	if (reaped_ || pid_ <= 0)
		return -1;
	kill(pid_, sig);
	int st = 0;
	if (keeper_ > 0) {
		for (int i = 0; i < 400 && pid_running(pid_); i++)
			usleep(50 * 1000);
		reaped_ = !pid_running(pid_);
		return reaped_ ? 0 : -1;
	}
	waitpid(pid_, &st, 0);
	reaped_ = true;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

std::vector<nlohmann::json> Enforcer::events() const
{
	std::vector<nlohmann::json> v;
	std::istringstream ev(slurp(dir_ + "/events.jsonl"));
	std::string line;
	while (std::getline(ev, line))
		if (!line.empty())
			v.push_back(nlohmann::json::parse(line));
	return v;
}

std::vector<nlohmann::json> Enforcer::wait_events(size_t n, int timeout_ms) const
{
	std::vector<nlohmann::json> v;
	for (int t = 0; t < timeout_ms; t += 50) {
		v = events();
		if (v.size() >= n)
			break;
		usleep(50 * 1000);
	}
	return v;
}

Result run(const std::string &policy_yaml, const std::string &layers, const std::vector<std::string> &cmd,
	   const std::vector<std::string> &extra)
{
	Run r(policy_yaml, layers, cmd, extra);
	return r.wait();
}

std::string describe(const Result &r)
{
	std::string s =
		"status " + std::to_string(r.status) + "\nstdout:\n" + r.out + "stderr:\n" + r.err + "events:\n";
	for (const auto &e : r.events)
		s += e.dump() + "\n";
	return s;
}

bool in_vm()
{
	const char *v = std::getenv("BULWARK_VM");
	return v && std::string(v) == "1";
}

bool host_runs_i386()
{
	static const bool on = [] {
		Cmd c = shell(probe() + " i386 getpid 2>&1");
		return c.status == 0 && c.out == "ok\n";
	}();
	return on;
}

bool lsm_usable()
{
	std::ifstream in("/sys/kernel/security/lsm");
	std::string l;
	return std::getline(in, l) && ("," + l + ",").find(",bpf,") != std::string::npos &&
	       std::getenv("BULWARK_LSM_TESTS") != nullptr;
}

std::vector<std::string> loaded_bulwark_programs()
{
	std::vector<std::string> names;
	__u32 id = 0;
	while (bpf_prog_get_next_id(id, &id) == 0) {
		int fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		bpf_prog_info info{};
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && std::strncmp(info.name, "bw_", 3) == 0)
			names.push_back(info.name);
		close(fd);
	}
	return names;
}

std::vector<std::string> bulwark_programs_after_release(int timeout_ms)
{
	auto start = std::chrono::steady_clock::now();
	std::vector<std::string> left = loaded_bulwark_programs();
	while (!left.empty() && std::chrono::steady_clock::now() - start < std::chrono::milliseconds(timeout_ms)) {
		usleep(50 * 1000);
		left = loaded_bulwark_programs();
	}
	long ms =
		std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
	if (left.empty() && ms >= 100)
		std::printf("ktest: the kernel freed bulwark's programs %ld ms after their last reference went\n", ms);
	return left;
}

std::string join_names(const std::vector<std::string> &v)
{
	std::string out;
	for (const auto &n : v)
		out += (out.empty() ? "" : " ") + n;
	return out;
}

} // namespace ktest
