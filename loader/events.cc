// SPDX-License-Identifier: Apache-2.0
#include "loader/events.h"

#include <arpa/inet.h>
#include <linux/audit.h>
#include <linux/types.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

extern "C" {
#include "bulwark.h"
}
#include "loader/lsm.h"
#include "policy/catalog.h"
#include "seccomp/filter.h"

namespace bulwark {

using json = nlohmann::ordered_json;

static int64_t now_ns(clockid_t clk)
{
	timespec ts{};
	clock_gettime(clk, &ts);
	return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

EventSink::EventSink(std::FILE *out, const policy::Policy &policy)
	: out_(out), policy_(policy),
	  boot_to_epoch_ns_(now_ns(CLOCK_REALTIME) - now_ns(CLOCK_BOOTTIME))
{
}

std::string EventSink::rfc3339(uint64_t epoch_ns)
{
	time_t secs = static_cast<time_t>(epoch_ns / 1000000000);
	struct tm tm{};
	gmtime_r(&secs, &tm);
	char buf[64];
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%09lluZ",
		 static_cast<unsigned long long>(epoch_ns % 1000000000));
	return buf;
}

static const char *errno_name(int err)
{
	switch (err) {
	case 0: return "";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOSYS: return "ENOSYS";
	case ENOMEM: return "ENOMEM";
	}
	return strerrorname_np(err) ? strerrorname_np(err) : "";
}

static std::string fixed_str(const char *s, size_t max)
{
	return std::string(s, strnlen(s, max));
}

static json base(const std::string &ts, const char *layer, const char *action_word,
		 const policy::Policy &policy, const std::string &rule_id, bool audit)
{
	json j;
	j["@timestamp"] = ts;
	j["ecs"] = {{"version", "8.11.0"}};
	j["event"] = {
		{"kind", "alert"},
		{"module", "bulwark"},
		{"dataset", std::string("bulwark.") + layer},
		{"action", action_word},
		{"type", json::array({audit ? "info" : "denied"})},
		{"outcome", audit ? "success" : "failure"},
	};
	j["rule"] = {{"id", rule_id}, {"ruleset", policy.name}};
	return j;
}

static void write_errno(json &b, int err)
{
	b["errno"] = err;
	b["errno_name"] = errno_name(err);
}

static const char *category(uint32_t hook)
{
	switch (hook) {
	case BW_HOOK_FILE_OPEN:
	case BW_HOOK_READ_FILE:
	case BW_HOOK_PATH_TRUNCATE:
	case BW_HOOK_PATH_UNLINK:
	case BW_HOOK_PATH_RMDIR:
	case BW_HOOK_PATH_RENAME:
	case BW_HOOK_PATH_LINK:
	case BW_HOOK_PATH_CHMOD:
	case BW_HOOK_PATH_CHOWN:
		return "file";
	case BW_HOOK_SOCKET_CREATE:
	case BW_HOOK_SOCKET_CONNECT:
	case BW_HOOK_SOCKET_BIND:
	case BW_HOOK_SOCKET_SENDMSG:
		return "network";
	case BW_HOOK_MODULE_REQUEST:
	case BW_HOOK_LOAD_DATA:
		return "driver";
	case BW_HOOK_SETUID:
	case BW_HOOK_USERNS:
	case BW_HOOK_KEY_ALLOC:
		return "iam";
	case BW_HOOK_SB_MOUNT:
	case BW_HOOK_MOVE_MOUNT:
	case BW_HOOK_SB_UMOUNT:
	case BW_HOOK_SB_REMOUNT:
		return "configuration";
	}
	return "process";
}

static std::string ip_text(uint32_t family, const uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN] = "";
	inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, sizeof(buf));
	return buf;
}

void EventSink::lsm(const bw_event &e)
{
	std::string rule_id = policy::rule_id_for(policy_, e.rule);
	bool audit = e.verdict == BW_VERDICT_AUDIT;
	const char *hook = hook_name(e.hook);
	json j = base(rfc3339(e.boot_ns + boot_to_epoch_ns_), "lsm", hook, policy_, rule_id, audit);
	j["event"]["category"] = json::array({category(e.hook)});
	json b = {{"layer", "lsm"}, {"hook", hook}, {"action", audit ? "audit" : "deny"},
		  {"mode", audit ? "audit" : "enforce"}};
	write_errno(b, e.err < 0 ? -e.err : 0);
	if (e.access) {
		json acc = json::array();
		if (e.access & BW_ACC_READ) acc.push_back("read");
		if (e.access & BW_ACC_WRITE) acc.push_back("write");
		if (e.access & BW_ACC_EXEC) acc.push_back("exec");
		b["access"] = acc;
	}
	std::string target = fixed_str(e.target, sizeof(e.target));
	b["target"] = target;
	if (e.hook >= BW_HOOK_SB_MOUNT && e.hook <= BW_HOOK_SB_REMOUNT)
		b["mount_flags"] = e.flags;
	if (e.hook == BW_HOOK_SOCKET_CREATE) {
		b["socket"] = {{"family", e.family}, {"type", e.type & 0xf}};
	} else if (e.hook == BW_HOOK_SOCKET_CONNECT || e.hook == BW_HOOK_SOCKET_BIND ||
		   e.hook == BW_HOOK_SOCKET_SENDMSG) {
		std::string ip = ip_text(e.family, e.addr);
		const char *side = e.hook == BW_HOOK_SOCKET_CONNECT ? "destination" : "source";
		j[side] = {{"ip", ip}, {"port", e.port}};
		b["target"] = (e.family == AF_INET6 ? "[" + ip + "]" : ip) + ":" + std::to_string(e.port);
	} else if (e.hook == BW_HOOK_BPF || e.hook == BW_HOOK_PERF || e.hook == BW_HOOK_PTRACE_ACCESS ||
		   e.hook == BW_HOOK_READ_FILE || e.hook == BW_HOOK_LOAD_DATA) {
		b["arg"] = e.flags;
	}
	j["bulwark"] = b;
	j["process"] = {
		{"pid", e.pid},
		{"thread", {{"id", e.tid}}},
		{"parent", {{"pid", e.ppid}}},
		{"name", fixed_str(e.comm, sizeof(e.comm))},
		{"executable", fixed_str(e.exe, sizeof(e.exe))},
	};
	j["user"] = {{"id", std::to_string(e.uid)}};
	if (category(e.hook) == std::string("file") || e.hook == BW_HOOK_BPRM_CHECK || e.hook == BW_HOOK_MMAP_EXEC)
		if (!target.empty())
			j["file"] = {{"path", target}};
	write(j.dump());
}

// What /proc says about the task that made the syscall. Read while the task
// is parked in the notification, so it cannot have exited or exec'd yet.
struct ProcInfo {
	long tgid = -1, ppid = -1, uid = -1;
	std::string comm, exe;
};

static ProcInfo proc_info(uint32_t tid)
{
	ProcInfo p;
	std::string dir = "/proc/" + std::to_string(tid);
	std::ifstream st(dir + "/status");
	std::string line;
	while (std::getline(st, line)) {
		auto field = [&](const char *k) { return line.rfind(k, 0) == 0; };
		if (field("Name:"))
			p.comm = line.substr(line.find_first_not_of(" \t", 5));
		else if (field("Tgid:"))
			p.tgid = std::stol(line.substr(5));
		else if (field("PPid:"))
			p.ppid = std::stol(line.substr(5));
		else if (field("Uid:"))
			p.uid = std::stol(line.substr(4));
	}
	char buf[4096];
	ssize_t n = readlink((dir + "/exe").c_str(), buf, sizeof(buf) - 1);
	if (n > 0)
		p.exe.assign(buf, static_cast<size_t>(n));
	return p;
}

void EventSink::seccomp(const seccomp_notif &n, size_t rule_idx, int err, const std::function<bool()> &still_valid)
{
	bool audit = err == 0;
	std::string name = seccomp::syscall_name(n.data.arch, n.data.nr);
	json j = base(rfc3339(static_cast<uint64_t>(now_ns(CLOCK_REALTIME))), "seccomp", name.c_str(),
		      policy_, policy::rule_id_for(policy_, rule_idx), audit);
	j["event"]["category"] = json::array({"process"});
	json args = json::array();
	for (auto a : n.data.args) {
		char hex[32];
		snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(a));
		args.push_back(hex);
	}
	json b = {{"layer", "seccomp"}, {"action", audit ? "audit" : "deny"},
		  {"mode", audit ? "audit" : "enforce"}};
	write_errno(b, err);
	b["syscall"] = {{"name", name}, {"nr", n.data.nr}, {"arch", (n.data.arch == AUDIT_ARCH_X86_64 && (n.data.nr & 0x40000000)) ? "x32" : seccomp::arch_name(n.data.arch)}, {"args", args}};
	j["bulwark"] = b;
	ProcInfo p = proc_info(n.pid);
	if (!still_valid())
		return;
	j["process"] = {
		{"pid", p.tgid},
		{"thread", {{"id", n.pid}}},
		{"parent", {{"pid", p.ppid}}},
		{"name", p.comm},
		{"executable", p.exe},
	};
	j["user"] = {{"id", std::to_string(p.uid)}};
	write(j.dump());
}

void EventSink::write(const std::string &line)
{
	count_++;
	if (!out_)
		return;
	std::fputs(line.c_str(), out_);
	std::fputc('\n', out_);
	// Line-at-a-time: a shipper tailing the file must never see half an event.
	std::fflush(out_);
}

} // namespace bulwark
