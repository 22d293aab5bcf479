// SPDX-License-Identifier: Apache-2.0
//
// A `rules:` entry: its id, its verb and words, which of the extra keys the
// words take, and what each layer can enforce of it.

#include <algorithm>

#include "policy/catalog.h"
#include "policy/parse_internal.h"

namespace bulwark::policy::internal {

namespace {

const char *const kRuleKeys = "id, deny, allow, paths, families, ports, addresses, when, mode";

bool has_error(std::vector<Diagnostic>::const_iterator from, std::vector<Diagnostic>::const_iterator to)
{
	return std::any_of(from, to, [](const Diagnostic &d) { return d.severity == Diagnostic::Severity::Error; });
}

} // namespace

std::optional<Rule> Parser::parse_rule(const YAML::Node &node, Mode default_mode, std::map<std::string, int> &seen_ids,
				       Location &id_loc)
{
	std::optional<Entries> mapping = entry_mapping(node, "rule", kRuleKeys);
	if (!mapping)
		return std::nullopt;
	const Entries &e = *mapping;

	Rule rule;
	rule.loc = loc(node);
	rule.mode = default_mode;
	id_loc = rule.loc;
	const std::size_t diags_before = diags_.size();

	parse_rule_id(node, e, rule, seen_ids, id_loc);
	read_mode(e, rule.mode);
	const Entry *verb = rule_verb(node, e, rule);
	const Words words = rule_words(verb, rule);
	const std::optional<unsigned> takes = classify_words(words, verb, rule);
	parse_rule_keys(e, rule_keys(e, verb, rule, takes), rule);

	// How a broken rule would be enforced is noise next to what breaks it.
	if (has_error(diags_.begin() + diags_before, diags_.end()))
		return rule;
	layer_warnings(e, words, rule);
	return rule;
}

void Parser::parse_rule_id(const YAML::Node &node, const Entries &e, Rule &rule, std::map<std::string, int> &seen_ids,
			   Location &id_loc)
{
	auto it = e.find("id");
	if (it == e.end()) {
		error(loc(node), "rule is missing required key 'id'");
		return;
	}
	auto id = scalar(it->second, "id");
	if (!id)
		return;
	id_loc = loc(it->second.value);
	if (check_identifier(*id, id_loc, "rule id")) {
		if (auto prev = seen_ids.find(*id); prev != seen_ids.end()) {
			error(id_loc, "duplicate rule id '" + *id + "' (first defined at line " +
					      std::to_string(prev->second) + ")");
		} else {
			seen_ids.emplace(*id, id_loc.line);
		}
	}
	rule.id = *id;
}

// The `deny:` or `allow:` entry (nullptr when neither or both are there);
// sets rule.verb.
const Parser::Entry *Parser::rule_verb(const YAML::Node &node, const Entries &e, Rule &rule)
{
	auto deny = e.find("deny");
	auto allow = e.find("allow");
	if (deny != e.end() && allow != e.end()) {
		error(loc(later_of(deny->second, allow->second).key), "a rule has either 'deny' or 'allow', not both");
		return nullptr;
	}
	if (deny != e.end())
		return &deny->second;
	if (allow != e.end()) {
		rule.verb = Verb::Allow;
		return &allow->second;
	}
	error(loc(node), "rule is missing required key 'deny' or 'allow' (rule words: " + word_list() + ")");
	return nullptr;
}

Parser::Words Parser::parse_words(const Entry &e, const char *key)
{
	Words out;
	auto list = items(e, "'" + std::string(key) + "' must be a rule word or a non-empty list of rule words (" +
				     word_list() + ")");
	if (!list)
		return out;
	std::set<std::string> seen;
	for (const auto &w : *list) {
		if (!w.IsScalar()) {
			error(loc(w), "rule word must be a string (expected one of: " + word_list() + ")");
			continue;
		}
		const std::string &word = w.Scalar();
		if (!seen.insert(word).second) {
			error(loc(w), "duplicate rule word '" + word + "'");
			continue;
		}
		if (!find_word(word)) {
			error(loc(w), "unknown rule word '" + word + "' (expected one of: " + word_list() + ")");
			continue;
		}
		out.emplace_back(word, w);
	}
	return out;
}

// The known words under the verb, without those the verb cannot take.
Parser::Words Parser::rule_words(const Entry *verb, const Rule &rule)
{
	Words words;
	if (verb)
		words = parse_words(*verb, rule.verb == Verb::Allow ? "allow" : "deny");
	if (rule.verb == Verb::Allow) {
		// An allow only means something against a default of deny, and the
		// file words are the only ones with such a default.
		auto keep = std::remove_if(words.begin(), words.end(), [&](const auto &w) {
			if (is_file_word(w.first))
				return false;
			error(loc(w.second), "'allow' only takes read, write or exec (found '" + w.first +
						     "'); other words are denied with 'deny'");
			return true;
		});
		words.erase(keep, words.end());
	}
	return words;
}

// Sets rule.words, access and kind. Returns what the words take together
// (WordTakes bits), or nullopt when there are none or they cannot share a
// rule: then it is unclear which extra keys belong.
std::optional<unsigned> Parser::classify_words(const Words &words, const Entry *verb, Rule &rule)
{
	const WordInfo *standalone = nullptr;
	const char *first_action = nullptr;
	bool any_file = false;
	unsigned takes = 0;
	for (const auto &[w, n] : words) {
		const WordInfo *info = find_word(w);
		takes |= info->takes;
		if (is_file_word(w)) {
			any_file = true;
			rule.access |= w == "read" ? AccessRead : w == "write" ? AccessWrite : AccessExec;
		} else {
			if (!first_action)
				first_action = info->name;
			if (info->takes != TakesNothing && !standalone)
				standalone = info;
		}
		rule.words.push_back(w);
	}
	rule.kind = any_file && !first_action ? RuleKind::File : RuleKind::Action;

	// Each word family is enforced by different hooks on different objects,
	// so a mixed rule would have no single meaning for its extra keys.
	if (words.empty())
		return std::nullopt;
	if (standalone && words.size() > 1) {
		error(loc(verb->value), "'" + std::string(standalone->name) + "' must be the only word in its rule");
		return std::nullopt;
	}
	if (any_file && first_action) {
		error(loc(verb->value),
		      "'" + std::string(first_action) + "' cannot be combined with read, write or exec in one rule");
		return std::nullopt;
	}
	return takes;
}

// The extra keys whose contents get checked; reports those the words do not
// take and those they need but lack.
std::set<std::string> Parser::rule_keys(const Entries &e, const Entry *verb, const Rule &rule,
					std::optional<unsigned> takes)
{
	struct Extra {
		const char *key;
		unsigned flag;
	};
	const Extra extras[] = {{"paths", TakesPaths},
				{"families", TakesFamilies},
				{"ports", TakesPorts},
				{"addresses", TakesAddresses}};
	std::set<std::string> parse;
	for (const auto &x : extras) {
		auto it = e.find(x.key);
		if (it == e.end())
			continue;
		// With bad or mixed words it is unclear which keys belong, but the
		// contents can still be checked.
		if (takes && !(*takes & x.flag)) {
			error(loc(it->second.key),
			      "'" + rule.words[0] + "' rules take no '" + std::string(x.key) + "'");
			continue;
		}
		parse.insert(x.key);
	}
	if (!takes)
		return parse;
	const Location at = loc(verb->value);
	if ((*takes & TakesPaths) && !e.count("paths")) {
		std::string allowed;
		for (const auto &w : rule.words)
			allowed += (allowed.empty() ? "" : ", ") + w;
		if (rule.words.size() > 1)
			allowed = "[" + allowed + "]";
		error(at, rule.verb == Verb::Allow ? "'allow: " + allowed + "' rules require 'paths'"
						   : "rules denying read, write or exec require 'paths'");
	}
	if ((*takes & TakesFamilies) && !e.count("families"))
		error(at, "'" + rule.words[0] + "' rules require 'families'");
	if ((*takes & TakesPorts) && !e.count("ports") && !e.count("addresses"))
		error(at, "'" + rule.words[0] + "' rules require 'ports' and/or 'addresses'");
	return parse;
}

void Parser::parse_rule_keys(const Entries &e, const std::set<std::string> &keys, Rule &rule)
{
	if (keys.count("paths"))
		rule.paths = parse_paths(e.at("paths"), rule.id, true);
	if (keys.count("families"))
		rule.families = parse_families(e.at("families"));
	if (keys.count("ports"))
		rule.ports = parse_ports(e.at("ports"));
	if (keys.count("addresses"))
		rule.addresses = parse_addresses(e.at("addresses"));
	if (auto it = e.find("when"); it != e.end())
		rule.when = parse_when(it->second, rule.id);
}

// What one layer cannot see of a valid rule, so that the author does not
// count on it there.
void Parser::layer_warnings(const Entries &e, const Words &words, const Rule &rule)
{
	for (const auto &[w, n] : words) {
		if (w == "connect" || w == "bind")
			warning(loc(n), "rule '" + rule.id + "': only the LSM layer can enforce '" + w +
						"' (seccomp cannot read the address)");
	}
	if (auto it = e.find("when"); it != e.end() && !rule.when.empty()) {
		const bool seccomp_side = std::any_of(words.begin(), words.end(), [](const auto &w) {
			return *find_word(w.first)->seccomp_how != '\0';
		});
		if (seccomp_side)
			warning(loc(it->second.key), "rule '" + rule.id +
							     "': seccomp cannot evaluate 'when:'; only the LSM "
							     "layer enforces this rule");
	}
}

} // namespace bulwark::policy::internal
