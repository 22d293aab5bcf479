// SPDX-License-Identifier: Apache-2.0
// A rule's description in events: its words and the first few of its
// paths, ports or addresses.
#include "loader/sinks/ecs_parts.h"
#include "policy/catalog.h"

namespace bulwark {

std::string describe(const policy::Policy &pol, size_t idx)
{
	auto join = [](const auto &v, auto get) {
		std::string s;
		for (const auto &x : v) {
			if (!s.empty())
				s += ", ";
			s += get(x);
		}
		return s;
	};
	if (idx < pol.rules.size()) {
		const policy::Rule &r = pol.rules[idx];
		std::string d = r.verb == policy::Verb::Allow ? "allow " : "deny ";
		d += join(r.words, [](const std::string &w) { return w; });
		// A few paths say what the rule is about; a long list belongs in
		// the policy, not in every event.
		if (!r.paths.empty()) {
			d += ": ";
			for (size_t i = 0; i < r.paths.size() && i < 3; i++) {
				if (i)
					d += ", ";
				d += r.paths[i].path;
				if (r.paths[i].kind == policy::PathKind::Subtree)
					d += "/**";
			}
			if (r.paths.size() > 3)
				d += ", +" + std::to_string(r.paths.size() - 3) + " more";
		}
		if (!r.ports.empty()) {
			d += ": ports ";
			for (size_t i = 0; i < r.ports.size() && i < 3; i++) {
				if (i)
					d += ", ";
				d += std::to_string(r.ports[i].lo);
				if (r.ports[i].hi != r.ports[i].lo)
					d += "-" + std::to_string(r.ports[i].hi);
			}
			if (r.ports.size() > 3)
				d += ", +" + std::to_string(r.ports.size() - 3) + " more";
		}
		if (!r.addresses.empty()) {
			d += r.ports.empty() ? ": " : " to ";
			for (size_t i = 0; i < r.addresses.size() && i < 3; i++) {
				if (i)
					d += ", ";
				d += r.addresses[i].text;
			}
			if (r.addresses.size() > 3)
				d += ", +" + std::to_string(r.addresses.size() - 3) + " more";
		}
		return d;
	}
	size_t h = idx - pol.rules.size();
	if (idx >= pol.rules.size() && h < pol.hooks.size())
		return "deny hook " + pol.hooks[h].hook;
	const policy::BuiltinRule *b = policy::find_builtin(idx);
	return b ? b->description : "";
}

} // namespace bulwark
