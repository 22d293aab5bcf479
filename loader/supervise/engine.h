// SPDX-License-Identifier: Apache-2.0
// The resident engine: one pinned program set for every `bulwark run`
// sandbox on the host, policies selected through maps, and the client side
// `run` uses to become one of its sandboxes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "loader/kernel/lsm.h"

namespace bulwark {

inline constexpr const char *kEngineSocket = "/run/bulwark/engine.sock";
inline constexpr const char *kEnginePins = "/sys/fs/bpf/bulwark-engine";
// A run without an engine pins its set at <prefix><pid> while it lives.
inline constexpr const char *kRunPinsPrefix = "bulwark-run-";

struct EngineOptions {
	std::string socket = kEngineSocket;
	std::string pin_dir = kEnginePins;
	uint32_t max_policies = 64;
	bool verbose = false;
};

// Serves until SIGTERM/SIGINT; then every sandbox still running is killed
// and the pins are removed. Exit status 0, or 1 when it cannot start.
int run_engine(const EngineOptions &opts);

// How `run` reaches an engine: "auto" (the default socket, if an engine
// answers there), "off", or a socket path (which must answer).
struct EngineChoice {
	std::string mode = "auto";
};

// Registers the policy at policy_path (its text hashing to policy_hash) as
// a new sandbox of the engine and returns the layer that stands for it, or
// null when mode is "auto" and no engine answers (`run` then loads its own
// programs). Throws Error when an engine was asked for and refuses.
// want_lsm false: the sandbox has no LSM policy (run --layers seccomp);
// only the engine's tracepoints report its kills.
// scope: "run" (a `bulwark run` tree, marked through confine()) or an
// `enforce` scope ("cgroup:PATH", "exe:PATH") the engine then confines.
std::unique_ptr<LsmLayer> connect_engine(const EngineChoice &choice, const std::string &policy_path,
					 uint64_t policy_hash, bool want_lsm, LsmLayer::EventFn on_event,
					 std::string *said, const std::string &scope = "run");

// The engine's part of `bulwark status`: its policies, sandboxes, subjects
// and hits, read from its pins.
struct EngineStatus;
// Clears what killed runs left pinned (their subjects killed first).
void clear_dead_runs();
std::string engine_status_json(const std::string &dir);
void print_engine_status(const std::string &json);

} // namespace bulwark
