// SPDX-License-Identifier: Apache-2.0
// `bulwark run` as a client of the engine: the policy is registered (map
// updates in the engine), the child is marked through its pidfd before it
// runs, and the sandbox's records arrive over the engine's socket. Nothing
// is loaded or verified, which is what makes a warm start fast.
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "loader/supervise/engine.h"
#include "loader/supervise/engine_wire.h"

namespace bulwark {

namespace {

using engine_wire::recv_msg;
using engine_wire::send_msg;

class EngineSource : public RecordSource {
public:
	explicit EngineSource(Fd sock) : sock_(std::move(sock)) {}
	~EngineSource() override
	{
		// The supervisor's tree is gone by now (run's finish()); the
		// engine ends the sandbox quietly.
		send_msg(sock_.get(), "bye");
	}

	int poll_fd() const override { return sock_.get(); }

	int consume(const std::function<void(const bw_event &)> &fn, size_t budget) override
	{
		int n = 0;
		std::string msg;
		while (!budget || static_cast<size_t>(n) < budget) {
			ssize_t r = recv_msg(sock_.get(), msg, nullptr, MSG_DONTWAIT);
			if (r == -EAGAIN)
				break;
			if (r <= 0)
				// The engine died: its pinned programs stay and kill
				// this sandbox's subjects at their next hook; run
				// ends the tree now rather than wait for that.
				throw Error("lsm: the engine closed its connection (it died or stopped); the sandbox "
					    "cannot stay confined");
			n += deliver(msg, fn);
		}
		return n;
	}

	// The engine forwards what the kernel wrote before it answers a sync:
	// a record of the command's last moments (a kill) is not left behind.
	int drain(const std::function<void(const bw_event &)> &fn) override
	{
		int n = consume(fn, 0);
		if (send_msg(sock_.get(), "sync") < 0)
			return n;
		std::string msg;
		for (;;) {
			// An engine that does not answer must not keep the run
			// from ending; what it holds back is then not reported.
			pollfd p{sock_.get(), POLLIN, 0};
			if (poll(&p, 1, 5000) != 1)
				return n;
			ssize_t r = recv_msg(sock_.get(), msg);
			if (r <= 0 || msg == "ok" || msg.rfind("error ", 0) == 0)
				return n;
			n += deliver(msg, fn);
		}
	}

	bool confine(pid_t pid) override
	{
		Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
		if (!pidfd)
			throw Error("lsm: pidfd_open(" + std::to_string(pid) + ")", errno);
		std::string reply = call("confine", pidfd.get());
		if (reply != "ok")
			throw Error("lsm: " + reply);
		return true;
	}

	uint64_t lost() const override { return lost_; }

	uint32_t replace_policy(const std::string &path, uint64_t hash) override
	{
		char hex[32];
		std::snprintf(hex, sizeof(hex), "%016" PRIx64, hash);
		std::string reply = call("policy\n" + path + "\n" + hex, -1);
		std::istringstream in(reply);
		std::string ok;
		uint32_t base = 0;
		in >> ok >> base;
		if (ok != "ok")
			throw Error("lsm: the engine answered '" + reply + "'");
		return base;
	}

	// A request and its answer; records cannot come before the answer
	// (the sandbox has no subject until confine's answer).
	std::string call(const std::string &req, int fd)
	{
		if (int err = send_msg(sock_.get(), req, fd); err < 0)
			throw Error("lsm: cannot talk to the engine", -err);
		std::string msg;
		ssize_t r = recv_msg(sock_.get(), msg);
		if (r <= 0)
			throw Error("lsm: the engine hung up");
		if (msg.rfind("error ", 0) == 0)
			throw Error(msg.substr(6));
		return msg;
	}

private:
	// One message of the engine's stream: a record (1) or its loss count (0).
	int deliver(const std::string &msg, const std::function<void(const bw_event &)> &fn)
	{
		if (msg.rfind("L ", 0) == 0) {
			lost_ = std::strtoull(msg.c_str() + 2, nullptr, 10);
			return 0;
		}
		if (msg.size() != 1 + sizeof(bw_event) || msg[0] != 'E')
			return 0;
		bw_event e;
		std::memcpy(&e, msg.data() + 1, sizeof(e));
		fn(e);
		return 1;
	}

	Fd sock_;
	uint64_t lost_ = 0; // the engine's count of this sandbox's records its socket could not take
};

// Connects, or returns an empty Fd with why set.
Fd dial(const std::string &path, int &err)
{
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	if (path.size() >= sizeof(addr.sun_path)) {
		err = ENAMETOOLONG;
		return Fd();
	}
	std::memcpy(addr.sun_path, path.c_str(), path.size());
	Fd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
	if (!fd) {
		err = errno;
		return Fd();
	}
	if (connect(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0) {
		err = errno;
		return Fd();
	}
	return fd;
}

} // namespace

std::unique_ptr<LsmLayer> connect_engine(const EngineChoice &choice, const std::string &policy_path,
					 uint64_t policy_hash, bool want_lsm, LsmLayer::EventFn on_event,
					 std::string *said, const std::string &scope)
{
	if (choice.mode == "off")
		return nullptr;
	bool required = choice.mode != "auto";
	std::string path = required ? choice.mode : kEngineSocket;
	struct stat st;
	if (!required && stat(path.c_str(), &st) != 0)
		return nullptr;
	int err = 0;
	Fd sock = dial(path, err);
	if (!sock) {
		if (err == EACCES || err == EPERM)
			throw Error("lsm: the engine at " + path + " serves root only", err);
		if (required)
			throw Error("lsm: cannot reach the engine at " + path, err);
		// A socket left by an engine that died: run on its own.
		if (said)
			*said = "lsm: no engine answers at " + path + " (" + std::strerror(err) +
				"); loading a private program set";
		return nullptr;
	}
	auto src = std::make_unique<EngineSource>(std::move(sock));
	Fd self(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
	if (!self)
		throw Error("lsm: pidfd_open(self)", errno);
	char hash[32];
	std::snprintf(hash, sizeof(hash), "%016" PRIx64, policy_hash);
	std::string reply =
		src->call("register\n" + policy_path + "\n" + hash + "\n" + (want_lsm ? "lsm" : "nolsm") + "\n" + scope,
			  self.get());
	std::istringstream in(reply);
	std::string ok, pin_dir;
	uint32_t sandbox = 0, epoch = 0, policy = 0, slot_base = 0;
	in >> ok >> sandbox >> epoch >> policy >> slot_base;
	in.ignore(1);
	std::getline(in, pin_dir);
	if (ok != "ok" || !sandbox)
		throw Error("lsm: the engine answered '" + reply + "'");
	if (want_lsm && pin_dir.empty()) {
		// An engine on a kernel without BPF-LSM: this run loads its own
		// programs (and fails as it would without the engine).
		if (required)
			throw Error("lsm: the engine at " + path +
				    " has no LSM layer (this kernel cannot load BPF-LSM "
				    "programs); only --layers seccomp runs can use it");
		if (said)
			*said = "lsm: the engine at " + path + " has no LSM layer; loading a private program set";
		return nullptr;
	}
	if (said)
		*said = "lsm: engine at " + path + ": sandbox " + std::to_string(sandbox) + ", policy slot " +
			std::to_string(policy);
	return std::make_unique<LsmLayer>(want_lsm ? pin_dir : "", std::move(on_event), std::move(src), slot_base);
}

} // namespace bulwark
