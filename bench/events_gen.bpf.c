// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Event generator for bench/events_bench.cc: the ring buffer and record of
 * bpf/lib/maps.h (same map type, same BW_RINGBUF_BYTES, same struct
 * bw_event, same reserve/submit flags), fed from a tracepoint instead of an
 * LSM hook, because the development hosts refuse to load BPF-LSM programs.
 *
 * Only one thread of the machine ever produces records: the bench's
 * generator thread (gen_id, set before load), and only when it calls
 * getppid(). Every other syscall on the machine returns from the program
 * after one comparison. The program is detached when the bench exits (the
 * skeleton owns the link).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bulwark.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define NR_getppid 110 /* x86_64 */
#define MAX_BATCH  4096

/* Set by the driver before load: bpf_get_current_pid_tgid() of the one
 * thread whose getppid() calls generate records. */
const volatile __u64 gen_id = 0;

/* Set by the driver after load (BSS is mmap'd). */
__u32 batch = 0;           /* records per getppid() call */
struct bw_event tmpl = {}; /* what every record says, before the per-record fields */

/* Read by the driver: records attempted, and those the full ring buffer
 * refused (the real program's dropped_events). generated - dropped is what
 * the consumer must see, exactly. */
__u64 generated = 0;
__u64 dropped = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BW_RINGBUF_BYTES);
} events SEC(".maps");

struct loop_ctx {
	__u64 seq; /* sequence number of the first record of this batch */
	__u64 id;  /* pid_tgid */
	__u32 uid;
	__u32 emitted;
};

static long emit_one(__u32 i, void *data)
{
	struct loop_ctx *c = data;
	struct bw_event *e;
	__u64 seq = c->seq + i;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 1; /* full: the rest of the batch is dropped (see below) */
	/* What bpf/lib/rules.h's report path writes for a file_open denial: the
	 * per-call fields, comm from the task, the resolved target and exe
	 * (here copied from the template instead of d_path / task storage). */
	__builtin_memcpy(e, &tmpl, sizeof(*e));
	e->boot_ns = bpf_ktime_get_boot_ns();
	e->pid = c->id >> 32;
	e->tid = (__u32)c->id;
	e->uid = c->uid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* addr[] is unused by file hooks (and not written for them): it carries
	 * a sequence number so the driver can check for duplicates and gaps. */
	__builtin_memcpy(e->addr, &seq, sizeof(seq));
	bpf_ringbuf_submit(e, 0);
	c->emitted++;
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(gen_sys_enter, struct pt_regs *regs, long nr)
{
	struct loop_ctx c = {};
	__u32 n = batch;

	if (bpf_get_current_pid_tgid() != gen_id || nr != NR_getppid)
		return 0;
	if (n > MAX_BATCH)
		n = MAX_BATCH;
	c.seq = generated;
	c.id = gen_id;
	c.uid = (__u32)bpf_get_current_uid_gid();
	bpf_loop(n, emit_one, &c, 0);
	/* Once the buffer is full, the batch's remaining records are counted as
	 * dropped without trying: a few microseconds later it is still full, and
	 * a generator hammering the ring's positions with failed reservations
	 * would slow the consumer it is measuring (cache-line traffic) in a
	 * way no real workload does. Only the generator thread gets here, so
	 * plain updates are exact. */
	generated += n;
	dropped += n - c.emitted;
	return 0;
}
