// SPDX-License-Identifier: Apache-2.0
// What the parts of the BPF-LSM layer share inside loader/kernel/: the two
// BPF objects (LSM programs; syscall tracepoints), program selection, and
// the map helpers. Not for the rest of the loader: use lsm.h.
#pragma once

#include <bpf/libbpf.h>

#include <cstdarg>
#include <string>
#include <vector>

#include "loader/kernel/lsm.h"

namespace bulwark {

// Hooks whose prototype changed after 6.1 have one program per prototype;
// `ret` sits after the last argument, so the wrong one would read garbage.
struct Variant {
	const char *hook;
	const char *prog;
	int arity;
};
inline constexpr Variant kVariants[] = {
	{"bpf", "bw_bpf", 3},
	{"bpf", "bw_bpf_v4", 4},
	{"perf_event_open", "bw_perf", 2},
	{"perf_event_open", "bw_perf_v1", 1},
};

// The LSM hook a program attaches to ("" for anything else).
std::string prog_hook(const bpf_program *prog);
// Sets autoload on every program of the LSM object: the variant matching
// this kernel, and only what the policy needs. Throws when a needed hook
// has no program for this kernel's prototype.
void select_programs(bpf_object *obj, const LsmNeeds &needs);

// Opens the objects quietly (nullptr and errno set on failure); the
// skeleton's own destroy() frees them through SkelDeleter.
LsmSkel open_lsm_object(bool quiet);
TraceSkel open_trace_object();
// Gives `to`, before its load, every map of the loaded `from` with the
// same name (the ring buffer, task marks, config...): one set of maps.
void share_maps(bpf_object *from, bpf_object *to);
// Attaches every program set to load; each link is owned by the skeleton
// (destroy() detaches it) and, with pin_dir, pinned as link_<program>.
// Returns how many; the pins made are appended to pins.
int attach_programs(const bpf_object_skeleton *s, const std::string &pin_dir, std::vector<std::string> &pins);
// Pins every map of obj under pin_dir, the config map last.
void pin_maps(bpf_object *obj, const std::string &pin_dir, std::vector<std::string> &pins);

// Map fds by map name; slots already set are kept, so a second object
// only fills what the first lacks.
void add_maps(LsmMaps &m, bpf_object *obj);
int *map_slot(LsmMaps &m, const std::string &name);
void update(int fd, const void *key, const void *val, const std::string &what);

int quiet_print(enum libbpf_print_level level, const char *fmt, va_list args);

} // namespace bulwark
