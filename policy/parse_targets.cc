// SPDX-License-Identifier: Apache-2.0
//
// What a rule names: paths (exact, '*' patterns, subtrees), socket families,
// ports, addresses, and the `when:` context only the LSM layer can see.

#include <arpa/inet.h>

#include <algorithm>
#include <tuple>

#include "policy/constants.h"
#include "policy/parse_internal.h"

namespace bulwark::policy::internal {

namespace {

const char *const kWhenKeys = "exe, parent_exe, uid, cgroup";

constexpr uint64_t kMaxUid = 4294967294u; // (uid_t)-1 means "no change" to the kernel

} // namespace

std::optional<std::string> Parser::path_problem(const std::string &p, PathSpec &out, bool patterns)
{
	// Checked first so that later messages can quote the path verbatim.
	if (p.find('\0') != std::string::npos || p.find('\n') != std::string::npos)
		return std::string("path contains a NUL or newline character");
	if (p.size() > kMaxPathLength)
		return "path is " + std::to_string(p.size()) + " bytes long (limit is " +
		       std::to_string(kMaxPathLength) + ")";
	if (p.empty())
		return std::string("path is empty");
	if (p[0] != '/')
		return "path '" + p + "' is not absolute";
	if (p == "/")
		return std::string("path '/' is the root directory, not a file");
	if (!patterns && p.find('*') != std::string::npos)
		return "path '" + p + "' must be exact here (no '*' or '/**')";
	if (auto pos = p.find_first_of("?["); pos != std::string::npos)
		return "path patterns: only '*' and a final '/**' are supported (found '" + std::string(1, p[pos]) +
		       "' in '" + p + "')";
	if (p.back() == '/')
		return "path '" + p + "' has a trailing '/'";
	bool glob = false, subtree = false;
	// p starts with '/' and does not end with one, so splitting after the
	// leading slash yields every component.
	std::size_t start = 1;
	while (start <= p.size()) {
		std::size_t end = p.find('/', start);
		if (end == std::string::npos)
			end = p.size();
		const std::string comp = p.substr(start, end - start);
		if (comp.empty())
			return "path '" + p + "' has an empty component ('//')";
		if (comp == "." || comp == "..")
			return "path '" + p + "' has a '" + comp + "' component";
		if (comp.find("**") != std::string::npos) {
			// Anything else would need a matcher that walks an unbounded number
			// of components, which the BPF side cannot do.
			if (comp != "**" || end != p.size())
				return "path '" + p +
				       "': '**' is only supported as the whole last component ('/dir/**')";
			subtree = true;
		} else if (comp.find('*') != std::string::npos) {
			glob = true;
		}
		start = end + 1;
	}
	if (subtree) {
		if (p == "/**")
			return std::string("path '/**' would match every file; name narrower subtrees instead");
		if (glob)
			return "path '" + p + "': '*' cannot be combined with a final '/**'";
		out.path = p.substr(0, p.size() - 3);
		out.kind = PathKind::Subtree;
	} else {
		out.path = p;
		out.kind = glob ? PathKind::Glob : PathKind::Exact;
	}
	return std::nullopt;
}

std::vector<PathSpec> Parser::parse_paths(const Entry &e, const std::string &rule_id, bool patterns)
{
	const std::string key = e.key.Scalar();
	auto list = items(e, "'" + key + "' must be a path or a non-empty list of paths");
	if (!list)
		return {};

	std::vector<PathSpec> out;
	std::map<std::string, int> seen; // path as written -> line first listed
	for (const auto &item : *list) {
		if (!item.IsScalar()) {
			error(loc(item), "path must be a string");
			continue;
		}
		const std::string &p = item.Scalar();
		PathSpec spec;
		if (auto problem = path_problem(p, spec, patterns)) {
			error(loc(item), *problem);
			continue;
		}
		if (auto prev = seen.find(p); prev != seen.end()) {
			warning(loc(item), "duplicate path '" + p + "' in rule '" + rule_id +
						   "' (first listed at line " + std::to_string(prev->second) + ")");
			continue;
		}
		seen.emplace(p, loc(item).line);
		spec.loc = loc(item);
		out.push_back(std::move(spec));
	}
	return out;
}

std::vector<int> Parser::parse_families(const Entry &e)
{
	const std::string expected = "(expected a name such as unix, inet, inet6, netlink, packet, "
				     "or a number 0.." +
				     std::to_string(kMaxAddressFamily) + ")";
	std::vector<int> out;
	auto list = items(e, "'families' must be an address family or a non-empty list of them " + expected);
	if (!list)
		return out;
	for (const auto &n : *list) {
		if (!n.IsScalar()) {
			error(loc(n), "address family must be a string or a number " + expected);
			continue;
		}
		const std::string &s = n.Scalar();
		int fam;
		uint64_t v;
		if (Num r = parse_uint(s, v); r != Num::Bad) {
			if (r == Num::Overflow || v > static_cast<uint64_t>(kMaxAddressFamily)) {
				error(loc(n), "address family " + s + " is out of range (0.." +
						      std::to_string(kMaxAddressFamily) + ")");
				continue;
			}
			fam = static_cast<int>(v);
		} else if (auto f = find_address_family(s)) {
			fam = *f;
		} else {
			error(loc(n), "unknown address family '" + s + "' " + expected);
			continue;
		}
		if (std::find(out.begin(), out.end(), fam) != out.end()) {
			error(loc(n), "duplicate address family '" + s + "'");
			continue;
		}
		out.push_back(fam);
	}
	return out;
}

std::vector<PortRange> Parser::parse_ports(const Entry &e)
{
	std::vector<PortRange> out;
	auto list = items(e, "'ports' must be a port or a non-empty list of ports and ranges "
			     "('lo-hi')");
	if (!list)
		return out;
	for (const auto &n : *list) {
		const std::string s = n.IsScalar() ? n.Scalar() : "";
		const std::size_t dash = s.find('-');
		const std::string lo_s = s.substr(0, dash);
		const std::string hi_s = dash == std::string::npos ? lo_s : s.substr(dash + 1);
		uint64_t lo, hi;
		Num rl = parse_uint(lo_s, lo), rh = parse_uint(hi_s, hi);
		if (!n.IsScalar() || rl == Num::Bad || rh == Num::Bad) {
			error(loc(n), "invalid port '" + s + "' (expected a number 1..65535 or a range 'lo-hi')");
			continue;
		}
		bool bad = false;
		for (auto [r, v, t] : {std::make_tuple(rl, lo, lo_s), std::make_tuple(rh, hi, hi_s)}) {
			if (!bad && (r == Num::Overflow || v < 1 || v > 65535)) {
				error(loc(n), "port " + t + " is out of range (1..65535)");
				bad = true;
			}
		}
		if (bad)
			continue;
		if (lo > hi) {
			error(loc(n), "port range '" + s + "' is reversed (" + lo_s + " > " + hi_s + ")");
			continue;
		}
		out.push_back({static_cast<uint16_t>(lo), static_cast<uint16_t>(hi), loc(n)});
	}
	return out;
}

std::vector<Address> Parser::parse_addresses(const Entry &e)
{
	std::vector<Address> out;
	auto list = items(e, "'addresses' must be an address or a non-empty list of addresses");
	if (!list)
		return out;
	for (const auto &n : *list) {
		const std::string s = n.IsScalar() ? n.Scalar() : "";
		const std::size_t slash = s.find('/');
		const std::string host = s.substr(0, slash);
		Address a;
		a.text = s;
		a.loc = loc(n);
		if (inet_pton(AF_INET, host.c_str(), a.bytes.data()) == 1) {
			a.family = AF_INET;
		} else if (inet_pton(AF_INET6, host.c_str(), a.bytes.data()) == 1) {
			a.family = AF_INET6;
		} else {
			error(loc(n), "invalid address '" + s +
					      "' (expected an IPv4 or IPv6 address, optionally with a /prefix)");
			continue;
		}
		const int max = a.family == AF_INET ? 32 : 128;
		a.prefix = max;
		if (slash != std::string::npos) {
			uint64_t v;
			const std::string ps = s.substr(slash + 1);
			// Hex prefixes would only ever be typos.
			if (ps.find_first_not_of("0123456789") != std::string::npos || parse_uint(ps, v) != Num::Ok ||
			    v > static_cast<uint64_t>(max)) {
				error(loc(n), "invalid prefix '/" + ps + "' in '" + s + "' (expected 0.." +
						      std::to_string(max) + ")");
				continue;
			}
			a.prefix = static_cast<int>(v);
		}
		// A set host bit usually means the author wrote a host where they meant
		// a network; the rule matches the network either way.
		bool host_bits = false;
		for (int i = 0; i < max / 8; ++i) {
			const int keep = std::clamp(a.prefix - i * 8, 0, 8);
			const uint8_t mask = static_cast<uint8_t>(0xff00 >> keep);
			if (a.bytes[i] & ~mask)
				host_bits = true;
			a.bytes[i] &= mask;
		}
		if (host_bits)
			warning(loc(n), "address '" + s + "' has bits set beyond its /" + std::to_string(a.prefix) +
						" prefix; they are ignored");
		out.push_back(std::move(a));
	}
	return out;
}

std::vector<uint32_t> Parser::parse_uids(const Entry &e)
{
	std::vector<uint32_t> out;
	auto list = items(e, "'uid' must be a uid or a non-empty list of uids");
	if (!list)
		return out;
	for (const auto &n : *list) {
		uint64_t v;
		Num r = n.IsScalar() ? parse_uint(n.Scalar(), v) : Num::Bad;
		if (r == Num::Bad) {
			error(loc(n), "invalid uid '" + (n.IsScalar() ? n.Scalar() : std::string()) +
					      "' (expected a number 0.." + std::to_string(kMaxUid) + ")");
		} else if (r == Num::Overflow || v > kMaxUid) {
			error(loc(n), "uid " + n.Scalar() + " is out of range (0.." + std::to_string(kMaxUid) + ")");
		} else {
			out.push_back(static_cast<uint32_t>(v));
		}
	}
	return out;
}

When Parser::parse_when(const Entry &e, const std::string &rule_id)
{
	When w;
	w.loc = loc(e.value);
	if (!e.value.IsMap() || e.value.size() == 0) {
		error(value_loc(e), std::string("'when' must be a mapping with one or more of: ") + kWhenKeys);
		return w;
	}
	Entries m = read_mapping(e.value, "when", kWhenKeys);
	if (auto it = m.find("exe"); it != m.end())
		w.exe = parse_paths(it->second, rule_id, false);
	if (auto it = m.find("parent_exe"); it != m.end())
		w.parent_exe = parse_paths(it->second, rule_id, false);
	if (auto it = m.find("uid"); it != m.end())
		w.uid = parse_uids(it->second);
	if (auto it = m.find("cgroup"); it != m.end()) {
		// Same syntax rules as file paths: they name cgroupfs directories.
		for (auto &p : parse_paths(it->second, rule_id, false))
			w.cgroup.push_back(p.path);
	}
	return w;
}

} // namespace bulwark::policy::internal
