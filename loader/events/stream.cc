// SPDX-License-Identifier: Apache-2.0
#include "loader/events/stream.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "loader/kernel/lsm.h"
#include "policy/catalog.h"
#include "seccomp/filter.h"

namespace bulwark {

namespace {

uint64_t mono_ns()
{
	timespec ts{};
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

seccomp_data data_of(const bw_event &e)
{
	seccomp_data d{};
	d.nr = e.sc.nr;
	d.arch = e.sc.arch;
	for (int i = 0; i < 6; i++)
		d.args[i] = e.sc.args[i];
	return d;
}

// The executable is recorded by an LSM hook at exec; without the LSM layer
// /proc says it, best effort (the task may be gone already).
bw_event with_exe(const bw_event &e)
{
	bw_event c = e;
	if (c.exe[0])
		return c;
	std::string link = "/proc/" + std::to_string(e.tid) + "/exe";
	ssize_t n = readlink(link.c_str(), c.exe, sizeof(c.exe) - 1);
	c.exe[n > 0 ? n : 0] = 0;
	return c;
}

// A call let through in audit mode is held this long for its LSM half
// (recorded inside the syscall, right after the answer); then its seccomp
// half is reported alone, and an LSM half coming later is an event of its
// own.
constexpr uint64_t kHoldNs = 2000000000ull;

// Whether an LSM record was made inside the syscall a notification named.
bool same_call(const seccomp_notif &n, const bw_event &e)
{
	if (n.pid != e.tid || n.data.nr != e.sc.nr || n.data.arch != e.sc.arch)
		return false;
	for (int i = 0; i < 6; i++)
		if (n.data.args[i] != e.sc.args[i])
			return false;
	return true;
}

} // namespace

EventStream::EventStream(Generations &gens, const seccomp::Filter *filter, LsmLayer *lsm)
    : gens_(gens), filter_(filter), lsm_(lsm)
{
	// What a re-adopted object dropped before us was reported by its
	// previous owner.
	if (lsm_)
		lost_seen_ = lsm_->dropped();
}

// Whether the seccomp layer's answer stops (or, for an audit rule, would
// stop) the call. clone3's ENOSYS is the user-namespace rule's way to make
// libc fall back to clone, not a denial.
static bool seccomp_would_deny(const seccomp::Filter &f, const seccomp_data &d)
{
	uint32_t v = f.verdict(d);
	uint32_t action = v & SECCOMP_RET_ACTION_FULL;
	if (action == SECCOMP_RET_ALLOW)
		return false;
	if (action == SECCOMP_RET_ERRNO && (v & SECCOMP_RET_DATA) == ENOSYS &&
	    seccomp::syscall_name(d.arch, d.nr) == "clone3")
		return false;
	return true;
}

void EventStream::on_record(const bw_event &e)
{
	switch (e.kind) {
	case BW_KIND_LSM:
		on_lsm(e);
		return;
	case BW_KIND_SECCOMP_KILL:
		on_seccomp_kernel(e);
		return;
	}
}

void EventStream::on_lsm(const bw_event &e)
{
	// The LSM half of a call the listener let through in audit mode: the
	// two make one event, written now.
	for (auto it = held_.begin(); it != held_.end(); ++it)
		if (same_call(it->second.attempt.notif, e)) {
			it->second.lsm = e;
			emit_held(it->second);
			held_.erase(it);
			return;
		}
	unsigned denied = kLayerLsm, evaluated = kLayerLsm;
	if (filter_ && e.sc.nr >= 0) {
		seccomp_data d = data_of(e);
		evaluated |= kLayerSeccomp;
		if (seccomp_would_deny(*filter_, d))
			denied |= kLayerSeccomp;
	}
	bw_event rec = e;
	gens_.of(rec).sink.lsm(rec, denied, evaluated);
}

// The one kind the kernel reports itself: a kill, which never reaches the
// listener. Errnos and logs of either filter are the listener's.
void EventStream::on_seccomp_kernel(const bw_event &e)
{
	if (!filter_)
		return;
	seccomp_data d = data_of(e);
	uint32_t table = filter_->table_verdict(d);
	uint32_t action = table & SECCOMP_RET_ACTION_FULL;
	bool by_table = action == SECCOMP_RET_KILL_PROCESS || action == SECCOMP_RET_KILL_THREAD;
	// The rule-word filter's kills are foreign ABIs.
	sink().seccomp_kernel(with_exe(e), by_table ? table_rule_id(d, table) : "builtin:foreign-abi", false);
}

std::string EventStream::table_rule_id(const seccomp_data &d, uint32_t verdict) const
{
	long idx = filter_->entry_for(d, verdict);
	if (idx >= 0)
		return "syscalls[" + std::to_string(idx) + "]";
	bool native = d.arch == AUDIT_ARCH_X86_64 && !(d.nr & 0x40000000);
	bool opted = false;
	for (const auto &a : policy().architectures)
		opted |= (a == "x86" && d.arch == AUDIT_ARCH_I386) ||
			 (a == "x32" && d.arch == AUDIT_ARCH_X86_64 && (d.nr & 0x40000000));
	if (!native && !opted)
		return "builtin:foreign-abi";
	return "default:syscalls";
}

// How a notified call is answered, as the two stacked filters would have
// it: the table's errno first (the kernel ranks ERRNO above USER_NOTIF), then
// an enforcing rule word, then an audit entry of either (continue).
struct Answer {
	int err = EPERM; // 0: continue (audit)
	size_t rule = SIZE_MAX;
	std::string rule_id;
};

void EventStream::on_notification(int nfd)
{
	seccomp_notif *req = nullptr;
	seccomp_notif_resp *resp = nullptr;
	if (seccomp_notify_alloc(&req, &resp) < 0)
		return;
	std::unique_ptr<seccomp_notif, void (*)(seccomp_notif *)> req_guard(
		req, [](seccomp_notif *r) { seccomp_notify_free(r, nullptr); });
	std::unique_ptr<seccomp_notif_resp, void (*)(seccomp_notif_resp *)> resp_guard(
		resp, [](seccomp_notif_resp *r) { seccomp_notify_free(nullptr, r); });
	if (seccomp_notify_receive(nfd, req) < 0)
		return; // the task died while we were waking up
	uint64_t args[6];
	for (int i = 0; i < 6; i++)
		args[i] = req->data.args[i];
	long rule = filter_ ? filter_->rule_for(req->data.arch, req->data.nr, args) : -1;
	bool word_audit = rule >= 0 && policy().rules[static_cast<size_t>(rule)].mode == policy::Mode::Audit;
	uint32_t table = filter_ ? filter_->table_verdict(req->data) : SECCOMP_RET_ALLOW;
	uint32_t taction = table & SECCOMP_RET_ACTION_FULL;
	Answer ans;
	if (taction == SECCOMP_RET_ERRNO) {
		ans.err = static_cast<int>(table & SECCOMP_RET_DATA);
		ans.rule_id = table_rule_id(req->data, table);
	} else if (rule >= 0 && !word_audit) {
		ans.rule = static_cast<size_t>(rule);
	} else if (taction == SECCOMP_RET_LOG) {
		ans.err = 0;
		ans.rule_id = table_rule_id(req->data, table);
	} else if (taction != SECCOMP_RET_ALLOW) {
		// trap/trace entries: no tracer here to hand them to; denied.
		ans.rule_id = table_rule_id(req->data, table);
	} else if (rule >= 0) {
		ans.err = 0;
		ans.rule = static_cast<size_t>(rule);
	}
	// Anything else routed here matched no rule we know of: still denied.
	bool audit = ans.err == 0 && (ans.rule != SIZE_MAX || !ans.rule_id.empty());
	resp->id = req->id;
	resp->val = 0;
	resp->error = audit ? 0 : -ans.err;
	resp->flags = audit ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
	// /proc is read while the task is parked; checking the id afterwards
	// proves the pid still named that task while we read it.
	SeccompAttempt a =
		EventSink::capture(*req, ans.rule, ans.err, [&] { return seccomp_notify_id_valid(nfd, req->id) == 0; });
	a.rule_id = ans.rule_id;
	// A call let through in audit mode goes on to meet the LSM layer: hold
	// its event until the LSM half arrives (or kHoldNs), so both layers'
	// views of the one attempt become one event.
	if (audit && a.valid && lsm_ && lsm_->lsm_loaded()) {
		uint32_t seq = ++next_seq_ ? next_seq_ : ++next_seq_;
		held_[seq] = Held{std::move(a), std::nullopt, mono_ns()};
		seccomp_notify_respond(nfd, resp);
		return;
	}
	seccomp_notify_respond(nfd, resp);
	if (a.valid)
		sink().seccomp(a, nullptr, kLayerSeccomp, kLayerSeccomp);
}

void EventStream::emit_held(Held &h)
{
	unsigned evaluated = kLayerSeccomp | (lsm_ && lsm_->lsm_loaded() ? kLayerLsm : 0u);
	unsigned denied = kLayerSeccomp | (h.lsm ? kLayerLsm : 0u);
	sink().seccomp(h.attempt, h.lsm ? &*h.lsm : nullptr, denied, evaluated);
}

uint64_t EventStream::tick()
{
	uint64_t lost = 0;
	if (lsm_) {
		uint64_t dropped = lsm_->dropped();
		if (dropped > lost_seen_) {
			// In the stream too, where monitoring counts.
			lost = dropped - lost_seen_;
			sink().lost(lost);
			lost_total_ += lost;
			lost_seen_ = dropped;
		}
	}
	uint64_t now = mono_ns();
	for (auto it = held_.begin(); it != held_.end();) {
		if (now - it->second.since_ns < kHoldNs) {
			++it;
			continue;
		}
		emit_held(it->second);
		it = held_.erase(it);
	}
	timespec ts{};
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t epoch = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
	gens_.each([&](EventSink &s) { s.flush_summaries(epoch); });
	return lost;
}

void EventStream::flush()
{
	gens_.each([](EventSink &s) { s.flush(); });
}

MetricsSnapshot EventStream::metrics()
{
	MetricsSnapshot m;
	gens_.each([&](const EventSink &s) {
		for (auto &r : s.denials())
			// The kernel counts the LSM layer's exactly, below.
			if (r.layer != kLayerLsm || !lsm_ || !lsm_->lsm_loaded())
				m.denials.push_back(r);
	});
	m.written = gens_.written();
	m.suppressed = gens_.suppressed();
	m.lost = lsm_ ? lsm_->dropped() : 0;
	if (!lsm_ || !lsm_->lsm_loaded())
		return m;
	Generations::View v = gens_.active();
	const LsmMaps &maps = lsm_->maps();
	uint32_t slot = gens_.fixed() ? lsm_->slot_base() : v.slot;
	uint32_t n = maps.read_gen(slot).nrules;
	for (const auto &[rule, c] : read_counters(maps.rule_hits, slot, n)) {
		std::string id = policy::rule_id_for(v.policy, rule);
		if (id.empty())
			id = "#" + std::to_string(rule);
		if (c.first)
			m.denials.push_back({id, kLayerLsm, false, c.first});
		if (c.second)
			m.denials.push_back({id, kLayerLsm, true, c.second});
	}
	return m;
}

void EventStream::finish()
{
	if (lsm_)
		lsm_->drain();
	for (auto &[seq, h] : held_)
		emit_held(h);
	held_.clear();
	tick();
	flush();
}

} // namespace bulwark
