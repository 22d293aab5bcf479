// SPDX-License-Identifier: Apache-2.0
//
// Events per second from the kernel to a JSON file, with loss, at increasing
// generation rates, and the loader's CPU cost per event.
//
// A tracepoint program (bench/events_gen.bpf.c) writes LSM denial records
// (struct bw_event, kind BW_KIND_LSM: a file_open of a 32-byte path) into a
// ring buffer of BW_RINGBUF_BYTES, `batch` records per getppid() call of the
// generator thread, and counts what the full buffer refused. The consumer
// thread is the loader's path: libbpf ring_buffer__poll, then
// EventSink::lsm() writing ECS JSON lines through open_outputs(). BPF-LSM
// programs cannot load on the development hosts; only the record's producer
// differs, the buffer and everything after it are the loader's.
//
// Runs, each `--seconds` long, repeated `--reps` times (interleaved):
//   decode-only     max rate, the callback reads the record's fields but
//                   formats nothing: the ring buffer's own cost (baseline)
//   json>/dev/null  max rate, EventSink formatting, output to /dev/null
//   json>file       at each --rates value, then max: the full path
// For each: generated, delivered, lost (the BPF drop count; checked to equal
// generated - delivered, the sequence gaps, and for files the lines in the
// file), the consumer thread's CPU time per delivered event, and its share
// of one core. Timing is reported, never asserted; the exit status is 1 only
// when the accounting does not add up.
//
//   bulwark-bench-events [--seconds S] [--reps N] [--batch K]
//                        [--rates 100000,250000,...,max] [--out FILE]
//                        [--gen-cpu N] [--consumer-cpu N] [--no-pin] [--keep]
//                        [--ringbuf-kib N] [--fifo]   (what-ifs, see usage)
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/types.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <bpf/libbpf.h>

extern "C" {
#include "bulwark.h"
}
#include "events_gen.skel.h"
#include "loader/sinks/ecs.h"
#include "loader/sinks/output.h"
#include "policy/policy.h"

using namespace bulwark;

namespace {

constexpr const char *kPolicy = "name: bench\n"
				"rules:\n"
				"  - id: no-credentials\n"
				"    deny: read\n"
				"    paths: [/srv/app/config/credentials.yaml]\n";
constexpr const char *kTarget = "/srv/app/config/credentials.yaml";
constexpr const char *kExe = "/usr/local/bin/app-server";

struct Args {
	double seconds = 2.0;
	int reps = 3;
	unsigned batch = 16;
	std::vector<long> rates{100000, 250000, 500000, 1000000, 2000000, 0}; // 0: max
	std::string out = "/var/tmp/bulwark-bench-events.json";
	int gen_cpu = 0;
	int consumer_cpu = 1;
	bool pin = true;
	bool keep = false;
	unsigned ringbuf_kib = BW_RINGBUF_BYTES / 1024;
	bool fifo = false;
};

[[noreturn]] void usage(const char *msg)
{
	std::fprintf(stderr,
		     "%s\nusage: bulwark-bench-events [--seconds S] [--reps N] [--batch K] "
		     "[--rates R,R,...|max] [--out FILE] [--gen-cpu N] [--consumer-cpu N] [--no-pin] [--keep]\n"
		     "       [--ringbuf-kib N]   (what-if: another ring buffer size than bulwark's BW_RINGBUF_BYTES)\n"
		     "       [--fifo]            (what-if: the consumer thread SCHED_FIFO, ahead of other work on its "
		     "CPU)\n",
		     msg);
	std::exit(2);
}

Args parse_args(int argc, char **argv)
{
	Args a;
	for (int i = 1; i < argc; i++) {
		std::string k = argv[i];
		auto val = [&]() -> std::string {
			if (i + 1 >= argc)
				usage(("missing value for " + k).c_str());
			return argv[++i];
		};
		if (k == "--seconds") {
			a.seconds = std::atof(val().c_str());
		} else if (k == "--reps") {
			a.reps = std::atoi(val().c_str());
		} else if (k == "--batch") {
			a.batch = static_cast<unsigned>(std::atoi(val().c_str()));
		} else if (k == "--rates") {
			a.rates.clear();
			std::string s = val();
			size_t pos = 0;
			while (pos <= s.size()) {
				size_t comma = s.find(',', pos);
				std::string r =
					s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
				a.rates.push_back(r == "max" ? 0 : std::atol(r.c_str()));
				if (comma == std::string::npos)
					break;
				pos = comma + 1;
			}
		} else if (k == "--out") {
			a.out = val();
		} else if (k == "--gen-cpu") {
			a.gen_cpu = std::atoi(val().c_str());
		} else if (k == "--consumer-cpu") {
			a.consumer_cpu = std::atoi(val().c_str());
		} else if (k == "--no-pin") {
			a.pin = false;
		} else if (k == "--ringbuf-kib") {
			a.ringbuf_kib = static_cast<unsigned>(std::atoi(val().c_str()));
		} else if (k == "--fifo") {
			a.fifo = true;
		} else if (k == "--keep") {
			a.keep = true;
		} else {
			usage(("unknown argument " + k).c_str());
		}
	}
	if (a.ringbuf_kib < 4 || (a.ringbuf_kib & (a.ringbuf_kib - 1)))
		usage("--ringbuf-kib: a power of two, at least 4");
	if (a.seconds <= 0 || a.reps < 1 || a.batch < 1 || a.batch > 4096 || a.rates.empty())
		usage("bad argument value");
	for (long r : a.rates)
		if (r < 0)
			usage("bad rate");
	return a;
}

uint64_t now_ns(clockid_t clk = CLOCK_MONOTONIC)
{
	timespec ts;
	clock_gettime(clk, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void pin_to(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		std::fprintf(stderr, "warning: cannot pin to CPU %d: %s\n", cpu, std::strerror(errno));
}

enum class Mode { Decode, JsonNull, JsonFile };

const char *mode_name(Mode m)
{
	switch (m) {
	case Mode::Decode:
		return "decode-only";
	case Mode::JsonNull:
		return "json>/dev/null";
	case Mode::JsonFile:
		return "json>file";
	}
	return "?";
}

// Everything the consumer thread touches per record. Only the consumer
// writes it while a run is going; the main thread reads it once the run has
// drained (delivered is the handshake).
struct Consumer {
	EventSink *sink = nullptr; // null: decode-only
	std::atomic<uint64_t> delivered{0};
	uint64_t next_seq = 0;
	uint64_t gaps = 0;    // records missing between two delivered ones
	uint64_t reorder = 0; // a sequence number at or below one already seen
	uint64_t sink_ = 0;   // decode-only: keeps the reads from being optimised away
	std::atomic<bool> stop{false};
	// Between runs the main thread hands over the next sink: it stores it
	// in `next` and sets `swap`; the consumer takes it at the top of its
	// next poll-loop iteration and clears `swap`. The consumer alone ever
	// touches `sink`.
	std::atomic<EventSink *> next{nullptr};
	std::atomic<bool> swap{false};

	void hand_over(EventSink *s)
	{
		next.store(s, std::memory_order_relaxed);
		swap.store(true, std::memory_order_release);
		while (swap.load(std::memory_order_acquire))
			std::this_thread::sleep_for(std::chrono::microseconds(100));
	}
};

int on_record(void *ctx, void *data, size_t size)
{
	auto *c = static_cast<Consumer *>(ctx);
	if (size < sizeof(bw_event))
		return 0;
	const auto &e = *static_cast<const bw_event *>(data);
	uint64_t seq;
	std::memcpy(&seq, e.addr, sizeof(seq));
	if (seq < c->next_seq)
		c->reorder++;
	else
		c->gaps += seq - c->next_seq;
	c->next_seq = seq + 1;
	if (c->sink) {
		c->sink->lsm(e, kLayerLsm, kLayerLsm);
	} else {
		// What any consumer must do before formatting: find the strings'
		// ends and read the scalar fields.
		c->sink_ += e.boot_ns + e.pid + e.tid + e.ppid + e.uid + e.rule + e.hook + e.access +
			    strnlen(e.target, sizeof(e.target)) + strnlen(e.exe, sizeof(e.exe)) +
			    strnlen(e.comm, sizeof(e.comm));
	}
	// Single writer: a plain store, no locked add.
	c->delivered.store(c->delivered.load(std::memory_order_relaxed) + 1, std::memory_order_release);
	return 0;
}

struct Sample {
	uint64_t generated = 0, delivered = 0, lost = 0, gaps = 0, reorder = 0;
	int64_t lines = -1; // -1: not counted (not a file)
	double gen_s = 0;   // the generator's active time
	double wall_s = 0;  // start to fully drained
	double cpu_ns = 0;  // the consumer thread's CPU time
	long preempted = 0; // the consumer's involuntary context switches: other work on its CPU
	bool drained = true;

	bool ok() const
	{
		return drained && generated - delivered == lost && gaps == lost && reorder == 0 &&
		       (lines < 0 || static_cast<uint64_t>(lines) == delivered);
	}
	double ns_per_event() const { return delivered ? cpu_ns / static_cast<double>(delivered) : 0; }
};

// nonvoluntary_ctxt_switches of one of our threads.
long involuntary_switches(pid_t tid)
{
	char path[64];
	std::snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	std::FILE *f = std::fopen(path, "re");
	if (!f)
		return 0;
	char line[256];
	long n = 0;
	while (std::fgets(line, sizeof(line), f))
		if (std::sscanf(line, "nonvoluntary_ctxt_switches: %ld", &n) == 1)
			break;
	std::fclose(f);
	return n;
}

int64_t count_lines(const std::string &path)
{
	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -2;
	static std::vector<char> buf(1 << 20);
	int64_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf.data(), buf.size());
		if (r <= 0)
			break;
		const char *p = buf.data(), *end = p + r;
		while ((p = static_cast<const char *>(std::memchr(p, '\n', static_cast<size_t>(end - p))))) {
			n++;
			p++;
		}
	}
	close(fd);
	return n;
}

class Bench {
public:
	Bench(const Args &a, const policy::Policy &pol) : a_(a), pol_(pol) {}
	~Bench()
	{
		if (consumer_.joinable()) {
			c_.stop = true;
			consumer_.join();
		}
		if (rb_)
			ring_buffer__free(rb_);
		// Destroying the skeleton closes the link: the program detaches.
		if (skel_)
			events_gen_bpf__destroy(skel_);
	}

	void setup()
	{
		skel_ = events_gen_bpf__open();
		if (!skel_)
			throw std::runtime_error(std::string("open BPF object: ") + std::strerror(errno));
		// This (the main) thread is the generator.
		skel_->rodata->gen_id = (static_cast<uint64_t>(getpid()) << 32) | static_cast<uint32_t>(gettid());
		if (int err = bpf_map__set_max_entries(skel_->maps.events, a_.ringbuf_kib * 1024))
			throw std::runtime_error(std::string("ring buffer size: ") + std::strerror(-err));
		if (int err = events_gen_bpf__load(skel_))
			throw std::runtime_error(std::string("load BPF object: ") + std::strerror(-err));

		bw_event &t = skel_->bss->tmpl;
		std::memset(&t, 0, sizeof(t));
		t.kind = BW_KIND_LSM;
		t.hook = BW_HOOK_FILE_OPEN;
		t.verdict = BW_VERDICT_DENY;
		t.err = -EPERM;
		t.rule = 0;
		t.ppid = static_cast<uint32_t>(getppid());
		t.access = BW_ACC_READ;
		std::strncpy(t.target, kTarget, sizeof(t.target) - 1);
		std::strncpy(t.exe, kExe, sizeof(t.exe) - 1);
		t.sc.arch = AUDIT_ARCH_X86_64;
		t.sc.nr = SYS_openat;
		t.sc.args[0] = static_cast<uint64_t>(AT_FDCWD);
		t.sc.args[1] = 0x7ffc2a1b3e40;
		t.sc.args[2] = O_RDONLY | O_CLOEXEC;
		skel_->bss->batch = a_.batch;

		rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), on_record, &c_, nullptr);
		if (!rb_)
			throw std::runtime_error(std::string("ring_buffer__new: ") + std::strerror(errno));
		if (int err = events_gen_bpf__attach(skel_))
			throw std::runtime_error(std::string("attach tp_btf/sys_enter: ") + std::strerror(-err));

		consumer_ = std::thread([this] {
			consumer_tid_.store(gettid());
			if (a_.pin)
				pin_to(a_.consumer_cpu);
			if (a_.fifo) {
				sched_param sp{};
				sp.sched_priority = 10;
				if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0)
					std::fprintf(stderr, "warning: SCHED_FIFO refused\n");
			}
			// The loader's poll loop: consume what is there, then hand
			// the iteration's lines to the output in one write().
			while (!c_.stop.load(std::memory_order_relaxed)) {
				if (c_.swap.load(std::memory_order_acquire)) {
					c_.sink = c_.next.load(std::memory_order_relaxed);
					c_.swap.store(false, std::memory_order_release);
				}
				ring_buffer__poll(rb_, 20);
				if (c_.sink)
					c_.sink->flush();
			}
		});
		if (pthread_getcpuclockid(consumer_.native_handle(), &consumer_clock_) != 0)
			throw std::runtime_error("pthread_getcpuclockid failed");
		while (!consumer_tid_.load())
			std::this_thread::yield();
		if (a_.pin)
			pin_to(a_.gen_cpu);
	}

	// One run: `rate` events/s (0: as fast as the generator goes) for
	// --seconds, then wait until every record not dropped has been consumed.
	Sample run(Mode mode, long rate)
	{
		std::unique_ptr<Output> out;
		std::unique_ptr<EventSink> sink;
		if (mode != Mode::Decode) {
			std::string path = mode == Mode::JsonNull ? "/dev/null" : a_.out;
			if (mode == Mode::JsonFile) {
				// Each run starts with an empty file: keeps the disk
				// use at one run's worth, and lets the lines be counted.
				int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
				if (fd < 0)
					throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
				close(fd);
			}
			out = open_outputs({path});
			SinkOptions opts;
			opts.layers_active = kLayerLsm;
			sink = std::make_unique<EventSink>(out.get(), pol_, opts);
		}
		c_.hand_over(sink.get());

		Sample s;
		uint64_t gen0 = load(&skel_->bss->generated), drop0 = load(&skel_->bss->dropped);
		uint64_t del0 = c_.delivered.load(std::memory_order_acquire);
		uint64_t gaps0 = c_.gaps, reorder0 = c_.reorder;
		uint64_t cpu0 = now_ns(consumer_clock_);
		long sw0 = involuntary_switches(consumer_tid_.load());
		uint64_t t0 = now_ns();
		uint64_t end = t0 + static_cast<uint64_t>(a_.seconds * 1e9);

		if (rate == 0) {
			while (now_ns() < end)
				for (int i = 0; i < 16; i++)
					syscall(SYS_getppid);
		} else {
			// A trigger every batch/rate seconds, paced by spinning on
			// the vDSO clock. A generator that fell behind (preempted)
			// catches up by at most 200 us worth of triggers, so a
			// hiccup here does not turn into a burst the rate never had.
			double interval = static_cast<double>(a_.batch) * 1e9 / static_cast<double>(rate);
			double next = static_cast<double>(t0);
			for (;;) {
				uint64_t now = now_ns();
				if (now >= end)
					break;
				if (static_cast<double>(now) < next)
					continue;
				syscall(SYS_getppid);
				next += interval;
				if (static_cast<double>(now) - next > 200000)
					next = static_cast<double>(now);
			}
		}
		uint64_t t1 = now_ns();
		s.generated = load(&skel_->bss->generated) - gen0;
		s.lost = load(&skel_->bss->dropped) - drop0;
		uint64_t want = s.generated - s.lost;
		uint64_t deadline = t1 + 10000000000ull;
		while (c_.delivered.load(std::memory_order_acquire) - del0 < want) {
			if (now_ns() > deadline) {
				s.drained = false;
				break;
			}
			std::this_thread::yield();
		}
		uint64_t t2 = now_ns();
		s.cpu_ns = static_cast<double>(now_ns(consumer_clock_) - cpu0);
		s.preempted = involuntary_switches(consumer_tid_.load()) - sw0;
		s.delivered = c_.delivered.load(std::memory_order_acquire) - del0;
		// Records dropped after the last delivered one are gaps too; the
		// consumer is idle now, so the next run starts its count here.
		uint64_t gen_total = load(&skel_->bss->generated);
		if (c_.next_seq < gen_total) {
			c_.gaps += gen_total - c_.next_seq;
			c_.next_seq = gen_total;
		}
		s.gaps = c_.gaps - gaps0;
		s.reorder = c_.reorder - reorder0;
		s.gen_s = static_cast<double>(t1 - t0) / 1e9;
		s.wall_s = static_cast<double>(t2 - t0) / 1e9;
		c_.hand_over(nullptr);
		sink.reset(); // whatever it buffers reaches the file here
		out.reset();
		struct stat st {};
		if (mode == Mode::JsonFile && stat(a_.out.c_str(), &st) == 0 && S_ISREG(st.st_mode))
			s.lines = count_lines(a_.out);
		return s;
	}

private:
	static uint64_t load(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
	static uint64_t load(const unsigned long long *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

	const Args &a_;
	const policy::Policy &pol_;
	events_gen_bpf *skel_ = nullptr;
	ring_buffer *rb_ = nullptr;
	Consumer c_;
	std::thread consumer_;
	clockid_t consumer_clock_{};
	std::atomic<pid_t> consumer_tid_{0};
};

double median(std::vector<double> v)
{
	if (v.empty())
		return 0;
	std::sort(v.begin(), v.end());
	size_t n = v.size();
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fmt_rate(double r)
{
	char buf[32];
	if (r >= 1e6)
		std::snprintf(buf, sizeof(buf), "%.2fM", r / 1e6);
	else
		std::snprintf(buf, sizeof(buf), "%.0fk", r / 1e3);
	return buf;
}

struct Row {
	Mode mode;
	long rate;
	std::vector<Sample> samples;
};

} // namespace

int main(int argc, char **argv)
{
	Args a = parse_args(argc, argv);
	if (std::thread::hardware_concurrency() < 2 && a.pin) {
		std::fprintf(stderr, "one CPU: not pinning\n");
		a.pin = false;
	}
	libbpf_set_print([](enum libbpf_print_level lvl, const char *fmt, va_list ap) {
		return lvl == LIBBPF_WARN ? std::vfprintf(stderr, fmt, ap) : 0;
	});
	auto parsed = policy::parse_string(kPolicy, "bench.yaml");
	if (!parsed.ok()) {
		for (const auto &d : parsed.diagnostics)
			std::fprintf(stderr, "%s\n", d.str().c_str());
		return 2;
	}

	auto loadavg = [] {
		char buf[64] = "?";
		if (std::FILE *f = std::fopen("/proc/loadavg", "re")) {
			if (!std::fgets(buf, sizeof(buf), f))
				std::strcpy(buf, "?");
			std::fclose(f);
		}
		std::string s = buf;
		return s.substr(0, s.find(' ', s.find(' ', s.find(' ') + 1) + 1));
	};
	std::string load_before = loadavg();
	std::vector<Row> rows;
	rows.push_back({Mode::Decode, 0, {}});
	rows.push_back({Mode::JsonNull, 0, {}});
	for (long r : a.rates)
		rows.push_back({Mode::JsonFile, r, {}});

	try {
		Bench b(a, *parsed.policy);
		b.setup();
		// Warm-up: page cache, the sink's first allocations, CPU clocks.
		b.run(Mode::JsonFile, 0);
		for (int rep = 0; rep < a.reps; rep++)
			for (auto &row : rows)
				row.samples.push_back(b.run(row.mode, row.rate));
	} catch (const std::exception &ex) {
		std::fprintf(stderr, "bulwark-bench-events: %s\n", ex.what());
		return 2;
	}
	if (!a.keep)
		unlink(a.out.c_str());
	std::string load_after = loadavg();

	struct statfs fs {};
	std::string fs_type = "?";
	if (statfs(a.keep ? a.out.c_str() : "/var/tmp", &fs) == 0)
		fs_type = fs.f_type == 0xEF53       ? "ext4"
			  : fs.f_type == 0x01021994 ? "tmpfs"
			  : fs.f_type == 0x58465342 ? "xfs"
						    : "other";
	size_t rec = (sizeof(bw_event) + 8 + 7) / 8 * 8; // + the ring buffer's record header
	std::printf("events bench: struct bw_event %zu B, ring buffer %u KiB%s (%zu records), %u records per trigger,\n"
		    "%.1f s per run, %d reps (median shown), generator on CPU %d, consumer on CPU %s%s, file %s (%s)\n",
		    sizeof(bw_event), a.ringbuf_kib,
		    a.ringbuf_kib * 1024 == BW_RINGBUF_BYTES ? " = BW_RINGBUF_BYTES"
							     : " (NOT bulwark's BW_RINGBUF_BYTES)",
		    static_cast<size_t>(a.ringbuf_kib) * 1024 / rec, a.batch, a.seconds, a.reps, a.pin ? a.gen_cpu : -1,
		    a.pin ? std::to_string(a.consumer_cpu).c_str() : "any", a.fifo ? " (SCHED_FIFO)" : "",
		    a.out.c_str(), fs_type.c_str());
	std::printf("load average (1/5/15 min) before: %s, after: %s, on %u CPUs: other work shares them\n\n",
		    load_before.c_str(), load_after.c_str(), std::thread::hardware_concurrency());
	std::printf("%-15s %7s %9s %9s %11s %7s %9s %9s %8s %10s %s\n", "mode", "target", "generated", "delivered",
		    "lost", "loss", "ns/event", "consumer", "max/core", "preempted", "accounting");
	std::printf("%-15s %7s %9s %9s %11s %7s %9s %9s %8s %10s\n", "", "/s", "/s", "/s", "(per rep)", "", "(CPU)",
		    "CPU", "/s", "(per rep)");
	bool all_ok = true;
	double decode_ns = 0, null_ns = 0, file_max_ns = 0;
	for (const auto &row : rows) {
		std::vector<double> gen, del, ns, util, loss;
		std::string lost, pre;
		bool ok = true;
		for (const auto &s : row.samples) {
			gen.push_back(static_cast<double>(s.generated) / s.gen_s);
			del.push_back(static_cast<double>(s.delivered) / s.wall_s);
			ns.push_back(s.ns_per_event());
			util.push_back(s.cpu_ns / (s.wall_s * 1e9));
			loss.push_back(s.generated ? static_cast<double>(s.lost) / static_cast<double>(s.generated)
						   : 0);
			lost += (lost.empty() ? "" : ",") + std::to_string(s.lost);
			pre += (pre.empty() ? "" : ",") + std::to_string(s.preempted);
			ok = ok && s.ok();
		}
		all_ok = all_ok && ok;
		double m_ns = median(ns);
		if (row.mode == Mode::Decode)
			decode_ns = m_ns;
		else if (row.mode == Mode::JsonNull)
			null_ns = m_ns;
		else if (row.rate == 0)
			file_max_ns = m_ns;
		std::printf("%-15s %7s %9s %9s %11s %6.2f%% %9.0f %8.0f%% %8s %10s %s\n", mode_name(row.mode),
			    row.rate ? fmt_rate(static_cast<double>(row.rate)).c_str() : "max",
			    fmt_rate(median(gen)).c_str(), fmt_rate(median(del)).c_str(), lost.c_str(),
			    100 * median(loss), m_ns, 100 * median(util), m_ns > 0 ? fmt_rate(1e9 / m_ns).c_str() : "-",
			    pre.c_str(), ok ? "exact" : "MISMATCH");
		if (!ok)
			for (const auto &s : row.samples)
				std::printf("    generated %llu delivered %llu lost %llu gaps %llu reordered %llu "
					    "lines %lld%s\n",
					    (unsigned long long)s.generated, (unsigned long long)s.delivered,
					    (unsigned long long)s.lost, (unsigned long long)s.gaps,
					    (unsigned long long)s.reorder, (long long)s.lines,
					    s.drained ? "" : " (not drained in 10 s)");
	}
	std::printf("\nconsumer CPU per event at max rate, vs decode-only (same run): json>/dev/null %.2fx, "
		    "json>file %.2fx; file vs /dev/null %.2fx\n",
		    decode_ns > 0 ? null_ns / decode_ns : 0, decode_ns > 0 ? file_max_ns / decode_ns : 0,
		    null_ns > 0 ? file_max_ns / null_ns : 0);
	std::printf("ns/event: the consumer thread's CPU time (ring_buffer__poll, decode, format, write) per "
		    "delivered event;\nconsumer CPU: its share of one core over the run; max/core: 1e9 / ns/event;\n"
		    "preempted: the consumer's involuntary context switches (other work on its CPU: a shared host).\n"
		    "accounting: generated - delivered == lost == sequence gaps, and file lines == delivered.\n");
	return all_ok ? 0 : 1;
}
