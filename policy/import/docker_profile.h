// SPDX-License-Identifier: Apache-2.0
//
// What policy/import/docker.cc reads a profile with; not an API. Every
// reader takes the JSON path of its value ("syscalls[3].args[0]") and throws
// ImportError with it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/import/docker.h"
#include "policy/policy.h"

namespace bulwark::docker_profile {

struct Version {
	int v[3] = {0, 0, 0};
	bool operator<(const Version &o) const { return std::lexicographical_compare(v, v + 3, o.v, o.v + 3); }
	std::string str() const
	{
		return std::to_string(v[0]) + "." + std::to_string(v[1]) + (v[2] ? "." + std::to_string(v[2]) : "");
	}
};

// "4.8", "6.1.0", "6.18.44-fc-v669": two or three numbers, anything after.
bool parse_version(const std::string &s, Version &out);
Version parse_min_kernel(const nlohmann::json &j, const std::string &where);

// A JSON string literal, for quoting the profile's own text.
std::string quote(const std::string &s);
std::string type_name(const nlohmann::json &j);
const nlohmann::json &need(const nlohmann::json &obj, const char *key, const std::string &where);
std::string get_string(const nlohmann::json &j, const std::string &where);
uint64_t get_u64(const nlohmann::json &j, const std::string &where);
std::vector<std::string> get_strings(const nlohmann::json &j, const std::string &where);
// Throws for a key not in `known`, naming the known ones.
void check_keys(const nlohmann::json &obj, std::initializer_list<const char *> known, const std::string &where);
// Present, not null, not empty.
bool non_empty(const nlohmann::json &obj, const char *key);

std::string errno_name(uint64_t e, const std::string &where);
// containers/common (podman) spells each errno twice: errnoRet, which its
// runtime uses, and a name (errno, defaultErrno), which it does not. The
// name is accepted only when it names the same errno.
void check_errno_name(const nlohmann::json &obj, const char *name_key, const char *ret_key, const std::string &where);
policy::SyscallAction parse_action(const std::string &name, const nlohmann::json *errno_ret, const std::string &where,
				   const std::string &errno_where);
policy::ArgCondition parse_arg(const nlohmann::json &j, const std::string &where);
// The policy file's spelling of an operator ("masked-eq").
const char *op_yaml(policy::ArgOp op);

struct ArchInfo {
	const char *scmp;
	const char *bulwark; // nullptr: an ABI an x86_64 kernel never runs
};
const ArchInfo &find_arch(const std::string &name, const std::string &where);
// libseccomp's token for a bulwark architecture name.
uint32_t arch_token(const std::string &bulwark_name);

std::string join(const std::vector<std::string> &v, const char *sep = ", ");

} // namespace bulwark::docker_profile
