// SPDX-License-Identifier: Apache-2.0
#include "loader/lsm.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

extern "C" {
#include "bulwark.h"
}
#include "bulwark.skel.h"

namespace bulwark {

const char *hook_name(uint32_t hook)
{
	switch (hook) {
	case BW_HOOK_FILE_OPEN: return "file_open";
	case BW_HOOK_BPRM_CHECK: return "bprm_check_security";
	case BW_HOOK_SB_MOUNT: return "sb_mount";
	case BW_HOOK_MOVE_MOUNT: return "move_mount";
	case BW_HOOK_SB_UMOUNT: return "sb_umount";
	case BW_HOOK_SB_REMOUNT: return "sb_remount";
	case BW_HOOK_MMAP_EXEC: return "mmap_file";
	}
	return "unknown";
}

std::string LsmLayer::lsm_inactive_reason()
{
	const char *file = "/sys/kernel/security/lsm";
	std::ifstream in(file);
	std::string list;
	if (!in || !std::getline(in, list))
		return std::string("lsm: cannot read ") + file +
		       " (securityfs not mounted or no LSM support); BPF LSM state unknown";
	std::stringstream ss(list);
	std::string item;
	while (std::getline(ss, item, ','))
		if (item == "bpf")
			return "";
	return "lsm: BPF LSM is not active on this kernel (lsm=" + list + "); boot with lsm=" + list +
	       ",bpf (see vagrant/) or run with --layers seccomp";
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	if (getenv("BULWARK_LIBBPF_QUIET") && level == LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, args);
}

std::string LsmLayer::load_probe()
{
	std::string reason = lsm_inactive_reason();
	if (!reason.empty())
		return reason;
	libbpf_print_fn_t old = libbpf_set_print(nullptr);
	bulwark_bpf *skel = bulwark_bpf__open_and_load();
	int err = errno;
	libbpf_set_print(old);
	if (!skel)
		return std::string("lsm: loading BPF LSM programs failed: ") + std::strerror(err) +
		       " (this kernel lists bpf in its LSMs but refuses the programs)";
	bulwark_bpf__destroy(skel);
	return "";
}

LsmLayer::LsmLayer(const policy::Policy &policy, EventFn on_event) : on_event_(std::move(on_event))
{
	libbpf_set_print(quiet_print);
	std::string reason = lsm_inactive_reason();
	if (!reason.empty())
		throw Error(reason);
	skel_ = bulwark_bpf__open();
	if (!skel_)
		throw Error("lsm: failed to open BPF object", errno);
	try {
		for (size_t i = 0; i < policy.rules.size(); i++)
			if (policy.rules[i].has_word("mount") && !skel_->rodata->mount_rule_plus1)
				skel_->rodata->mount_rule_plus1 = static_cast<__u32>(i + 1);
		int err = bulwark_bpf__load(skel_);
		if (err)
			throw Error("lsm: failed to load BPF programs", -err);
		fill_maps(policy);
		rb_ = ring_buffer__new(
			bpf_map__fd(skel_->maps.events),
			[](void *ctx, void *data, size_t size) -> int {
				if (size < sizeof(bw_event))
					return 0;
				static_cast<LsmLayer *>(ctx)->on_event_(*static_cast<const bw_event *>(data));
				return 0;
			},
			this, nullptr);
		if (!rb_)
			throw Error("lsm: failed to create ring buffer reader", errno);
		attach_all();
	} catch (...) {
		if (rb_)
			ring_buffer__free(rb_);
		bulwark_bpf__destroy(skel_);
		skel_ = nullptr;
		throw;
	}
}

LsmLayer::~LsmLayer()
{
	if (rb_)
		ring_buffer__free(rb_);
	// Destroying the skeleton closes the links: every program detaches.
	if (skel_)
		bulwark_bpf__destroy(skel_);
}

void LsmLayer::attach_all()
{
	bpf_program *prog;
	bpf_object__for_each_program(prog, skel_->obj)
	{
		bpf_link *link = bpf_program__attach(prog);
		if (!link)
			throw Error(std::string("lsm: failed to attach ") + bpf_program__section_name(prog), errno);
		// Owned by the skeleton's link array so destroy() detaches it.
		for (int i = 0; i < skel_->skeleton->prog_cnt; i++)
			if (*skel_->skeleton->progs[i].prog == prog)
				*skel_->skeleton->progs[i].link = link;
	}
}

void LsmLayer::fill_maps(const policy::Policy &policy)
{
	int rules_fd = bpf_map__fd(skel_->maps.rules);
	if (policy.rules.size() > BW_MAX_RULES)
		throw Error("lsm: policy has " + std::to_string(policy.rules.size()) + " rules, the limit is " +
			    std::to_string(BW_MAX_RULES));
	for (size_t i = 0; i < policy.rules.size(); i++) {
		__u32 key = static_cast<__u32>(i);
		bw_rule val{};
		val.flags = policy.rules[i].mode == policy::Mode::Audit ? BW_RULE_AUDIT : 0;
		val.errno_value = EPERM;
		if (bpf_map_update_elem(rules_fd, &key, &val, BPF_ANY))
			throw Error("lsm: failed to fill the rules map", errno);
	}

	// Merge every rule into one record per file; the first rule naming an
	// access is the one reported for it.
	std::map<std::string, bw_file_match> paths;
	std::map<std::pair<uint32_t, uint64_t>, bw_file_match> inodes;
	auto merge = [](bw_file_match &m, unsigned access, size_t rule) {
		for (int bit = 0; bit < 3; bit++)
			if ((access & (1u << bit)) && !m.rule_plus1[bit])
				m.rule_plus1[bit] = static_cast<__u32>(rule + 1);
	};
	for (size_t i = 0; i < policy.rules.size(); i++) {
		const auto &r = policy.rules[i];
		if (r.kind != policy::RuleKind::File)
			continue;
		unsigned access = r.access & (BW_ACC_READ | BW_ACC_WRITE | BW_ACC_EXEC);
		for (const auto &p : r.paths) {
			merge(paths[p.path], access, i);
			entries_.push_back({"path:" + p.path, access, i});
			// The kernel reports resolved paths, so /bin/sh must be
			// stored as what it resolves to now (/usr/bin/dash).
			char resolved[PATH_MAX];
			if (realpath(p.path.c_str(), resolved) && p.path != resolved) {
				if (strlen(resolved) >= BW_PATH_MAX)
					throw Error("lsm: " + p.path + " resolves to a path longer than " +
						    std::to_string(BW_PATH_MAX - 1) + " bytes: " + resolved);
				merge(paths[resolved], access, i);
				entries_.push_back({std::string("path:") + resolved, access, i});
			}
			struct stat st;
			if (stat(p.path.c_str(), &st) == 0) {
				// The kernel's internal dev_t, as in inode->i_sb->s_dev.
				uint32_t kdev = (major(st.st_dev) << 20) | minor(st.st_dev);
				merge(inodes[{kdev, st.st_ino}], access, i);
				entries_.push_back({"inode:" + std::to_string(major(st.st_dev)) + ":" +
							    std::to_string(minor(st.st_dev)) + ":" +
							    std::to_string(st.st_ino),
						    access, i});
			}
		}
	}
	int paths_fd = bpf_map__fd(skel_->maps.file_paths);
	for (const auto &[path, match] : paths) {
		bw_path_key key{};
		std::memcpy(key.path, path.data(), std::min(path.size(), sizeof(key.path) - 1));
		if (bpf_map_update_elem(paths_fd, &key, &match, BPF_ANY))
			throw Error("lsm: failed to add " + path + " to the path map", errno);
	}
	int inodes_fd = bpf_map__fd(skel_->maps.file_inodes);
	for (const auto &[id, match] : inodes) {
		bw_inode_key key{};
		key.dev = id.first;
		key.ino = id.second;
		if (bpf_map_update_elem(inodes_fd, &key, &match, BPF_ANY))
			throw Error("lsm: failed to add an inode to the inode map", errno);
	}
}

void LsmLayer::confine(pid_t pid)
{
	Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
	if (!pidfd)
		throw Error("lsm: pidfd_open(" + std::to_string(pid) + ")", errno);
	bw_task val{};
	val.confined = 1;
	// Task storage is keyed by pidfd from user space.
	int key = pidfd.get();
	if (bpf_map_update_elem(bpf_map__fd(skel_->maps.tasks), &key, &val, BPF_NOEXIST))
		throw Error("lsm: failed to mark pid " + std::to_string(pid) + " as confined", errno);
}

int LsmLayer::poll_fd() const
{
	return ring_buffer__epoll_fd(rb_);
}

int LsmLayer::consume()
{
	return ring_buffer__consume(rb_);
}

uint64_t LsmLayer::dropped() const
{
	return skel_->bss->dropped_events;
}

} // namespace bulwark
