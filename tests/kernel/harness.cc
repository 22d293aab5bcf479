// SPDX-License-Identifier: Apache-2.0
#include "harness.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

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
	std::vector<std::string> args = {bulwark_bin(), "run", "--policy", dir_ + "/policy.yaml",
					 "--events", dir_ + "/events.jsonl", "--layers", layers};
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

Result run(const std::string &policy_yaml, const std::string &layers, const std::vector<std::string> &cmd,
	   const std::vector<std::string> &extra)
{
	Run r(policy_yaml, layers, cmd, extra);
	return r.wait();
}

std::string describe(const Result &r)
{
	std::string s = "status " + std::to_string(r.status) + "\nstdout:\n" + r.out + "stderr:\n" + r.err + "events:\n";
	for (const auto &e : r.events)
		s += e.dump() + "\n";
	return s;
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

} // namespace ktest
