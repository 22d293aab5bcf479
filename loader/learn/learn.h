// SPDX-License-Identifier: Apache-2.0
//
// Learn mode: a workload runs under an observe-everything audit policy (no
// layer blocks anything), its event stream becomes a Record of facts with
// their evidence, and the Record becomes one policy for both layers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::learn {

// How often something was seen, when, and by which executable first.
struct Evidence {
	uint64_t count = 0;
	std::string first, last; // RFC 3339 UTC, as events carry them (sortable)
	std::string process;

	void see(const std::string &ts, const std::string &proc, uint64_t n = 1);
	void add(const Evidence &o);
};

// Facts are one line each, so a merge is a union:
//   syscall ARCH NAME          arg ARCH NAME INDEX VALUE (hex)
//   read PATH   write PATH   exec PATH
//   word WORD   family NAME   connect IP PORT   bind IP PORT
struct Record {
	std::map<std::string, Evidence> facts;
	uint64_t runs = 0, events = 0, lost = 0;
	bool lsm = false;    // the LSM layer observed (files, exec, network)
	bool seccomp = true; // the seccomp layer observed (not under an enforce scope)
	std::string scope;   // where it was learned, as enforce takes it ("" = run)
	std::vector<std::string> commands;

	void merge(const Record &o);
	size_t count_prefix(const std::string &prefix) const;
};

// The words a learned policy denies when the workload never used them.
const std::vector<std::string> &surface_words();

// The observe policy: audit mode, every syscall reported (default: log), and
// with the LSM layer every file, exec, socket, connect and bind, and every
// kernel-surface word. `roots` are the subtrees to watch (the host's
// top-level directories: a policy may not name "/**").
// Without the LSM layer only what seccomp can see is asked for; without
// seccomp (an enforce scope) only what the LSM layer can.
std::string observe_policy(const std::vector<std::string> &roots, const std::vector<std::string> &files, bool lsm,
			   bool seccomp = true);

// The top-level directories and files of `/` for observe_policy().
void host_roots(std::vector<std::string> &dirs, std::vector<std::string> &files);

// One ECS JSON line of the observe run into rec. Lines that are not events
// of it are ignored; a line that is not JSON is an error (false).
bool observe(const std::string &line, Record &rec);

// What the writer may ask of the filesystem (a fake one in tests).
struct FsView {
	// Entries of a directory (names), or nullopt if it is not one.
	std::function<std::optional<std::vector<std::string>>(const std::string &dir)> list;
	std::function<bool(const std::string &path)> exists;
	static FsView host();
};

// One path made general: per-process numbers and long hex runs become '*';
// under a temporary directory, a name that no longer exists keeps only its
// extension. Exposed for tests.
std::string generalise(const std::string &path, const FsView &fs);

struct WriteOptions {
	std::string name = "learned";
	bool lsm = true; // emit the LSM-only parts (allow-lists, network)
};

// The policy, with each rule's evidence as comments, and the machine-readable
// evidence block (`#@ ` lines) that --merge reads back.
std::string write_policy(const Record &rec, const WriteOptions &o, const FsView &fs);

// A learned policy's evidence block. Throws std::runtime_error with
// "FILE:LINE: ..." when the text is not a learned policy.
Record read_evidence(const std::string &text, const std::string &file);

// Options of `bulwark learn`.
struct LearnOptions {
	std::string output;             // -o; "" = stdout
	std::vector<std::string> merge; // --merge files
	std::string check;              // --check POLICY
	bool force = false;
	std::string layers = "all";
	std::string engine = "off";
	std::string name;
	std::string scope;     // learn from a scope (cgroup:PATH, exe:PATH) through enforce
	unsigned duration = 0; // seconds to watch the scope
	std::vector<std::string> command;
};

int run_learn(const LearnOptions &o);

} // namespace bulwark::learn
