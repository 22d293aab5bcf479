// SPDX-License-Identifier: Apache-2.0
// What the engine and its clients say to each other over the engine's
// SOCK_SEQPACKET socket: one message each, text for requests and answers,
// 'E' and a bw_event for a record. Requests may carry one fd (a pidfd).
//   client: "register\n<policy path>\n<fnv1a hex>\n<lsm|nolsm>\n<scope>"  + pidfd of itself
//           (scope: "run", or an enforcer's "cgroup:PATH" / "exe:PATH")
//   engine: "ok <sandbox> <epoch> <policy> <slot base>\n<pin dir>" | "error <why>"
//   client: "confine"                               + pidfd of the child (run)
//   engine: "ok" | "error <why>"
//   client: "policy\n<policy path>\n<fnv1a hex>"    (an enforcer's reload)
//   engine: "ok <slot base>" | "error <why>"
//   engine: "E" <struct bw_event>                   (a record of its sandbox)
//   engine: "L <n>"                                 (n of its records lost so far: its socket was full)
//   client: "bye"                                   (its tree is gone; closing)
// Internal to loader/supervise/.
#pragma once

#include <functional>
#include <string>
#include <sys/types.h>

#include "loader/kernel/fd.h"
#include "loader/kernel/lsm.h"

namespace bulwark::engine_wire {

// One message, with fd attached when >= 0. Returns 0 or -errno.
int send_msg(int sock, const std::string &msg, int fd = -1, int flags = 0);
// One message into msg (at most 64 KiB), the attached fd (if any) into fd.
// Returns its size, 0 at EOF, or -errno.
ssize_t recv_msg(int sock, std::string &msg, Fd *fd = nullptr, int flags = 0);

// Every process whose leader carries a sandbox mark: fn(pid, mark).
void for_each_subject(const LsmMaps &m, const std::function<void(pid_t, const bw_task &)> &fn);

} // namespace bulwark::engine_wire
