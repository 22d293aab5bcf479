// SPDX-License-Identifier: Apache-2.0
#include "loader/sinks/ecs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/types.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <ctime>
#include <deque>
#include <unordered_map>

extern "C" {
#include "bulwark.h"
}
#include "loader/kernel/fd.h"
#include "loader/sinks/ecs_parts.h"
#include "loader/sinks/json_writer.h"
#include "loader/sinks/output.h"
#include "policy/catalog.h"
#include "seccomp/filter.h"

namespace bulwark {

namespace {

constexpr const char *kEcsVersion = "8.11.0";

const char *errno_name(int err)
{
	switch (err) {
	case EPERM:
		return "EPERM";
	case EACCES:
		return "EACCES";
	case ENOSYS:
		return "ENOSYS";
	}
	const char *n = strerrorname_np(err);
	return n ? n : "";
}

// Hooks the catalog does not know (a newer BPF object) are named by
// number and say nothing more.
const policy::HookInfo &hook_info(uint32_t hook)
{
	static const policy::HookInfo unknown{
		0, "unknown", "process", policy::HookTargetName, policy::HookDetailNone, false};
	const policy::HookInfo *h = policy::find_hook(hook);
	return h ? *h : unknown;
}

std::string_view fixed(const char *s, size_t max)
{
	return std::string_view(s, strnlen(s, max));
}

} // namespace

struct EventSink::Impl {
	struct RuleInfo {
		std::string id;
		std::string members;         // "rule":{...}, formatted once
		uint64_t *written = nullptr; // its per_rule_ node (std::map nodes never move)
		uint64_t denials[2][2] = {}; // [lsm?][audit?]
		uint32_t slot = 0;
	};
	// Per (rule, pid): the open one-second window.
	struct Window {
		uint64_t start = 0;
		unsigned n = 0;
		uint64_t suppressed = 0;
		const RuleInfo *rule = nullptr;
		uint32_t pid = 0;
		std::string comm, exe; // of the first suppressed event
	};

	EventSink &self;
	Output *out;
	const policy::Policy &policy;
	SinkOptions opts;
	uint64_t boot_to_epoch_ns;
	std::string constant;      // "ecs", "host": the same in every event
	std::string layers_active; // ["seccomp","lsm"]
	std::deque<RuleInfo> rules;
	std::vector<RuleInfo *> by_index;                                   // rules, then hooks
	RuleInfo *builtin[BW_RULE_BUILTIN_END - BW_RULE_BUILTIN_BASE] = {}; // BW_RULE_BUILTIN_BASE + i
	std::unordered_map<std::string, RuleInfo *> by_id;
	std::unordered_map<uint64_t, std::string> syscall_names;
	std::unordered_map<uint64_t, Window> windows;
	uint64_t oldest_window = UINT64_MAX;
	JsonWriter w;
	std::string line;
	// @timestamp: the seconds part only changes once a second.
	int64_t ts_sec = -1;
	char ts_text[24] = {};
	size_t ts_len = 0;

	Impl(EventSink &s, Output *o, const policy::Policy &p, SinkOptions op)
	    : self(s), out(o), policy(p), opts(std::move(op)),
	      boot_to_epoch_ns(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME))
	{
		if (opts.host_name.empty()) {
			char h[HOST_NAME_MAX + 1] = {};
			if (gethostname(h, sizeof(h) - 1) == 0)
				opts.host_name = h;
		}
		constant = ",\"ecs\":{\"version\":\"" + std::string(kEcsVersion) + "\"},\"host\":{\"name\":";
		append_json_string(constant, opts.host_name);
		constant += "}";
		JsonWriter l;
		layer_array(l, opts.layers_active);
		layers_active = l.str();
		size_t n = policy.rules.size() + policy.hooks.size();
		for (size_t i = 0; i < n; i++)
			by_index.push_back(add_rule(policy::rule_id_for(policy, i), describe(policy, i)));
		for (const auto &b : policy::builtin_rules())
			builtin[b.index - BW_RULE_BUILTIN_BASE] = add_rule(b.id, b.description);
	}

	RuleInfo *add_rule(const std::string &id, const std::string &desc)
	{
		auto it = by_id.find(id);
		if (it != by_id.end())
			return it->second;
		RuleInfo &r = rules.emplace_back();
		r.id = id;
		r.slot = static_cast<uint32_t>(rules.size() - 1);
		JsonWriter j;
		j.key("rule");
		j.begin_object();
		if (!id.empty()) {
			j.key("id");
			j.string(id);
			j.key("name");
			j.string(id);
		}
		if (!desc.empty()) {
			j.key("description");
			j.string(desc);
		}
		j.key("ruleset");
		j.string(policy.name);
		j.end_object();
		r.members = j.str();
		by_id.emplace(id, &r);
		return &r;
	}

	RuleInfo *rule_at(size_t idx)
	{
		if (idx < by_index.size())
			return by_index[idx];
		if (idx >= BW_RULE_BUILTIN_BASE && idx < BW_RULE_BUILTIN_END)
			return builtin[idx - BW_RULE_BUILTIN_BASE];
		return add_rule(policy::rule_id_for(policy, idx), "");
	}

	RuleInfo *rule_named(const std::string &id)
	{
		auto it = by_id.find(id);
		return it != by_id.end() ? it->second : add_rule(id, "");
	}

	uint64_t now() const { return opts.fixed_time_ns ? opts.fixed_time_ns : clock_ns(CLOCK_REALTIME); }
	uint64_t from_boot(uint64_t boot_ns) const
	{
		return opts.fixed_time_ns ? opts.fixed_time_ns : boot_ns + boot_to_epoch_ns;
	}

	static void layer_array(JsonWriter &j, unsigned bits)
	{
		j.begin_array();
		if (bits & kLayerSeccomp)
			j.raw("\"seccomp\"");
		if (bits & kLayerLsm)
			j.raw("\"lsm\"");
		j.end_array();
	}

	void timestamp(uint64_t epoch_ns)
	{
		int64_t sec = static_cast<int64_t>(epoch_ns / 1000000000);
		if (sec != ts_sec) {
			time_t t = static_cast<time_t>(sec);
			struct tm tm {};
			gmtime_r(&t, &tm);
			ts_len = strftime(ts_text, sizeof(ts_text), "%Y-%m-%dT%H:%M:%S", &tm);
			ts_sec = sec;
		}
		char frac[12];
		frac[0] = '.';
		uint32_t ns = static_cast<uint32_t>(epoch_ns % 1000000000);
		for (int i = 9; i >= 1; i--, ns /= 10)
			frac[i] = static_cast<char>('0' + ns % 10);
		frac[10] = 'Z';
		w.append("{\"@timestamp\":\"");
		w.append(std::string_view(ts_text, ts_len));
		w.append(std::string_view(frac, 11));
		w.append("\"");
		w.append(constant);
	}

	// {"@timestamp":...,"ecs":...,"host":...,"event":{...}; the event
	// object is left open for category and type.
	void begin(uint64_t epoch_ns, const char *kind, const char *dataset, std::string_view action)
	{
		w.clear();
		timestamp(epoch_ns);
		w.mark_value();
		w.key("event");
		w.begin_object();
		w.key("kind");
		w.raw(kind);
		w.key("module");
		w.raw("\"bulwark\"");
		w.key("dataset");
		w.raw(dataset);
		w.key("action");
		w.string(action);
	}

	// ECS lets each event.category take only some event.types
	// (expected_event_types in ECS's schema; tests/unit/events_test.cc
	// checks every event against it): "denied" only suits network, so a
	// denial elsewhere is the attempted kind of activity with outcome
	// failure, and a would-be denial in audit mode is "info".
	static const char *denied_type(std::string_view cat)
	{
		if (cat == "network")
			return "[\"denied\"]";
		if (cat == "configuration" || cat == "driver" || cat == "iam")
			return "[\"change\"]";
		return "[\"access\"]"; // file, process
	}

	void outcome(bool audit, const char *cat)
	{
		w.key("category");
		w.begin_array();
		w.string(cat);
		w.end_array();
		w.key("type");
		w.raw(audit ? "[\"info\"]" : denied_type(cat));
		w.key("outcome");
		w.raw(audit ? "\"success\"" : "\"failure\"");
	}

	void process(long pid, long tid, long ppid, std::string_view comm, std::string_view exe,
		     const std::vector<std::string> *args, long uid)
	{
		w.key("process");
		w.begin_object();
		if (pid >= 0) {
			w.key("pid");
			w.sint(pid);
		}
		if (tid >= 0) {
			w.key("thread");
			w.begin_object();
			w.key("id");
			w.sint(tid);
			w.end_object();
		}
		if (ppid >= 0) {
			w.key("parent");
			w.begin_object();
			w.key("pid");
			w.sint(ppid);
			w.end_object();
		}
		w.key("name");
		w.string(comm);
		w.key("executable");
		w.string(exe);
		if (args && !args->empty()) {
			w.key("args");
			w.begin_array();
			for (const auto &a : *args)
				w.string(a);
			w.end_array();
			w.key("args_count");
			w.uint(args->size());
		}
		w.end_object();
		if (uid >= 0) {
			// ECS keeps ids as strings.
			char b[24];
			auto r = std::to_chars(b, b + sizeof(b), uid);
			w.key("user");
			w.begin_object();
			w.key("id");
			w.string(std::string_view(b, static_cast<size_t>(r.ptr - b)));
			w.end_object();
		}
	}

	// The ECS side of an LSM record: file.path, destination / source.
	void lsm_ecs(const bw_event &e, const policy::HookInfo &h)
	{
		if (h.target == policy::HookTargetPath && e.target[0]) {
			w.key("file");
			w.begin_object();
			w.key("path");
			w.string_n(e.target, sizeof(e.target));
			w.end_object();
		} else if (policy::has_address(h)) {
			char ip[INET6_ADDRSTRLEN] = "";
			inet_ntop(e.family == AF_INET6 ? AF_INET6 : AF_INET, e.addr, ip, sizeof(ip));
			if (h.target == policy::HookTargetSource)
				w.key("source");
			else
				w.key("destination");
			w.begin_object();
			w.key("ip");
			w.string(ip);
			w.key("port");
			w.uint(e.port);
			w.end_object();
			w.key("network");
			w.begin_object();
			w.key("type");
			w.raw(e.family == AF_INET6 ? "\"ipv6\"" : "\"ipv4\"");
			w.end_object();
		}
	}

	// bulwark.hook, access, target and the hook's own details.
	void lsm_details(const bw_event &e, const policy::HookInfo &h)
	{
		w.key("hook");
		w.string(h.name);
		if (e.access) {
			w.key("access");
			w.begin_array();
			if (e.access & BW_ACC_READ)
				w.raw("\"read\"");
			if (e.access & BW_ACC_WRITE)
				w.raw("\"write\"");
			if (e.access & BW_ACC_EXEC)
				w.raw("\"exec\"");
			w.end_array();
		}
		// What file.path, destination or source already say is not
		// repeated; the target of a mount, a module name... have no ECS
		// field of their own.
		if (h.target == policy::HookTargetName && e.target[0]) {
			w.key("target");
			w.string_n(e.target, sizeof(e.target));
		}
		switch (h.detail) {
		case policy::HookDetailMountFlags:
			w.key("mount_flags");
			w.uint(e.flags);
			break;
		case policy::HookDetailSocket:
			w.key("socket");
			w.begin_object();
			w.key("family");
			w.uint(e.family);
			w.key("type");
			w.uint(e.type & 0xf);
			w.end_object();
			break;
		case policy::HookDetailArg:
			w.key("arg");
			w.uint(e.flags);
			break;
		case policy::HookDetailNone:
			break;
		}
	}

	const std::string &syscall_name(uint32_t arch, int nr)
	{
		uint64_t k = static_cast<uint64_t>(arch) << 32 | static_cast<uint32_t>(nr);
		auto it = syscall_names.find(k);
		if (it == syscall_names.end())
			it = syscall_names.emplace(k, seccomp::syscall_name(arch, nr)).first;
		return it->second;
	}

	void syscall(uint32_t arch, int nr, const __u64 *args, const std::string &name)
	{
		w.key("syscall");
		w.begin_object();
		w.key("name");
		w.string(name);
		w.key("nr");
		w.sint(nr);
		w.key("arch");
		w.string(arch == AUDIT_ARCH_X86_64 && (nr & 0x40000000) ? "x32" : seccomp::arch_name(arch));
		w.key("args");
		w.begin_array();
		for (int i = 0; i < 6; i++)
			w.hex_string(args[i]);
		w.end_array();
		w.end_object();
	}

	void verdict(const char *layer, const char *action, bool audit, int err)
	{
		w.key("layer");
		w.raw(layer);
		w.key("action");
		w.raw(action);
		w.key("mode");
		w.raw(audit ? "\"audit\"" : "\"enforce\"");
		w.key("errno");
		w.sint(err);
		if (err) {
			w.key("errno_name");
			w.string(errno_name(err));
		}
		w.key("policy");
		w.string(policy.name);
	}

	void layers(unsigned denied_by, unsigned evaluated_by)
	{
		w.key("layers_active");
		w.raw(layers_active);
		w.key("denied_by");
		layer_array(w, denied_by);
		w.key("evaluated_by");
		layer_array(w, evaluated_by);
	}

	void count_denial(RuleInfo &r, unsigned denied_by, bool audit)
	{
		if (denied_by & kLayerLsm)
			r.denials[1][audit]++;
		if (denied_by & kLayerSeccomp)
			r.denials[0][audit]++;
	}

	// Rate limiting. True: write the event. False: counted into its
	// window's summary instead.
	bool admit(RuleInfo &r, uint32_t pid, uint64_t t, std::string_view comm, std::string_view exe)
	{
		if (!opts.rate_limit)
			return true;
		uint64_t k = static_cast<uint64_t>(r.slot) << 32 | pid;
		auto [it, fresh] = windows.try_emplace(k);
		Window &win = it->second;
		if (fresh) {
			win.rule = &r;
			win.pid = pid;
			win.start = t;
			oldest_window = std::min(oldest_window, t);
		} else if (t >= win.start + 1000000000ull || t < win.start) {
			// The window closed without flush_summaries() seeing it.
			summary(win, t);
			win.start = t;
			win.n = 0;
			win.suppressed = 0;
			win.comm.clear();
			win.exe.clear();
			oldest_window = std::min(oldest_window, t);
		}
		if (win.n < opts.rate_limit) {
			win.n++;
			return true;
		}
		if (!win.suppressed++) {
			win.comm.assign(comm);
			win.exe.assign(exe);
		}
		self.suppressed_++;
		return false;
	}

	void summary(const Window &win, uint64_t t)
	{
		if (!win.suppressed)
			return;
		begin(t, "\"event\"", "\"bulwark.events\"", "events-suppressed");
		w.key("category");
		w.raw("[\"process\"]");
		w.key("type");
		w.raw("[\"info\"]");
		w.end_object();
		w.raw(win.rule->members);
		process(win.pid, -1, -1, win.comm, win.exe, nullptr, -1);
		std::string msg = std::to_string(win.suppressed) + " more events from rule " +
				  (win.rule->id.empty() ? "(none)" : win.rule->id) + ", pid " +
				  std::to_string(win.pid) + ", not written (rate limit " +
				  std::to_string(opts.rate_limit) + "/s)";
		w.key("message");
		w.string(msg);
		w.key("bulwark");
		w.begin_object();
		w.key("policy");
		w.string(policy.name);
		w.key("suppressed");
		w.uint(win.suppressed);
		w.key("rate_limit");
		w.uint(opts.rate_limit);
		w.end_object();
		emit();
	}

	void emit()
	{
		w.end_object();
		self.count_++;
		if (out) {
			line.assign(w.view()); // keeps its capacity: no allocation
			out->line(line);
		}
	}

	void written(RuleInfo &r)
	{
		if (!r.written)
			r.written = &self.per_rule_[r.id];
		++*r.written;
	}

	// The steps every denial takes before it is formatted: counted (before
	// the rate limit), admitted by it, counted as written. False: nothing
	// to format (held back, or no output to write to).
	bool accept(RuleInfo &r, unsigned denied_by, bool audit, uint32_t pid, uint64_t t, std::string_view comm,
		    std::string_view exe)
	{
		count_denial(r, denied_by, audit);
		if (!admit(r, pid, t, comm, exe))
			return false;
		written(r);
		if (!out) {
			self.count_++;
			return false;
		}
		return true;
	}
};

EventSink::EventSink(Output *out, const policy::Policy &policy, SinkOptions opts)
    : impl_(std::make_unique<Impl>(*this, out, policy, std::move(opts)))
{
}

EventSink::~EventSink()
{
	flush_summaries(UINT64_MAX);
	flush();
}

std::string EventSink::rfc3339(uint64_t epoch_ns)
{
	time_t secs = static_cast<time_t>(epoch_ns / 1000000000);
	struct tm tm {};
	gmtime_r(&secs, &tm);
	char buf[64];
	size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%09lluZ", static_cast<unsigned long long>(epoch_ns % 1000000000));
	return buf;
}

void EventSink::lsm(const bw_event &e, unsigned denied_by, unsigned evaluated_by)
{
	Impl &m = *impl_;
	Impl::RuleInfo &r = *m.rule_at(e.rule);
	bool audit = e.verdict == BW_VERDICT_AUDIT;
	// The record exists because this layer denied (or would have).
	denied_by |= kLayerLsm;
	evaluated_by |= kLayerLsm;
	uint64_t t = m.from_boot(e.boot_ns);
	if (!m.accept(r, denied_by, audit, e.pid, t, fixed(e.comm, sizeof(e.comm)), fixed(e.exe, sizeof(e.exe))))
		return;
	JsonWriter &w = m.w;
	const policy::HookInfo &h = hook_info(e.hook);
	m.begin(t, "\"alert\"", "\"bulwark.lsm\"", h.name);
	m.outcome(audit, h.category);
	w.end_object();
	w.raw(r.members);
	m.process(e.pid, e.tid, e.ppid, fixed(e.comm, sizeof(e.comm)), fixed(e.exe, sizeof(e.exe)), nullptr, e.uid);
	m.lsm_ecs(e, h);
	w.key("bulwark");
	w.begin_object();
	m.verdict("\"lsm\"", audit ? "\"audit\"" : "\"deny\"", audit, e.err < 0 ? -e.err : 0);
	m.lsm_details(e, h);
	if (e.sc.nr >= 0)
		m.syscall(e.sc.arch, e.sc.nr, e.sc.args, m.syscall_name(e.sc.arch, e.sc.nr));
	m.layers(denied_by, evaluated_by);
	w.end_object();
	m.emit();
}

void EventSink::seccomp(const SeccompAttempt &a, const bw_event *lsm_part, unsigned denied_by, unsigned evaluated_by)
{
	if (!a.valid)
		return;
	Impl &m = *impl_;
	Impl::RuleInfo &r = a.rule_id.empty() ? *m.rule_at(a.rule) : *m.rule_named(a.rule_id);
	bool audit = a.err == 0;
	denied_by |= kLayerSeccomp;
	evaluated_by |= kLayerSeccomp;
	if (lsm_part)
		evaluated_by |= kLayerLsm;
	uint64_t t = m.opts.fixed_time_ns ? m.opts.fixed_time_ns : a.epoch_ns;
	if (!m.accept(r, denied_by, audit, static_cast<uint32_t>(a.tgid), t, a.comm, a.exe))
		return;
	JsonWriter &w = m.w;
	const seccomp_data &d = a.notif.data;
	const std::string &name = m.syscall_name(d.arch, d.nr);
	m.begin(t, "\"alert\"", "\"bulwark.seccomp\"", name);
	const policy::HookInfo &h = hook_info(lsm_part ? lsm_part->hook : 0);
	m.outcome(audit, lsm_part ? h.category : "process");
	w.end_object();
	w.raw(r.members);
	m.process(a.tgid, a.notif.pid, a.ppid, a.comm, a.exe, &a.args, a.uid);
	if (lsm_part)
		m.lsm_ecs(*lsm_part, h);
	w.key("bulwark");
	w.begin_object();
	m.verdict("\"seccomp\"", audit ? "\"audit\"" : "\"deny\"", audit, a.err);
	m.syscall(d.arch, d.nr, d.args, name);
	if (lsm_part) {
		m.lsm_details(*lsm_part, h);
		w.key("lsm");
		w.begin_object();
		bool lsm_audit = lsm_part->verdict == BW_VERDICT_AUDIT;
		w.key("action");
		w.raw(lsm_audit ? "\"audit\"" : "\"deny\"");
		w.key("errno");
		w.sint(lsm_part->err < 0 ? -lsm_part->err : 0);
		w.key("rule");
		w.string(m.rule_at(lsm_part->rule)->id);
		w.end_object();
	}
	m.layers(denied_by, evaluated_by);
	w.end_object();
	m.emit();
}

void EventSink::seccomp_kernel(const bw_event &e, const std::string &rule_id, bool audit)
{
	Impl &m = *impl_;
	Impl::RuleInfo &r = *m.rule_named(rule_id);
	bool kill = e.kind == BW_KIND_SECCOMP_KILL;
	// Refused before sys_enter: the LSM never saw this syscall.
	unsigned layers = kLayerSeccomp;
	uint64_t t = m.from_boot(e.boot_ns);
	if (!m.accept(r, layers, audit, e.pid, t, fixed(e.comm, sizeof(e.comm)), fixed(e.exe, sizeof(e.exe))))
		return;
	JsonWriter &w = m.w;
	int err = kill || e.sc.ret >= 0 ? 0 : static_cast<int>(-e.sc.ret);
	static const std::string unknown = "unknown";
	const std::string &name = e.sc.nr >= 0 ? m.syscall_name(e.sc.arch, e.sc.nr) : unknown;
	m.begin(t, "\"alert\"", "\"bulwark.seccomp\"", name);
	if (kill) {
		w.key("category");
		w.raw("[\"process\"]");
		w.key("type");
		w.raw("[\"access\",\"end\"]"); // refused, and the process ended
		w.key("outcome");
		w.raw("\"failure\"");
	} else {
		m.outcome(audit, "process");
	}
	w.end_object();
	w.raw(r.members);
	m.process(e.pid, e.tid, e.ppid, fixed(e.comm, sizeof(e.comm)), fixed(e.exe, sizeof(e.exe)), nullptr, e.uid);
	w.key("bulwark");
	w.begin_object();
	m.verdict("\"seccomp\"", kill ? "\"kill\"" : audit ? "\"audit\"" : "\"deny\"", audit, err);
	if (kill) {
		w.key("signal");
		w.raw("\"SIGSYS\"");
	}
	if (e.sc.nr >= 0)
		m.syscall(e.sc.arch, e.sc.nr, e.sc.args, name);
	m.layers(layers, layers);
	w.end_object();
	m.emit();
}

void EventSink::lost(uint64_t n)
{
	if (!n)
		return;
	Impl &m = *impl_;
	lost_total_ += n;
	if (!m.out) {
		count_++;
		return;
	}
	JsonWriter &w = m.w;
	m.begin(m.now(), "\"event\"", "\"bulwark.events\"", "events-lost");
	w.key("category");
	w.raw("[\"process\"]");
	w.key("type");
	w.raw("[\"info\"]");
	w.end_object();
	w.key("message");
	w.string(std::to_string(n) + " events lost: the kernel's ring buffer was full (rule counters stay exact)");
	w.key("bulwark");
	w.begin_object();
	w.key("policy");
	w.string(m.policy.name);
	w.key("lost");
	w.uint(n);
	w.key("lost_total");
	w.uint(lost_total_);
	w.end_object();
	m.emit();
}

void EventSink::flush_summaries(uint64_t now_ns)
{
	Impl &m = *impl_;
	bool all = now_ns == UINT64_MAX; // the destructor: every window closes
	// Nothing can have closed before the oldest window's second is over.
	if (m.windows.empty() ||
	    (!all && m.oldest_window <= UINT64_MAX - 1000000000ull && now_ns < m.oldest_window + 1000000000ull))
		return;
	uint64_t oldest = UINT64_MAX;
	uint64_t at = all ? m.now() : (m.opts.fixed_time_ns ? m.opts.fixed_time_ns : now_ns);
	for (auto it = m.windows.begin(); it != m.windows.end();) {
		Impl::Window &win = it->second;
		if (all || now_ns >= win.start + 1000000000ull) {
			// Idle windows go too, so the table only holds active pairs.
			m.summary(win, at);
			it = m.windows.erase(it);
			continue;
		}
		oldest = std::min(oldest, win.start);
		++it;
	}
	m.oldest_window = oldest;
}

void EventSink::flush()
{
	if (impl_->out)
		impl_->out->flush();
}

std::vector<RuleDenials> EventSink::denials() const
{
	std::vector<RuleDenials> r;
	for (const auto &ri : impl_->rules)
		for (int l = 0; l < 2; l++)
			for (int a = 0; a < 2; a++)
				if (ri.denials[l][a])
					r.push_back({ri.id, l ? kLayerLsm : kLayerSeccomp, a != 0, ri.denials[l][a]});
	return r;
}

} // namespace bulwark
