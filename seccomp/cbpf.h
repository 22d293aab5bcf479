// SPDX-License-Identifier: Apache-2.0
//
// A classic-BPF interpreter for seccomp programs. It lets the loader and
// tests ask what an exported filter answers for any syscall, ABI and argument
// vector without loading it into the kernel (which could not be undone).
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bulwark::seccomp {

// The program as libseccomp's seccomp_export_bpf writes it.
std::vector<sock_filter> read_bpf(int fd);

// Runs `prog` over `data` the way the kernel's seccomp does and returns the
// filter's SECCOMP_RET_* value. Throws std::runtime_error for a program the
// kernel would refuse (bad load, out-of-range jump, falling off the end).
uint32_t run_cbpf(const std::vector<sock_filter> &prog, const seccomp_data &data);

// "allow", "errno(38)", "kill-process", ... for failure messages.
std::string describe_ret(uint32_t ret);

// Filters stacked by successive seccomp(2) calls: the kernel runs every one
// and returns the most restrictive action (lowest, compared as signed).
using FilterStack = std::vector<std::vector<sock_filter>>;
uint32_t run_cbpf(const FilterStack &stack, const seccomp_data &data);

} // namespace bulwark::seccomp
