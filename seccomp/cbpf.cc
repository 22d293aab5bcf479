// SPDX-License-Identifier: Apache-2.0
#include "seccomp/cbpf.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace bulwark::seccomp {

std::vector<sock_filter> read_bpf(int fd)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		throw std::runtime_error(std::string("cbpf: lseek: ") + std::strerror(errno));
	std::vector<char> bytes;
	char buf[4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0)
			throw std::runtime_error(std::string("cbpf: read: ") + std::strerror(errno));
		if (n == 0)
			break;
		bytes.insert(bytes.end(), buf, buf + n);
	}
	if (bytes.size() % sizeof(sock_filter) != 0)
		throw std::runtime_error("cbpf: program size is not a multiple of an instruction");
	std::vector<sock_filter> prog(bytes.size() / sizeof(sock_filter));
	std::memcpy(prog.data(), bytes.data(), bytes.size());
	return prog;
}

namespace {

struct Regs {
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = {};
};

// BPF_LD / BPF_LDX at pc: the value loaded.
uint32_t load(const sock_filter &in, size_t pc, const Regs &r, const seccomp_data &data)
{
	const uint32_t k = in.k;
	switch (BPF_MODE(in.code)) {
	case BPF_ABS: {
		// seccomp only allows aligned 32-bit loads inside seccomp_data.
		if (BPF_CLASS(in.code) != BPF_LD || BPF_SIZE(in.code) != BPF_W || k % 4 != 0 ||
		    k + 4 > sizeof(seccomp_data))
			throw std::runtime_error("cbpf: bad load at " + std::to_string(pc));
		uint32_t v;
		std::memcpy(&v, reinterpret_cast<const unsigned char *>(&data) + k, 4);
		return v;
	}
	case BPF_IMM:
		return k;
	case BPF_LEN:
		return sizeof(seccomp_data);
	case BPF_MEM:
		if (k >= BPF_MEMWORDS)
			throw std::runtime_error("cbpf: bad scratch slot");
		return r.M[k];
	}
	throw std::runtime_error("cbpf: unsupported load mode at " + std::to_string(pc));
}

// BPF_ALU at pc on A; false when it ends the program.
bool alu(uint16_t code, uint32_t &A, uint32_t src, size_t pc)
{
	switch (BPF_OP(code)) {
	case BPF_ADD:
		A += src;
		return true;
	case BPF_SUB:
		A -= src;
		return true;
	case BPF_MUL:
		A *= src;
		return true;
	case BPF_DIV:
		// Classic BPF ends the program with 0 on division by zero.
		if (src == 0)
			return false;
		A /= src;
		return true;
	case BPF_MOD:
		if (src == 0)
			return false;
		A %= src;
		return true;
	case BPF_OR:
		A |= src;
		return true;
	case BPF_AND:
		A &= src;
		return true;
	case BPF_XOR:
		A ^= src;
		return true;
	case BPF_LSH:
		A = src >= 32 ? 0 : A << src;
		return true;
	case BPF_RSH:
		A = src >= 32 ? 0 : A >> src;
		return true;
	case BPF_NEG:
		A = -A;
		return true;
	}
	throw std::runtime_error("cbpf: bad ALU op at " + std::to_string(pc));
}

// BPF_JMP at pc: how many instructions it skips.
size_t jump_offset(const sock_filter &in, uint32_t A, uint32_t src, size_t pc)
{
	if (BPF_OP(in.code) == BPF_JA)
		return in.k;
	bool cond;
	switch (BPF_OP(in.code)) {
	case BPF_JEQ:
		cond = A == src;
		break;
	case BPF_JGT:
		cond = A > src;
		break;
	case BPF_JGE:
		cond = A >= src;
		break;
	case BPF_JSET:
		cond = (A & src) != 0;
		break;
	default:
		throw std::runtime_error("cbpf: bad jump at " + std::to_string(pc));
	}
	return cond ? in.jt : in.jf;
}

} // namespace

uint32_t run_cbpf(const std::vector<sock_filter> &prog, const seccomp_data &data)
{
	// The kernel caps programs at BPF_MAXINSNS; a longer one never loads.
	if (prog.empty() || prog.size() > BPF_MAXINSNS)
		throw std::runtime_error("cbpf: program length out of range");
	Regs r;
	size_t pc = 0;
	while (pc < prog.size()) {
		const size_t at = pc;
		const sock_filter &in = prog[pc++];
		const uint32_t src = BPF_SRC(in.code) == BPF_X ? r.X : in.k;
		switch (BPF_CLASS(in.code)) {
		case BPF_LD:
		case BPF_LDX:
			(BPF_CLASS(in.code) == BPF_LD ? r.A : r.X) = load(in, at, r, data);
			break;
		case BPF_ST:
		case BPF_STX:
			if (in.k >= BPF_MEMWORDS)
				throw std::runtime_error("cbpf: bad scratch slot");
			r.M[in.k] = BPF_CLASS(in.code) == BPF_ST ? r.A : r.X;
			break;
		case BPF_ALU:
			if (!alu(in.code, r.A, src, at))
				return 0;
			break;
		case BPF_JMP: {
			const size_t off = jump_offset(in, r.A, src, at);
			if (pc + off >= prog.size())
				throw std::runtime_error("cbpf: jump out of the program at " + std::to_string(at));
			pc += off;
			break;
		}
		case BPF_RET:
			return BPF_RVAL(in.code) == BPF_A ? r.A : in.k;
		case BPF_MISC:
			if (BPF_MISCOP(in.code) == BPF_TAX)
				r.X = r.A;
			else
				r.A = r.X;
			break;
		}
	}
	throw std::runtime_error("cbpf: program ends without a return");
}

std::string describe_ret(uint32_t ret)
{
	switch (ret & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_ALLOW:
		return "allow";
	case SECCOMP_RET_ERRNO:
		return "errno(" + std::to_string(ret & SECCOMP_RET_DATA) + ")";
	case SECCOMP_RET_KILL_PROCESS:
		return "kill-process";
	case SECCOMP_RET_KILL_THREAD:
		return "kill-thread";
	case SECCOMP_RET_LOG:
		return "log";
	case SECCOMP_RET_TRAP:
		return "trap";
	case SECCOMP_RET_TRACE:
		return "trace";
	case SECCOMP_RET_USER_NOTIF:
		return "notify";
	}
	return "0x" + std::to_string(ret);
}

uint32_t run_cbpf(const FilterStack &stack, const seccomp_data &data)
{
	uint32_t best = SECCOMP_RET_ALLOW;
	for (const auto &prog : stack) {
		uint32_t r = run_cbpf(prog, data);
		auto action = [](uint32_t v) { return static_cast<int32_t>(v & SECCOMP_RET_ACTION_FULL); };
		if (action(r) < action(best))
			best = r;
	}
	return best;
}

} // namespace bulwark::seccomp
