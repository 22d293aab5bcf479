// SPDX-License-Identifier: Apache-2.0
// LsmLayer: loads the LSM object and the trace object (as asked), fills
// and attaches them or re-adopts a pinned set, and reads the ring buffer.
#include "loader/kernel/lsm.h"
#include "loader/kernel/objects.h"
#include "loader/kernel/probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

extern "C" {
#include "bulwark.h"
}
#include "bulwark.skel.h"
#include "bulwark_trace.skel.h"

namespace bulwark {

std::string LsmLayer::lsm_inactive_reason()
{
	return lsm_kernel_reason();
}

namespace {

std::string load_failed(int err)
{
	return std::string("lsm: loading BPF LSM programs failed: ") + std::strerror(err) +
	       " (this kernel lists bpf in its LSMs but refuses the programs)";
}

// Loads every LSM program once, to see whether this kernel takes them.
std::string try_load()
{
	LsmSkel skel(bulwark_bpf__open());
	if (!skel)
		return load_failed(errno);
	LsmNeeds all;
	all.all = true;
	try {
		select_programs(skel->obj, all);
	} catch (const Error &e) {
		return e.what();
	}
	int err = -bulwark_bpf__load(skel.get());
	return err ? load_failed(err) : "";
}

void set_ring_size(bpf_map *events, uint32_t bytes)
{
	if (bytes && bpf_map__set_max_entries(events, bytes))
		throw Error("lsm: ring buffer size " + std::to_string(bytes) +
				    " refused (a power of two, at least a page)",
			    errno);
}

// The arrays indexed by slot hold one policy as compiled; an engine's hold
// every policy it may run. Hash maps are shared by all slots as they are
// (their keys carry the slot), so their memory follows what is in them.
void scale_for_policies(bulwark_bpf *skel, uint32_t policies)
{
	if (policies <= 1)
		return;
	if (policies > BW_MAX_POLICIES)
		throw Error("engine: at most " + std::to_string(BW_MAX_POLICIES - 1) + " policies");
	for (bpf_map *m : {skel->maps.rules, skel->maps.word_rules, skel->maps.family_rules, skel->maps.file_globs,
			   skel->maps.gens, skel->maps.rule_hits})
		if (bpf_map__set_max_entries(m, bpf_map__max_entries(m) * policies))
			throw Error(std::string("engine: failed to size map ") + bpf_map__name(m), errno);
}

bw_config initial_config(const LsmEnforce *enforce)
{
	bw_config cfg{};
	cfg.magic = BW_MAGIC;
	cfg.version = BW_LAYOUT_VERSION;
	cfg.active_gen = 0;
	cfg.supervisor_tgid = static_cast<__u32>(getpid());
	if (enforce) {
		cfg.scope = enforce->scope.kind;
		cfg.protect = 1;
		cfg.cgroup_id = enforce->scope.cgroup_id;
		cfg.cgroup_level = enforce->scope.cgroup_level;
		cfg.exe_dev = enforce->scope.exe_dev;
		cfg.exe_ino = enforce->scope.exe_ino;
		std::memcpy(cfg.scope_path, enforce->scope.path.data(),
			    std::min(enforce->scope.path.size(), sizeof(cfg.scope_path) - 1));
	}
	return cfg;
}

} // namespace

std::string LsmLayer::load_probe()
{
	std::string reason = lsm_inactive_reason();
	if (!reason.empty())
		return reason;
	libbpf_print_fn_t old = libbpf_set_print(nullptr);
	std::string why = try_load();
	libbpf_set_print(old);
	return why;
}

LsmLayer::LsmLayer(const policy::Policy &policy, EventFn on_event, BpfOptions opts, const LsmEnforce *enforce)
    : on_event_(std::move(on_event)), opts_(opts), plan_(plan_lsm(policy))
{
	libbpf_set_print(quiet_print);
	if (opts_.lsm || enforce) {
		std::string reason = lsm_inactive_reason();
		if (!reason.empty())
			throw Error(reason);
	}
	// Enforce mode has no seccomp layer, so none of the syscall
	// tracepoints; the engine's sandboxes have one each.
	if (enforce) {
		opts_.lsm = true;
		opts_.trace = enforce->engine_policies > 0;
	}
	if (!opts_.lsm && !opts_.trace)
		throw Error("lsm: neither the LSM programs nor the syscall tracepoints were asked for");
	std::string pin_dir = enforce ? enforce->pin_dir : opts_.lsm ? opts_.pin_dir : "";
	bool created_dir = false;
	try {
		open_objects(enforce);
		load_objects();
		write_initial(enforce);
		open_ring();
		if (!pin_dir.empty()) {
			if (mkdir(pin_dir.c_str(), 0700) == 0)
				created_dir = true;
			else if (errno != EEXIST)
				throw Error("enforce: mkdir " + pin_dir, errno);
		}
		attach_and_pin(pin_dir);
		pinned_ = !pin_dir.empty();
		run_pins_ = !enforce && pinned_ ? pin_dir : "";
	} catch (...) {
		if (rb_)
			ring_buffer__free(rb_);
		rb_ = nullptr;
		trace_.reset();
		lsm_.reset();
		undo_pins(created_dir, pin_dir);
		throw;
	}
}

void LsmLayer::open_objects(const LsmEnforce *enforce)
{
	if (opts_.lsm) {
		lsm_ = open_lsm_object(false);
		if (!lsm_)
			throw Error("lsm: failed to open BPF object", errno);
		// Enforce mode attaches every LSM program, so a reload never
		// needs a re-attach: any policy's hooks are already in place.
		LsmNeeds needs = plan_.needs;
		// `run` and the engine host sandboxes; `enforce` has scopes.
		needs.supervisor_exit = !enforce || enforce->engine_policies > 0;
		if (enforce) {
			needs.all = true;
			needs.skip_hooks = enforce->skip_hooks;
			scale_for_policies(lsm_.get(), 1 + enforce->engine_policies);
		}
		select_programs(lsm_->obj, needs);
		set_ring_size(lsm_->maps.events, opts_.ringbuf_bytes);
		lsm_->rodata->dynamic_gen = enforce ? 1 : 0;
		lsm_->rodata->static_default_deny = plan_.default_deny;
		lsm_->rodata->static_have_subtrees = plan_.subtrees.empty() ? 0 : 1;
		lsm_->rodata->static_have_globs = plan_.globs.empty() ? 0 : 1;
	}
	if (opts_.trace) {
		trace_ = open_trace_object();
		if (!trace_)
			throw Error("lsm: failed to open BPF object", errno);
		set_ring_size(trace_->maps.events, opts_.ringbuf_bytes);
		// Without task_alloc, the tracepoints carry the mark on fork.
		trace_->rodata->trace_propagates = opts_.lsm ? 0 : 1;
	}
}

// The LSM object first: the trace object then takes its maps, so both
// read one config and one set of task marks, and write one ring buffer.
void LsmLayer::load_objects()
{
	if (lsm_) {
		int err = bulwark_bpf__load(lsm_.get());
		if (err)
			throw Error("lsm: failed to load BPF programs", -err);
		add_maps(maps_, lsm_->obj);
	}
	if (trace_) {
		if (lsm_)
			share_maps(lsm_->obj, trace_->obj);
		int err = bulwark_trace_bpf__load(trace_.get());
		if (err)
			throw Error("lsm: failed to load BPF programs", -err);
		add_maps(maps_, trace_->obj);
	}
}

// Generation 0 (the rule maps are the LSM object's), then the config that
// makes it live.
void LsmLayer::write_initial(const LsmEnforce *enforce)
{
	if (lsm_)
		write_generation(maps_, plan_, 0, enforce ? enforce->policy_path : "",
				 enforce ? enforce->policy_hash : 0);
	bw_config cfg = initial_config(enforce);
	// A run's tree is its sandbox 1, supervised by the run itself: if the
	// run dies, the kernel marks it gone and bw_gate() ends the tree.
	if (!enforce && lsm_) {
		cfg.role = BW_ROLE_RUN;
		__u32 id = 1;
		bw_sandbox sb{1, BW_SANDBOX_LIVE, 0, static_cast<__u32>(getpid())};
		update(maps_.sandboxes, &id, &sb, "the sandbox map");
		Fd self(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
		if (!self)
			throw Error("lsm: pidfd_open(self)", errno);
		bw_task mark{};
		mark.confined = BW_TASK_SUPERVISOR;
		mark.sandbox = 1;
		mark.epoch = 1;
		int key = self.get();
		update(maps_.tasks, &key, &mark, "the task storage (supervisor)");
	} else if (enforce) {
		cfg.role = enforce->engine_policies ? BW_ROLE_ENGINE : BW_ROLE_ENFORCER;
	}
	__u32 zero = 0;
	update(maps_.config, &zero, &cfg, "the config map");
}

void LsmLayer::attach_and_pin(const std::string &pin_dir)
{
	if (lsm_)
		attached_ += attach_programs(lsm_->skeleton, pin_dir, my_pins_);
	if (trace_)
		attached_ += attach_programs(trace_->skeleton, pin_dir, my_pins_);
	if (lsm_ && !pin_dir.empty())
		pin_maps(lsm_->obj, pin_dir, my_pins_);
}

// Nothing half-applied: a pin left behind would keep programs attached
// after a failure. Only what this run pinned: the directory may hold
// another set (the caller's lock keeps enforcers apart; this is the second
// line).
void LsmLayer::undo_pins(bool created_dir, const std::string &pin_dir)
{
	for (const auto &p : my_pins_)
		unlink(p.c_str());
	my_pins_.clear();
	if (created_dir)
		rmdir(pin_dir.c_str());
}

LsmLayer::LsmLayer(const std::string &pin_dir, EventFn on_event) : on_event_(std::move(on_event))
{
	libbpf_set_print(quiet_print);
	maps_ = LsmMaps::open_pinned(pin_dir);
	open_ring();
	pinned_ = true;
	// The new enforcer is the one confined tasks must leave alone.
	bw_config cfg = maps_.read_config();
	cfg.supervisor_tgid = static_cast<__u32>(getpid());
	__u32 zero = 0;
	update(maps_.config, &zero, &cfg, "the config map (supervisor)");
	DIR *d = opendir(pin_dir.c_str());
	if (d) {
		while (dirent *e = readdir(d))
			attached_ += std::strncmp(e->d_name, "link_", 5) == 0;
		closedir(d);
	}
	if (!attached_) {
		ring_buffer__free(rb_);
		rb_ = nullptr;
		throw Error("enforce: " + pin_dir + " holds bulwark's maps but no pinned links: nothing is attached");
	}
}

LsmLayer::LsmLayer(const std::string &pin_dir, EventFn on_event, std::unique_ptr<RecordSource> source,
		   uint32_t slot_base)
    : on_event_(std::move(on_event)), source_(std::move(source)), slot_base_(slot_base)
{
	libbpf_set_print(quiet_print);
	// No pins: a sandbox without the LSM layer (seccomp alone, or an
	// engine on a kernel that cannot load LSM programs), whose records
	// are the syscall tracepoints' kill reports.
	opts_.lsm = !pin_dir.empty();
	opts_.trace = true;
	if (!opts_.lsm)
		return;
	maps_ = LsmMaps::open_pinned(pin_dir);
	pinned_ = true;
	DIR *d = opendir(pin_dir.c_str());
	if (d) {
		while (dirent *e = readdir(d))
			attached_ += std::strncmp(e->d_name, "link_", 5) == 0;
		closedir(d);
	}
}

void LsmLayer::open_ring()
{
	rb_ = ring_buffer__new(
		maps_.events,
		[](void *ctx, void *data, size_t size) -> int {
			auto *self = static_cast<LsmLayer *>(ctx);
			if (size >= sizeof(bw_event))
				self->on_event_(*static_cast<const bw_event *>(data));
			// A negative return stops libbpf after this record; the
			// rest stay queued for the next pass.
			return ++self->consumed_ >= self->budget_ ? -E2BIG : 0;
		},
		this, nullptr);
	if (!rb_)
		throw Error("lsm: failed to create ring buffer reader", errno);
}

LsmLayer::~LsmLayer()
{
	if (rb_)
		ring_buffer__free(rb_);
	// A run's pins go with it (its tree is gone by now); the programs
	// detach when the skeleton closes their links below.
	if (!run_pins_.empty()) {
		try {
			unpin_all(run_pins_);
		} catch (const std::exception &e) {
			std::fprintf(stderr, "%s\n", e.what());
		}
	}
	// lsm_ and trace_ go next: destroying a skeleton closes its links,
	// so every program detaches, unless a pin holds it.
}

bool LsmLayer::confine(pid_t pid)
{
	if (source_)
		return source_->confine(pid);
	Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
	if (!pidfd)
		throw Error("lsm: pidfd_open(" + std::to_string(pid) + ")", errno);
	bw_task val{};
	val.confined = BW_TASK_STICKY;
	if (!run_pins_.empty()) {
		val.sandbox = 1;
		val.epoch = 1;
	}
	// Task storage is keyed by pidfd from user space.
	int key = pidfd.get();
	if (bpf_map_update_elem(maps_.tasks, &key, &val, BPF_NOEXIST)) {
		if (errno == EEXIST)
			return false;
		throw Error("lsm: failed to mark pid " + std::to_string(pid) + " as confined", errno);
	}
	return true;
}

int LsmLayer::poll_fd() const
{
	return source_ ? source_->poll_fd() : ring_buffer__epoll_fd(rb_);
}

int LsmLayer::drain()
{
	return source_ ? source_->drain(on_event_) : consume();
}

int LsmLayer::consume(size_t budget)
{
	if (source_)
		return source_->consume(on_event_, budget);
	consumed_ = 0;
	budget_ = budget ? budget : SIZE_MAX;
	int n = ring_buffer__consume(rb_);
	return n == -E2BIG ? static_cast<int>(consumed_) : n;
}

// Each object counts its own drops (its .bss).
uint64_t LsmLayer::dropped() const
{
	if (source_)
		return read_dropped(maps_.bss) + source_->lost();
	if (!lsm_ && !trace_)
		return read_dropped(maps_.bss);
	return (lsm_ ? lsm_->bss->dropped_events : 0) + (trace_ ? trace_->bss->dropped_events : 0);
}

std::map<uint32_t, std::pair<uint64_t, uint64_t>> LsmLayer::counters(size_t n) const
{
	return read_counters(maps_.rule_hits, slot_base_, n);
}

} // namespace bulwark
