// SPDX-License-Identifier: Apache-2.0
// `bulwark learn`: runs the workload under `bulwark run` with the observe
// policy (or, with --check, the policy under test in audit mode), reads
// its event stream as it comes, and writes the learned policy or the
// would-be denials.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "loader/kernel/fd.h"
#include "loader/kernel/lsm.h"
#include "loader/learn/learn.h"
#include "policy/policy.h"

namespace bulwark::learn {

namespace {

using json = nlohmann::json;

// A private directory for the observe policy and the events FIFO.
struct WorkDir {
	std::string path;
	WorkDir()
	{
		char tmpl[] = "/tmp/bulwark-learn.XXXXXX";
		if (!mkdtemp(tmpl))
			throw Error("learn: mkdtemp", errno);
		path = tmpl;
	}
	~WorkDir()
	{
		unlink((path + "/policy.yaml").c_str());
		unlink((path + "/events").c_str());
		rmdir(path.c_str());
	}
	WorkDir(const WorkDir &) = delete;
	WorkDir &operator=(const WorkDir &) = delete;
};

std::string command_line(const std::vector<std::string> &cmd)
{
	std::string out;
	for (const auto &a : cmd)
		out += (out.empty() ? "" : " ") + a;
	return out;
}

// `bulwark run` (or, for a scope, `bulwark enforce` for o.duration
// seconds) with `policy`, handing each event line to `on_line`. Returns
// its exit status.
int observe_run(const std::string &policy, const LearnOptions &o, bool audit,
		const std::function<void(const std::string &)> &on_line, const WorkDir &wd)
{
	std::string fifo = wd.path + "/events";
	if (mkfifo(fifo.c_str(), 0600) != 0)
		throw Error("learn: mkfifo " + fifo, errno);
	Fd rd(open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
	// Our own writer keeps the FIFO from reading as ended before run has
	// opened it; it is closed once run has exited.
	Fd keep(open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
	if (!rd || !keep)
		throw Error("learn: open " + fifo, errno);
	std::vector<std::string> args = {
		"/proc/self/exe", o.scope.empty() ? "run" : "enforce", "--policy", policy, "--events", fifo};
	if (o.scope.empty()) {
		args.insert(args.end(), {"--layers", o.layers, "--engine", audit ? "off" : o.engine});
		if (audit)
			args.push_back("--audit");
		args.push_back("--");
		args.insert(args.end(), o.command.begin(), o.command.end());
	} else {
		args.insert(args.end(), {"--scope", o.scope, "--engine", "off"});
	}
	pid_t child = fork();
	if (child < 0)
		throw Error("learn: fork", errno);
	if (child == 0) {
		// Learn gone (killed, ^C): the run ends its workload as on SIGTERM.
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		std::vector<char *> argv;
		for (auto &a : args)
			argv.push_back(a.data());
		argv.push_back(nullptr);
		execv(argv[0], argv.data());
		std::fprintf(stderr, "learn: exec %s: %s\n", argv[0], std::strerror(errno));
		_exit(125);
	}
	// Ours to forward: the workload ends as it would without learn.
	std::string partial;
	char buf[65536];
	int wstatus = 0;
	bool exited = false;
	auto until = std::chrono::steady_clock::now() + std::chrono::seconds(o.duration);
	bool stopped = o.scope.empty();
	for (;;) {
		// A scope is watched for its time, then the enforcer stops (its
		// subjects run on: they were never blocked).
		if (!stopped && std::chrono::steady_clock::now() >= until) {
			kill(child, SIGTERM);
			stopped = true;
		}
		pollfd p{rd.get(), POLLIN, 0};
		poll(&p, 1, exited ? 0 : 100);
		ssize_t n = read(rd.get(), buf, sizeof(buf));
		if (n > 0) {
			partial.append(buf, static_cast<size_t>(n));
			size_t start = 0, nl;
			while ((nl = partial.find('\n', start)) != std::string::npos) {
				on_line(partial.substr(start, nl - start));
				start = nl + 1;
			}
			partial.erase(0, start);
			continue;
		}
		if (exited && (n == 0 || (n < 0 && errno == EAGAIN)))
			break;
		if (!exited && waitpid(child, &wstatus, WNOHANG) == child) {
			exited = true;
			keep.reset();
		}
	}
	if (!partial.empty())
		on_line(partial);
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : 125;
}

bool exists(const std::string &p)
{
	struct stat st;
	return stat(p.c_str(), &st) == 0;
}

// Temp file and rename: a reader never sees half a policy.
void write_file(const std::string &path, const std::string &text)
{
	std::string tmp = path + ".bulwark-learn.tmp";
	{
		std::ofstream out(tmp, std::ios::trunc);
		out << text;
		out.flush();
		if (!out)
			throw Error("learn: write " + tmp, errno ? errno : EIO);
	}
	if (rename(tmp.c_str(), path.c_str()) != 0) {
		int err = errno;
		unlink(tmp.c_str());
		throw Error("learn: rename to " + path, err);
	}
}

// Whether run itself failed (the workload never ran), by its status.
bool run_failed(int rc)
{
	return rc == 125 || rc == 126 || rc == 127;
}

// The layers to run with: without BPF-LSM, `all` falls back to seccomp
// (said in one line); `lsm` cannot. "" when nothing can run.
std::string choose_layers(const std::string &wanted)
{
	if (wanted == "seccomp")
		return wanted;
	std::string why = LsmLayer::load_probe();
	if (why.empty())
		return wanted;
	if (why.rfind("lsm: ", 0) == 0)
		why = why.substr(5);
	if (wanted == "lsm") {
		std::fprintf(stderr, "lsm: %s\nlearn: nothing was run\n", why.c_str());
		return "";
	}
	std::fprintf(stderr,
		     "lsm: %s; learn uses the seccomp layer only (syscalls and kernel-surface words; no file, exec "
		     "or network allow-lists)\n",
		     why.c_str());
	return "seccomp";
}

int check(const LearnOptions &opts)
{
	LearnOptions o = opts;
	o.layers = choose_layers(opts.layers);
	if (o.layers.empty())
		return 2;
	auto parsed = policy::parse_file(o.check);
	for (const auto &d : parsed.diagnostics)
		std::fprintf(stderr, "%s\n", d.str().c_str());
	if (!parsed.ok())
		return 2;
	WorkDir wd;
	struct Hits {
		uint64_t n = 0;
		std::string example;
	};
	std::map<std::string, Hits> by_rule;
	uint64_t lost = 0;
	int rc = observe_run(
		o.check, o, true,
		[&](const std::string &line) {
			json j = json::parse(line, nullptr, false);
			if (j.is_discarded() || !j.is_object())
				return;
			const json &b = j.value("bulwark", json::object());
			if (j.value("event", json::object()).value("action", "") == "events-lost") {
				lost += b.value("lost", 0ull);
				return;
			}
			if (b.value("action", "") != "audit")
				return;
			std::string rule = j.value("rule", json::object()).value("id", "");
			std::string what = j.value("file", json::object()).value("path", "");
			if (what.empty() && b.contains("syscall"))
				what = b["syscall"].value("name", "");
			if (what.empty())
				what = j.value("event", json::object()).value("action", "");
			std::string proc = j.value("process", json::object()).value("executable", "");
			Hits &h = by_rule[rule];
			if (!h.n)
				h.example = what + (proc.empty() ? "" : " (by " + proc + ")");
			h.n++;
			// The LSM half of one attempt may name another rule.
			if (b.contains("lsm") && b["lsm"].is_object()) {
				std::string lr = b["lsm"].value("rule", "");
				if (!lr.empty() && lr != rule) {
					Hits &l = by_rule[lr];
					if (!l.n)
						l.example = h.example;
					l.n++;
				}
			}
		},
		wd);
	if (run_failed(rc)) {
		std::fprintf(stderr, "learn: %s did not run (status %d); nothing was checked\n", o.command[0].c_str(),
			     rc);
		return 2;
	}
	uint64_t total = 0;
	for (const auto &[r, h] : by_rule)
		total += h.n;
	std::printf("check: %s against: %s (exit status %d)\n", o.check.c_str(), command_line(o.command).c_str(), rc);
	if (!by_rule.empty()) {
		std::printf("  %-40s %10s  %s\n", "rule", "would deny", "first");
		for (const auto &[r, h] : by_rule)
			std::printf("  %-40s %10llu  %s\n", r.c_str(), static_cast<unsigned long long>(h.n),
				    h.example.c_str());
	}
	if (lost)
		std::printf("check: %llu events were lost: what they held was not checked\n",
			    static_cast<unsigned long long>(lost));
	if (total) {
		std::printf("check: %llu attempt%s would have been denied by %zu rule%s; not ready to enforce\n",
			    static_cast<unsigned long long>(total), total == 1 ? "" : "s", by_rule.size(),
			    by_rule.size() == 1 ? "" : "s");
		return 1;
	}
	if (lost)
		return 1;
	std::printf("check: nothing would have been denied\n");
	return 0;
}

} // namespace

int run_learn(const LearnOptions &o)
{
	if (o.command.empty() == o.scope.empty()) {
		std::fprintf(stderr, "learn: give a command (bulwark learn [OPTIONS] -- COMMAND [ARGS...]) or a scope "
				     "(--scope cgroup:PATH|exe:PATH --duration SECONDS), not both\n");
		return 2;
	}
	if (!o.scope.empty() && (!o.duration || !o.check.empty() || o.layers == "seccomp")) {
		std::fprintf(stderr, "learn: --scope needs --duration, works through the BPF-LSM layer alone, and "
				     "cannot --check\n");
		return 2;
	}
	try {
		if (!o.check.empty())
			return check(o);
		if (!o.output.empty() && exists(o.output) && !o.force) {
			std::fprintf(stderr, "learn: %s exists; --force replaces it (nothing was run)\n",
				     o.output.c_str());
			return 2;
		}
		Record merged;
		for (const auto &m : o.merge) {
			std::ifstream in(m);
			if (!in) {
				std::fprintf(stderr, "%s:1: learn: cannot read: %s\n", m.c_str(), std::strerror(errno));
				return 2;
			}
			std::stringstream ss;
			ss << in.rdbuf();
			merged.merge(read_evidence(ss.str(), m));
		}
		std::string layers = o.scope.empty() ? choose_layers(o.layers) : "lsm";
		if (layers.empty())
			return 2;
		WorkDir wd;
		std::vector<std::string> dirs, files;
		host_roots(dirs, files);
		std::string pol = wd.path + "/policy.yaml";
		write_file(pol, observe_policy(dirs, files, layers != "seccomp", o.scope.empty()));
		LearnOptions run = o;
		run.layers = layers;
		Record rec;
		uint64_t bad = 0;
		auto t0 = std::chrono::steady_clock::now();
		int rc = observe_run(
			pol, run, false, [&](const std::string &line) { bad += !observe(line, rec); }, wd);
		double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
		std::string what = o.scope.empty() ? command_line(o.command) : "scope " + o.scope;
		if (o.scope.empty() ? run_failed(rc) : (rc != 0 && rc != 128 + SIGTERM)) {
			std::fprintf(stderr, "learn: %s did not run (status %d); nothing was written\n", what.c_str(),
				     rc);
			return 2;
		}
		rec.runs = 1;
		rec.lsm = layers != "seccomp";
		rec.seccomp = o.scope.empty();
		rec.scope = o.scope;
		rec.commands.push_back(what);
		rec.lost += bad;
		merged.merge(rec);
		WriteOptions wo;
		wo.name = o.name.empty() ? "learned" : o.name;
		std::string text = write_policy(merged, wo, FsView::host());
		// What learn writes must be a policy bulwark takes as it is.
		auto check = policy::parse_string(text, o.output.empty() ? "<learned>" : o.output);
		if (!check.ok()) {
			for (const auto &d : check.diagnostics)
				std::fprintf(stderr, "%s\n", d.str().c_str());
			std::fprintf(stderr, "learn: the learned policy does not parse (a bug); nothing was written\n");
			return 1;
		}
		if (o.output.empty())
			std::fputs(text.c_str(), stdout);
		else
			write_file(o.output, text);
		std::fprintf(stderr,
			     "learn: %s exited %d after %.2f s; %llu events, %zu syscalls, %zu files read, %zu "
			     "written, %zu executables%s%s\n",
			     what.c_str(), rc, secs, static_cast<unsigned long long>(rec.events),
			     rec.count_prefix("syscall "), rec.count_prefix("read "), rec.count_prefix("write "),
			     rec.count_prefix("exec "), o.output.empty() ? "" : "; wrote ", o.output.c_str());
		if (merged.lost)
			std::fprintf(stderr, "learn: WARNING: %llu events lost; the policy says so at its top\n",
				     static_cast<unsigned long long>(merged.lost));
		return 0;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "%s\n", e.what());
		std::fprintf(stderr, "learn: nothing was written\n");
		return 2;
	}
}

} // namespace bulwark::learn
