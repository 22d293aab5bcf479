/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every bulwark BPF object starts with: the kernel types (CO-RE), the
 * libbpf helpers, the structs shared with the loader (bulwark.h), and the
 * UAPI constants vmlinux.h cannot carry (they are macros, not types).
 */
#ifndef BW_LIB_COMMON_H
#define BW_LIB_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "bulwark.h"

#define EPERM               1
#define MAX_ERRNO           4095
#define ENOMEM              12
#define FMODE_READ          0x1
#define FMODE_WRITE         0x2
#define PROT_EXEC           0x4
#define PTRACE_MODE_ATTACH  0x02
#define AF_UNSPEC           0
#define AF_INET             2
#define SIN6_LEN_RFC2133    24
#define AF_INET6            10
#define AF_PACKET           17
#define SOCK_RAW            3
#define MAX_DEPTH           256
#define PF_EXITING          0x00000004
#define PF_KTHREAD          0x00200000
#define BPF_FS_MAGIC        0xcafe4a11
#define CGROUP2_SUPER_MAGIC 0x63677270
#define MNT_DETACH          0x00000002

#endif /* BW_LIB_COMMON_H */
