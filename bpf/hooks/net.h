/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sockets: families and raw sockets at creation, ports and addresses at
 * connect, sendmsg and bind.
 */
#ifndef BW_HOOKS_NET_H
#define BW_HOOKS_NET_H

#include "lib/lsm.h"
#include "lib/match.h"

SEC("lsm/socket_create")
int BW_LSM(bw_socket_create, int family, int type, int protocol, int kern, int ret)
{
	struct bw_ctx c = {.hook = BW_HOOK_SOCKET_CREATE, .family = family, .type = type};
	struct bw_task *self;
	struct bw_rules *rl;
	__u32 fam = family;

	if (ret)
		return ret;
	/* Sockets the kernel makes for itself are not the task's doing. */
	if (kern)
		return 0;
	self = confined_task(&c);
	if (!self)
		return 0;
	/* Raw IP and packet sockets; netlink uses SOCK_RAW too but is not a
	 * raw network socket. */
	if (((type & 0xf) == SOCK_RAW && (family == AF_INET || family == AF_INET6)) || family == AF_PACKET) {
		__u32 w = BW_WORD_RAWSOCK + c.slot * BW_WORD_COUNT;

		rl = bpf_map_lookup_elem(&word_rules, &w);
		if (rl && rl->rule_plus1[0]) {
			ret = eval(self, rl, &c);
			if (ret)
				return ret;
		}
	}
	if (fam >= BW_MAX_FAMILIES)
		return 0;
	fam += c.slot * BW_MAX_FAMILIES;
	rl = bpf_map_lookup_elem(&family_rules, &fam);
	if (!rl || !rl->rule_plus1[0])
		return 0;
	return eval(self, rl, &c);
}

static __always_inline bool in_slot(const struct bw_rules *rl, __u32 idx_plus1)
{
	if (!rl)
		return false;
	for (int i = 0; i < BW_SLOT_RULES; i++)
		if (rl->rule_plus1[i] == idx_plus1)
			return true;
	return false;
}

/* connect/bind: rules may name ports, addresses or both; a rule naming both
 * needs both to match. Port and address each cost one lookup. */
static __always_inline int net_check(__u16 op, __u32 hook, struct sockaddr *address, int addrlen)
{
	struct bw_ctx c = {.hook = hook};
	struct bw_addr_key ak = {};
	struct bw_port_key pk = {.op = op};
	struct bw_rules *by_port, *by_addr;
	struct bw_task *self;
	__u16 family;
	__be16 port;

	self = confined_task(&c);
	if (!self)
		return 0;
	family = BPF_CORE_READ(address, sa_family);
	/* bind() takes AF_UNSPEC with INADDR_ANY as AF_INET (__inet_bind). */
	if (op == BW_NET_BIND && family == AF_UNSPEC)
		family = AF_INET;
	if (family == AF_INET && addrlen >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)address;

		port = BPF_CORE_READ(sin, sin_port);
		bpf_probe_read_kernel(ak.addr, 4, &sin->sin_addr);
	} else if (family == AF_INET6 && addrlen >= SIN6_LEN_RFC2133) {
		/* The kernel takes the RFC 2133 length (no scope id), too. */
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)address;

		port = BPF_CORE_READ(sin6, sin6_port);
		bpf_probe_read_kernel(ak.addr, 16, &sin6->sin6_addr);
		/* ::ffff:a.b.c.d is IPv4 on the wire: match it as IPv4. */
		if (ak.addr[0] == 0 && ak.addr[1] == 0 && ak.addr[2] == 0 && ak.addr[3] == 0 && ak.addr[4] == 0 &&
		    ak.addr[5] == 0 && ak.addr[6] == 0 && ak.addr[7] == 0 && ak.addr[8] == 0 && ak.addr[9] == 0 &&
		    ak.addr[10] == 0xff && ak.addr[11] == 0xff) {
			family = AF_INET;
			__builtin_memmove(ak.addr, ak.addr + 12, 4);
			__builtin_memset(ak.addr + 4, 0, 12);
		}
	} else {
		return 0;
	}
	c.family = family;
	c.port = bpf_ntohs(port);
	c.addr = ak.addr;
	pk.port = c.port;
	pk.op = op | c.slot << BW_GEN_SHIFT_OP;
	ak.op = op | c.slot << BW_GEN_SHIFT_OP;
	ak.family = family;
	ak.prefixlen = 32 + (family == AF_INET ? 32 : 128);
	by_port = bpf_map_lookup_elem(&net_ports, &pk);
	by_addr = bpf_map_lookup_elem(&net_addrs, &ak);
	/* As in eval(): enforcing rules first, then the first audit one. */
	__u32 audit_plus1 = 0;
	for (int i = 0; i < BW_SLOT_RULES * 2; i++) {
		bool port_slot = i < BW_SLOT_RULES;
		const struct bw_rules *rl = port_slot ? by_port : by_addr;
		struct bw_rule *rule;
		__u32 idx;
		bool holds;

		if (!rl || !slot_rule(rl, i & (BW_SLOT_RULES - 1), &idx, &rule) || !rule)
			continue;
		/* A rule naming a port and an address is found by its port. */
		if (port_slot)
			holds = !(rule->flags & BW_RULE_NEEDS_ADDR) || in_slot(by_addr, idx + 1);
		else
			holds = !(rule->flags & BW_RULE_NEEDS_PORT);
		if (holds && rule_decides(idx, rule, self, &audit_plus1))
			return report(self, idx, rule, &c);
	}
	return report_audit(self, audit_plus1, &c);
}

SEC("lsm/socket_connect")
int BW_LSM(bw_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	return net_check(BW_NET_CONNECT, BW_HOOK_SOCKET_CONNECT, address, addrlen);
}

/* A destination given to sendto/sendmsg (UDP, TCP Fast Open) never passes
 * through socket_connect: the same rules apply here. */
SEC("lsm/socket_sendmsg")
int BW_LSM(bw_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	void *name;
	int namelen;

	if (ret)
		return ret;
	name = BPF_CORE_READ(msg, msg_name);
	namelen = BPF_CORE_READ(msg, msg_namelen);
	if (!name || namelen <= 0)
		return 0;
	return net_check(BW_NET_CONNECT, BW_HOOK_SOCKET_SENDMSG, name, namelen);
}

SEC("lsm/socket_bind")
int BW_LSM(bw_socket_bind, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	return net_check(BW_NET_BIND, BW_HOOK_SOCKET_BIND, address, addrlen);
}

#endif /* BW_HOOKS_NET_H */
