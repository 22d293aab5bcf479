/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The maps both objects use: the scope gate's (config, generations, task
 * marks, engine sandboxes) and the ring buffer. The loader loads the LSM object first and hands these maps, by
 * name, to the trace object (bpf_map__reuse_fd), so a task marked by one is
 * seen by the other and both write one ring buffer. The maps only the LSM
 * hooks read are in lib/policy.h, so a seccomp-only run does not create them.
 */
#ifndef BW_LIB_MAPS_H
#define BW_LIB_MAPS_H

#include "lib/common.h"

/* Every array and hash map has this shape; only the type, size, key, value
 * and flags differ. The order of the fields is the BTF the loader sees. */
#define BW_MAP(_name, _type, _max, _flags, _key, _value) \
	struct {                                         \
		__uint(type, _type);                     \
		__uint(max_entries, _max);               \
		__uint(map_flags, _flags);               \
		__type(key, _key);                       \
		__type(value, _value);                   \
	} _name SEC(".maps")

/* Hash maps the loader fills sparsely: no memory until an entry exists. */
#define BW_HASH(_name, _max, _key, _value) BW_MAP(_name, BPF_MAP_TYPE_HASH, _max, BPF_F_NO_PREALLOC, _key, _value)
#define BW_ARRAY(_name, _max, _value)      BW_MAP(_name, BPF_MAP_TYPE_ARRAY, _max, 0, __u32, _value)

/* Scope, active generation, the supervisor to protect: a map, not rodata,
 * so a reload or a re-adopting enforcer can change them (bulwark.h). */
BW_ARRAY(bw_config, 1, struct bw_config);

/* Per-slot settings (exec allow-list on, subtrees/globs present...). */
BW_ARRAY(gens, BW_GENS, struct bw_gen);

/* The engine's sandboxes and the active generation of each policy (slot
 * policy * BW_GENS + policy_gen[policy]); policy 0's is config.active_gen. */
BW_ARRAY(sandboxes, BW_MAX_SANDBOXES, struct bw_sandbox);
BW_ARRAY(policy_gen, BW_MAX_POLICIES, __u32);
/* Every live supervisor but config's own, by tgid: no subject of any
 * sandbox may signal, trace or weaken one. The engine adds them; the
 * kernel removes them when they exit. */
BW_HASH(supervisors, BW_MAX_SANDBOXES, __u32, __u32);
/* The engine's scopes: a cgroup or an executable -> its sandbox. */
BW_HASH(scope_keys, BW_MAX_SANDBOXES, struct bw_scope_key, __u32);

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bw_task);
} tasks SEC(".maps");

/* A task in scope whose storage could not be created (memory) still gets
 * the policy, through this stand-in: confinement never depends on an
 * allocation succeeding. */
BW_MAP(fallback_task, BPF_MAP_TYPE_PERCPU_ARRAY, 1, 0, __u32, struct bw_task);

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BW_RINGBUF_BYTES);
} events SEC(".maps");

/* Events the ring buffer could not take: the loader reports them, so a
 * flood cannot silently hide denials. One counter per object (its .bss);
 * the loader adds them up. */
__u64 dropped_events = 0;

#endif /* BW_LIB_MAPS_H */
