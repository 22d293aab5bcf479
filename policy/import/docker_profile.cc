// SPDX-License-Identifier: Apache-2.0
//
// Reading a Docker seccomp profile's values: typed JSON fields with the
// JSON path of whatever is wrong, and the profile's spellings of actions,
// operators, architectures and kernel versions.
#include "policy/import/docker_profile.h"

#include <seccomp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace bulwark::docker_profile {

using nlohmann::json;

bool parse_version(const std::string &s, Version &out)
{
	size_t i = 0;
	for (int part = 0; part < 3; part++) {
		if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i])))
			return part >= 2;
		int n = 0;
		while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
			n = n * 10 + (s[i++] - '0');
			if (n > 100000)
				return false;
		}
		out.v[part] = n;
		if (part < 2) {
			if (i >= s.size() || s[i] != '.')
				return part == 1;
			i++;
		} else if (i < s.size() && s[i] == '.') {
			// A fourth component is not a kernel release.
			return false;
		}
	}
	return true;
}

Version parse_min_kernel(const json &j, const std::string &where)
{
	Version v;
	if (!parse_version(get_string(j, where), v))
		throw ImportError(where, "expected a kernel version like \"4.8\", got " + j.dump());
	return v;
}

std::string quote(const std::string &s)
{
	return json(s).dump();
}

std::string type_name(const json &j)
{
	return j.is_null() ? "null" : j.type_name();
}

const json &need(const json &obj, const char *key, const std::string &where)
{
	auto it = obj.find(key);
	if (it == obj.end())
		throw ImportError(where, std::string("missing \"") + key + "\"");
	return *it;
}

std::string get_string(const json &j, const std::string &where)
{
	if (!j.is_string())
		throw ImportError(where, "expected a string, got " + type_name(j));
	return j.get<std::string>();
}

uint64_t get_u64(const json &j, const std::string &where)
{
	if (j.is_number_unsigned())
		return j.get<uint64_t>();
	if (j.is_number_integer() && j.get<int64_t>() >= 0)
		return static_cast<uint64_t>(j.get<int64_t>());
	throw ImportError(where, "expected an unsigned integer, got " + (j.is_number() ? j.dump() : type_name(j)));
}

std::vector<std::string> get_strings(const json &j, const std::string &where)
{
	std::vector<std::string> out;
	// Go's encoding/json reads null as an empty slice, and profiles in the
	// wild say `"subArchitectures": null`.
	if (j.is_null())
		return out;
	if (!j.is_array())
		throw ImportError(where, "expected an array of strings, got " + type_name(j));
	for (size_t i = 0; i < j.size(); i++)
		out.push_back(get_string(j[i], where + "[" + std::to_string(i) + "]"));
	return out;
}

void check_keys(const json &obj, std::initializer_list<const char *> known, const std::string &where)
{
	if (!obj.is_object())
		throw ImportError(where, "expected an object, got " + type_name(obj));
	for (auto it = obj.begin(); it != obj.end(); ++it) {
		bool ok = false;
		for (const char *k : known)
			ok = ok || it.key() == k;
		if (!ok) {
			std::string list;
			for (const char *k : known)
				list += (list.empty() ? "" : ", ") + std::string(k);
			throw ImportError(where.empty() ? it.key() : where + "." + it.key(),
					  "unknown key (known here: " + list + ")");
		}
	}
}

bool non_empty(const json &doc, const char *key)
{
	return doc.contains(key) && !doc[key].is_null() && !doc[key].empty();
}

std::string errno_name(uint64_t e, const std::string &where)
{
	if (e == 0 || e > 4095)
		throw ImportError(where, "errno " + std::to_string(e) +
						 " cannot be expressed (bulwark takes 1..4095; 0 would make the call "
						 "succeed without running)");
	const char *n = strerrorname_np(static_cast<int>(e));
	if (!n)
		throw ImportError(where, "errno " + std::to_string(e) + " has no name on this system");
	return n;
}

void check_errno_name(const json &obj, const char *name_key, const char *ret_key, const std::string &where)
{
	if (!obj.contains(name_key) || obj[name_key].is_null())
		return;
	std::string w = where.empty() ? name_key : where + "." + name_key;
	std::string name = get_string(obj[name_key], w);
	if (!obj.contains(ret_key) || obj[ret_key].is_null())
		throw ImportError(w, quote(name) + " without " + ret_key +
					     ": containers/common ignores the name (EPERM), give " + ret_key);
	std::string ret_where = where.empty() ? ret_key : where + "." + ret_key;
	uint64_t e = get_u64(obj[ret_key], ret_where);
	std::string n = errno_name(e, ret_where);
	if (n != name)
		throw ImportError(w, quote(name) + " but " + ret_key + " is " + std::to_string(e) + " (" + n + ")");
}

// libseccomp's action names as the OCI spec spells them. errnoRet only means
// something to ERRNO (and TRACE); runc ignores it elsewhere, and so do we.
policy::SyscallAction parse_action(const std::string &name, const json *errno_ret, const std::string &where,
				   const std::string &errno_where)
{
	policy::SyscallAction a;
	using K = policy::SyscallActionKind;
	if (name == "SCMP_ACT_ALLOW")
		a.kind = K::Allow;
	else if (name == "SCMP_ACT_ERRNO") {
		a.kind = K::Errno;
		// runc's default when the profile gives none.
		uint64_t e = errno_ret ? get_u64(*errno_ret, errno_where) : EPERM;
		errno_name(e, errno_where);
		a.errno_value = static_cast<int>(e);
	} else if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD")
		a.kind = K::KillThread; // libseccomp's SCMP_ACT_KILL is the thread kill
	else if (name == "SCMP_ACT_KILL_PROCESS")
		a.kind = K::KillProcess;
	else if (name == "SCMP_ACT_LOG")
		a.kind = K::Log;
	else if (name == "SCMP_ACT_TRAP")
		a.kind = K::Trap;
	else if (name == "SCMP_ACT_TRACE" || name == "SCMP_ACT_NOTIFY")
		throw ImportError(
			where, name + " is not supported by bulwark (no tracer or seccomp agent to hand the call to)");
	else
		throw ImportError(
			where, "unknown action " + quote(name) +
				       " (expected SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, "
				       "SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_LOG or SCMP_ACT_TRAP)");
	return a;
}

namespace {

struct OpName {
	const char *docker;
	const char *yaml;
	policy::ArgOp op;
};
constexpr OpName kOps[] = {
	{"SCMP_CMP_EQ", "eq", policy::ArgOp::Eq},
	{"SCMP_CMP_NE", "ne", policy::ArgOp::Ne},
	{"SCMP_CMP_LT", "lt", policy::ArgOp::Lt},
	{"SCMP_CMP_LE", "le", policy::ArgOp::Le},
	{"SCMP_CMP_GT", "gt", policy::ArgOp::Gt},
	{"SCMP_CMP_GE", "ge", policy::ArgOp::Ge},
	{"SCMP_CMP_MASKED_EQ", "masked-eq", policy::ArgOp::MaskedEq},
};

} // namespace

const char *op_yaml(policy::ArgOp op)
{
	for (const auto &o : kOps)
		if (o.op == op)
			return o.yaml;
	return "?";
}

policy::ArgCondition parse_arg(const json &j, const std::string &where)
{
	check_keys(j, {"index", "value", "valueTwo", "op"}, where);
	policy::ArgCondition c;
	uint64_t index = get_u64(need(j, "index", where), where + ".index");
	if (index > 5)
		throw ImportError(where + ".index", "argument index " + std::to_string(index) + " out of range 0..5");
	c.index = static_cast<unsigned>(index);
	std::string op = get_string(need(j, "op", where), where + ".op");
	const OpName *found = nullptr;
	for (const auto &o : kOps)
		if (op == o.docker)
			found = &o;
	if (!found)
		throw ImportError(where + ".op",
				  "unknown operator " + quote(op) +
					  " (expected SCMP_CMP_EQ, SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, "
					  "SCMP_CMP_GT, SCMP_CMP_GE or SCMP_CMP_MASKED_EQ)");
	c.op = found->op;
	// Go zero-values absent fields; libseccomp reads the mask from `value`
	// and the datum from `valueTwo` for SCMP_CMP_MASKED_EQ.
	uint64_t value = j.contains("value") ? get_u64(j["value"], where + ".value") : 0;
	uint64_t two = j.contains("valueTwo") ? get_u64(j["valueTwo"], where + ".valueTwo") : 0;
	if (c.op == policy::ArgOp::MaskedEq) {
		c.mask = value;
		c.value = two;
	} else {
		c.value = value;
	}
	return c;
}

std::string join(const std::vector<std::string> &v, const char *sep)
{
	std::string out;
	for (const auto &s : v)
		out += (out.empty() ? "" : sep) + s;
	return out;
}

namespace {

constexpr ArchInfo kKnownArches[] = {
	{"SCMP_ARCH_X86_64", "x86_64"},     {"SCMP_ARCH_X86", "x86"},        {"SCMP_ARCH_X32", "x32"},
	{"SCMP_ARCH_ARM", nullptr},         {"SCMP_ARCH_AARCH64", nullptr},  {"SCMP_ARCH_LOONGARCH64", nullptr},
	{"SCMP_ARCH_M68K", nullptr},        {"SCMP_ARCH_MIPS", nullptr},     {"SCMP_ARCH_MIPS64", nullptr},
	{"SCMP_ARCH_MIPS64N32", nullptr},   {"SCMP_ARCH_MIPSEL", nullptr},   {"SCMP_ARCH_MIPSEL64", nullptr},
	{"SCMP_ARCH_MIPSEL64N32", nullptr}, {"SCMP_ARCH_PPC", nullptr},      {"SCMP_ARCH_PPC64", nullptr},
	{"SCMP_ARCH_PPC64LE", nullptr},     {"SCMP_ARCH_S390", nullptr},     {"SCMP_ARCH_S390X", nullptr},
	{"SCMP_ARCH_PARISC", nullptr},      {"SCMP_ARCH_PARISC64", nullptr}, {"SCMP_ARCH_RISCV64", nullptr},
	{"SCMP_ARCH_SH", nullptr},          {"SCMP_ARCH_SHEB", nullptr},
};

} // namespace

const ArchInfo &find_arch(const std::string &name, const std::string &where)
{
	for (const auto &a : kKnownArches)
		if (name == a.scmp)
			return a;
	throw ImportError(where, "unknown architecture " + quote(name));
}

uint32_t arch_token(const std::string &bulwark_name)
{
	if (bulwark_name == "x86")
		return SCMP_ARCH_X86;
	if (bulwark_name == "x32")
		return SCMP_ARCH_X32;
	return SCMP_ARCH_X86_64;
}

} // namespace bulwark::docker_profile
