// SPDX-License-Identifier: Apache-2.0
// The observe run's side of learn mode: the policy that reports everything,
// and the events it produces turned into facts with their evidence.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "loader/learn/learn.h"
#include "loader/learn/watch.h"
#include "policy/catalog.h"
#include "policy/constants.h"

namespace bulwark::learn {

using json = nlohmann::json;

void Evidence::see(const std::string &ts, const std::string &proc, uint64_t n)
{
	count += n;
	if (first.empty() || ts < first) {
		first = ts;
		process = proc;
	}
	if (ts > last)
		last = ts;
}

void Evidence::add(const Evidence &o)
{
	if (!o.count)
		return;
	uint64_t n = count;
	see(o.first, o.process, o.count);
	if (o.last > last)
		last = o.last;
	count = n + o.count;
}

void Record::merge(const Record &o)
{
	for (const auto &[k, v] : o.facts)
		facts[k].add(v);
	runs += o.runs;
	events += o.events;
	lost += o.lost;
	lsm = lsm || o.lsm;
	seccomp = seccomp && o.seccomp;
	if (scope.empty())
		scope = o.scope;
	commands.insert(commands.end(), o.commands.begin(), o.commands.end());
}

size_t Record::count_prefix(const std::string &prefix) const
{
	size_t n = 0;
	for (auto it = facts.lower_bound(prefix); it != facts.end() && it->first.rfind(prefix, 0) == 0; ++it)
		n++;
	return n;
}

const std::vector<std::string> &surface_words()
{
	static const std::vector<std::string> w = {"mount", "ptrace",  "kernel-modules",  "bpf",    "perf",
						   "kexec", "keyring", "user-namespaces", "setuid", "raw-sockets"};
	return w;
}

const std::vector<Watch> &watched_args()
{
	// Flags that decide what a call can do, and that a workload passes as
	// a handful of constants: namespaces, socket families, execution
	// domains, prctl options.
	static const std::vector<Watch> w = {
		{"clone", 0, kNamespaceFlags},  {"unshare", 0, ~0ull}, {"socket", 0, ~0ull}, {"socket", 1, 0xf},
		{"personality", 0, 0xffffffff}, {"prctl", 0, ~0ull},
	};
	return w;
}

std::string family_name(int family)
{
	for (const auto &c : policy::named_constants()) {
		std::string n = c.name;
		if (n.rfind("AF_", 0) != 0 || static_cast<int>(c.value) != family || n == "AF_LOCAL" || n == "AF_ROUTE")
			continue;
		std::string bare = n.substr(3);
		std::transform(bare.begin(), bare.end(), bare.begin(),
			       [](unsigned char ch) { return std::tolower(ch); });
		return bare;
	}
	return "";
}

std::string observe_policy(const std::vector<std::string> &roots, const std::vector<std::string> &files, bool lsm,
			   bool seccomp)
{
	std::ostringstream o;
	o << "# Written by bulwark learn: report everything, block nothing.\n"
	  << "name: learn\nmode: audit\n";
	if (seccomp)
		o << "architectures: [x86_64, x86, x32]\ndefault:\n  syscalls: log\n";
	o << "rules:\n";
	auto paths = [&] {
		o << "    paths:\n";
		for (const auto &r : roots)
			o << "      - " << json(r + "/**").dump() << "\n";
		for (const auto &f : files)
			o << "      - " << json(f).dump() << "\n";
	};
	for (const char *w : {"read", "write", "exec"}) {
		if (!lsm)
			break;
		o << "  - id: learn-" << w << "\n    deny: " << w << "\n";
		paths();
	}
	for (const auto &w : surface_words())
		o << "  - id: learn-" << w << "\n    deny: " << w << "\n";
	o << "  - id: learn-socket\n    deny: socket\n    families: [";
	bool first = true;
	for (int f = 1; f <= policy::kMaxAddressFamily; f++) {
		std::string n = family_name(f);
		if (n.empty())
			continue;
		o << (first ? "" : ", ") << n;
		first = false;
	}
	o << "]\n";
	for (const char *w : {"connect", "bind"})
		if (lsm)
			o << "  - id: learn-" << w << "\n    deny: " << w << "\n    addresses: [0.0.0.0/0, \"::/0\"]\n";
	return o.str();
}

void host_roots(std::vector<std::string> &dirs, std::vector<std::string> &files)
{
	DIR *d = opendir("/");
	if (!d)
		return;
	while (dirent *e = readdir(d)) {
		std::string n = e->d_name;
		if (n == "." || n == "..")
			continue;
		struct stat st;
		// Symlinks (/bin -> usr/bin) are covered where they point.
		if (lstat(("/" + n).c_str(), &st) != 0 || S_ISLNK(st.st_mode))
			continue;
		(S_ISDIR(st.st_mode) ? dirs : files).push_back("/" + n);
	}
	closedir(d);
	std::sort(dirs.begin(), dirs.end());
	std::sort(files.begin(), files.end());
}

namespace {

std::string text(const json &j, std::initializer_list<const char *> keys)
{
	const json *p = &j;
	for (const char *k : keys) {
		if (!p->is_object() || !p->contains(k))
			return "";
		p = &(*p)[k];
	}
	if (p->is_string())
		return p->get<std::string>();
	if (p->is_number_unsigned() || p->is_number_integer())
		return std::to_string(p->get<long long>());
	return "";
}

void learn_word(const std::string &rule, Record &rec, const std::string &ts, const std::string &proc)
{
	if (rule.rfind("learn-", 0) != 0)
		return;
	std::string w = rule.substr(6);
	for (const auto &s : surface_words())
		if (s == w)
			rec.facts["word " + w].see(ts, proc);
}

} // namespace

bool observe(const std::string &line, Record &rec)
{
	json j = json::parse(line, nullptr, false);
	if (j.is_discarded() || !j.is_object())
		return false;
	rec.events++;
	std::string ts = text(j, {"@timestamp"});
	std::string proc = text(j, {"process", "executable"});
	if (proc.empty())
		proc = text(j, {"process", "name"});
	if (text(j, {"event", "action"}) == "events-lost") {
		const json &b = j.value("bulwark", json::object());
		rec.lost += b.value("lost", 0ull);
		return true;
	}
	const json &b = j.value("bulwark", json::object());
	std::string dataset = text(j, {"event", "dataset"});
	if (dataset == "bulwark.seccomp" && b.contains("syscall")) {
		std::string arch = text(b, {"syscall", "arch"}), name = text(b, {"syscall", "name"});
		if (!arch.empty() && !name.empty()) {
			rec.facts["syscall " + arch + " " + name].see(ts, proc);
			const json &args = b["syscall"].value("args", json::array());
			for (const auto &w : watched_args()) {
				if (name != w.syscall || !args.is_array() || w.index >= args.size() ||
				    !args[w.index].is_string())
					continue;
				uint64_t v = std::stoull(args[w.index].get<std::string>(), nullptr, 16) & w.mask;
				char hex[32];
				std::snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(v));
				rec.facts["arg " + arch + " " + name + " " + std::to_string(w.index) + " " + hex].see(
					ts, proc);
			}
		}
	}
	std::string hook = text(b, {"hook"});
	if (!hook.empty())
		rec.lsm = true;
	std::string path = text(j, {"file", "path"});
	if (!path.empty() && path[0] == '/') {
		if (hook == "bprm_check_security")
			rec.facts["exec " + path].see(ts, proc);
		else if (hook != "mmap_file" && b.contains("access") && b["access"].is_array())
			for (const auto &a : b["access"])
				if (a == "read" || a == "write")
					rec.facts[a.get<std::string>() + " " + path].see(ts, proc);
	}
	learn_word(text(j, {"rule", "id"}), rec, ts, proc);
	learn_word(text(b, {"lsm", "rule"}), rec, ts, proc);
	if (b.contains("socket") && b["socket"].is_object() && b["socket"].contains("family")) {
		std::string f = family_name(b["socket"].value("family", 0));
		if (!f.empty())
			rec.facts["family " + f].see(ts, proc);
	}
	std::string dip = text(j, {"destination", "ip"}), dport = text(j, {"destination", "port"});
	if (!dip.empty() && (hook == "socket_connect" || hook == "socket_sendmsg"))
		rec.facts["connect " + dip + " " + (dport.empty() ? "0" : dport)].see(ts, proc);
	std::string sip = text(j, {"source", "ip"}), sport = text(j, {"source", "port"});
	if (!sip.empty() && hook == "socket_bind")
		rec.facts["bind " + sip + " " + (sport.empty() ? "0" : sport)].see(ts, proc);
	return true;
}

} // namespace bulwark::learn
