// SPDX-License-Identifier: Apache-2.0
// The writer's side of learn mode: facts made general (paths, addresses,
// ports, argument values) and written as one policy for both layers, each
// rule with its evidence; and the evidence block that --merge reads back.
#include <arpa/inet.h>
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include "loader/learn/learn.h"
#include "loader/learn/watch.h"
#include "policy/catalog.h"
#include "policy/constants.h"

namespace bulwark::learn {

using json = nlohmann::json;

FsView FsView::host()
{
	FsView fs;
	fs.list = [](const std::string &dir) -> std::optional<std::vector<std::string>> {
		DIR *d = opendir(dir.c_str());
		if (!d)
			return std::nullopt;
		std::vector<std::string> out;
		while (dirent *e = readdir(d)) {
			std::string n = e->d_name;
			if (n != "." && n != "..")
				out.push_back(n);
		}
		closedir(d);
		return out;
	};
	fs.exists = [](const std::string &p) {
		struct stat st;
		return lstat(p.c_str(), &st) == 0;
	};
	return fs;
}

namespace {

std::vector<std::string> split(const std::string &path)
{
	std::vector<std::string> out;
	std::string cur;
	for (char c : path) {
		if (c == '/') {
			if (!cur.empty())
				out.push_back(cur);
			cur.clear();
		} else {
			cur += c;
		}
	}
	if (!cur.empty())
		out.push_back(cur);
	return out;
}

std::string join(const std::vector<std::string> &c, size_t n)
{
	std::string out;
	for (size_t i = 0; i < n && i < c.size(); i++)
		out += "/" + c[i];
	return out.empty() ? "/" : out;
}

bool all_digits(const std::string &s)
{
	return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Runs of 16 or more hex digits (ids, hashes) become '*'.
std::string hex_runs(const std::string &c)
{
	std::string out;
	size_t i = 0;
	while (i < c.size()) {
		size_t j = i;
		bool digit = false;
		while (j < c.size() && std::isxdigit(static_cast<unsigned char>(c[j])) &&
		       !std::isupper(static_cast<unsigned char>(c[j]))) {
			digit = digit || std::isdigit(static_cast<unsigned char>(c[j]));
			j++;
		}
		if (j - i >= 16 && digit) {
			out += '*';
			i = j;
		} else if (j > i) {
			out += c.substr(i, j - i);
			i = j;
		} else {
			out += c[i++];
		}
	}
	return out;
}

// How many leading components name a directory whose entries are
// temporary: /tmp, /var/tmp, /dev/shm, /run/user/UID.
size_t temp_prefix(const std::vector<std::string> &c)
{
	if (!c.empty() && c[0] == "tmp")
		return 1;
	if (c.size() >= 2 && ((c[0] == "var" && c[1] == "tmp") || (c[0] == "dev" && c[1] == "shm")))
		return 2;
	if (c.size() >= 3 && c[0] == "run" && c[1] == "user" && all_digits(c[2]))
		return 3;
	return 0;
}

std::string short_time(const std::string &ts)
{
	return ts.size() >= 19 ? ts.substr(0, 19) + "Z" : ts;
}

std::string quote(const std::string &s)
{
	return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string evidence_comment(const Evidence &e)
{
	return std::to_string(e.count) + "x " + short_time(e.first) + ".." + short_time(e.last) +
	       (e.process.empty() ? "" : " " + e.process);
}

bool is_glob(const std::string &p)
{
	std::string base = p.size() > 3 && p.compare(p.size() - 3, 3, "/**") == 0 ? p.substr(0, p.size() - 3) : p;
	return base.find('*') != std::string::npos;
}

// Directories whose every entry the workload touched become one subtree,
// deepest first; a subdirectory counts once it is a subtree itself.
void collapse(std::map<std::string, Evidence> &paths, const FsView &fs)
{
	for (bool changed = true; changed;) {
		changed = false;
		std::map<std::string, std::set<std::string>, std::greater<>> covered; // parent -> names
		for (const auto &[p, ev] : paths) {
			if (is_glob(p))
				continue;
			bool subtree = p.size() > 3 && p.compare(p.size() - 3, 3, "/**") == 0;
			auto c = split(subtree ? p.substr(0, p.size() - 3) : p);
			if (c.size() < 3)
				continue; // a parent of two components at least: never /usr/** or /etc/**
			if (!subtree && fs.list(p))
				continue; // a directory opened is not its contents read
			covered[join(c, c.size() - 1)].insert(c.back());
		}
		for (const auto &[dir, names] : covered) {
			auto entries = fs.list(dir);
			if (!entries || entries->size() < 2)
				continue;
			bool all = std::all_of(entries->begin(), entries->end(),
					       [&](const std::string &e) { return names.count(e) > 0; });
			if (!all)
				continue;
			Evidence sum;
			for (auto it = paths.begin(); it != paths.end();) {
				if (it->first == dir || it->first.rfind(dir + "/", 0) == 0) {
					sum.add(it->second);
					it = paths.erase(it);
				} else {
					++it;
				}
			}
			paths[dir + "/**"].add(sum);
			changed = true;
			break; // the map changed under `covered`
		}
	}
}

// What a workload writes outside the system's directories (a build's
// output, a report, a spool) has other names next run: two or more files
// of one directory make it a subtree, a single file keeps its directory and
// extension.
void collapse_written(std::map<std::string, Evidence> &paths)
{
	static const char *const kSystem[] = {"etc",    "usr",  "boot", "bin", "sbin", "lib", "lib32", "lib64",
					      "libx32", "proc", "sys",  "dev", "root", "var", "run"};
	std::map<std::string, std::vector<std::string>> per_dir;
	for (const auto &[p, ev] : paths) {
		if (is_glob(p) || (p.size() > 3 && p.compare(p.size() - 3, 3, "/**") == 0))
			continue;
		auto c = split(p);
		if (c.size() < 2 || std::find(std::begin(kSystem), std::end(kSystem), c[0]) != std::end(kSystem))
			continue;
		per_dir[join(c, c.size() - 1)].push_back(p);
	}
	for (const auto &[dir, files] : per_dir) {
		for (const auto &f : files) {
			std::string name = f.substr(f.rfind('/') + 1);
			size_t dot = name.rfind('.');
			bool ext = dot != std::string::npos && dot > 0 && name.size() - dot <= 8;
			// A subtree cannot start below a '*'.
			std::string to =
				files.size() >= 2 && split(dir).size() >= 2 && dir.find('*') == std::string::npos
					? dir + "/**"
					: dir + "/*" + (ext ? name.substr(dot) : std::string());
			Evidence ev = paths[f];
			paths.erase(f);
			paths[to].add(ev);
		}
	}
	// A subtree inside another is already covered.
	for (auto it = paths.begin(); it != paths.end();) {
		std::string outer;
		for (const auto &[q, ev] : paths)
			if (q != it->first && q.size() > 3 && q.compare(q.size() - 3, 3, "/**") == 0 &&
			    it->first.rfind(q.substr(0, q.size() - 2), 0) == 0)
				outer = q;
		if (!outer.empty()) {
			paths[outer].add(it->second);
			it = paths.erase(it);
		} else {
			++it;
		}
	}
}

// The LSM layer tries at most this many '*' patterns per literal directory
// they start in (BW_SLOT_RULES); a policy with more is refused at load.
// Patterns past it are merged: the components they differ in become '*';
// if that still leaves too many, the directory becomes a subtree.
void fit_glob_limit(std::map<std::string, Evidence> &paths)
{
	constexpr size_t kGlobsPerDir = 4;
	std::map<std::string, std::vector<std::string>> by_root;
	for (const auto &[p, ev] : paths)
		if (is_glob(p))
			by_root[p.substr(0, std::max<size_t>(p.rfind('/', p.find('*')), 1))].push_back(p);
	for (const auto &[root, pats] : by_root) {
		if (pats.size() <= kGlobsPerDir)
			continue;
		std::map<size_t, std::vector<std::string>> by_len;
		for (const auto &p : pats)
			by_len[split(p).size()].push_back(p);
		std::map<std::string, Evidence> merged;
		for (const auto &[len, group] : by_len) {
			auto base = split(group[0]);
			for (const auto &q : group) {
				auto c = split(q);
				for (size_t i = 0; i < c.size(); i++)
					if (c[i] != base[i])
						base[i] = "*";
			}
			std::string m = join(base, base.size());
			for (const auto &q : group)
				merged[m].add(paths[q]);
		}
		for (const auto &q : pats)
			paths.erase(q);
		if (merged.size() > kGlobsPerDir) {
			Evidence sum;
			for (const auto &[m, ev] : merged)
				sum.add(ev);
			paths[(root == "/" ? std::string() : root) + "/**"].add(sum);
			continue;
		}
		for (const auto &[m, ev] : merged)
			paths[m].add(ev);
	}
}

using u128 = unsigned __int128;

// The CIDR blocks covering [lo, hi] of a `bits`-bit address space.
void cidrs(u128 lo, u128 hi, int bits, std::vector<std::pair<u128, int>> &out)
{
	while (lo <= hi) {
		int size = 0; // log2 of the block
		while (size < bits) {
			u128 block = static_cast<u128>(1) << (size + 1);
			if ((lo & (block - 1)) != 0 || lo + block - 1 > hi || lo + block - 1 < lo)
				break;
			size++;
		}
		out.push_back({lo, bits - size});
		u128 next = lo + (static_cast<u128>(1) << size);
		if (size == bits || next == 0)
			break;
		lo = next;
	}
}

std::string addr_text(u128 v, int bits, int prefix)
{
	char buf[INET6_ADDRSTRLEN];
	if (bits == 32) {
		in_addr a{};
		a.s_addr = htonl(static_cast<uint32_t>(v));
		inet_ntop(AF_INET, &a, buf, sizeof(buf));
	} else {
		in6_addr a{};
		for (int i = 15; i >= 0; i--) {
			a.s6_addr[i] = static_cast<uint8_t>(v & 0xff);
			v >>= 8;
		}
		inet_ntop(AF_INET6, &a, buf, sizeof(buf));
	}
	return std::string(buf) + "/" + std::to_string(prefix);
}

// Every address of the family but the ones seen, as CIDR blocks.
std::vector<std::string> complement(const std::set<u128> &seen, int bits)
{
	std::vector<std::pair<u128, int>> blocks;
	u128 max = bits == 128 ? ~static_cast<u128>(0) : (static_cast<u128>(1) << bits) - 1;
	u128 lo = 0;
	bool done = false;
	for (u128 a : seen) {
		if (a > lo)
			cidrs(lo, a - 1, bits, blocks);
		if (a == max) {
			done = true;
			break;
		}
		lo = a + 1;
	}
	if (!done)
		cidrs(lo, max, bits, blocks);
	std::vector<std::string> out;
	for (const auto &[v, p] : blocks)
		out.push_back(addr_text(v, bits, p));
	return out;
}

bool parse_ip(const std::string &s, u128 &v, int &bits)
{
	in_addr a4{};
	in6_addr a6{};
	if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
		v = ntohl(a4.s_addr);
		bits = 32;
		return true;
	}
	if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
		v = 0;
		for (uint8_t byte : a6.s6_addr)
			v = (v << 8) | byte;
		bits = 128;
		return true;
	}
	return false;
}

struct Writer {
	const Record &rec;
	const FsView &fs;
	std::ostringstream o;

	// Facts starting with `prefix`, the rest of each line as the key.
	std::map<std::string, Evidence> with(const std::string &prefix) const
	{
		std::map<std::string, Evidence> out;
		for (auto it = rec.facts.lower_bound(prefix); it != rec.facts.end() && it->first.rfind(prefix, 0) == 0;
		     ++it)
			out[it->first.substr(prefix.size())].add(it->second);
		return out;
	}

	void paths_rule(const std::string &id, const std::string &verb, const std::map<std::string, Evidence> &paths)
	{
		if (paths.empty())
			return;
		o << "  - id: " << id << "\n    allow: " << verb << "\n    paths:\n";
		for (const auto &[p, ev] : paths)
			o << "      - " << quote(p) << "   # " << evidence_comment(ev) << "\n";
	}

	std::map<std::string, Evidence> general(const std::string &prefix) const
	{
		std::map<std::string, Evidence> out;
		for (const auto &[p, ev] : with(prefix))
			out[generalise(p, fs)].add(ev);
		return out;
	}

	bool word_used(const std::string &w, Evidence *why) const
	{
		auto take = [&](const Evidence &e) {
			if (why)
				why->add(e);
		};
		bool used = false;
		if (auto it = rec.facts.find("word " + w); it != rec.facts.end()) {
			take(it->second);
			used = true;
		}
		for (const auto &[k, ev] : rec.facts) {
			std::istringstream in(k);
			std::string kind, arch, name, index, value;
			in >> kind >> arch >> name >> index >> value;
			if (w == "user-namespaces") {
				if (kind == "arg" && (name == "clone" || name == "unshare") && index == "0" &&
				    (std::stoull(value, nullptr, 16) & kCloneNewUser)) {
					take(ev);
					used = true;
				}
			} else if (w == "raw-sockets") {
				if (kind == "arg" && name == "socket" &&
				    ((index == "1" && std::stoull(value, nullptr, 16) == 3) ||
				     (index == "0" && std::stoull(value, nullptr, 16) == 17))) {
					take(ev);
					used = true;
				}
			} else if (kind == "syscall") {
				const policy::WordInfo *info = policy::find_word(w);
				if (!info)
					continue;
				for (const char *s : info->syscalls)
					if (name == s) {
						take(ev);
						used = true;
					}
			}
		}
		return used;
	}

	void header(const WriteOptions &opt)
	{
		o << "# Learned by `bulwark learn` from " << rec.runs << " run" << (rec.runs == 1 ? "" : "s") << ", "
		  << rec.events << " events";
		o << (rec.lsm ? " (seccomp and BPF-LSM layers).\n"
			      : " (seccomp layer only: no file, exec or network allow-lists).\n");
		for (const auto &c : rec.commands)
			o << "#   " << c << "\n";
		if (rec.lost)
			o << "# WARNING: " << rec.lost
			  << " events were lost while learning: what this policy allows may miss what the workload "
			     "did.\n# Learn again (a larger --ring-buffer) or --merge another run before enforcing "
			     "it.\n";
		o << "# Each entry's comment is its evidence: times seen, first..last (UTC), the executable that\n"
		  << "# did it first. Test it before it enforces: bulwark learn --check THIS_FILE -- COMMAND\n";
		o << "name: " << quote(opt.name) << "\nmode: enforce\n";
		if (!rec.scope.empty()) {
			auto colon = rec.scope.find(':');
			if (colon == std::string::npos)
				o << "scope: " << rec.scope << "\n";
			else
				o << "scope: {" << rec.scope.substr(0, colon) << ": "
				  << quote(rec.scope.substr(colon + 1)) << "}\n";
		}
		if (!rec.seccomp) {
			// Learned under an enforce scope: seccomp saw nothing, so
			// it must not be given an allow-list.
			if (opt.lsm && rec.lsm)
				o << "default:\n  exec: deny\n  read: deny\n  write: deny\n";
			return;
		}
		std::set<std::string> archs{"x86_64"};
		for (const auto &[k, ev] : with("syscall "))
			archs.insert(k.substr(0, k.find(' ')));
		o << "architectures: [";
		bool first = true;
		for (const auto &a : archs) {
			o << (first ? "" : ", ") << a;
			first = false;
		}
		o << "]\ndefault:\n  syscalls: errno(EPERM)\n";
		if (opt.lsm && rec.lsm)
			o << "  exec: deny\n  read: deny\n  write: deny\n";
	}

	void files()
	{
		auto reads = general("read "), writes = general("write ");
		collapse(reads, fs);
		collapse(writes, fs);
		collapse_written(writes);
		auto execs = general("exec ");
		for (auto *m : {&reads, &writes, &execs})
			fit_glob_limit(*m);
		paths_rule("learned-exec", "exec", execs);
		paths_rule("learned-read", "read", reads);
		paths_rule("learned-write", "write", writes);
	}

	void network_rule(const std::string &verb)
	{
		auto seen = with(verb + " ");
		if (seen.empty()) {
			o << "  - id: learned-no-" << verb << "\n    deny: " << verb
			  << "   # never seen\n    addresses: [0.0.0.0/0, \"::/0\"]\n";
			return;
		}
		std::set<u128> v4, v6;
		std::set<unsigned> ports;
		for (const auto &[k, ev] : seen) {
			std::string ip = k.substr(0, k.rfind(' '));
			unsigned port = static_cast<unsigned>(std::stoul(k.substr(k.rfind(' ') + 1)));
			u128 v;
			int bits;
			if (!parse_ip(ip, v, bits))
				continue;
			(bits == 32 ? v4 : v6).insert(v);
			if (port)
				ports.insert(port);
		}
		o << "  # " << verb << " seen:\n";
		for (const auto &[k, ev] : seen)
			o << "  #   " << k << "   " << evidence_comment(ev) << "\n";
		std::vector<std::string> ranges;
		unsigned lo = 1;
		for (unsigned p : ports) {
			if (p > lo)
				ranges.push_back(p - 1 > lo ? std::to_string(lo) + "-" + std::to_string(p - 1)
							    : std::to_string(lo));
			lo = p + 1;
		}
		if (lo <= 65535)
			ranges.push_back(lo < 65535 ? std::to_string(lo) + "-65535" : "65535");
		if (!ports.empty() && !ranges.empty()) {
			o << "  - id: learned-" << verb << "-ports\n    deny: " << verb << "\n    ports: [";
			for (size_t i = 0; i < ranges.size(); i++)
				o << (i ? ", " : "") << quote(ranges[i]);
			o << "]\n";
		}
		std::vector<std::string> addrs =
			v4.empty() ? std::vector<std::string>{"0.0.0.0/0"} : complement(v4, 32);
		for (const auto &a : v6.empty() ? std::vector<std::string>{"::/0"} : complement(v6, 128))
			addrs.push_back(a);
		o << "  - id: learned-" << verb << "-addresses\n    deny: " << verb << "\n    addresses:\n";
		for (const auto &a : addrs)
			o << "      - " << quote(a) << "\n";
	}

	void network()
	{
		auto fams = with("family ");
		std::vector<std::string> unused;
		for (int f = 1; f <= policy::kMaxAddressFamily; f++) {
			std::string n = family_name(f);
			if (!n.empty() && !fams.count(n))
				unused.push_back(n);
		}
		for (const auto &[f, ev] : fams)
			o << "  # socket family " << f << " seen: " << evidence_comment(ev) << "\n";
		if (!unused.empty()) {
			o << "  - id: learned-socket-families\n    deny: socket\n    families: [";
			for (size_t i = 0; i < unused.size(); i++)
				o << (i ? ", " : "") << unused[i];
			o << "]\n";
		}
		network_rule("connect");
		network_rule("bind");
	}

	void words()
	{
		std::vector<std::string> unused;
		for (const auto &w : surface_words()) {
			Evidence why;
			if (word_used(w, &why))
				o << "  # " << w << " used: " << evidence_comment(why) << "\n";
			else
				unused.push_back(w);
		}
		if (unused.empty())
			return;
		o << "  - id: learned-unused-kernel-surface   # never used while learning\n    deny: [";
		for (size_t i = 0; i < unused.size(); i++)
			o << (i ? ", " : "") << unused[i];
		o << "]\n";
	}

	void syscalls()
	{
		// name -> evidence over every ABI; watched argument values per name
		std::map<std::string, Evidence> names;
		std::map<std::string, std::map<unsigned, std::map<uint64_t, Evidence>>> args;
		for (const auto &[k, ev] : with("syscall "))
			names[k.substr(k.find(' ') + 1)].add(ev);
		for (const auto &[k, ev] : with("arg ")) {
			std::istringstream in(k);
			std::string arch, name, value;
			unsigned index = 0;
			in >> arch >> name >> index >> value;
			args[name][index][std::stoull(value, nullptr, 16)].add(ev);
		}
		// clone3's flags are behind a pointer: where user namespaces are
		// denied, the seccomp layer answers clone3 with ENOSYS and glibc
		// falls back to clone, which must then be there (without
		// namespace flags, as clone3 was used).
		if (names.count("clone3") && !word_used("user-namespaces", nullptr)) {
			names["clone"].add(names["clone3"]);
			args["clone"][0][0].add(names["clone3"]);
		}
		std::vector<std::pair<std::string, const Watch *>> checked;
		o << "syscalls:\n  - action: allow\n    names:\n";
		for (const auto &[n, ev] : names) {
			const Watch *w = nullptr;
			for (const auto &x : watched_args())
				if (n == x.syscall && x.index == 0)
					w = &x;
			if (w && args.count(n) && args[n].count(0) && args[n][0].size() <= kMaxArgValues) {
				checked.push_back({n, w});
				continue;
			}
			o << "      - " << n << "   # " << evidence_comment(ev) << "\n";
		}
		for (const auto &[n, w] : checked)
			for (const auto &[v, ev] : args[n][0]) {
				o << "  - name: " << n << "\n    action: allow\n    args:\n      - {index: 0, op: ";
				char buf[64];
				if (w->mask == ~0ull) {
					std::snprintf(buf, sizeof(buf), "eq, value: 0x%llx}",
						      static_cast<unsigned long long>(v));
				} else {
					std::snprintf(buf, sizeof(buf), "masked-eq, mask: 0x%llx, value: 0x%llx}",
						      static_cast<unsigned long long>(w->mask),
						      static_cast<unsigned long long>(v));
				}
				o << buf << "   # " << evidence_comment(ev) << "\n";
			}
	}

	void evidence()
	{
		json h = {{"bulwark-learn", 1}, {"runs", rec.runs},        {"events", rec.events},
			  {"lost", rec.lost},   {"lsm", rec.lsm},          {"seccomp", rec.seccomp},
			  {"scope", rec.scope}, {"commands", rec.commands}};
		o << "\n# Evidence, read back by bulwark learn --merge:\n";
		o << "#@ " << h.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
		for (const auto &[f, ev] : rec.facts) {
			json l = {{"f", f}, {"n", ev.count}, {"a", ev.first}, {"z", ev.last}, {"p", ev.process}};
			o << "#@ " << l.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
		}
	}
};

} // namespace

std::string generalise(const std::string &path, const FsView &fs)
{
	auto c = split(path);
	size_t tmp = temp_prefix(c);
	// Numbers name processes and threads in /proc; elsewhere a number is a
	// version or a fixed name (/usr/lib/gcc/x86_64-linux-gnu/12).
	bool proc = !c.empty() && c[0] == "proc";
	for (size_t i = 0; i < c.size(); i++) {
		if (proc && all_digits(c[i])) {
			c[i] = "*";
			continue;
		}
		c[i] = hex_runs(c[i]);
		// A temporary name gone by the end of the run has another
		// name next time; what it was (its extension) stays.
		if (tmp && i >= tmp && c[i].find('*') == std::string::npos && !fs.exists(join(c, i + 1))) {
			size_t dot = c[i].rfind('.');
			bool ext = dot != std::string::npos && dot > 0 && c[i].size() - dot <= 8;
			c[i] = "*" + (ext ? c[i].substr(dot) : std::string());
		}
	}
	return join(c, c.size());
}

std::string write_policy(const Record &rec, const WriteOptions &opt, const FsView &fs)
{
	Writer w{rec, fs, {}};
	w.header(opt);
	w.o << "rules:\n";
	if (opt.lsm && rec.lsm) {
		w.files();
		w.network();
	}
	w.words();
	if (rec.seccomp)
		w.syscalls();
	w.evidence();
	return w.o.str();
}

Record read_evidence(const std::string &text, const std::string &file)
{
	Record rec;
	std::istringstream in(text);
	std::string line;
	int n = 0;
	bool header = false;
	while (std::getline(in, line)) {
		n++;
		if (line.rfind("#@ ", 0) != 0)
			continue;
		json j = json::parse(line.substr(3), nullptr, false);
		auto where = file + ":" + std::to_string(n) + ": ";
		if (j.is_discarded() || !j.is_object())
			throw std::runtime_error(where + "learn: bad evidence line (not JSON)");
		if (!header) {
			if (!j.contains("bulwark-learn"))
				throw std::runtime_error(where +
							 "learn: the evidence block must start with its header");
			if (j.value("bulwark-learn", 0) != 1)
				throw std::runtime_error(where + "learn: evidence format " + j["bulwark-learn"].dump() +
							 " is not one this bulwark reads (1)");
			rec.runs = j.value("runs", 0ull);
			rec.events = j.value("events", 0ull);
			rec.lost = j.value("lost", 0ull);
			rec.lsm = j.value("lsm", false);
			rec.seccomp = j.value("seccomp", true);
			rec.scope = j.value("scope", "");
			rec.commands = j.value("commands", std::vector<std::string>{});
			header = true;
			continue;
		}
		if (!j.contains("f") || !j["f"].is_string() || !j.contains("n"))
			throw std::runtime_error(where + "learn: bad evidence line (needs f and n)");
		Evidence e;
		e.count = j.value("n", 0ull);
		e.first = j.value("a", "");
		e.last = j.value("z", "");
		e.process = j.value("p", "");
		rec.facts[j["f"].get<std::string>()].add(e);
	}
	if (!header)
		throw std::runtime_error(file + ":1: learn: not a learned policy: it has no evidence block (the '#@ ' "
						"lines bulwark learn writes at its end)");
	return rec;
}

} // namespace bulwark::learn
