// SPDX-License-Identifier: Apache-2.0
// The resident engine: loads every LSM program (and the syscall
// tracepoints) once, pinned, and hosts each `bulwark run` as a sandbox: a
// policy written into its own generation slots, a sandbox entry the
// subjects' marks name, and the records of that sandbox sent to its
// client. Adding or removing a sandbox is map updates; nothing is loaded.
#include "loader/supervise/engine.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <vector>

#include "loader/supervise/enforce_parts.h"
#include "loader/supervise/engine_wire.h"
#include "loader/supervise/loop.h"
#include "policy/catalog.h"
#include "policy/policy.h"

extern "C" {
#include "bulwark.h"
}

namespace bulwark {

namespace engine_wire {

int send_msg(int sock, const std::string &msg, int fd, int flags)
{
	iovec iov{const_cast<char *>(msg.data()), msg.size()};
	alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))] = {};
	msghdr mh{};
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		mh.msg_control = ctrl;
		mh.msg_controllen = sizeof(ctrl);
		cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, flags | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

ssize_t recv_msg(int sock, std::string &msg, Fd *fd, int flags)
{
	msg.resize(65536);
	iovec iov{msg.data(), msg.size()};
	alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))] = {};
	msghdr mh{};
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctrl;
	mh.msg_controllen = sizeof(ctrl);
	ssize_t n;
	do
		n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	msg.resize(static_cast<size_t>(n));
	for (cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int got;
			std::memcpy(&got, CMSG_DATA(c), sizeof(int));
			if (fd)
				fd->reset(got);
			else
				close(got);
		}
	return n;
}

void for_each_subject(const LsmMaps &m, const std::function<void(pid_t, const bw_task &)> &fn)
{
	DIR *d = opendir("/proc");
	if (!d)
		return;
	while (dirent *e = readdir(d)) {
		char *end;
		long pid = std::strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0)));
		if (!pidfd)
			continue;
		int key = pidfd.get();
		bw_task t{};
		if (bpf_map_lookup_elem(m.tasks, &key, &t) == 0 && t.sandbox && t.confined != BW_TASK_SUPERVISOR)
			fn(static_cast<pid_t>(pid), t);
	}
	closedir(d);
}

} // namespace engine_wire

namespace {

using engine_wire::recv_msg;
using engine_wire::send_msg;

void put(int fd, const void *key, const void *val, const std::string &what)
{
	if (bpf_map_update_elem(fd, key, val, BPF_ANY))
		throw Error("engine: failed to fill " + what, errno);
}

// SIGKILLs every process marked with sandbox id (any epoch when epoch is
// 0), round after round until none is left. Returns how many were killed.
int sweep(const LsmMaps &m, uint32_t id, uint32_t epoch)
{
	int killed = 0;
	for (int round = 0; round < 100; round++) {
		int seen = 0;
		engine_wire::for_each_subject(m, [&](pid_t pid, const bw_task &t) {
			if ((id && t.sandbox != id) || (epoch && t.epoch != epoch))
				return;
			// A zombie keeps its mark until reaped; it runs nothing.
			std::string st = read_text("/proc/" + std::to_string(pid) + "/stat");
			size_t cp = st.rfind(')');
			if (cp != std::string::npos && cp + 2 < st.size() && st[cp + 2] == 'Z')
				return;
			seen++;
			if (kill(pid, SIGKILL) == 0 && round == 0)
				killed++;
		});
		if (!seen)
			break;
		usleep(10 * 1000);
	}
	return killed;
}

// A record no client can take: a subject of a sandbox whose supervisor is
// gone (killed at this hook), or one that outlived its sandbox's client.
void log_unclaimed(const bw_event &e)
{
	std::string comm(e.comm, strnlen(e.comm, sizeof(e.comm)));
	std::string who =
		"lsm: sandbox " + std::to_string(e.sandbox) + ": pid " + std::to_string(e.pid) + " (" + comm + ") ";
	if (e.rule == BW_RULE_GONE)
		say(who + "killed at a hook: its supervisor or the engine is gone (builtin:supervisor-gone)");
	else
		say(who + (e.verdict == BW_VERDICT_DENY ? "denied" : "audited") + " by rule #" +
		    std::to_string(e.rule % BW_MAX_RULES) + " after its client left");
}

struct PolicySlot {
	bool used = false;
	uint32_t refs = 0;
	uint64_t hash = 0;
	std::string path;
	std::optional<policy::Policy> pol;
};

struct Session {
	Fd sock;
	pid_t peer = -1;
	uint32_t sandbox = 0, epoch = 0, policy = 0;
	bool said_bye = false;
	bool scoped = false; // an `enforce` scope, not a `run` tree
	uint64_t lost = 0, lost_said = 0;
};

// An `enforce` scope the engine hosts, by its sandbox id. It outlives its
// enforcer: gone (the enforcer died: what enters it is killed) or released
// (stopped cleanly: what runs in it is free), until an enforcer for the
// same path takes the id over.
struct HostedScope {
	bw_scope_key key{};
	uint32_t level = 0;
	uint32_t epoch = 0;
	bool live = true;
	ScopeFollower follower;
};

bw_scope_key key_of(const LsmScope &s)
{
	bw_scope_key k{};
	if (s.kind == BW_SCOPE_CGROUP) {
		k.kind = BW_SCOPE_KEY_CGROUP;
		k.id = s.cgroup_id;
	} else {
		k.kind = BW_SCOPE_KEY_EXE;
		k.dev = s.exe_dev;
		k.id = s.exe_ino;
	}
	return k;
}

bool same_key(const bw_scope_key &a, const bw_scope_key &b)
{
	return a.kind == b.kind && a.dev == b.dev && a.id == b.id;
}

class Engine {
public:
	Engine(const EngineOptions &o, LsmLayer &lsm) : o_(o), lsm_(lsm), policies_(o.max_policies + 1) {}

	void accept_one(int listen_fd, Supervision &sup)
	{
		int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		ucred cr{};
		socklen_t len = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || cr.uid != 0) {
			send_msg(fd, "error engine: only root may use the engine (uid " + std::to_string(cr.uid) +
					     " was refused)");
			say("engine: refused a client with uid " + std::to_string(cr.uid) + " (pid " +
			    std::to_string(cr.pid) + ")");
			close(fd);
			return;
		}
		int sndbuf = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
		Session &s = sessions_[fd];
		s.sock.reset(fd);
		s.peer = cr.pid;
		sup.watch(fd, [this, fd, &sup](uint32_t ev) { on_client(fd, ev, sup); });
	}

	void on_record(const bw_event &e)
	{
		auto it = by_sandbox_.find(e.sandbox);
		if (e.sandbox && it != by_sandbox_.end()) {
			Session &s = sessions_[it->second];
			// Records its socket could not take are counted, and the
			// count goes first once it takes one again: the client
			// reports them as lost, never silently.
			if (s.lost > s.lost_said) {
				if (send_msg(s.sock.get(), "L " + std::to_string(s.lost), -1, MSG_DONTWAIT) < 0) {
					s.lost++;
					return;
				}
				s.lost_said = s.lost;
			}
			std::string msg(1, 'E');
			msg.append(reinterpret_cast<const char *>(&e), sizeof(e));
			if (send_msg(s.sock.get(), msg, -1, MSG_DONTWAIT) < 0)
				s.lost++;
			return;
		}
		log_unclaimed(e);
	}

	// Every sandbox ends: its subjects die with the engine's layer.
	void shutdown(Supervision &sup)
	{
		std::vector<int> fds;
		for (auto &[fd, s] : sessions_)
			fds.push_back(fd);
		for (int fd : fds)
			end_session(fd, sup, "the engine is stopping");
		int left = sweep(lsm_.maps(), 0, 0);
		if (left)
			say("engine: killed " + std::to_string(left) + " subject(s) left by earlier sandboxes");
	}

	size_t sessions() const { return sessions_.size(); }

private:
	void on_client(int fd, uint32_t ev, Supervision &sup)
	{
		std::string msg;
		Fd got;
		for (;;) {
			ssize_t n = recv_msg(fd, msg, &got, MSG_DONTWAIT);
			if (n == -EAGAIN)
				return;
			if (n <= 0) {
				end_session(fd, sup, "");
				return;
			}
			Session &s = sessions_[fd];
			std::string reply;
			try {
				if (msg.rfind("register\n", 0) == 0)
					reply = do_register(s, msg, got);
				else if (msg == "confine")
					reply = do_confine(s, got);
				else if (msg.rfind("policy\n", 0) == 0)
					reply = do_replace(s, msg);
				else if (msg == "sync") {
					// What the kernel wrote so far goes to its
					// clients before this answer does.
					lsm_.consume();
					reply = "ok";
				} else if (msg == "bye") {
					s.said_bye = true;
					continue;
				} else
					reply = "error engine: unknown request";
			} catch (const std::exception &e) {
				reply = std::string("error ") + e.what();
			}
			got.reset();
			if (send_msg(fd, reply) < 0) {
				end_session(fd, sup, "");
				return;
			}
		}
		(void)ev;
	}

	std::string do_register(Session &s, const std::string &msg, Fd &self_pidfd)
	{
		if (s.sandbox)
			return "error engine: this client already has a sandbox";
		std::istringstream in(msg);
		std::string verb, path, hash_hex, layers, scope_spec;
		std::getline(in, verb);
		std::getline(in, path);
		std::getline(in, hash_hex);
		std::getline(in, layers);
		std::getline(in, scope_spec);
		if (!self_pidfd)
			return "error engine: register needs the client's pidfd";
		uint64_t want = std::strtoull(hash_hex.c_str(), nullptr, 16);
		uint64_t have = fnv1a(read_text(path));
		if (have != want)
			return "error engine: " + path + " changed while it was being registered";
		LsmScope scope;
		uint32_t takeover = 0;
		if (!scope_spec.empty() && scope_spec != "run") {
			scope = LsmScope::parse(scope_spec);
			if (std::string why = scope_refusal(scope, takeover); !why.empty())
				return "error engine: " + why;
		}
		// Without the LSM layer (asked for, or on this kernel) the
		// sandbox reads policy 0, the engine's own empty one: only the
		// supervisors' protection, where there are LSM programs at all.
		uint32_t p = 0;
		if (layers != "nolsm" && lsm_.lsm_loaded()) {
			p = find_policy(path, have);
			if (!p)
				p = add_policy(path, have);
		}
		uint32_t id = takeover;
		for (uint32_t i = 1; i < BW_MAX_SANDBOXES && !id; i++)
			if (!sandbox_used_[i])
				id = i;
		if (!id)
			throw Error("engine: all " + std::to_string(BW_MAX_SANDBOXES - 1) + " sandboxes are in use");
		const LsmMaps &m = lsm_.maps();
		// A scope taken over keeps its epoch: what still runs in it from
		// before (released) is confined again, by the new policy.
		uint32_t epoch = takeover ? scopes_[id].epoch : ++epochs_[id];
		bw_sandbox sb{epoch, BW_SANDBOX_LIVE, p, static_cast<__u32>(s.peer)};
		put(m.sandboxes, &id, &sb, "the sandbox map");
		// The client supervises the sandbox: no subject may touch it,
		// and its exit (however it dies) ends the sandbox in the kernel.
		bw_task mark{};
		mark.confined = BW_TASK_SUPERVISOR;
		mark.sandbox = id;
		mark.epoch = epoch;
		int key = self_pidfd.get();
		if (bpf_map_update_elem(m.tasks, &key, &mark, BPF_ANY)) {
			int err = errno;
			bw_sandbox free_sb{epoch, BW_SANDBOX_FREE, 0, 0};
			bpf_map_update_elem(m.sandboxes, &id, &free_sb, BPF_ANY);
			throw Error("engine: failed to mark the client", err);
		}
		__u32 tgid = static_cast<__u32>(s.peer);
		put(m.supervisors, &tgid, &id, "the supervisor map");
		if (p)
			policies_[p].refs++;
		sandbox_used_[id] = true;
		s.sandbox = id;
		s.epoch = epoch;
		s.policy = p;
		by_sandbox_[id] = s.sock.get();
		if (scope.kind != BW_SCOPE_RUN)
			host_scope(s, scope, takeover);
		if (o_.verbose)
			say("engine: sandbox " + std::to_string(id) + " for pid " + std::to_string(s.peer) +
			    ", policy " + std::to_string(p) + " (" + path + ")");
		return "ok " + std::to_string(id) + " " + std::to_string(epoch) + " " + std::to_string(p) + " " +
		       std::to_string(p * BW_GENS) + "\n" + (lsm_.lsm_loaded() ? o_.pin_dir : "");
	}

	std::string do_confine(Session &s, Fd &pidfd)
	{
		if (!s.sandbox)
			return "error engine: confine before register";
		if (!pidfd)
			return "error engine: confine needs the child's pidfd";
		if (int err = mark_pidfd(pidfd.get(), s.sandbox, s.epoch))
			return std::string("error engine: failed to mark the child: ") + std::strerror(err);
		return "ok";
	}

	// The one way the engine marks a subject (a run's child, a running
	// process of an exe scope): sticky, in sandbox id as of epoch, unless
	// it has a mark already. 0 or errno (EEXIST: it had one).
	int mark_pidfd(int pidfd, uint32_t id, uint32_t epoch)
	{
		bw_task mark{};
		mark.confined = BW_TASK_STICKY;
		mark.sandbox = id;
		mark.epoch = epoch;
		return bpf_map_update_elem(lsm_.maps().tasks, &pidfd, &mark, BPF_NOEXIST) ? errno : 0;
	}

	// Why the engine will not host scope (empty: it will); takeover: the
	// id of a gone or released scope of the same path.
	std::string scope_refusal(const LsmScope &scope, uint32_t &takeover) const
	{
		if (!lsm_.lsm_loaded())
			return "no LSM layer on this kernel, and a scope has no other";
		if (scope.kind == BW_SCOPE_HOST)
			return "scope host is not hosted by the engine (it would confine the other sandboxes' "
			       "supervisors); run it with bulwark enforce --engine off";
		if (scope.kind == BW_SCOPE_CGROUP &&
		    (scope.cgroup_level < 1 || scope.cgroup_level > BW_MAX_SCOPE_LEVEL))
			return "scope " + scope.str() + " is at cgroup level " + std::to_string(scope.cgroup_level) +
			       "; the engine hosts cgroup scopes at levels 1 to " + std::to_string(BW_MAX_SCOPE_LEVEL);
		bw_scope_key k = key_of(scope);
		for (const auto &[id, hs] : scopes_) {
			bool same = hs.follower.scope.str() == scope.str() || same_key(hs.key, k);
			if (same && hs.live)
				return "scope " + scope.str() + " already has an enforcer (sandbox " +
				       std::to_string(id) + ")";
			if (same)
				takeover = id;
		}
		return "";
	}

	// Puts s's sandbox in force for its scope: the key, the config words
	// the hooks read, and (exe) what already runs the binary.
	void host_scope(Session &s, const LsmScope &scope, uint32_t takeover)
	{
		const LsmMaps &m = lsm_.maps();
		HostedScope &hs = scopes_[s.sandbox];
		if (takeover && !same_key(hs.key, key_of(scope)))
			bpf_map_delete_elem(m.scope_keys, &hs.key);
		hs.key = key_of(scope);
		hs.level = scope.cgroup_level;
		hs.epoch = s.epoch;
		hs.live = true;
		hs.follower = ScopeFollower{};
		hs.follower.scope = scope;
		s.scoped = true;
		put(m.scope_keys, &hs.key, &s.sandbox, "the scope map");
		write_scope_config();
		if (scope.kind == BW_SCOPE_EXE) {
			uint32_t id = s.sandbox, epoch = s.epoch;
			int n = adopt_running_exe(scope, [&](pid_t pid) { mark_subject(pid, id, epoch); });
			say("engine: sandbox " + std::to_string(id) + ": " + std::to_string(n) + " running process" +
			    (n == 1 ? "" : "es") + " of " + scope.path + " (with descendants) put in scope");
		}
		say("engine: sandbox " + std::to_string(s.sandbox) + " enforces scope " + scope.str() + " for pid " +
		    std::to_string(s.peer) + (takeover ? " (taken over)" : ""));
	}

	// A subject marked from user space: kept as it is when it has a mark.
	void mark_subject(pid_t pid, uint32_t id, uint32_t epoch)
	{
		Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
		if (!pidfd)
			throw Error("engine: pidfd_open(" + std::to_string(pid) + ")", errno);
		if (int err = mark_pidfd(pidfd.get(), id, epoch); err && err != EEXIST)
			throw Error("engine: failed to mark pid " + std::to_string(pid), err);
	}

	// The words that let a hook skip the scope lookups when there is
	// nothing to find: the deepest cgroup scope and the exe scopes in force.
	void write_scope_config()
	{
		uint32_t level = 0, exes = 0;
		for (const auto &[id, hs] : scopes_) {
			if (!hs.live && !gone_scope(id))
				continue;
			if (hs.key.kind == BW_SCOPE_KEY_CGROUP)
				level = std::max(level, hs.level);
			else
				exes++;
		}
		const LsmMaps &m = lsm_.maps();
		bw_config cfg = m.read_config();
		cfg.engine_cgroup_level = level;
		cfg.engine_exe_scopes = exes;
		__u32 zero = 0;
		put(m.config, &zero, &cfg, "the config map (scopes)");
	}

	bool gone_scope(uint32_t id) const
	{
		bw_sandbox sb{};
		return bpf_map_lookup_elem(lsm_.maps().sandboxes, &id, &sb) == 0 && sb.state == BW_SANDBOX_GONE;
	}

	// The enforcer's reload: its sandbox reads another policy from now on
	// (registered, or shared with an identical one). One map update.
	std::string do_replace(Session &s, const std::string &msg)
	{
		if (!s.sandbox)
			return "error engine: policy before register";
		if (!lsm_.lsm_loaded())
			return "error engine: no LSM layer on this kernel";
		std::istringstream in(msg);
		std::string verb, path, hash_hex;
		std::getline(in, verb);
		std::getline(in, path);
		std::getline(in, hash_hex);
		uint64_t have = fnv1a(read_text(path));
		if (have != std::strtoull(hash_hex.c_str(), nullptr, 16))
			return "error engine: " + path + " changed while it was being registered";
		uint32_t p = find_policy(path, have);
		if (!p)
			p = add_policy(path, have);
		bw_sandbox sb{s.epoch, BW_SANDBOX_LIVE, p, static_cast<__u32>(s.peer)};
		put(lsm_.maps().sandboxes, &s.sandbox, &sb, "the sandbox map");
		policies_[p].refs++;
		drop_policy(s.policy);
		s.policy = p;
		return "ok " + std::to_string(p * BW_GENS);
	}

	void drop_policy(uint32_t p)
	{
		PolicySlot &slot = policies_[p];
		if (p && slot.refs && --slot.refs == 0)
			slot.used = false;
	}

public:
	// Every second: a scope's path that names something else now (an
	// upgraded binary, a recreated cgroup) is followed.
	void tick()
	{
		if (++ticks_ % 5)
			return;
		bool moved = false;
		for (auto &[id, hs] : scopes_) {
			if (!hs.live)
				continue;
			LsmScope now;
			std::string what;
			if (!hs.follower.resolve(now, what) || same_key(key_of(now), hs.key))
				continue;
			const LsmMaps &m = lsm_.maps();
			bw_scope_key k = key_of(now);
			try {
				put(m.scope_keys, &k, &id, "the scope map");
			} catch (const std::exception &e) {
				say(e.what());
				continue;
			}
			bpf_map_delete_elem(m.scope_keys, &hs.key);
			hs.key = k;
			hs.level = now.cgroup_level;
			hs.follower.say_moved(what);
			hs.follower.scope = now;
			moved = true;
		}
		if (moved)
			write_scope_config();
	}

private:
	uint32_t find_policy(const std::string &path, uint64_t hash) const
	{
		for (uint32_t p = 1; p < policies_.size(); p++)
			if (policies_[p].used && policies_[p].hash == hash && policies_[p].path == path)
				return p;
		return 0;
	}

	uint32_t add_policy(const std::string &path, uint64_t hash)
	{
		uint32_t p = 0;
		for (uint32_t i = 1; i < policies_.size() && !p; i++)
			if (!policies_[i].used)
				p = i;
		if (!p)
			throw Error("engine: all " + std::to_string(policies_.size() - 1) +
				    " policy slots are in use (bulwark engine --max-policies)");
		auto parsed = policy::parse_file(path);
		if (!parsed.ok()) {
			std::string why;
			for (const auto &d : parsed.diagnostics)
				why += (why.empty() ? "" : "; ") + d.str();
			throw Error("engine: " + why);
		}
		LsmPlan plan = plan_lsm(*parsed.policy);
		const LsmMaps &m = lsm_.maps();
		write_generation(m, plan, p * BW_GENS, path, hash);
		__u32 gen = 0;
		put(m.policy_gen, &p, &gen, "the policy generation map");
		PolicySlot &slot = policies_[p];
		slot.used = true;
		slot.refs = 0;
		slot.hash = hash;
		slot.path = path;
		slot.pol = *parsed.policy;
		return p;
	}

	void end_session(int fd, Supervision &sup, const std::string &why)
	{
		auto it = sessions_.find(fd);
		if (it == sessions_.end())
			return;
		Session &s = it->second;
		sup.unwatch(fd);
		if (s.sandbox && s.scoped) {
			end_scope(s, why);
		} else if (s.sandbox) {
			const LsmMaps &m = lsm_.maps();
			// Gone first, so a subject still running dies at its next
			// hook whatever the sweep misses; then the sweep, for those
			// asleep; only then may the id be reused (with a new epoch).
			bw_sandbox gone{s.epoch, BW_SANDBOX_GONE, s.policy, static_cast<__u32>(s.peer)};
			bpf_map_update_elem(m.sandboxes, &s.sandbox, &gone, BPF_ANY);
			int killed = sweep(m, s.sandbox, s.epoch);
			__u32 tgid = static_cast<__u32>(s.peer);
			bpf_map_delete_elem(m.supervisors, &tgid);
			bw_sandbox free_sb{s.epoch, BW_SANDBOX_FREE, 0, 0};
			bpf_map_update_elem(m.sandboxes, &s.sandbox, &free_sb, BPF_ANY);
			sandbox_used_[s.sandbox] = false;
			by_sandbox_.erase(s.sandbox);
			drop_policy(s.policy);
			std::string reason = !why.empty() ? why
					     : s.said_bye
						     ? ""
						     : "its supervisor (pid " + std::to_string(s.peer) + ") is gone";
			if (!reason.empty() || killed || o_.verbose)
				say("engine: sandbox " + std::to_string(s.sandbox) + " ended" +
				    (reason.empty() ? "" : ": " + reason) +
				    (killed ? "; killed " + std::to_string(killed) + " subject(s) still running" : "") +
				    (s.lost ? "; " + std::to_string(s.lost) + " record(s) its client could not take"
					    : ""));
		}
		sessions_.erase(it);
	}

	// A scope's enforcer is done. Said bye (stopped), or the engine stops:
	// released, as a stopped standalone enforcer's programs detach: the
	// key goes first, then the marks of what runs in it. Otherwise it died
	// and the kernel marked the sandbox gone: its subjects are killed, and
	// the scope stays closed (what enters it is killed at its first hooks)
	// until an enforcer for it registers again.
	void end_scope(Session &s, const std::string &why)
	{
		const LsmMaps &m = lsm_.maps();
		HostedScope &hs = scopes_[s.sandbox];
		std::string name =
			"engine: sandbox " + std::to_string(s.sandbox) + " (scope " + hs.follower.scope.str() + ")";
		__u32 tgid = static_cast<__u32>(s.peer);
		bpf_map_delete_elem(m.supervisors, &tgid);
		by_sandbox_.erase(s.sandbox);
		hs.live = false;
		if (s.said_bye || !why.empty()) {
			bpf_map_delete_elem(m.scope_keys, &hs.key);
			bw_sandbox rel{s.epoch, BW_SANDBOX_RELEASED, 0, 0};
			bpf_map_update_elem(m.sandboxes, &s.sandbox, &rel, BPF_ANY);
			int freed = 0;
			engine_wire::for_each_subject(m, [&](pid_t pid, const bw_task &t) {
				if (t.sandbox != s.sandbox || t.epoch != s.epoch)
					return;
				Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
				int key = pidfd.get();
				if (pidfd && bpf_map_delete_elem(m.tasks, &key) == 0)
					freed++;
			});
			say(name + " released" + (why.empty() ? "" : " (" + why + ")") + ": " + std::to_string(freed) +
			    " process(es) in it run on unconfined");
		} else {
			bw_sandbox gone{s.epoch, BW_SANDBOX_GONE, s.policy, 0};
			bpf_map_update_elem(m.sandboxes, &s.sandbox, &gone, BPF_ANY);
			int killed = sweep(m, s.sandbox, s.epoch);
			say(name + ": its enforcer (pid " + std::to_string(s.peer) + ") is gone; killed " +
			    std::to_string(killed) +
			    " subject(s); the scope stays closed (what enters it is killed) until an enforcer "
			    "registers it again");
		}
		drop_policy(s.policy);
		write_scope_config();
	}

	const EngineOptions &o_;
	LsmLayer &lsm_;
	std::vector<PolicySlot> policies_;
	std::map<int, Session> sessions_;
	std::map<uint32_t, int> by_sandbox_;
	std::array<uint32_t, BW_MAX_SANDBOXES> epochs_{};
	std::array<bool, BW_MAX_SANDBOXES> sandbox_used_{}; // scopes keep theirs (HostedScope)
	std::map<uint32_t, HostedScope> scopes_;
	uint64_t ticks_ = 0;
};

// A previous engine (or a killed run) left its pins, its programs still
// attached: what they reported since is said, whatever they left confined
// is killed, and only then do the pins go, so nothing runs on without the
// layer. Returns how many were killed.
int clear_pins(const std::string &dir)
{
	int killed = 0;
	try {
		LsmMaps m = LsmMaps::open_pinned(dir);
		// What its programs reported after it died (subjects killed at
		// a hook) is said before the pins, and the records, go.
		ring_buffer *rb = ring_buffer__new(
			m.events,
			[](void *, void *data, size_t size) {
				if (size >= sizeof(bw_event))
					log_unclaimed(*static_cast<const bw_event *>(data));
				return 0;
			},
			nullptr, nullptr);
		if (rb) {
			ring_buffer__consume(rb);
			ring_buffer__free(rb);
		}
		killed = sweep(m, 0, 0);
	} catch (const std::exception &e) {
		say(std::string(e.what()) + "; removing the pins anyway");
	}
	unpin_all(dir);
	return killed;
}

void clear_previous(const std::string &dir)
{
	struct stat st;
	if (stat(dir.c_str(), &st) != 0)
		return;
	int killed = clear_pins(dir);
	say("engine: removed the pins a previous engine left at " + dir +
	    (killed ? "; killed " + std::to_string(killed) + " subject(s) it left" : ""));
}

Fd listen_on(const std::string &path)
{
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	if (path.size() >= sizeof(addr.sun_path))
		throw Error("engine: socket path too long: " + path);
	std::memcpy(addr.sun_path, path.c_str(), path.size());
	Fd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	if (!fd)
		throw Error("engine: socket", errno);
	unlink(path.c_str());
	// Root only: the mode keeps everyone else from connecting at all, the
	// peer check in accept_one() is the second line.
	mode_t old = umask(0077);
	int rc = bind(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr));
	umask(old);
	if (rc != 0)
		throw Error("engine: bind " + path, errno);
	if (chmod(path.c_str(), 0600) != 0 || listen(fd.get(), 64) != 0)
		throw Error("engine: listen on " + path, errno);
	return fd;
}

std::string dir_of(const std::string &path)
{
	size_t s = path.rfind('/');
	return s == std::string::npos || s == 0 ? "/" : path.substr(0, s);
}

} // namespace

int run_engine(const EngineOptions &o)
{
	if (geteuid() != 0) {
		say("engine: must run as root");
		return 1;
	}
	if (o.max_policies < 1 || o.max_policies >= BW_MAX_POLICIES) {
		say("engine: --max-policies must be between 1 and " + std::to_string(BW_MAX_POLICIES - 1));
		return 1;
	}
	std::string sockdir = dir_of(o.socket);
	if (mkdir(sockdir.c_str(), 0700) != 0 && errno != EEXIST) {
		say("engine: mkdir " + sockdir + ": " + std::strerror(errno));
		return 1;
	}
	Fd lock(open((o.socket + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
	if (!lock || flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
		say("engine: another engine serves " + o.socket);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	sigset_t sigs;
	sigemptyset(&sigs);
	for (int sig : {SIGINT, SIGTERM, SIGHUP})
		sigaddset(&sigs, sig);
	try {
		clear_previous(o.pin_dir);
		auto parsed = policy::parse_string("name: engine\nrules: []\n", "<engine>");
		Engine *engine = nullptr;
		LsmEnforce enf;
		enf.scope.kind = BW_SCOPE_RUN;
		enf.pin_dir = o.pin_dir;
		enf.engine_policies = o.max_policies;
		BpfOptions bo;
		bo.lsm = true;
		bo.trace = true;
		auto on_record = [&engine](const bw_event &e) {
			if (engine)
				engine->on_record(e);
		};
		// Where LSM programs cannot load, the engine still serves seccomp
		// sandboxes: their kill reports, and a start that loads nothing.
		std::string no_lsm = LsmLayer::load_probe();
		std::unique_ptr<LsmLayer> layer;
		if (no_lsm.empty()) {
			layer = std::make_unique<LsmLayer>(*parsed.policy, on_record, bo, &enf);
		} else {
			say(no_lsm);
			say("engine: no LSM layer on this kernel; serving --layers seccomp sandboxes only");
			bo.lsm = false;
			layer = std::make_unique<LsmLayer>(*parsed.policy, on_record, bo);
		}
		LsmLayer &lsm = *layer;
		mark_supervisor(lsm.maps());
		Engine eng(o, lsm);
		engine = &eng;
		Fd listener = listen_on(o.socket);
		Supervision sup(sigs);
		sup.watch(lsm.poll_fd(), [&](uint32_t) { lsm.consume(Supervision::kConsumeBudget); });
		sup.watch(listener.get(), [&](uint32_t) { eng.accept_one(listener.get(), sup); });
		say("engine: ready: " + std::to_string(lsm.attached()) + " programs" +
		    (lsm.lsm_loaded()
			     ? " pinned at " + o.pin_dir + ", room for " + std::to_string(o.max_policies) + " policies"
			     : " (syscall tracepoints only)") +
		    ", serving " + o.socket);
		sup.run(
			200,
			[&](const signalfd_siginfo &si) {
				if (si.ssi_signo != SIGHUP)
					sup.stop();
			},
			[&] { eng.tick(); });
		lsm.consume();
		eng.shutdown(sup);
		unlink(o.socket.c_str());
		unpin_all(o.pin_dir);
		say("engine: stopped; pins removed");
		return 0;
	} catch (const std::exception &e) {
		say(e.what());
		// Whatever this start pinned is undone by LsmLayer; a socket we
		// bound would mislead clients.
		unlink(o.socket.c_str());
		return 1;
	}
}

void clear_dead_runs()
{
	DIR *d = opendir("/sys/fs/bpf");
	if (!d)
		return;
	std::vector<std::string> dirs;
	while (dirent *e = readdir(d))
		if (std::strncmp(e->d_name, kRunPinsPrefix, std::strlen(kRunPinsPrefix)) == 0)
			dirs.push_back(std::string("/sys/fs/bpf/") + e->d_name);
	closedir(d);
	for (const auto &dir : dirs) {
		try {
			LsmMaps m = LsmMaps::open_pinned(dir);
			bw_config cfg = m.read_config();
			// Its run is gone: the kernel said so when it exited.
			if (cfg.role != BW_ROLE_RUN || !cfg.engine_gone)
				continue;
		} catch (const std::exception &) {
			continue; // being set up or torn down right now
		}
		int killed = clear_pins(dir);
		say("lsm: removed the pins of a bulwark run that was killed (" + dir + ")" +
		    (killed ? "; killed " + std::to_string(killed) + " subject(s) it left" : ""));
	}
}

std::string engine_status_json(const std::string &dir)
{
	LsmMaps m = LsmMaps::open_pinned(dir);
	bw_config cfg = m.read_config();
	std::map<uint32_t, uint32_t> subjects;
	engine_wire::for_each_subject(m, [&](pid_t, const bw_task &t) { subjects[t.sandbox]++; });
	nlohmann::json j = {{"pin_dir", dir},
			    {"engine_pid", cfg.supervisor_tgid},
			    {"engine_gone", cfg.engine_gone != 0},
			    {"events_dropped", read_dropped(m.bss)}};
	// What each scope sandbox confines, from the keys the hooks look up.
	std::map<uint32_t, std::string> scope_of;
	if (m.scope_keys >= 0) {
		bw_scope_key k{}, next{};
		const void *prev = nullptr;
		while (bpf_map_get_next_key(m.scope_keys, prev, &next) == 0) {
			__u32 id = 0;
			if (bpf_map_lookup_elem(m.scope_keys, &next, &id) == 0)
				scope_of[id] = next.kind == BW_SCOPE_KEY_CGROUP
						       ? "cgroup id " + std::to_string(next.id)
						       : "exe " + std::to_string(next.dev >> 20) + ":" +
								 std::to_string(next.dev & 0xfffff) + ":" +
								 std::to_string(next.id);
			k = next;
			prev = &k;
		}
	}
	std::map<uint32_t, nlohmann::json> pols;
	nlohmann::json sandboxes = nlohmann::json::array();
	for (uint32_t id = 1; id < BW_MAX_SANDBOXES; id++) {
		bw_sandbox sb{};
		if (bpf_map_lookup_elem(m.sandboxes, &id, &sb) || sb.state == BW_SANDBOX_FREE)
			continue;
		const char *state = sb.state == BW_SANDBOX_LIVE   ? "live"
				    : sb.state == BW_SANDBOX_GONE ? "gone"
								  : "released";
		sandboxes.push_back({{"id", id},
				     {"policy", sb.policy},
				     {"epoch", sb.epoch},
				     {"state", state},
				     {"scope", scope_of.count(id)                ? scope_of[id]
					       : sb.state == BW_SANDBOX_RELEASED ? ""
										 : "run"},
				     {"supervisor_pid", sb.supervisor_tgid},
				     {"subjects", subjects[id]}});
		if (sb.state == BW_SANDBOX_RELEASED || pols.count(sb.policy))
			continue;
		__u32 gen = 0;
		bpf_map_lookup_elem(m.policy_gen, &sb.policy, &gen);
		uint32_t slot = sb.policy * BW_GENS + (gen & 1);
		bw_gen g = m.read_gen(slot);
		std::string path(g.policy_path, strnlen(g.policy_path, sizeof(g.policy_path)));
		auto parsed = policy::parse_file(path);
		nlohmann::json hits = nlohmann::json::array();
		for (const auto &[rule, c] : read_counters(m.rule_hits, slot, g.nrules)) {
			std::string rid = parsed.ok() ? policy::rule_id_for(*parsed.policy, rule) : "";
			hits.push_back({{"rule", rid.empty() ? "#" + std::to_string(rule) : rid},
					{"deny", c.first},
					{"audit", c.second}});
		}
		pols[sb.policy] = {{"id", sb.policy},   {"name", parsed.ok() ? parsed.policy->name : "?"},
				   {"file", path},      {"generation", gen & 1},
				   {"rules", g.nrules}, {"hits", hits}};
	}
	j["policies"] = nlohmann::json::array();
	for (auto &[id, p] : pols)
		j["policies"].push_back(p);
	j["sandboxes"] = sandboxes;
	return j.dump();
}

void print_engine_status(const std::string &text)
{
	nlohmann::json j = nlohmann::json::parse(text);
	std::printf("%s: engine %llu%s, %zu policies, %zu sandboxes, %llu events dropped\n",
		    j["pin_dir"].get<std::string>().c_str(),
		    static_cast<unsigned long long>(j["engine_pid"].get<uint64_t>()),
		    j["engine_gone"].get<bool>() ? " (gone)" : "", j["policies"].size(), j["sandboxes"].size(),
		    static_cast<unsigned long long>(j["events_dropped"].get<uint64_t>()));
	for (const auto &p : j["policies"]) {
		std::printf("  policy %llu %s (%s), generation %llu, %llu rules\n",
			    static_cast<unsigned long long>(p["id"].get<uint64_t>()),
			    p["name"].get<std::string>().c_str(), p["file"].get<std::string>().c_str(),
			    static_cast<unsigned long long>(p["generation"].get<uint64_t>()),
			    static_cast<unsigned long long>(p["rules"].get<uint64_t>()));
		for (const auto &h : p["hits"])
			std::printf("    %-30s deny %llu audit %llu\n", h["rule"].get<std::string>().c_str(),
				    static_cast<unsigned long long>(h["deny"].get<uint64_t>()),
				    static_cast<unsigned long long>(h["audit"].get<uint64_t>()));
	}
	for (const auto &s : j["sandboxes"])
		std::printf("  sandbox %llu: policy %llu, %s, scope %s, supervisor %llu, %llu subject process(es)\n",
			    static_cast<unsigned long long>(s["id"].get<uint64_t>()),
			    static_cast<unsigned long long>(s["policy"].get<uint64_t>()),
			    s["state"].get<std::string>().c_str(), s["scope"].get<std::string>().c_str(),
			    static_cast<unsigned long long>(s["supervisor_pid"].get<uint64_t>()),
			    static_cast<unsigned long long>(s["subjects"].get<uint64_t>()));
}

} // namespace bulwark
