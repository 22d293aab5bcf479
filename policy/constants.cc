// SPDX-License-Identifier: Apache-2.0
#include "policy/constants.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <cctype>

namespace bulwark::policy {

// The name is stringified before expansion, so enum-backed macros such as
// SOCK_STREAM keep their spelling.
#define C(x)                                   \
	{                                      \
#x, static_cast < uint64_t>(x) \
	}

const std::vector<NamedConstant> &named_constants()
{
	static const std::vector<NamedConstant> table = {
		// clone(2) / unshare(2) flags: the usual reason to filter on arguments.
		C(CLONE_VM),
		C(CLONE_FS),
		C(CLONE_FILES),
		C(CLONE_SIGHAND),
		C(CLONE_PIDFD),
		C(CLONE_PTRACE),
		C(CLONE_VFORK),
		C(CLONE_PARENT),
		C(CLONE_THREAD),
		C(CLONE_NEWNS),
		C(CLONE_SYSVSEM),
		C(CLONE_SETTLS),
		C(CLONE_PARENT_SETTID),
		C(CLONE_CHILD_CLEARTID),
		C(CLONE_DETACHED),
		C(CLONE_UNTRACED),
		C(CLONE_CHILD_SETTID),
		C(CLONE_NEWCGROUP),
		C(CLONE_NEWUTS),
		C(CLONE_NEWIPC),
		C(CLONE_NEWUSER),
		C(CLONE_NEWPID),
		C(CLONE_NEWNET),
		C(CLONE_IO),
		C(CLONE_CLEAR_SIGHAND),
		C(CLONE_INTO_CGROUP),
		C(CLONE_NEWTIME),

		C(AF_UNSPEC),
		C(AF_UNIX),
		C(AF_LOCAL),
		C(AF_INET),
		C(AF_AX25),
		C(AF_IPX),
		C(AF_APPLETALK),
		C(AF_NETROM),
		C(AF_BRIDGE),
		C(AF_ATMPVC),
		C(AF_X25),
		C(AF_INET6),
		C(AF_ROSE),
		C(AF_DECnet),
		C(AF_NETBEUI),
		C(AF_SECURITY),
		C(AF_KEY),
		C(AF_NETLINK),
		C(AF_ROUTE),
		C(AF_PACKET),
		C(AF_ASH),
		C(AF_ECONET),
		C(AF_ATMSVC),
		C(AF_RDS),
		C(AF_SNA),
		C(AF_IRDA),
		C(AF_PPPOX),
		C(AF_WANPIPE),
		C(AF_LLC),
		C(AF_IB),
		C(AF_MPLS),
		C(AF_CAN),
		C(AF_TIPC),
		C(AF_BLUETOOTH),
		C(AF_IUCV),
		C(AF_RXRPC),
		C(AF_ISDN),
		C(AF_PHONET),
		C(AF_IEEE802154),
		C(AF_CAIF),
		C(AF_ALG),
		C(AF_NFC),
		C(AF_VSOCK),
		C(AF_KCM),
		C(AF_QIPCRTR),
		C(AF_SMC),
		C(AF_XDP),
		C(AF_MCTP),

		C(SOCK_STREAM),
		C(SOCK_DGRAM),
		C(SOCK_RAW),
		C(SOCK_RDM),
		C(SOCK_SEQPACKET),
		C(SOCK_DCCP),
		C(SOCK_PACKET),
		C(SOCK_NONBLOCK),
		C(SOCK_CLOEXEC),

		C(O_RDONLY),
		C(O_WRONLY),
		C(O_RDWR),
		C(O_ACCMODE),
		C(O_CREAT),
		C(O_EXCL),
		C(O_NOCTTY),
		C(O_TRUNC),
		C(O_APPEND),
		C(O_NONBLOCK),
		C(O_NDELAY),
		C(O_DSYNC),
		C(O_SYNC),
		C(O_RSYNC),
		C(O_ASYNC),
		C(O_DIRECT),
		C(O_DIRECTORY),
		C(O_NOFOLLOW),
		C(O_NOATIME),
		C(O_CLOEXEC),
		C(O_PATH),
		C(O_TMPFILE),
		// glibc defines O_LARGEFILE as 0 on 64-bit targets; the bit a 32-bit
		// caller actually passes is the kernel's.
		{"O_LARGEFILE", 0100000},

		C(PROT_NONE),
		C(PROT_READ),
		C(PROT_WRITE),
		C(PROT_EXEC),
		C(PROT_GROWSDOWN),
		C(PROT_GROWSUP),

		C(MAP_SHARED),
		C(MAP_PRIVATE),
		C(MAP_SHARED_VALIDATE),
		C(MAP_FIXED),
		C(MAP_ANONYMOUS),
		C(MAP_ANON),
		C(MAP_32BIT),
		C(MAP_GROWSDOWN),
		C(MAP_DENYWRITE),
		C(MAP_EXECUTABLE),
		C(MAP_LOCKED),
		C(MAP_NORESERVE),
		C(MAP_POPULATE),
		C(MAP_NONBLOCK),
		C(MAP_STACK),
		C(MAP_HUGETLB),
		C(MAP_SYNC),
		C(MAP_FIXED_NOREPLACE),

		C(PR_SET_PDEATHSIG),
		C(PR_GET_PDEATHSIG),
		C(PR_GET_DUMPABLE),
		C(PR_SET_DUMPABLE),
		C(PR_GET_KEEPCAPS),
		C(PR_SET_KEEPCAPS),
		C(PR_SET_NAME),
		C(PR_GET_NAME),
		C(PR_GET_SECCOMP),
		C(PR_SET_SECCOMP),
		C(PR_CAPBSET_READ),
		C(PR_CAPBSET_DROP),
		C(PR_GET_SECUREBITS),
		C(PR_SET_SECUREBITS),
		C(PR_SET_TIMERSLACK),
		C(PR_GET_TIMERSLACK),
		C(PR_SET_MM),
		C(PR_SET_PTRACER),
		C(PR_SET_CHILD_SUBREAPER),
		C(PR_GET_CHILD_SUBREAPER),
		C(PR_SET_NO_NEW_PRIVS),
		C(PR_GET_NO_NEW_PRIVS),
		C(PR_SET_THP_DISABLE),
		C(PR_GET_THP_DISABLE),
		C(PR_CAP_AMBIENT),
		C(PR_SET_SPECULATION_CTRL),
		C(PR_GET_SPECULATION_CTRL),
		C(PR_SET_SYSCALL_USER_DISPATCH),
		C(PR_SCHED_CORE),
	};
	return table;
}

#undef C

std::optional<uint64_t> find_constant(std::string_view name)
{
	for (const auto &c : named_constants())
		if (name == c.name)
			return c.value;
	return std::nullopt;
}

std::optional<int> find_address_family(std::string_view name)
{
	for (const auto &c : named_constants()) {
		std::string_view full(c.name);
		if (full.substr(0, 3) != "AF_")
			continue;
		std::string_view bare = full.substr(3);
		if (bare.size() != name.size())
			continue;
		bool same = true;
		for (std::size_t i = 0; i < bare.size() && same; ++i)
			same = std::tolower(static_cast<unsigned char>(bare[i])) ==
			       std::tolower(static_cast<unsigned char>(name[i]));
		if (same)
			return static_cast<int>(c.value);
	}
	return std::nullopt;
}

} // namespace bulwark::policy
