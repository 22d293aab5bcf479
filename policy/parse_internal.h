// SPDX-License-Identifier: Apache-2.0
//
// What the parser's files share; not an API (policy/policy.h is). The
// pipeline, one file a step:
//   parse_yaml.cc      YAML nodes to checked scalars, mappings and positions
//   parse_document.cc  one file's document and top-level keys
//   parse_rules.cc     a `rules:` entry: id, verb, words, which keys it takes
//   parse_targets.cc   what a rule names: paths, families, ports, addresses, when
//   parse_escapes.cc   `syscalls:` and `hooks:` entries
//   extends.cc         `extends:` sources, loading and merging the bases
//   validate.cc        checks on the merged policy, diagnostics in file order
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "policy/policy.h"

namespace bulwark::policy::internal {

// ------------------------------------------------------------ scalar helpers

enum class Num { Ok, Bad, Overflow };

// Unsigned decimal or 0x hex; no sign, no octal.
Num parse_uint(const std::string &s, uint64_t &out);

// An errno by its name ("EPERM").
std::optional<int> find_errno(const std::string &name);

// "a, b, c" as a set, for the key lists the error messages quote.
std::set<std::string> split_list(const char *list);
std::string join(const std::vector<const char *> &items);

// "FILE:LINE", for messages that point at another place.
std::string where(const Location &l);
bool before(const Location &a, const Location &b);

// ------------------------------------------------------------ one file

// One file's own content, before its bases are merged in.
struct FileResult {
	Policy policy;
	unsigned access_set = 0;       // Access bits whose `default:` was written (Defaults has no flag for it)
	std::vector<Location> id_locs; // parallel to policy.rules; the id's own position
	std::vector<std::pair<std::string, Location>> extends; // as written
	std::optional<Location> rules_value;                   // where `rules:` is, for the "no rules" warning
	// A list or an entry was unusable: emptiness then has a reason the
	// author already sees, so "no rules" would only be noise.
	bool dropped = false;
};

class Parser {
public:
	explicit Parser(std::string file) : file_(std::move(file)) {}

	// nullopt only when the document has no usable top-level mapping.
	std::optional<FileResult> run(const std::string &text);
	std::vector<Diagnostic> &diagnostics() { return diags_; }

private:
	// A key/value pair; the key node is kept because missing or null values
	// have no useful position of their own.
	struct Entry {
		YAML::Node key;
		YAML::Node value;
	};
	using Entries = std::map<std::string, Entry>;
	// A rule word and the node it was written at.
	using Words = std::vector<std::pair<std::string, YAML::Node>>;

	Location loc(const YAML::Mark &m) const
	{
		// yaml-cpp leaves the mark unset for some synthesized nodes; 1:1 is the
		// least surprising fallback.
		if (m.is_null() || m.line < 0)
			return {file_, 1, 1};
		return {file_, m.line + 1, m.column + 1};
	}
	Location loc(const YAML::Node &n) const { return loc(n.Mark()); }

	// yaml-cpp marks an empty value (`key:` followed by a newline) at the next
	// token, which is usually the following line's key. Point at our own key
	// instead whenever the value did not start on the key's line.
	Location value_loc(const Entry &e) const
	{
		if (e.value.IsNull() && e.value.Mark().line != e.key.Mark().line)
			return loc(e.key);
		return loc(e.value);
	}

	void error(const Location &l, std::string msg)
	{
		diags_.push_back({Diagnostic::Severity::Error, l, std::move(msg)});
	}
	void warning(const Location &l, std::string msg)
	{
		diags_.push_back({Diagnostic::Severity::Warning, l, std::move(msg)});
	}

	// parse_yaml.cc
	Entries read_mapping(const YAML::Node &map, const char *what, const char *known);
	// A list entry that must be a mapping ("<what> must be a mapping with
	// keys: ..."): its entries, or nullopt.
	std::optional<Entries> entry_mapping(const YAML::Node &node, const char *what, const char *known);
	// Of two keys that exclude each other, the one written second.
	const Entry &later_of(const Entry &a, const Entry &b) const { return before(loc(a.key), loc(b.key)) ? b : a; }
	// A scalar or a non-empty list of anything; the error names `what`.
	std::optional<std::vector<YAML::Node>> items(const Entry &e, const std::string &what);
	std::optional<std::string> scalar(const Entry &e, const char *key);
	std::optional<Mode> parse_mode(const Entry &e);
	// `mode:` in `m`, if written and valid, overrides `mode`.
	void read_mode(const Entries &m, Mode &mode);
	bool check_identifier(const std::string &value, const Location &l, const char *what);
	std::optional<YAML::Node> load_document(const std::string &text);

	// parse_document.cc
	void parse_top_level(const YAML::Node &root, const Entries &e, FileResult &out);
	void parse_sections(const Entries &e, FileResult &out);
	template <typename Each> bool parse_list(const Entry &e, const char *what, Each each);
	template <typename T>
	void parse_entries(const Entry &e, const char *what,
			   std::optional<T> (Parser::*parse)(const YAML::Node &, Mode), std::vector<T> &into,
			   FileResult &out);
	void parse_extends(const Entry &e, FileResult &out);
	void parse_architectures(const Entry &e, Policy &p);
	void parse_scope(const Entry &e, Policy &p);
	void parse_defaults(const Entry &e, FileResult &out);

	// parse_rules.cc
	std::optional<Rule> parse_rule(const YAML::Node &node, Mode default_mode, std::map<std::string, int> &seen_ids,
				       Location &id_loc);
	void parse_rule_id(const YAML::Node &node, const Entries &e, Rule &rule, std::map<std::string, int> &seen_ids,
			   Location &id_loc);
	const Entry *rule_verb(const YAML::Node &node, const Entries &e, Rule &rule);
	Words parse_words(const Entry &e, const char *key);
	Words rule_words(const Entry *verb, const Rule &rule);
	std::optional<unsigned> classify_words(const Words &words, const Entry *verb, Rule &rule);
	std::set<std::string> rule_keys(const Entries &e, const Entry *verb, const Rule &rule,
					std::optional<unsigned> takes);
	void parse_rule_keys(const Entries &e, const std::set<std::string> &keys, Rule &rule);
	void layer_warnings(const Entries &e, const Words &words, const Rule &rule);

	// parse_targets.cc
	std::vector<PathSpec> parse_paths(const Entry &e, const std::string &rule_id, bool patterns);
	std::vector<int> parse_families(const Entry &e);
	std::vector<PortRange> parse_ports(const Entry &e);
	std::vector<Address> parse_addresses(const Entry &e);
	When parse_when(const Entry &e, const std::string &rule_id);
	std::vector<uint32_t> parse_uids(const Entry &e);
	static std::optional<std::string> path_problem(const std::string &path, PathSpec &out, bool patterns);

	// parse_escapes.cc
	std::optional<SyscallAction> parse_action(const Entry &e, bool allow_deny);
	std::optional<SyscallEntry> parse_syscall(const YAML::Node &node, Mode default_mode);
	bool parse_syscall_names(const YAML::Node &node, const Entries &m, SyscallEntry &s);
	bool parse_args(const Entry &e, SyscallEntry &s);
	std::optional<ArgCondition> parse_arg(const YAML::Node &node);
	bool parse_op(const YAML::Node &node, const Entries &m, ArgCondition &c);
	std::optional<uint64_t> parse_value(const Entry &e);
	std::optional<HookEntry> parse_hook(const YAML::Node &node, Mode default_mode);

	std::string file_;
	std::vector<Diagnostic> diags_;
};

// ------------------------------------------------------------ extends

// What an `extends:` entry resolved to; error is set instead on failure.
struct Source {
	std::string file;
	std::string text;
	std::string error;
};
using SourceFn = std::function<Source(const std::string &name, const std::string &from)>;

// Files relative to the naming file, bare names as bundled policies.
Source default_source(const std::string &name, const std::string &from);
SourceFn wrap(const ExtendsResolver &resolver);
bool read_text(const std::string &path, std::string &text, int &err);

class Loader {
public:
	explicit Loader(SourceFn source) : source_(std::move(source)) {}
	ParseResult run(const std::string &text, const std::string &file);

private:
	// extends.cc: loads `file` and everything it extends; nullopt if the
	// file itself had no usable top level.
	std::optional<FileResult> load(const std::string &text, const std::string &file);
	// The error for a base that cannot be merged (a cycle), or "".
	std::string cycle(const std::string &base_file) const;
	void merge(FileResult &into, FileResult &&from, bool from_base);
	void merge_rules(FileResult &into, FileResult &from);

	// validate.cc
	void check_whole(const FileResult &root);
	void check_allow_paths(const Policy &p);
	void check_allow_paths(const Policy &p, unsigned access, const char *what);
	void check_syscall_entries(const Policy &p);
	void sort_diagnostics();

	void error(const Location &l, std::string msg)
	{
		diags_.push_back({Diagnostic::Severity::Error, l, std::move(msg)});
	}
	void warning(const Location &l, std::string msg)
	{
		diags_.push_back({Diagnostic::Severity::Warning, l, std::move(msg)});
	}

	SourceFn source_;
	std::vector<std::pair<std::string, std::string>> stack_; // {normal key, display}
	std::set<std::string> loaded_;                           // a base reached twice (a diamond) is merged once
	std::vector<std::string> order_;                         // files in load order, for sorting diagnostics
	std::vector<Diagnostic> diags_;
};

} // namespace bulwark::policy::internal
