// SPDX-License-Identifier: Apache-2.0
#include "loader/events/generations.h"

#include <cstdio>
#include <cstring>

#include "loader/kernel/fd.h"
#include "loader/kernel/lsm.h"
#include "policy/catalog.h"

namespace bulwark {

Generations::Generations(Output *out, const policy::Policy &policy, SinkOptions so) : out_(out), so_(so)
{
	pol_[0] = std::make_unique<policy::Policy>(policy);
	sink_[0] = std::make_unique<EventSink>(out_, *pol_[0], so_);
}

Generations::Generations(Output *out, const LsmMaps &maps, SinkOptions so) : out_(out), maps_(&maps), so_(so) {}

// Re-reads generation gen's policy when its record names another file
// (or the same file with other text) than the one loaded last.
void Generations::refresh(uint32_t gen)
{
	if (!maps_)
		return;
	bw_gen g = maps_->read_gen(gen);
	if (pol_[gen] && hash_[gen] == g.policy_hash)
		return;
	std::string path(g.policy_path, strnlen(g.policy_path, sizeof(g.policy_path)));
	auto parsed = path.empty() ? policy::ParseResult{} : policy::parse_file(path);
	if (!parsed.ok()) {
		std::fprintf(stderr,
			     "enforce: cannot re-read policy %s of generation %u; events name its rules by number\n",
			     path.c_str(), gen);
		pol_[gen] = std::make_unique<policy::Policy>();
		pol_[gen]->name = "unknown";
	} else {
		if (fnv1a(read_text(path)) != g.policy_hash)
			std::fprintf(stderr, "enforce: %s changed since it was loaded; rule names may not match\n",
				     path.c_str());
		pol_[gen] = std::make_unique<policy::Policy>(*parsed.policy);
	}
	hash_[gen] = g.policy_hash;
	sink_[gen] = std::make_unique<EventSink>(out_, *pol_[gen], so_);
}

Generations::View Generations::view(uint32_t gen)
{
	refresh(gen);
	return View{gen, *pol_[gen], *sink_[gen]};
}

Generations::View Generations::of(bw_event &e)
{
	// Rule numbers are absolute; run has one generation, in whatever
	// slot the engine gave its policy.
	if (!maps_) {
		if (e.rule < BW_RULE_DEFAULT_EXEC)
			e.rule %= BW_MAX_RULES;
		return view(0);
	}
	uint32_t slot;
	if (e.rule < BW_RULE_DEFAULT_EXEC) {
		slot = e.rule / BW_MAX_RULES;
		e.rule %= BW_MAX_RULES;
	} else {
		slot = active_slot(); // built-in rules have no generation
	}
	return view(slot);
}

uint32_t Generations::active_slot() const
{
	return base_ ? base_ : maps_->read_config().active_gen & 1;
}

Generations::View Generations::active()
{
	return view(maps_ ? active_slot() : 0);
}

uint64_t Generations::written() const
{
	uint64_t n = 0;
	each([&](const EventSink &s) { n += s.count(); });
	return n;
}

uint64_t Generations::suppressed() const
{
	uint64_t n = 0;
	each([&](const EventSink &s) { n += s.suppressed(); });
	return n;
}

} // namespace bulwark
