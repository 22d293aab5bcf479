// SPDX-License-Identifier: Apache-2.0
#include "loader/plan/explain.h"

#include <fcntl.h>
#include <seccomp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "loader/kernel/fd.h"
#include "loader/kernel/lsm.h"
#include "loader/kernel/probe.h"
#include "loader/plan/lsm_plan.h"
#include "policy/catalog.h"
#include "seccomp/filter.h"

namespace bulwark {

using json = nlohmann::ordered_json;

namespace {

std::string join(const std::vector<std::string> &v, const char *sep = " ")
{
	std::string out;
	for (const auto &s : v) {
		if (!out.empty())
			out += sep;
		out += s;
	}
	return out;
}

struct Layer {
	bool enforced = false;
	std::vector<std::string> what;    // syscalls or hooks
	std::string how;                  // one line
	std::vector<std::string> missing; // hooks the kernel explained for lacks
};

struct Row {
	std::string id, verb, mode;
	std::vector<std::string> words, targets;
	Layer seccomp, lsm;
	std::vector<std::string> gaps;
};

std::string targets_of(const policy::Rule &r, std::vector<std::string> &out)
{
	for (const auto &p : r.paths)
		out.push_back(p.kind == policy::PathKind::Subtree ? p.path + "/**" : p.path);
	for (int f : r.families)
		out.push_back("family " + std::to_string(f));
	for (const auto &pr : r.ports)
		out.push_back(pr.lo == pr.hi ? "port " + std::to_string(pr.lo)
					     : "ports " + std::to_string(pr.lo) + "-" + std::to_string(pr.hi));
	for (const auto &a : r.addresses)
		out.push_back(a.text);
	std::vector<std::string> when;
	for (const auto &p : r.when.exe)
		when.push_back("exe=" + p.path);
	for (const auto &p : r.when.parent_exe)
		when.push_back("parent_exe=" + p.path);
	for (uint32_t u : r.when.uid)
		when.push_back("uid=" + std::to_string(u));
	for (const auto &c : r.when.cgroup)
		when.push_back("cgroup=" + c);
	return join(when, ", ");
}

// Marks what of a row's LSM side the kernel cannot do: a hook it lacks is
// not enforced there, and a rule left with none of its hooks has no LSM layer
// on that kernel.
void apply_kernel(Row &row, const KernelView &k)
{
	if (!row.lsm.enforced)
		return;
	for (const auto &h : row.lsm.what)
		if (k.missing_hooks.count(h))
			row.lsm.missing.push_back(h);
	if (row.lsm.missing.empty())
		return;
	std::string lacks = "kernel " + k.release + " lacks " + join(row.lsm.missing, ", ");
	if (row.lsm.missing.size() == row.lsm.what.size()) {
		row.lsm.enforced = false;
		row.lsm.how = "not on this kernel: " + lacks;
		row.gaps.push_back(
			"BPF-LSM: not enforced on this kernel (" + lacks + ")" +
			(row.seccomp.enforced ? "; seccomp alone enforces it here" : "; nothing enforces it here"));
	} else {
		row.lsm.how += " (this " + lacks + ": not enforced there)";
		row.gaps.push_back("BPF-LSM: partly enforced on this kernel (" + lacks + ")");
	}
}

void add_unique(std::vector<std::string> &v, const char *item)
{
	if (std::find(v.begin(), v.end(), item) == v.end())
		v.push_back(item);
}

// The file accesses an allow-list can cover, and whether p has one for each.
std::vector<std::pair<std::string, bool>> access_defaults(const policy::Policy &p)
{
	return {{"read", p.defaults.read_deny}, {"write", p.defaults.write_deny}, {"exec", p.defaults.exec_deny}};
}

// An `allow:` rule: an entry of each allow-list it names, LSM only. The exec
// allow-list is checked at exec alone; read and write where their words are.
Row allow_row(const policy::Rule &r, Row row)
{
	std::vector<std::string> how;
	row.lsm.enforced = true;
	for (const auto &w : r.words) {
		if (w == "exec") {
			add_unique(row.lsm.what, "bprm_check_security");
			row.gaps.push_back("ld.so <file> maps a binary without exec'ing it: keep the dynamic "
					   "loader out of the allow-list, or it runs anything readable");
		} else if (const policy::WordInfo *info = policy::find_word(w)) {
			for (const char *h : info->hooks)
				add_unique(row.lsm.what, h);
		}
		how.push_back(w + " allow-list entry (default " + w + ": deny)");
		if (w == "write")
			row.gaps.push_back("write: truncate, unlink, rmdir, rename, link, chmod and chown see "
					   "only identity and subtree entries, not patterns or paths absent at load");
	}
	row.lsm.how = join(how, "; ");
	row.seccomp.how = "cannot see paths";
	return row;
}

// A deny rule: what each layer does with each of its words.
Row deny_row(const policy::Rule &r, Row row)
{
	std::vector<std::string> how_s, how_l;
	for (const auto &w : r.words) {
		const policy::WordInfo *info = policy::find_word(w);
		if (!info)
			continue;
		if (*info->seccomp_how) {
			for (const char *s : info->syscalls)
				add_unique(row.seccomp.what, s);
			how_s.push_back(info->seccomp_how);
		}
		if (*info->lsm_how) {
			for (const char *h : info->hooks)
				add_unique(row.lsm.what, h);
			how_l.push_back(info->lsm_how);
		}
		if (*info->gap)
			row.gaps.push_back(w + ": " + info->gap);
	}
	row.seccomp.enforced = !row.seccomp.what.empty() && r.when.empty();
	row.lsm.enforced = !row.lsm.what.empty();
	const char *verdict = r.mode == policy::Mode::Audit ? "report only (audit)" : "EPERM";
	if (row.seccomp.enforced)
		row.seccomp.how = join(how_s, "; ") + " -> " + verdict;
	else if (!row.seccomp.what.empty())
		row.seccomp.how = "not applied: seccomp cannot evaluate when:";
	else
		row.seccomp.how = r.kind == policy::RuleKind::File ? "cannot see paths" : "cannot see the argument";
	if (!row.seccomp.enforced)
		row.seccomp.what.clear();
	row.lsm.how = row.lsm.enforced ? join(how_l, "; ") + " -> " + verdict : "no hook";
	if (!row.seccomp.enforced || !row.lsm.enforced)
		row.gaps.push_back(std::string("enforced by the ") + (row.lsm.enforced ? "BPF-LSM" : "seccomp") +
				   " layer alone: a hole there is not backed up");
	return row;
}

Row rule_row(const policy::Rule &r)
{
	Row row;
	row.id = r.id;
	row.verb = r.verb == policy::Verb::Allow ? "allow" : "deny";
	row.mode = policy::to_string(r.mode);
	row.words = r.words;
	std::string when = targets_of(r, row.targets);
	if (!when.empty())
		row.targets.push_back("when " + when);
	return r.verb == policy::Verb::Allow ? allow_row(r, std::move(row)) : deny_row(r, std::move(row));
}

Row syscall_row(const policy::SyscallEntry &s, size_t i)
{
	Row row;
	row.id = "syscalls[" + std::to_string(i) + "]";
	row.verb = policy::to_string(s.action);
	row.mode = policy::to_string(s.mode);
	row.words = {"syscalls"};
	row.seccomp = {true,
		       s.names,
		       policy::to_string(s.action) + (s.args.empty() ? "" : " when its argument checks hold"),
		       {}};
	row.lsm.how = "seccomp escape hatch: no LSM counterpart";
	return row;
}

Row hook_row(const policy::HookEntry &h)
{
	Row row;
	row.id = h.id.empty() ? "hook:" + h.hook : h.id;
	row.verb = "deny";
	row.mode = policy::to_string(h.mode);
	row.words = {"hooks"};
	const char *n = strerrorname_np(h.errno_value);
	row.lsm = {true, {h.hook}, h.hook + " -> " + (n ? n : "errno"), {}};
	row.seccomp.how = "LSM escape hatch: no seccomp counterpart";
	return row;
}

std::vector<Row> rows(const policy::Policy &p, const KernelView *k)
{
	std::vector<Row> out;
	for (const auto &r : p.rules)
		out.push_back(rule_row(r));
	for (size_t i = 0; i < p.syscalls.size(); i++)
		out.push_back(syscall_row(p.syscalls[i], i));
	for (const auto &h : p.hooks)
		out.push_back(hook_row(h));
	if (k)
		for (auto &row : out)
			apply_kernel(row, *k);
	return out;
}

// A cell's text in lines of at most w characters, broken between words.
std::vector<std::string> wrap(const std::string &s, size_t w)
{
	std::vector<std::string> out;
	std::istringstream in(s);
	std::string word, line;
	while (in >> word) {
		if (!line.empty() && line.size() + 1 + word.size() > w) {
			out.push_back(line);
			line.clear();
		}
		line += (line.empty() ? "" : " ") + word;
	}
	if (!line.empty())
		out.push_back(line);
	if (out.empty())
		out.push_back("");
	return out;
}

std::string pad(const std::string &s, size_t w)
{
	return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' ');
}

// Columns: RULE, DENIES, SECCOMP, BPF-LSM. Long cells wrap under their own
// column so the two layers stay side by side.
const size_t w_rule = 18, w_words = 20, w_layer = 46;

void write_row(std::ostringstream &o, const Row &r)
{
	std::string words = (r.verb == "deny" ? "" : r.verb + " ") + join(r.words, ", ");
	if (!r.targets.empty())
		words += " " + join(r.targets, " ");
	if (r.mode == "audit")
		words += " (audit)";
	// Plain words list their syscalls; argument checks need the prose.
	bool special = false;
	for (const auto &w : r.words)
		special |= w == "socket" || w == "raw-sockets" || w == "user-namespaces";
	std::string verdict = r.mode == "audit" ? "report" : "EPERM";
	std::string sc = !r.seccomp.enforced ? "- " + r.seccomp.how
			 : special || r.words == std::vector<std::string>{"syscalls"}
				 ? r.seccomp.how
				 : join(r.seccomp.what) + " -> " + verdict;
	std::string ls = r.lsm.enforced ? r.lsm.how : "- " + r.lsm.how;
	auto c1 = wrap(r.id, w_rule - 1), c2 = wrap(words, w_words - 1), c3 = wrap(sc, w_layer - 1), c4 = wrap(ls, 60);
	size_t n = std::max({c1.size(), c2.size(), c3.size(), c4.size()});
	for (size_t i = 0; i < n; i++) {
		auto at = [&](const std::vector<std::string> &c) { return i < c.size() ? c[i] : ""; };
		std::string line = pad(at(c1), w_rule) + pad(at(c2), w_words) + pad(at(c3), w_layer) + at(c4);
		while (!line.empty() && line.back() == ' ')
			line.pop_back();
		o << line << "\n";
	}
}

std::vector<std::string> preamble(const policy::Policy &p, const KernelView *k)
{
	std::vector<std::string> lines;
	lines.push_back("policy " + p.name + " (" + p.file + "), mode " + policy::to_string(p.mode));
	if (k) {
		lines.push_back(
			"kernel: " + k->release +
			(k->missing_hooks.empty()
				 ? ", every LSM hook present"
				 : ", lacks LSM hooks " + join(std::vector<std::string>(k->missing_hooks.begin(),
											k->missing_hooks.end()),
							       ", ")));
		if (!k->lsm_unusable.empty())
			lines.push_back("kernel: the BPF-LSM layer cannot run here: " + k->lsm_unusable);
	}
	if (!p.extends.empty())
		lines.push_back("extends: " + join(p.extends, ", "));
	std::vector<std::string> arches =
		p.architectures.empty() ? std::vector<std::string>{"x86_64"} : p.architectures;
	lines.push_back("seccomp: architectures " + join(arches, ", ") +
			"; syscalls from any other ABI (i386 int 0x80, x32) kill the process");
	lines.push_back(std::string("seccomp: default action ") +
			(p.defaults.syscalls_set ? policy::to_string(p.defaults.syscalls) : "allow"));
	for (const auto &[what, deny] : access_defaults(p))
		lines.push_back("lsm: " + what + " " +
				(deny ? std::string("allow-list (default deny") +
						 (p.mode == policy::Mode::Audit ? ", reported only: audit)" : ")")
				      : "default allow"));
	return lines;
}

} // namespace

std::string explain_json(const policy::Policy &p, const KernelView *k)
{
	json j;
	j["policy"] = p.name;
	j["file"] = p.file;
	j["mode"] = policy::to_string(p.mode);
	j["extends"] = p.extends;
	j["architectures"] = p.architectures.empty() ? std::vector<std::string>{"x86_64"} : p.architectures;
	j["defaults"] = {{"syscalls", p.defaults.syscalls_set ? policy::to_string(p.defaults.syscalls) : "allow"}};
	for (const auto &[what, deny] : access_defaults(p))
		j["defaults"][what] = deny ? "deny" : "allow";
	if (k) {
		j["kernel"] = {
			{"release", k->release},
			{"missing_hooks", std::vector<std::string>(k->missing_hooks.begin(), k->missing_hooks.end())},
			{"lsm_unusable", k->lsm_unusable}};
	}
	json arr = json::array();
	for (const auto &r : rows(p, k)) {
		arr.push_back(
			{{"id", r.id},
			 {"verb", r.verb},
			 {"words", r.words},
			 {"targets", r.targets},
			 {"mode", r.mode},
			 {"seccomp",
			  {{"enforced", r.seccomp.enforced}, {"syscalls", r.seccomp.what}, {"how", r.seccomp.how}}},
			 {"lsm",
			  {{"enforced", r.lsm.enforced},
			   {"hooks", r.lsm.what},
			   {"how", r.lsm.how},
			   {"missing_hooks", r.lsm.missing}}},
			 {"gaps", r.gaps}});
	}
	j["rules"] = arr;
	return j.dump(2);
}

std::string explain_text(const policy::Policy &p, const KernelView *k)
{
	std::ostringstream o;
	for (const auto &l : preamble(p, k))
		o << l << "\n";
	auto rs = rows(p, k);
	o << "\n" << pad("RULE", w_rule) << pad("DENIES", w_words) << pad("SECCOMP", w_layer) << "BPF-LSM\n";
	for (const auto &r : rs)
		write_row(o, r);
	bool any_gap = false;
	for (const auto &r : rs)
		for (const auto &g : r.gaps) {
			if (!any_gap)
				o << "\nwhat neither layer can guarantee:\n";
			any_gap = true;
			o << "  " << r.id << ": " << g << "\n";
		}
	return o.str();
}

KernelView running_kernel_view()
{
	KernelView k;
	k.release = probe_kernel_release();
	k.lsm_unusable = lsm_kernel_reason();
	// Without BTF nothing is known of the hooks; lsm_unusable says so.
	if (have_vmlinux_btf())
		for (const auto &h : lsm_hook_states())
			if (!h.usable)
				k.missing_hooks.insert(h.hook);
	return k;
}

static std::optional<policy::Policy> load(const std::string &file)
{
	auto r = policy::parse_file(file);
	for (const auto &d : r.diagnostics)
		std::fprintf(stderr, "%s\n", d.str().c_str());
	if (!r.ok())
		return std::nullopt;
	return std::move(*r.policy);
}

int run_explain(const ExplainOptions &o)
{
	auto p = load(o.policy);
	if (!p)
		return 1;
	// Under a scope other than run (bulwark enforce), bulwark does not start
	// the subjects: say per rule what that takes away.
	auto notes = policy::scope_notes(*p, p->scope);
	KernelView kv;
	if (!o.any_kernel)
		kv = running_kernel_view();
	const KernelView *k = o.any_kernel ? nullptr : &kv;
	if (o.json) {
		std::string text = explain_json(*p, k);
		if (p->scope != "run") {
			auto j = nlohmann::json::parse(text);
			j["scope"] = p->scope;
			nlohmann::json arr = nlohmann::json::array();
			for (const auto &n : notes)
				arr.push_back({{"line", n.loc.line}, {"message", n.message}, {"no_layer", n.lost}});
			j["scope_notes"] = arr;
			text = j.dump(2);
		}
		std::fputs((text + "\n").c_str(), stdout);
		return 0;
	}
	std::fputs(explain_text(*p, k).c_str(), stdout);
	if (p->scope != "run") {
		std::printf("\nscope %s: only the BPF-LSM layer applies (bulwark enforce)\n", p->scope.c_str());
		for (const auto &n : notes)
			std::printf("  line %d: %s%s\n", n.loc.line, n.lost ? "NO LAYER: " : "", n.message.c_str());
	}
	return 0;
}

int run_compile(const CompileOptions &o)
{
	auto p = load(o.policy);
	if (!p)
		return 1;
	try {
		bool any = false;
		// The filter exactly as `run` loads it: denials routed to the
		// supervisor (action 0x7fc00000 is SECCOMP_RET_USER_NOTIF).
		seccomp::Filter f(*p, seccomp::DenyAction::Notify);
		if (o.pfc) {
			std::fputs(f.pfc().c_str(), stdout);
			any = true;
		}
		if (!o.bpf_out.empty()) {
			Fd fd(open(o.bpf_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
			if (!fd)
				throw Error("compile: cannot write " + o.bpf_out, errno);
			if (int rc = f.export_bpf(fd.get()); rc < 0)
				throw Error("seccomp: export BPF", -rc);
			std::fprintf(stderr, "seccomp: rule-word filter written to %s\n", o.bpf_out.c_str());
			if (f.has_table()) {
				// Loaded first, stacked under the words filter.
				std::string table = o.bpf_out + ".table";
				Fd tfd(open(table.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
				if (!tfd)
					throw Error("compile: cannot write " + table, errno);
				if (int rc = f.export_table_bpf(tfd.get()); rc < 0)
					throw Error("seccomp: export BPF", -rc);
				std::fprintf(stderr, "seccomp: syscall-table filter written to %s\n", table.c_str());
			}
			any = true;
		}
		if (o.lsm || !any)
			std::fputs(plan_lsm(*p).dump(*p).c_str(), stdout);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "%s\n", e.what());
		return 1;
	}
	return 0;
}

} // namespace bulwark
