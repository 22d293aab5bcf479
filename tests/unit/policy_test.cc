// SPDX-License-Identifier: Apache-2.0

#include "policy/policy.h"

#include <gtest/gtest.h>

#include "policy/catalog.h"

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace bulwark::policy {
namespace {

// Lets tests write YAML starting on the line after R"( so that line numbers
// in expectations match what a reader counts.
std::string doc(const char *text)
{
	std::string s(text);
	if (!s.empty() && s[0] == '\n')
		s.erase(0, 1);
	return s;
}

std::vector<std::string> strs(const ParseResult &r)
{
	std::vector<std::string> out;
	for (const auto &d : r.diagnostics)
		out.push_back(d.str());
	return out;
}

// Every error test goes through here: exactly the given diagnostics, and an
// error must suppress the policy.
void expect_errors(const std::string &text, const std::vector<std::string> &expected)
{
	ParseResult r = parse_string(text, "t.yaml");
	EXPECT_EQ(strs(r), expected) << "input:\n" << text;
	EXPECT_FALSE(r.ok());
	EXPECT_FALSE(r.policy.has_value());
}

void expect_error(const std::string &text, const std::string &expected)
{
	expect_errors(text, {expected});
}

// A minimal valid policy with one rule whose body is given, indented under "- ".
std::string with_rule(const std::string &body)
{
	return "name: p\nrules:\n  - " + body;
}

const std::string kTopKeys = "name, mode, extends, architectures, default, rules, syscalls, hooks, scope";
const std::string kRuleKeys = "id, deny, allow, paths, families, ports, addresses, when, mode";
// The word list comes from the catalog, so messages follow it.
std::string words()
{
	return word_list();
}

std::string write_temp(const std::string &name, const std::string &content)
{
	std::string path = testing::TempDir() + name;
	std::ofstream(path) << content;
	return path;
}

// ---------------------------------------------------------------- success

TEST(PolicyParse, ExampleParsesToExpectedStructure)
{
	ParseResult r = parse_string(doc(R"(
name: demo
mode: enforce            # enforce | audit ; optional, default enforce
rules:
  - id: no-mount
    deny: mount
  - id: no-shadow
    deny: [read, write]
    paths: [/etc/shadow]
  - id: no-shell
    deny: exec
    paths: [/bin/sh]
    mode: audit          # optional per-rule override of the file's mode
)"),
				     "demo.yaml");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	EXPECT_TRUE(r.diagnostics.empty());
	ASSERT_TRUE(r.policy.has_value());
	const Policy &p = *r.policy;
	EXPECT_EQ(p.file, "demo.yaml");
	EXPECT_EQ(p.name, "demo");
	EXPECT_EQ(p.mode, Mode::Enforce);
	EXPECT_EQ(p.loc.line, 1);
	EXPECT_EQ(p.loc.col, 1);
	ASSERT_EQ(p.rules.size(), 3u);

	const Rule &mount = p.rules[0];
	EXPECT_EQ(mount.id, "no-mount");
	EXPECT_EQ(mount.kind, RuleKind::Action);
	EXPECT_EQ(mount.access, 0u);
	EXPECT_TRUE(mount.paths.empty());
	EXPECT_EQ(mount.mode, Mode::Enforce);
	EXPECT_EQ(mount.loc.file, "demo.yaml");
	EXPECT_EQ(mount.loc.line, 4);
	EXPECT_EQ(mount.loc.col, 5);

	const Rule &shadow = p.rules[1];
	EXPECT_EQ(shadow.id, "no-shadow");
	EXPECT_EQ(shadow.kind, RuleKind::File);
	EXPECT_EQ(shadow.access, AccessRead | AccessWrite);
	ASSERT_EQ(shadow.paths.size(), 1u);
	EXPECT_EQ(shadow.paths[0].path, "/etc/shadow");
	EXPECT_EQ(shadow.paths[0].loc.line, 8);
	EXPECT_EQ(shadow.paths[0].loc.col, 13);
	EXPECT_EQ(shadow.mode, Mode::Enforce);
	EXPECT_EQ(shadow.loc.line, 6);

	const Rule &shell = p.rules[2];
	EXPECT_EQ(shell.id, "no-shell");
	EXPECT_EQ(shell.kind, RuleKind::File);
	EXPECT_EQ(shell.access, static_cast<unsigned>(AccessExec));
	ASSERT_EQ(shell.paths.size(), 1u);
	EXPECT_EQ(shell.paths[0].path, "/bin/sh");
	EXPECT_EQ(shell.mode, Mode::Audit);
}

TEST(PolicyParse, ModeDefaultsToEnforce)
{
	ParseResult r = parse_string(with_rule("id: a\n    deny: mount\n"), "t.yaml");
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r.policy->mode, Mode::Enforce);
	EXPECT_EQ(r.policy->rules[0].mode, Mode::Enforce);
}

TEST(PolicyParse, FileModeIsInheritedAndOverridable)
{
	ParseResult r = parse_string(doc(R"(
name: p
mode: audit
rules:
  - id: a
    deny: mount
  - id: b
    deny: mount
    mode: enforce
)"),
				     "t.yaml");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	EXPECT_EQ(r.policy->mode, Mode::Audit);
	EXPECT_EQ(r.policy->rules[0].mode, Mode::Audit);
	EXPECT_EQ(r.policy->rules[1].mode, Mode::Enforce);
}

TEST(PolicyParse, AllAccessWordsAndScalarPaths)
{
	ParseResult r =
		parse_string(with_rule("id: a\n    deny: [exec, read, write]\n    paths: /usr/bin/x\n"), "t.yaml");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	const Rule &rule = r.policy->rules[0];
	EXPECT_EQ(rule.access, AccessRead | AccessWrite | AccessExec);
	ASSERT_EQ(rule.paths.size(), 1u);
	EXPECT_EQ(rule.paths[0].path, "/usr/bin/x");
	EXPECT_EQ(rule.paths[0].loc.line, 5);
	EXPECT_EQ(rule.paths[0].loc.col, 12);
}

TEST(PolicyParse, NamesMayUseFullAllowedAlphabetAndLimit)
{
	std::string name(64, 'n');
	name.replace(0, 8, "Az09._-x");
	ParseResult r = parse_string("name: " + name + "\nrules: []\n", "t.yaml");
	EXPECT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	EXPECT_EQ(r.policy->name, name);
}

TEST(PolicyParse, PathAtLengthLimitIsAccepted)
{
	std::string path = "/" + std::string(254, 'a');
	ParseResult r = parse_string(with_rule("id: a\n    deny: read\n    paths: [" + path + "]\n"), "t.yaml");
	EXPECT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
}

TEST(PolicyParse, DotsInsideComponentsAreFine)
{
	ParseResult r =
		parse_string(with_rule("id: a\n    deny: read\n    paths: [/a/.hidden, /b/..x, /c/x.]\n"), "t.yaml");
	EXPECT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	EXPECT_EQ(r.policy->rules[0].paths.size(), 3u);
}

// ---------------------------------------------------------------- warnings

TEST(PolicyWarnings, EmptyRulesIsAWarningNotAnError)
{
	ParseResult r = parse_string("name: p\nrules: []\n", "t.yaml");
	EXPECT_EQ(strs(r), std::vector<std::string>{"t.yaml:2:8: warning: policy has no rules"});
	EXPECT_TRUE(r.ok());
	ASSERT_TRUE(r.policy.has_value());
	EXPECT_TRUE(r.policy->rules.empty());
}

TEST(PolicyWarnings, DuplicatePathInRule)
{
	ParseResult r = parse_string(doc(R"(
name: p
rules:
  - id: a
    deny: read
    paths:
      - /etc/shadow
      - /etc/passwd
      - /etc/shadow
)"),
				     "t.yaml");
	EXPECT_EQ(strs(r), std::vector<std::string>{"t.yaml:8:9: warning: duplicate path '/etc/shadow' in rule "
						    "'a' (first listed at line 6)"});
	ASSERT_TRUE(r.ok());
	ASSERT_EQ(r.policy->rules[0].paths.size(), 2u);
}

TEST(PolicyWarnings, SamePathInDifferentRulesIsFine)
{
	ParseResult r = parse_string(doc(R"(
name: p
rules:
  - id: a
    deny: read
    paths: [/x]
  - id: b
    deny: write
    paths: [/x]
)"),
				     "t.yaml");
	EXPECT_TRUE(r.diagnostics.empty()) << ::testing::PrintToString(strs(r));
}

TEST(PolicyDiagnostic, StrFormat)
{
	Diagnostic e{Diagnostic::Severity::Error, {"f.yaml", 3, 7}, "bad"};
	Diagnostic w{Diagnostic::Severity::Warning, {"f.yaml", 3, 7}, "meh"};
	EXPECT_EQ(e.str(), "f.yaml:3:7: bad");
	EXPECT_EQ(w.str(), "f.yaml:3:7: warning: meh");
}

// ---------------------------------------------------------------- document shape

TEST(PolicyErrors, YamlSyntaxError)
{
	expect_error("name: p\nrules: [a,\nmode: audit\n", "t.yaml:4:1: end of sequence flow not found");
}

TEST(PolicyErrors, EmptyDocument)
{
	expect_error("", "t.yaml:1:1: policy is empty");
}

TEST(PolicyErrors, MultipleDocuments)
{
	expect_error("name: p\nrules: [{id: r, deny: mount}]\n---\nname: q\n",
		     "t.yaml:3:1: policy file must contain exactly one YAML document");
}

TEST(PolicyErrors, TopLevelNotMapping)
{
	expect_error("- name: p\n", "t.yaml:1:1: policy must be a mapping with keys: " + kTopKeys);
}

TEST(PolicyErrors, UnknownTopLevelKey)
{
	expect_error("name: p\nrulez: []\nrules: [{id: r, deny: mount}]\n",
		     "t.yaml:2:1: unknown top-level key 'rulez' (expected one of: " + kTopKeys + ")");
}

TEST(PolicyErrors, DuplicateKey)
{
	expect_error("name: p\nrules: [{id: r, deny: mount}]\nname: q\n",
		     "t.yaml:3:1: duplicate key 'name' (first defined at line 1)");
}

TEST(PolicyErrors, NonScalarKey)
{
	expect_error("name: p\nrules: [{id: r, deny: mount}]\n[a]: b\n",
		     "t.yaml:3:1: top-level keys must be plain strings");
}

// ---------------------------------------------------------------- name

TEST(PolicyErrors, MissingName)
{
	expect_error("mode: audit\nrules: [{id: r, deny: mount}]\n",
		     "t.yaml:1:1: policy is missing required key 'name'");
}

TEST(PolicyErrors, EmptyName)
{
	expect_error("name: ''\nrules: [{id: r, deny: mount}]\n", "t.yaml:1:7: 'name' must be a non-empty string");
}

TEST(PolicyErrors, NullNamePointsAtKey)
{
	expect_error("rules: [{id: r, deny: mount}]\nname:\n", "t.yaml:2:1: 'name' must be a non-empty string");
	expect_error("name:\nrules: [{id: r, deny: mount}]\n", "t.yaml:1:1: 'name' must be a non-empty string");
}

TEST(PolicyErrors, NameNotAString)
{
	expect_error("name: [a]\nrules: [{id: r, deny: mount}]\n", "t.yaml:1:7: 'name' must be a non-empty string");
}

TEST(PolicyErrors, NameBadCharacters)
{
	expect_error("name: my policy\nrules: [{id: r, deny: mount}]\n",
		     "t.yaml:1:7: invalid policy name 'my policy' (allowed characters: A-Z a-z 0-9 . _ "
		     "-)");
	expect_error("name: a/b\nrules: [{id: r, deny: mount}]\n",
		     "t.yaml:1:7: invalid policy name 'a/b' (allowed characters: A-Z a-z 0-9 . _ -)");
}

TEST(PolicyErrors, NameTooLong)
{
	expect_error("name: " + std::string(65, 'n') + "\nrules: [{id: r, deny: mount}]\n",
		     "t.yaml:1:7: policy name is 65 characters long (limit is 64)");
}

// ---------------------------------------------------------------- mode

TEST(PolicyErrors, InvalidTopLevelMode)
{
	expect_error("name: p\nmode: Enforce\nrules: [{id: r, deny: mount}]\n",
		     "t.yaml:2:7: invalid mode 'Enforce' (expected one of: enforce, audit)");
}

TEST(PolicyErrors, ModeNotAScalar)
{
	expect_error("name: p\nmode: [audit]\nrules: [{id: r, deny: mount}]\n",
		     "t.yaml:2:7: 'mode' must be one of: enforce, audit");
}

TEST(PolicyErrors, InvalidRuleMode)
{
	expect_error(with_rule("id: a\n    deny: mount\n    mode: warn\n"),
		     "t.yaml:5:11: invalid mode 'warn' (expected one of: enforce, audit)");
}

// ---------------------------------------------------------------- rules list

// 'rules' became optional when extends/syscalls/hooks could carry the content.
TEST(PolicyWarnings, MissingRulesIsAWarning)
{
	ParseResult r = parse_string("name: p\n", "t.yaml");
	EXPECT_EQ(strs(r), std::vector<std::string>{"t.yaml:1:1: warning: policy has no rules"});
	EXPECT_TRUE(r.policy.has_value());
}

TEST(PolicyErrors, RulesNotASequence)
{
	expect_error("name: p\nrules: {id: a}\n", "t.yaml:2:8: 'rules' must be a list of rules");
	expect_error("name: p\nrules:\n", "t.yaml:2:1: 'rules' must be a list of rules");
}

TEST(PolicyErrors, RuleNotAMapping)
{
	expect_error("name: p\nrules:\n  - mount\n", "t.yaml:3:5: rule must be a mapping with keys: " + kRuleKeys);
}

TEST(PolicyErrors, UnknownRuleKey)
{
	expect_error(with_rule("id: a\n    deny: mount\n    path: [/x]\n"),
		     "t.yaml:5:5: unknown rule key 'path' (expected one of: " + kRuleKeys + ")");
}

// ---------------------------------------------------------------- id

TEST(PolicyErrors, MissingId)
{
	expect_error(with_rule("deny: mount\n"), "t.yaml:3:5: rule is missing required key 'id'");
}

TEST(PolicyErrors, EmptyId)
{
	expect_error(with_rule("id: \"\"\n    deny: mount\n"), "t.yaml:3:9: 'id' must be a non-empty string");
}

TEST(PolicyErrors, IdBadCharacters)
{
	expect_error(with_rule("id: no mount!\n    deny: mount\n"),
		     "t.yaml:3:9: invalid rule id 'no mount!' (allowed characters: A-Z a-z 0-9 . _ -)");
}

TEST(PolicyErrors, IdTooLong)
{
	expect_error(with_rule("id: " + std::string(65, 'i') + "\n    deny: mount\n"),
		     "t.yaml:3:9: rule id is 65 characters long (limit is 64)");
}

TEST(PolicyErrors, DuplicateId)
{
	expect_error(doc(R"(
name: p
rules:
  - id: same
    deny: mount
  - id: other
    deny: mount
  - id: same
    deny: mount
)"),
		     "t.yaml:7:9: duplicate rule id 'same' (first defined at line 3)");
}

// ---------------------------------------------------------------- deny

TEST(PolicyErrors, MissingDeny)
{
	expect_error(with_rule("id: a\n    paths: [/x]\n"),
		     "t.yaml:3:5: rule is missing required key 'deny' or 'allow' (rule words: " + words() + ")");
}

TEST(PolicyErrors, DenyEmptyList)
{
	expect_error(with_rule("id: a\n    deny: []\n"),
		     "t.yaml:4:11: 'deny' must be a rule word or a non-empty list of rule words (" + words() + ")");
}

TEST(PolicyErrors, UnknownRuleWord)
{
	expect_error(doc(R"(
name: p
rules:
  - id: a
    deny: read
    paths: [/x]
  - id: b
    deny: [mnt]
)"),
		     "t.yaml:7:12: unknown rule word 'mnt' (expected one of: " + words() + ")");
}

TEST(PolicyErrors, UnknownRuleWordAsScalar)
{
	expect_error(with_rule("id: a\n    deny: execute\n    paths: [/x]\n"),
		     "t.yaml:4:11: unknown rule word 'execute' (expected one of: " + words() + ")");
}

TEST(PolicyErrors, DuplicateRuleWord)
{
	expect_error(with_rule("id: a\n    deny: [read, write, read]\n    paths: [/x]\n"),
		     "t.yaml:4:25: duplicate rule word 'read'");
}

TEST(PolicyErrors, RuleWordNotAString)
{
	expect_error(with_rule("id: a\n    deny: [read, [write]]\n    paths: [/x]\n"),
		     "t.yaml:4:18: rule word must be a string (expected one of: " + words() + ")");
}

TEST(PolicyErrors, MountCombinedWithFileAccess)
{
	expect_error(with_rule("id: a\n    deny: [mount, exec]\n    paths: [/x]\n"),
		     "t.yaml:4:11: 'mount' cannot be combined with read, write or exec in one rule");
}

TEST(PolicyErrors, MountWithPaths)
{
	expect_error(with_rule("id: a\n    deny: mount\n    paths: [/mnt]\n"),
		     "t.yaml:5:5: 'mount' rules take no 'paths'");
}

TEST(PolicyErrors, FileRuleWithoutPaths)
{
	expect_error(with_rule("id: a\n    deny: [read, exec]\n"),
		     "t.yaml:4:11: rules denying read, write or exec require 'paths'");
}

// ---------------------------------------------------------------- paths list

TEST(PolicyErrors, PathsEmptyList)
{
	expect_error(with_rule("id: a\n    deny: read\n    paths: []\n"),
		     "t.yaml:5:12: 'paths' must be a path or a non-empty list of paths");
}

TEST(PolicyErrors, PathsNull)
{
	expect_error(with_rule("id: a\n    paths:\n    deny: read\n"),
		     "t.yaml:4:5: 'paths' must be a path or a non-empty list of paths");
}

TEST(PolicyErrors, PathsMapping)
{
	expect_error(with_rule("id: a\n    deny: read\n    paths: {a: b}\n"),
		     "t.yaml:5:12: 'paths' must be a path or a non-empty list of paths");
}

TEST(PolicyErrors, PathItemNotAString)
{
	expect_error(with_rule("id: a\n    deny: read\n    paths: [/ok, [/nested]]\n"),
		     "t.yaml:5:18: path must be a string");
}

// ---------------------------------------------------------------- individual paths

// Each bad path sits in the same spot, so the location is fixed at 5:13
// (after "    paths: [") and only the message varies.
void expect_path_error(const std::string &yaml_path, const std::string &message)
{
	expect_error(with_rule("id: a\n    deny: read\n    paths: [" + yaml_path + "]\n"), "t.yaml:5:13: " + message);
}

TEST(PathErrors, Empty)
{
	expect_path_error("''", "path is empty");
}

TEST(PathErrors, Relative)
{
	expect_path_error("etc/shadow", "path 'etc/shadow' is not absolute");
	expect_path_error("./x", "path './x' is not absolute");
	expect_path_error("'~/x'", "path '~/x' is not absolute");
}

TEST(PathErrors, Root)
{
	expect_path_error("/", "path '/' is the root directory, not a file");
}

TEST(PathErrors, TrailingSlash)
{
	expect_path_error("/etc/", "path '/etc/' has a trailing '/'");
}

TEST(PathErrors, EmptyComponent)
{
	expect_path_error("/etc//shadow", "path '/etc//shadow' has an empty component ('//')");
	expect_path_error("//etc", "path '//etc' has an empty component ('//')");
}

TEST(PathErrors, DotComponent)
{
	expect_path_error("/etc/./shadow", "path '/etc/./shadow' has a '.' component");
	expect_path_error("/etc/.", "path '/etc/.' has a '.' component");
}

TEST(PathErrors, DotDotComponent)
{
	expect_path_error("/etc/../shadow", "path '/etc/../shadow' has a '..' component");
	expect_path_error("/..", "path '/..' has a '..' component");
}

TEST(PathErrors, NulCharacter)
{
	expect_path_error("\"/etc/sh\\0adow\"", "path contains a NUL or newline character");
}

TEST(PathErrors, NewlineCharacter)
{
	expect_path_error("\"/etc/sh\\nadow\"", "path contains a NUL or newline character");
}

TEST(PathErrors, TooLong)
{
	expect_path_error("/" + std::string(255, 'a'), "path is 256 bytes long (limit is 255)");
}

TEST(PathErrors, UnsupportedGlobCharacters)
{
	expect_path_error("'/etc/sh?dow'", "path patterns: only '*' and a final '/**' are supported "
					   "(found '?' in '/etc/sh?dow')");
	expect_path_error("'/dev/tty[0-9]'", "path patterns: only '*' and a final '/**' are supported "
					     "(found '[' in '/dev/tty[0-9]')");
}

TEST(PathErrors, ScalarPathIsValidatedToo)
{
	expect_error(with_rule("id: a\n    deny: read\n    paths: etc/shadow\n"),
		     "t.yaml:5:12: path 'etc/shadow' is not absolute");
}

// ---------------------------------------------------------------- aggregation

TEST(PolicyErrors, AllErrorsCollectedInOnePass)
{
	ParseResult r = parse_string(doc(R"(
name: bad name
mode: strict
colour: blue
rules:
  - id: a
    deny: [read, mnt]
    paths: [/etc/shadow, relative, /etc/shadow]
  - id: a
    deny: mount
    paths: [/mnt]
  - deny: exec
)"),
				     "t.yaml");
	EXPECT_EQ(strs(r), (std::vector<std::string>{
				   "t.yaml:1:7: invalid policy name 'bad name' (allowed characters: A-Z a-z 0-9 . _ "
				   "-)",
				   "t.yaml:2:7: invalid mode 'strict' (expected one of: enforce, audit)",
				   "t.yaml:3:1: unknown top-level key 'colour' (expected one of: " + kTopKeys + ")",
				   "t.yaml:6:18: unknown rule word 'mnt' (expected one of: " + words() + ")",
				   "t.yaml:7:26: path 'relative' is not absolute",
				   "t.yaml:7:36: warning: duplicate path '/etc/shadow' in rule 'a' (first listed "
				   "at line 7)",
				   "t.yaml:8:9: duplicate rule id 'a' (first defined at line 5)",
				   "t.yaml:10:5: 'mount' rules take no 'paths'",
				   "t.yaml:11:5: rule is missing required key 'id'",
				   "t.yaml:11:11: rules denying read, write or exec require 'paths'",
			   }));
	EXPECT_FALSE(r.ok());
	EXPECT_FALSE(r.policy.has_value());
}

TEST(PolicyErrors, WarningsAloneKeepThePolicy)
{
	ParseResult r = parse_string(
		with_rule("id: a\n    deny: read\n    paths: [/x, /x]\n  - id: b\n    deny: read\n"), "t.yaml");
	// The duplicate-path warning must not mask the error in rule b.
	EXPECT_EQ(strs(r), (std::vector<std::string>{
				   "t.yaml:5:17: warning: duplicate path '/x' in rule 'a' (first listed at line 5)",
				   "t.yaml:7:11: rules denying read, write or exec require 'paths'",
			   }));
	EXPECT_FALSE(r.policy.has_value());
}

// ---------------------------------------------------------------- files

TEST(PolicyFile, MissingFile)
{
	const std::string path = testing::TempDir() + "bulwark-no-such-policy.yaml";
	std::remove(path.c_str());
	ParseResult r = parse_file(path);
	EXPECT_EQ(strs(r), std::vector<std::string>{path + ":1:1: cannot read policy: No such file or "
							   "directory"});
	EXPECT_FALSE(r.policy.has_value());
}

TEST(PolicyFile, DirectoryIsUnreadable)
{
	std::string dir = testing::TempDir();
	if (dir.size() > 1 && dir.back() == '/')
		dir.pop_back();
	ParseResult r = parse_file(dir);
	EXPECT_EQ(strs(r), std::vector<std::string>{dir + ":1:1: cannot read policy: Is a directory"});
	EXPECT_FALSE(r.policy.has_value());
}

TEST(PolicyFile, ReadsAndReportsWithItsPath)
{
	const std::string path =
		write_temp("bulwark-policy-test.yaml", "name: f\nrules:\n  - id: m\n    deny: mount\n");
	ParseResult r = parse_file(path);
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	EXPECT_EQ(r.policy->file, path);
	EXPECT_EQ(r.policy->name, "f");
	EXPECT_EQ(r.policy->rules[0].loc.file, path);

	const std::string bad = write_temp("bulwark-policy-bad.yaml", "name: f\nmode: x\nrules: []\n");
	ParseResult rb = parse_file(bad);
	ASSERT_EQ(rb.diagnostics.size(), 2u);
	EXPECT_EQ(rb.diagnostics[0].str(), bad + ":2:7: invalid mode 'x' (expected one of: enforce, audit)");
	std::remove(path.c_str());
	std::remove(bad.c_str());
}

// ================================================================ full language

void expect_diags(const std::string &text, const std::vector<std::string> &expected)
{
	ParseResult r = parse_string(text, "t.yaml");
	EXPECT_EQ(strs(r), expected) << "input:\n" << text;
	EXPECT_TRUE(r.ok());
	EXPECT_TRUE(r.policy.has_value());
}

Policy parse_ok(const std::string &text)
{
	ParseResult r = parse_string(text, "t.yaml");
	EXPECT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	return r.policy.value_or(Policy{});
}

// ---------------------------------------------------------------- rule words

TEST(PolicyLanguage, ActionWordsCombine)
{
	Policy p = parse_ok(with_rule("id: a\n    deny: [raw-sockets, ptrace, bpf]\n"));
	ASSERT_EQ(p.rules.size(), 1u);
	EXPECT_EQ(p.rules[0].kind, RuleKind::Action);
	EXPECT_EQ(p.rules[0].verb, Verb::Deny);
	EXPECT_EQ(p.rules[0].words, (std::vector<std::string>{"raw-sockets", "ptrace", "bpf"}));
	EXPECT_EQ(p.rules[0].access, 0u);
}

TEST(PolicyLanguage, AllowReadAndWriteBuildAllowLists)
{
	ParseResult r = parse_string(doc(R"(
name: p
default: {read: deny, write: deny, exec: deny}
rules:
  - id: runtime
    allow: [read, exec]
    paths: ["/usr/**", /etc/ld.so.cache, "/opt/*/lib"]
  - id: out
    allow: write
    paths: ["/tmp/**"]
)"),
				     "t.yaml");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	EXPECT_TRUE(r.diagnostics.empty()) << ::testing::PrintToString(strs(r));
	const Policy &p = *r.policy;
	EXPECT_TRUE(p.defaults.read_deny);
	EXPECT_TRUE(p.defaults.write_deny);
	EXPECT_TRUE(p.defaults.exec_deny);
	EXPECT_EQ(p.defaults.deny_access(), static_cast<unsigned>(AccessRead | AccessWrite | AccessExec));
	ASSERT_EQ(p.rules.size(), 2u);
	EXPECT_EQ(p.rules[0].verb, Verb::Allow);
	EXPECT_EQ(p.rules[0].kind, RuleKind::File);
	EXPECT_EQ(p.rules[0].access, static_cast<unsigned>(AccessRead | AccessExec));
	ASSERT_EQ(p.rules[0].paths.size(), 3u);
	EXPECT_EQ(p.rules[0].paths[0].kind, PathKind::Subtree);
	EXPECT_EQ(p.rules[0].paths[2].kind, PathKind::Glob);
	EXPECT_EQ(p.rules[1].access, static_cast<unsigned>(AccessWrite));

	// Each default on its own; `allow` leaves the others alone.
	ParseResult w = parse_string("name: p\ndefault: {write: deny}\nrules: [{id: a, allow: write, paths: [/x]}]\n",
				     "t.yaml");
	ASSERT_TRUE(w.ok()) << ::testing::PrintToString(strs(w));
	EXPECT_TRUE(w.diagnostics.empty()) << ::testing::PrintToString(strs(w));
	EXPECT_EQ(w.policy->defaults.deny_access(), static_cast<unsigned>(AccessWrite));
	// An allow-list alone is a policy: no "policy has no rules".
	ParseResult only = parse_string("name: p\ndefault: {read: deny}\n", "t.yaml");
	ASSERT_TRUE(only.ok());
	EXPECT_TRUE(only.diagnostics.empty()) << ::testing::PrintToString(strs(only));
}

TEST(PolicyLanguage, AllowExecBuildsAnAllowList)
{
	ParseResult r = parse_string(doc(R"(
name: p
default: {exec: deny}
rules:
  - id: bins
    allow: exec
    paths: ["/usr/bin/**", /bin/busybox, "/opt/*/bin/tool"]
)"),
				     "t.yaml");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	EXPECT_TRUE(r.diagnostics.empty()) << ::testing::PrintToString(strs(r));
	const Policy &p = *r.policy;
	EXPECT_TRUE(p.defaults.exec_deny);
	EXPECT_FALSE(p.defaults.syscalls_set);
	const Rule &rule = p.rules[0];
	EXPECT_EQ(rule.verb, Verb::Allow);
	EXPECT_EQ(rule.kind, RuleKind::File);
	EXPECT_EQ(rule.access, static_cast<unsigned>(AccessExec));
	EXPECT_EQ(rule.words, std::vector<std::string>{"exec"});
	ASSERT_EQ(rule.paths.size(), 3u);
	EXPECT_EQ(rule.paths[0].path, "/usr/bin");
	EXPECT_EQ(rule.paths[0].kind, PathKind::Subtree);
	EXPECT_EQ(rule.paths[1].path, "/bin/busybox");
	EXPECT_EQ(rule.paths[1].kind, PathKind::Exact);
	EXPECT_EQ(rule.paths[2].path, "/opt/*/bin/tool");
	EXPECT_EQ(rule.paths[2].kind, PathKind::Glob);
}

TEST(PolicyLanguage, PathKinds)
{
	Policy p = parse_ok(
		with_rule("id: a\n    deny: read\n    paths: [/etc/shadow, \"/srv/secret/**\", \"/home/*/.ssh/id_*\", "
			  "\"/*\"]\n"));
	const auto &paths = p.rules[0].paths;
	ASSERT_EQ(paths.size(), 4u);
	EXPECT_EQ(paths[0].kind, PathKind::Exact);
	EXPECT_EQ(paths[1].path, "/srv/secret");
	EXPECT_EQ(paths[1].kind, PathKind::Subtree);
	EXPECT_EQ(paths[1].loc.col, 26);
	EXPECT_EQ(paths[2].path, "/home/*/.ssh/id_*");
	EXPECT_EQ(paths[2].kind, PathKind::Glob);
	EXPECT_EQ(paths[3].kind, PathKind::Glob);
}

TEST(PolicyLanguage, SocketFamilies)
{
	Policy p = parse_ok(with_rule("id: a\n    deny: socket\n    families: [packet, netlink, \"bluetooth\", "
				      "INET6, decnet, 45, 0]\n"));
	EXPECT_EQ(p.rules[0].families, (std::vector<int>{17, 16, 31, 10, 12, 45, 0}));
	EXPECT_EQ(p.rules[0].kind, RuleKind::Action);
}

TEST(PolicyLanguage, ConnectPortsAndAddresses)
{
	ParseResult r = parse_string(with_rule("id: c\n    deny: connect\n    ports: [22, \"6000-6010\"]\n"
					       "    addresses: [10.0.0.0/8, \"::1\", 192.168.1.10]\n"),
				     "t.yaml");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	const Rule &rule = r.policy->rules[0];
	ASSERT_EQ(rule.ports.size(), 2u);
	EXPECT_EQ(rule.ports[0].lo, 22);
	EXPECT_EQ(rule.ports[0].hi, 22);
	EXPECT_EQ(rule.ports[1].lo, 6000);
	EXPECT_EQ(rule.ports[1].hi, 6010);
	EXPECT_EQ(rule.ports[1].loc.col, 17);
	ASSERT_EQ(rule.addresses.size(), 3u);
	EXPECT_EQ(rule.addresses[0].family, AF_INET);
	EXPECT_EQ(rule.addresses[0].prefix, 8);
	EXPECT_EQ(rule.addresses[0].bytes[0], 10);
	EXPECT_EQ(rule.addresses[0].text, "10.0.0.0/8");
	EXPECT_EQ(rule.addresses[1].family, AF_INET6);
	EXPECT_EQ(rule.addresses[1].prefix, 128);
	EXPECT_EQ(rule.addresses[1].bytes[15], 1);
	EXPECT_EQ(rule.addresses[2].prefix, 32);
	EXPECT_EQ(rule.addresses[2].bytes[3], 10);
	EXPECT_EQ(strs(r), std::vector<std::string>{"t.yaml:4:11: warning: rule 'c': only the LSM layer can enforce "
						    "'connect' (seccomp cannot read the address)"});
}

TEST(PolicyLanguage, BindTakesPortsAlone)
{
	Policy p = parse_ok(with_rule("id: b\n    deny: bind\n    ports: 1-1023\n"));
	EXPECT_EQ(p.rules[0].ports[0].lo, 1);
	EXPECT_EQ(p.rules[0].ports[0].hi, 1023);
	EXPECT_TRUE(p.rules[0].addresses.empty());
}

TEST(PolicyLanguage, AddressHostBitsAreMaskedWithAWarning)
{
	ParseResult r = parse_string(with_rule("id: c\n    deny: connect\n    addresses: [10.1.2.3/8]\n"), "t.yaml");
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r.policy->rules[0].addresses[0].bytes[1], 0);
	EXPECT_EQ(strs(r)[1], "t.yaml:5:17: warning: address '10.1.2.3/8' has bits set beyond its /8 "
			      "prefix; they are ignored");
}

TEST(PolicyLanguage, WhenConditions)
{
	ParseResult r = parse_string(doc(R"(
name: p
rules:
  - id: nginx-no-shell
    deny: exec
    paths: [/bin/sh]
    when:
      parent_exe: /usr/sbin/nginx
      exe: [/usr/bin/a, /usr/bin/b]
      uid: [0, 4294967294]
      cgroup: /system.slice/nginx.service
    mode: audit
)"),
				     "t.yaml");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	// File words have no seccomp side, so `when:` costs nothing there.
	EXPECT_TRUE(r.diagnostics.empty()) << ::testing::PrintToString(strs(r));
	const Rule &rule = r.policy->rules[0];
	ASSERT_EQ(rule.when.parent_exe.size(), 1u);
	EXPECT_EQ(rule.when.parent_exe[0].path, "/usr/sbin/nginx");
	EXPECT_EQ(rule.when.parent_exe[0].loc.line, 7);
	ASSERT_EQ(rule.when.exe.size(), 2u);
	EXPECT_EQ(rule.when.exe[1].path, "/usr/bin/b");
	EXPECT_EQ(rule.when.uid, (std::vector<uint32_t>{0, 4294967294u}));
	EXPECT_EQ(rule.when.cgroup, std::vector<std::string>{"/system.slice/nginx.service"});
	EXPECT_EQ(rule.when.loc.line, 7);
	EXPECT_EQ(rule.mode, Mode::Audit);
}

TEST(PolicyLanguage, ScalarUid)
{
	Policy p = parse_ok(with_rule("id: a\n    deny: ptrace\n    when: {uid: 1000}\n"));
	EXPECT_EQ(p.rules[0].when.uid, std::vector<uint32_t>{1000});
}

// ---------------------------------------------------------------- top-level keys

TEST(PolicyLanguage, ArchitecturesDefaultAndUnion)
{
	EXPECT_EQ(parse_ok(with_rule("id: a\n    deny: bpf\n")).architectures, std::vector<std::string>{"x86_64"});
	Policy p = parse_ok("name: p\narchitectures: [x32, x86]\nrules: [{id: a, deny: bpf}]\n");
	EXPECT_EQ(p.architectures, (std::vector<std::string>{"x86_64", "x32", "x86"}));
}

TEST(PolicyLanguage, Defaults)
{
	Policy p = parse_ok("name: p\ndefault: {syscalls: deny, exec: allow}\nhooks: [{hook: syslog}]\n");
	EXPECT_TRUE(p.defaults.syscalls_set);
	EXPECT_EQ(p.defaults.syscalls.kind, SyscallActionKind::Errno);
	EXPECT_EQ(p.defaults.syscalls.errno_value, EPERM);
	EXPECT_FALSE(p.defaults.exec_deny);
	EXPECT_EQ(p.defaults.loc.line, 2);
	struct {
		const char *text;
		SyscallActionKind kind;
		int err;
	} cases[] = {{"allow", SyscallActionKind::Allow, 0},
		     {"errno(ENOSYS)", SyscallActionKind::Errno, ENOSYS},
		     {"kill-process", SyscallActionKind::KillProcess, 0},
		     {"kill-thread", SyscallActionKind::KillThread, 0},
		     {"log", SyscallActionKind::Log, 0},
		     {"trap", SyscallActionKind::Trap, 0}};
	for (const auto &c : cases) {
		Policy q = parse_ok(std::string("name: p\ndefault: {syscalls: ") + c.text + "}\n");
		EXPECT_EQ(q.defaults.syscalls.kind, c.kind) << c.text;
		EXPECT_EQ(q.defaults.syscalls.errno_value, c.err) << c.text;
	}
}

TEST(PolicyLanguage, SyscallEntries)
{
	ParseResult r = parse_string(doc(R"(
name: p
mode: audit
syscalls:
  - names: [personality, acct]
    action: errno(EPERM)
  - name: clone
    action: kill-process
    args:
      - {index: 0, op: masked-eq, mask: CLONE_NEWUSER, value: CLONE_NEWUSER}
      - {index: 1, op: ne, value: 0x10}
      - {index: 5, op: ge, value: "O_WRONLY | O_CREAT"}
    mode: enforce
  - names: openat
    action: log
)"),
				     "t.yaml");
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	EXPECT_TRUE(r.diagnostics.empty()) << ::testing::PrintToString(strs(r));
	const auto &s = r.policy->syscalls;
	ASSERT_EQ(s.size(), 3u);
	EXPECT_EQ(s[0].names, (std::vector<std::string>{"personality", "acct"}));
	EXPECT_EQ(s[0].action.kind, SyscallActionKind::Errno);
	EXPECT_EQ(s[0].action.errno_value, EPERM);
	EXPECT_EQ(s[0].mode, Mode::Audit);
	EXPECT_EQ(s[0].loc.line, 4);
	EXPECT_EQ(s[1].names, std::vector<std::string>{"clone"});
	EXPECT_EQ(s[1].action.kind, SyscallActionKind::KillProcess);
	EXPECT_EQ(s[1].mode, Mode::Enforce);
	ASSERT_EQ(s[1].args.size(), 3u);
	EXPECT_EQ(s[1].args[0].op, ArgOp::MaskedEq);
	EXPECT_EQ(s[1].args[0].mask, 0x10000000u);
	EXPECT_EQ(s[1].args[0].value, 0x10000000u);
	EXPECT_EQ(s[1].args[1].index, 1u);
	EXPECT_EQ(s[1].args[1].op, ArgOp::Ne);
	EXPECT_EQ(s[1].args[1].value, 0x10u);
	EXPECT_EQ(s[1].args[2].index, 5u);
	EXPECT_EQ(s[1].args[2].op, ArgOp::Ge);
	EXPECT_EQ(s[1].args[2].value, 01u | 0100u);
	EXPECT_EQ(s[1].args[2].loc.line, 11);
	EXPECT_EQ(s[2].action.kind, SyscallActionKind::Log);
}

TEST(PolicyLanguage, ArgOps)
{
	const std::pair<const char *, ArgOp> ops[] = {{"eq", ArgOp::Eq}, {"ne", ArgOp::Ne}, {"lt", ArgOp::Lt},
						      {"le", ArgOp::Le}, {"gt", ArgOp::Gt}, {"ge", ArgOp::Ge}};
	for (const auto &[name, op] : ops) {
		Policy p = parse_ok(std::string("name: p\nsyscalls: [{name: kill, action: allow, args: "
						"[{index: 0, op: ") +
				    name + ", value: 18446744073709551615}]}]\n");
		ASSERT_EQ(p.syscalls.size(), 1u) << name;
		EXPECT_EQ(p.syscalls[0].args[0].op, op);
		EXPECT_EQ(p.syscalls[0].args[0].value, UINT64_MAX);
	}
}

TEST(PolicyLanguage, Hooks)
{
	Policy p = parse_ok(doc(R"(
name: p
hooks:
  - hook: syslog
  - hook: settime
    errno: EACCES
    id: no-clock
    mode: audit
)"));
	ASSERT_EQ(p.hooks.size(), 2u);
	EXPECT_EQ(p.hooks[0].hook, "syslog");
	EXPECT_EQ(p.hooks[0].errno_value, EPERM);
	EXPECT_EQ(p.hooks[0].id, "hook:syslog");
	EXPECT_EQ(p.hooks[0].mode, Mode::Enforce);
	EXPECT_EQ(p.hooks[0].loc.line, 3);
	EXPECT_EQ(p.hooks[1].errno_value, EACCES);
	EXPECT_EQ(p.hooks[1].id, "no-clock");
	EXPECT_EQ(p.hooks[1].mode, Mode::Audit);
}

TEST(PolicyLanguage, EveryEscapeHookIsAccepted)
{
	for (const char *h : lsm_escape_hooks())
		EXPECT_EQ(parse_ok(std::string("name: p\nhooks: [{hook: ") + h + "}]\n").hooks.size(), 1u) << h;
}

// ---------------------------------------------------------------- rule errors

TEST(LanguageErrors, DenyAndAllowTogether)
{
	expect_error(with_rule("id: a\n    deny: exec\n    allow: exec\n    paths: [/x]\n"),
		     "t.yaml:5:5: a rule has either 'deny' or 'allow', not both");
}

TEST(LanguageErrors, AllowTakesOnlyFileWords)
{
	expect_error("name: p\ndefault: {exec: deny}\nrules:\n  - id: a\n    allow: [exec, mount]\n"
		     "    paths: [/x]\n",
		     "t.yaml:5:19: 'allow' only takes read, write or exec (found 'mount'); other words are "
		     "denied with 'deny'");
}

TEST(LanguageErrors, StandaloneWordsStandAlone)
{
	expect_error(with_rule("id: a\n    deny: [socket, ptrace]\n    families: [packet]\n"),
		     "t.yaml:4:11: 'socket' must be the only word in its rule");
	expect_error(with_rule("id: a\n    deny: [read, connect]\n    paths: [/x]\n"),
		     "t.yaml:4:11: 'connect' must be the only word in its rule");
}

TEST(LanguageErrors, ActionWordsDoNotMixWithFileWords)
{
	expect_error(with_rule("id: a\n    deny: [read, bpf]\n    paths: [/x]\n"),
		     "t.yaml:4:11: 'bpf' cannot be combined with read, write or exec in one rule");
}

TEST(LanguageErrors, RequiredKeysByWord)
{
	expect_error(with_rule("id: a\n    deny: socket\n"), "t.yaml:4:11: 'socket' rules require 'families'");
	expect_error(with_rule("id: a\n    deny: bind\n"),
		     "t.yaml:4:11: 'bind' rules require 'ports' and/or 'addresses'");
	expect_error("name: p\ndefault: {exec: deny}\nrules: [{id: a, allow: exec}]\n",
		     "t.yaml:3:24: 'allow: exec' rules require 'paths'");
	expect_error("name: p\ndefault: {read: deny, write: deny}\nrules: [{id: a, allow: [read, write]}]\n",
		     "t.yaml:3:24: 'allow: [read, write]' rules require 'paths'");
}

TEST(LanguageErrors, KeysAWordDoesNotTake)
{
	expect_error(with_rule("id: a\n    deny: ptrace\n    families: [inet]\n"),
		     "t.yaml:5:5: 'ptrace' rules take no 'families'");
	expect_error(with_rule("id: a\n    deny: read\n    paths: [/x]\n    ports: [22]\n"),
		     "t.yaml:6:5: 'read' rules take no 'ports'");
	expect_error(with_rule("id: a\n    deny: socket\n    families: [inet]\n    addresses: [::1]\n"),
		     "t.yaml:6:5: 'socket' rules take no 'addresses'");
	expect_error(with_rule("id: a\n    deny: connect\n    ports: [1]\n    paths: [/x]\n"),
		     "t.yaml:6:5: 'connect' rules take no 'paths'");
}

// ---------------------------------------------------------------- path patterns

TEST(PathErrors, DoubleStarOnlyAsLastComponent)
{
	expect_path_error("'/a/**/b'", "path '/a/**/b': '**' is only supported as the whole last component "
				       "('/dir/**')");
	expect_path_error("'/a/x**'", "path '/a/x**': '**' is only supported as the whole last component "
				      "('/dir/**')");
}

TEST(PathErrors, WholeFilesystemSubtree)
{
	expect_path_error("'/**'", "path '/**' would match every file; name narrower subtrees instead");
}

TEST(PathErrors, GlobInsideSubtree)
{
	expect_path_error("'/home/*/**'", "path '/home/*/**': '*' cannot be combined with a final '/**'");
}

TEST(PathErrors, WhenPathsMustBeExact)
{
	expect_error(with_rule("id: a\n    deny: ptrace\n    when: {exe: \"/usr/*/nginx\"}\n"),
		     "t.yaml:5:17: path '/usr/*/nginx' must be exact here (no '*' or '/**')");
	expect_error(with_rule("id: a\n    deny: ptrace\n    when: {parent_exe: \"/usr/**\"}\n"),
		     "t.yaml:5:24: path '/usr/**' must be exact here (no '*' or '/**')");
}

// ---------------------------------------------------------------- when

TEST(LanguageErrors, WhenShape)
{
	expect_error(with_rule("id: a\n    deny: ptrace\n    when: {}\n"),
		     "t.yaml:5:11: 'when' must be a mapping with one or more of: exe, parent_exe, "
		     "uid, cgroup");
	expect_error(with_rule("id: a\n    deny: ptrace\n    when: {user: 0}\n"),
		     "t.yaml:5:12: unknown when key 'user' (expected one of: exe, parent_exe, uid, "
		     "cgroup)");
	expect_error(with_rule("id: a\n    deny: ptrace\n    when: {cgroup: system.slice}\n"),
		     "t.yaml:5:20: path 'system.slice' is not absolute");
}

TEST(NumberErrors, Uid)
{
	expect_error(with_rule("id: a\n    deny: ptrace\n    when: {uid: 4294967295}\n"),
		     "t.yaml:5:17: uid 4294967295 is out of range (0..4294967294)");
	expect_error(with_rule("id: a\n    deny: ptrace\n    when: {uid: [root]}\n"),
		     "t.yaml:5:18: invalid uid 'root' (expected a number 0..4294967294)");
}

// ---------------------------------------------------------------- numbers

TEST(NumberErrors, Ports)
{
	auto rule = [](const std::string &ports) {
		return with_rule("id: a\n    deny: connect\n    ports: [" + ports + "]\n");
	};
	expect_error(rule("0"), "t.yaml:5:13: port 0 is out of range (1..65535)");
	expect_error(rule("65536"), "t.yaml:5:13: port 65536 is out of range (1..65535)");
	expect_error(rule("\"10-70000\""), "t.yaml:5:13: port 70000 is out of range (1..65535)");
	expect_error(rule("\"6010-6000\""), "t.yaml:5:13: port range '6010-6000' is reversed (6010 > 6000)");
	expect_error(rule("ssh"), "t.yaml:5:13: invalid port 'ssh' (expected a number 1..65535 or a range 'lo-hi')");
	expect_error(rule("\"1-\""), "t.yaml:5:13: invalid port '1-' (expected a number 1..65535 or a range 'lo-hi')");
}

TEST(NumberErrors, Families)
{
	auto rule = [](const std::string &fams) {
		return with_rule("id: a\n    deny: socket\n    families: [" + fams + "]\n");
	};
	expect_error(rule("ipx6"), "t.yaml:5:16: unknown address family 'ipx6' (expected a name such as unix, inet, "
				   "inet6, netlink, packet, or a number 0..45)");
	expect_error(rule("46"), "t.yaml:5:16: address family 46 is out of range (0..45)");
	expect_error(rule("unix, local"), "t.yaml:5:22: duplicate address family 'local'");
}

TEST(NumberErrors, Addresses)
{
	auto rule = [](const std::string &a) {
		return with_rule("id: a\n    deny: connect\n    addresses: [" + a + "]\n");
	};
	expect_error(rule("10.0.0.300"), "t.yaml:5:17: invalid address '10.0.0.300' (expected an IPv4 or IPv6 address, "
					 "optionally with a /prefix)");
	expect_error(rule("10.0.0.0/33"), "t.yaml:5:17: invalid prefix '/33' in '10.0.0.0/33' (expected 0..32)");
	expect_error(rule("\"::/129\""), "t.yaml:5:17: invalid prefix '/129' in '::/129' (expected 0..128)");
}

// One syscall entry with one argument condition written by the test.
std::string with_arg(const std::string &cond)
{
	return "name: p\nsyscalls:\n  - name: clone\n    action: allow\n    args:\n      - " + cond + "\n";
}

TEST(NumberErrors, ArgumentConditions)
{
	expect_error(with_arg("{index: 6, op: eq, value: 0}"),
		     "t.yaml:6:17: argument index '6' is out of range (0..5)");
	expect_error(with_arg("{index: 0, op: bitand, value: 0}"),
		     "t.yaml:6:24: invalid op 'bitand' (expected one of: eq, ne, lt, le, gt, ge, "
		     "masked-eq)");
	expect_error(with_arg("{index: 0, op: masked-eq, value: 1}"), "t.yaml:6:9: op 'masked-eq' requires 'mask'");
	expect_error(with_arg("{index: 0, op: eq, mask: 1, value: 1}"),
		     "t.yaml:6:28: 'mask' is only used with op 'masked-eq'");
	expect_error(with_arg("{index: 0, value: 1}"), "t.yaml:6:9: argument condition is missing required key 'op'");
	expect_error(with_arg("{index: 0, op: eq, value: 1, size: 4}"),
		     "t.yaml:6:38: unknown argument condition key 'size' (expected one of: index, op, "
		     "value, mask)");
}

TEST(NumberErrors, ArgumentValues)
{
	expect_error(with_arg("{index: 0, op: eq, value: CLONE_NEWUSR}"),
		     "t.yaml:6:35: unknown constant 'CLONE_NEWUSR'");
	expect_error(with_arg("{index: 0, op: eq, value: \"O_WRONLY|O_CREATE\"}"),
		     "t.yaml:6:35: unknown constant 'O_CREATE'");
	expect_error(with_arg("{index: 0, op: eq, value: -1}"),
		     "t.yaml:6:35: invalid value '-1' (expected a number, 0x hex, or named constants "
		     "joined with '|')");
	expect_error(with_arg("{index: 0, op: eq, value: \"O_RDONLY||O_CREAT\"}"),
		     "t.yaml:6:35: invalid value 'O_RDONLY||O_CREAT' (expected a number, 0x hex, or named constants "
		     "joined with '|')");
	expect_error(with_arg("{index: 0, op: eq, value: 18446744073709551616}"),
		     "t.yaml:6:35: value 18446744073709551616 does not fit in 64 bits");
}

// ---------------------------------------------------------------- syscalls / hooks

TEST(LanguageErrors, SyscallNames)
{
	expect_error("name: p\nsyscalls: [{names: [read, fopen], action: allow}]\n",
		     "t.yaml:2:27: unknown syscall 'fopen'");
	expect_error("name: p\nsyscalls: [{name: acct, names: [acct], action: allow}]\n",
		     "t.yaml:2:25: use either 'name' or 'names', not both");
	expect_error("name: p\nsyscalls: [{action: allow}]\n",
		     "t.yaml:2:12: syscall entry is missing required key 'names'");
	expect_error("name: p\nsyscalls: [{name: acct}]\n",
		     "t.yaml:2:12: syscall entry is missing required key 'action' (one of: allow, "
		     "errno(NAME), kill-process, kill-thread, log, trap)");
	expect_error("name: p\nsyscalls: [{name: acct, action: allow, why: x}]\n",
		     "t.yaml:2:40: unknown syscall entry key 'why' (expected one of: name, names, "
		     "action, args, mode)");
}

TEST(LanguageErrors, SyscallActions)
{
	expect_error("name: p\nsyscalls: [{name: acct, action: deny}]\n",
		     "t.yaml:2:33: invalid action 'deny' (expected one of: allow, errno(NAME), "
		     "kill-process, kill-thread, log, trap)");
	expect_error("name: p\nsyscalls: [{name: acct, action: errno(EPERN)}]\n",
		     "t.yaml:2:33: unknown errno name 'EPERN'");
	expect_error("name: p\ndefault: {syscalls: kill}\nhooks: [{hook: syslog}]\n",
		     "t.yaml:2:21: invalid action 'kill' (expected one of: allow, deny, errno(NAME), "
		     "kill-process, kill-thread, log, trap)");
}

TEST(LanguageErrors, Hooks)
{
	expect_error("name: p\nhooks: [{hook: mount}]\n",
		     "t.yaml:2:16: unknown hook 'mount' (expected one of: syslog, settime, "
		     "sb_pivotroot, path_chroot, quotactl, task_setnice, task_kill)");
	expect_error("name: p\nhooks: [{hook: syslog, errno: EPERN}]\n", "t.yaml:2:31: unknown errno name 'EPERN'");
	expect_error("name: p\nhooks: [{errno: EPERM}]\n",
		     "t.yaml:2:9: hook entry is missing required key 'hook' (one of: syslog, settime, "
		     "sb_pivotroot, path_chroot, quotactl, task_setnice, task_kill)");
	expect_error("name: p\nhooks: [{hook: syslog, id: \"no dmesg\"}]\n",
		     "t.yaml:2:28: invalid hook id 'no dmesg' (allowed characters: A-Z a-z 0-9 . _ -)");
	expect_error("name: p\nhooks: [{hook: syslog, lsm: x}]\n",
		     "t.yaml:2:24: unknown hook entry key 'lsm' (expected one of: hook, errno, id, "
		     "mode)");
}

TEST(LanguageErrors, DefaultsAndArchitectures)
{
	// The hook keeps "policy has no rules" out of the way.
	const std::string hook = "hooks: [{hook: syslog}]\n";
	expect_error("name: p\ndefault: {exec: maybe}\n" + hook,
		     "t.yaml:2:17: invalid exec default 'maybe' (expected one of: allow, deny)");
	expect_error("name: p\ndefault: {read: maybe}\n" + hook,
		     "t.yaml:2:17: invalid read default 'maybe' (expected one of: allow, deny)");
	expect_error("name: p\ndefault: {write: [deny]}\n" + hook,
		     "t.yaml:2:18: 'write' default must be a string (expected one of: allow, deny)");
	expect_error("name: p\ndefault: {network: deny}\n" + hook,
		     "t.yaml:2:11: unknown default key 'network' (expected one of: syscalls, read, write, exec)");
	expect_error("name: p\narchitectures: [x86_64, arm64]\n" + hook,
		     "t.yaml:2:25: unknown architecture 'arm64' (expected one of: x86_64, x86, x32)");
	expect_error("name: p\narchitectures: [x86, x86]\n" + hook, "t.yaml:2:22: duplicate architecture 'x86'");
}

// ---------------------------------------------------------------- conflicts

TEST(Conflicts, ExecAllowedAndDenied)
{
	expect_error(doc(R"(
name: p
default: {exec: deny}
rules:
  - id: bins
    allow: exec
    paths: [/bin/sh, "/usr/bin/**"]
  - id: no-sh
    deny: exec
    paths: [/bin/sh]
)"),
		     "t.yaml:9:13: contradictory rules: '/bin/sh' is denied to run by rule 'no-sh' "
		     "and allowed by rule 'bins' (t.yaml:6)");
}

TEST(Conflicts, ReadOrWriteAllowedAndDenied)
{
	expect_error(doc(R"(
name: p
default: {read: deny, write: deny}
rules:
  - id: etc
    allow: [read, write]
    paths: [/etc/app.conf]
  - id: ro
    deny: write
    paths: [/etc/app.conf]
)"),
		     "t.yaml:9:13: contradictory rules: '/etc/app.conf' is denied for writing by rule 'ro' "
		     "and allowed by rule 'etc' (t.yaml:6)");
	// A deny for another access than the allow is no contradiction.
	ParseResult r = parse_string("name: p\ndefault: {read: deny}\nrules:\n  - {id: a, allow: read, paths: [/x]}\n"
				     "  - {id: b, deny: write, paths: [/x]}\n",
				     "t.yaml");
	EXPECT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
}

TEST(Conflicts, ConditionalDenyNarrowsTheAllowList)
{
	expect_diags(doc(R"(
name: p
default: {exec: deny}
rules:
  - id: bins
    allow: exec
    paths: [/bin/sh]
  - id: no-sh-under-nginx
    deny: exec
    paths: [/bin/sh]
    when: {parent_exe: /usr/sbin/nginx}
)"),
		     {});
}

TEST(Conflicts, SyscallWithTwoActions)
{
	expect_error(doc(R"(
name: p
syscalls:
  - names: [acct, personality]
    action: errno(EPERM)
  - name: personality
    action: kill-process
)"),
		     "t.yaml:5:5: contradictory rules: syscall 'personality' is kill-process here but "
		     "errno(EPERM) at t.yaml:3");
}

TEST(Conflicts, SyscallEntriesThatAgreeOrHaveArgsAreFine)
{
	expect_diags(doc(R"(
name: p
syscalls:
  - name: personality
    action: errno(EPERM)
  - name: personality
    action: errno(EPERM)
    mode: audit
  - name: personality
    action: allow
    args: [{index: 0, op: eq, value: 0}]
)"),
		     {});
}

// ---------------------------------------------------------------- warnings

TEST(PolicyWarnings, AllowReadOrWriteWithoutTheirDefault)
{
	expect_diags("name: p\ndefault: {read: deny}\nrules: [{id: a, allow: [read, write], paths: [/x]}]\n",
		     {"t.yaml:3:9: warning: rule 'a': 'allow: write' has no effect without "
		      "'default: {write: deny}'"});
	expect_diags("name: p\ndefault: {read: allow}\nrules: [{id: a, allow: read, paths: [/x]}]\n",
		     {"t.yaml:3:9: warning: rule 'a': 'allow: read' has no effect without "
		      "'default: {read: deny}'"});
}

TEST(PolicyWarnings, AllowExecWithoutExecDefault)
{
	expect_diags("name: p\nrules: [{id: a, allow: exec, paths: [/x]}]\n",
		     {"t.yaml:2:9: warning: rule 'a': 'allow: exec' has no effect without "
		      "'default: {exec: deny}'"});
}

TEST(PolicyWarnings, WhenOnWordsSeccompAlsoEnforces)
{
	expect_diags(with_rule("id: a\n    deny: [ptrace, mount]\n    when: {uid: 1000}\n"),
		     {"t.yaml:5:5: warning: rule 'a': seccomp cannot evaluate 'when:'; only the LSM "
		      "layer enforces this rule"});
}

TEST(PolicyWarnings, ConnectAndBindAreLsmOnly)
{
	expect_diags(with_rule("id: a\n    deny: bind\n    ports: [80]\n"),
		     {"t.yaml:4:11: warning: rule 'a': only the LSM layer can enforce 'bind' "
		      "(seccomp cannot read the address)"});
}

TEST(PolicyWarnings, EscapeHatchesAloneAreContent)
{
	expect_diags("name: p\nsyscalls: [{name: acct, action: errno(EPERM)}]\n", {});
	expect_diags("name: p\nhooks: [{hook: syslog}]\n", {});
}

// ---------------------------------------------------------------- extends

// In-memory files for extends tests; a missing name resolves to nothing.
ExtendsResolver files(std::map<std::string, std::string> texts)
{
	return [texts](const std::string &name,
		       const std::string &) -> std::optional<std::pair<std::string, std::string>> {
		auto it = texts.find(name);
		if (it == texts.end())
			return std::nullopt;
		return std::make_pair(it->first, it->second);
	};
}

// Each access's default is merged on its own: a file that sets one keeps
// its bases' others.
TEST(Extends, AccessDefaultsMergeOneByOne)
{
	auto resolver = files({{"base.yaml", "name: base\ndefault: {read: deny, write: deny}\n"}});
	ParseResult r = parse_string("name: top\nextends: base.yaml\ndefault: {write: allow, exec: deny}\n", "top.yaml",
				     resolver);
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	EXPECT_TRUE(r.policy->defaults.read_deny);
	EXPECT_FALSE(r.policy->defaults.write_deny);
	EXPECT_TRUE(r.policy->defaults.exec_deny);
}

TEST(Extends, MergesBaseFirst)
{
	auto resolver = files({{"base.yaml", doc(R"(
name: base
mode: audit
architectures: [x86]
default: {syscalls: log, exec: deny}
rules:
  - id: base-rule
    deny: ptrace
syscalls: [{name: acct, action: errno(EPERM)}]
hooks: [{hook: syslog}]
)")}});
	ParseResult r = parse_string(doc(R"(
name: top
extends: base.yaml
architectures: [x32]
default: {exec: allow}
rules:
  - id: top-rule
    deny: bpf
syscalls: [{name: personality, action: errno(EPERM)}]
hooks: [{hook: settime}]
)"),
				     "top.yaml", resolver);
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	const Policy &p = *r.policy;
	EXPECT_EQ(p.name, "top");
	EXPECT_EQ(p.file, "top.yaml");
	EXPECT_EQ(p.mode, Mode::Enforce);
	EXPECT_EQ(p.extends, std::vector<std::string>{"base.yaml"});
	EXPECT_EQ(p.architectures, (std::vector<std::string>{"x86_64", "x86", "x32"}));
	EXPECT_TRUE(p.defaults.syscalls_set);
	EXPECT_EQ(p.defaults.syscalls.kind, SyscallActionKind::Log);
	EXPECT_FALSE(p.defaults.exec_deny); // overridden by the extending file
	EXPECT_FALSE(p.defaults.read_deny);
	ASSERT_EQ(p.rules.size(), 2u);
	EXPECT_EQ(p.rules[0].id, "base-rule");
	EXPECT_EQ(p.rules[0].mode, Mode::Audit); // its own file's mode
	EXPECT_EQ(p.rules[0].loc.file, "base.yaml");
	EXPECT_EQ(p.rules[1].id, "top-rule");
	EXPECT_EQ(p.rules[1].mode, Mode::Enforce);
	ASSERT_EQ(p.syscalls.size(), 2u);
	EXPECT_EQ(p.syscalls[0].names[0], "acct");
	ASSERT_EQ(p.hooks.size(), 2u);
	EXPECT_EQ(p.hooks[0].hook, "syslog");
	EXPECT_EQ(p.hooks[0].mode, Mode::Audit);
}

TEST(Extends, ChainAndDiamondListEachBaseOnce)
{
	auto resolver = files({{"a.yaml", "name: a\nextends: [c.yaml]\nrules: [{id: ra, deny: bpf}]\n"},
			       {"b.yaml", "name: b\nextends: c.yaml\nrules: [{id: rb, deny: bpf}]\n"},
			       {"c.yaml", "name: c\nrules: [{id: rc, deny: bpf}]\n"}});
	ParseResult r = parse_string("name: top\nextends: [a.yaml, b.yaml]\n", "top.yaml", resolver);
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	EXPECT_EQ(r.policy->extends, (std::vector<std::string>{"c.yaml", "a.yaml", "b.yaml"}));
	ASSERT_EQ(r.policy->rules.size(), 3u);
	EXPECT_EQ(r.policy->rules[0].id, "rc");
	EXPECT_EQ(r.policy->rules[2].id, "rb");
	// Content comes from the bases, so there is no "no rules" warning.
	EXPECT_TRUE(r.diagnostics.empty());
}

TEST(Extends, Cycle)
{
	auto resolver = files({{"a.yaml", "name: a\nextends: b.yaml\n"},
			       {"b.yaml", "name: b\nrules: [{id: r, deny: bpf}]\nextends: a.yaml\n"}});
	ParseResult r = parse_string("name: a\nextends: b.yaml\n", "a.yaml", resolver);
	EXPECT_EQ(strs(r), std::vector<std::string>{"b.yaml:3:10: extends cycle: a.yaml -> b.yaml -> a.yaml"});
	EXPECT_FALSE(r.policy.has_value());
	ParseResult self = parse_string("name: a\nextends: [a.yaml]\n", "a.yaml", resolver);
	EXPECT_EQ(strs(self), std::vector<std::string>{"a.yaml:2:11: extends cycle: a.yaml -> a.yaml"});
}

TEST(Extends, DuplicateRuleIdAcrossFiles)
{
	auto resolver = files({{"base.yaml", "name: base\nrules:\n  - id: r\n    deny: bpf\n"}});
	ParseResult r =
		parse_string("name: top\nextends: base.yaml\nrules: [{id: r, deny: perf}]\n", "top.yaml", resolver);
	EXPECT_EQ(strs(r),
		  std::vector<std::string>{"top.yaml:3:14: duplicate rule id 'r' (first defined at base.yaml:3)"});
	EXPECT_FALSE(r.policy.has_value());
}

TEST(Extends, ErrorsInABaseCarryItsName)
{
	auto resolver = files({{"base.yaml", "name: base\nrules: [{id: r, deny: mnt}]\n"}});
	ParseResult r = parse_string("name: top\nextends: [base.yaml, nope.yaml]\n", "top.yaml", resolver);
	EXPECT_EQ(strs(r), (std::vector<std::string>{
				   "top.yaml:2:22: cannot find policy 'nope.yaml'",
				   "base.yaml:2:23: unknown rule word 'mnt' (expected one of: " + words() + ")"}));
	EXPECT_FALSE(r.policy.has_value());
}

TEST(Extends, ConflictsSpanFiles)
{
	auto resolver = files({{"base.yaml", "name: base\nsyscalls: [{name: acct, action: allow}]\n"}});
	ParseResult r = parse_string("name: top\nextends: base.yaml\nsyscalls: [{name: acct, action: kill-thread}]\n",
				     "top.yaml", resolver);
	EXPECT_EQ(strs(r),
		  std::vector<std::string>{"top.yaml:3:12: contradictory rules: syscall 'acct' is kill-thread here "
					   "but allow at base.yaml:2"});
}

TEST(Extends, FilesResolveRelativeToTheIncludingFile)
{
	const std::string dir = testing::TempDir() + "bulwark-extends/";
	std::filesystem::create_directories(dir + "sub");
	write_temp("bulwark-extends/sub/base.yaml",
		   "name: base\nextends: ../common.yaml\nrules: [{id: b, deny: bpf}]\n");
	write_temp("bulwark-extends/common.yaml", "name: common\nrules: [{id: c, deny: perf}]\n");
	const std::string top = write_temp("bulwark-extends/top.yaml", "name: top\nextends: sub/base.yaml\n");
	ParseResult r = parse_file(top);
	ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
	EXPECT_EQ(r.policy->extends, (std::vector<std::string>{dir + "common.yaml", dir + "sub/base.yaml"}));
	ASSERT_EQ(r.policy->rules.size(), 2u);
	EXPECT_EQ(r.policy->rules[0].loc.file, dir + "common.yaml");

	const std::string bad = write_temp("bulwark-extends/bad.yaml", "name: x\nextends: gone.yaml\n");
	EXPECT_EQ(strs(parse_file(bad)), std::vector<std::string>{bad + ":2:10: cannot read policy '" + dir +
								  "gone.yaml': No such file or directory"});
	std::filesystem::remove_all(dir);
}

TEST(Extends, BareNamesAreBundledPolicies)
{
	expect_error("name: p\nextends: no-such-bundle\n", "t.yaml:2:10: unknown bundled policy 'no-such-bundle'");
}

// ---------------------------------------------------------------- examples

TEST(Examples, ParseWithoutErrors)
{
	for (const char *name : {"webserver", "build-sandbox", "host-baseline"}) {
		const std::string path = std::string(BULWARK_TEST_DATA) + "/../../policy/examples/" + name + ".yaml";
		ParseResult r = parse_file(path);
		EXPECT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
		ASSERT_TRUE(r.policy.has_value()) << path;
		EXPECT_EQ(r.policy->name, name);
		EXPECT_FALSE(r.policy->rules.empty()) << name;
	}
}

} // namespace
} // namespace bulwark::policy

// yaml-cpp 0.7's LoadAll loops forever on a stray ',' (found by the fuzzer);
// the parser must come back with an error instead.
TEST(PolicyErrors, StrayCommaDoesNotHang)
{
	auto r = bulwark::policy::parse_string(", ", "t.yaml");
	EXPECT_FALSE(r.ok());
	ASSERT_FALSE(r.diagnostics.empty());
}

TEST(PolicyScope, FormsAndErrors)
{
	auto ok = bulwark::policy::parse_string("name: p\nscope: {cgroup: /system.slice/x.service}\n", "t.yaml");
	ASSERT_TRUE(ok.ok());
	EXPECT_EQ(ok.policy->scope, "cgroup:/system.slice/x.service");
	auto ok2 = bulwark::policy::parse_string("name: p\nscope: host\n", "t.yaml");
	ASSERT_TRUE(ok2.ok());
	EXPECT_EQ(ok2.policy->scope, "host");
	auto def = bulwark::policy::parse_string("name: p\n", "t.yaml");
	ASSERT_TRUE(def.ok());
	EXPECT_EQ(def.policy->scope, "run");
	auto bad = bulwark::policy::parse_string("name: p\nscope: {exe: relative}\n", "t.yaml");
	ASSERT_FALSE(bad.ok());
	bool found = false;
	for (const auto &d : bad.diagnostics)
		found |= d.str() == "t.yaml:2:14: scope 'exe' needs an absolute path, e.g. {exe: /usr/sbin/nginx}";
	EXPECT_TRUE(found) << bad.diagnostics[1].str();
	auto bad2 = bulwark::policy::parse_string("name: p\nscope: galaxy\n", "t.yaml");
	ASSERT_FALSE(bad2.ok());
	bool line2 = false;
	for (const auto &d : bad2.diagnostics)
		line2 |= d.loc.line == 2 && d.severity == bulwark::policy::Diagnostic::Severity::Error;
	EXPECT_TRUE(line2);
}

TEST(PolicyScope, NotesSayWhatANonRunScopeTakesAway)
{
	auto r =
		bulwark::policy::parse_string("name: p\nrules:\n  - id: m\n    deny: mount\n  - id: f\n    deny: read\n"
					      "    paths: [/etc/shadow]\nsyscalls:\n  - name: personality\n"
					      "    action: errno(EPERM)\n",
					      "t.yaml");
	ASSERT_TRUE(r.ok());
	EXPECT_TRUE(bulwark::policy::scope_notes(*r.policy, "run").empty());
	auto notes = bulwark::policy::scope_notes(*r.policy, "cgroup:/x");
	ASSERT_EQ(notes.size(), 2u);
	// mount: seccomp and LSM both enforce it; under a scope only the LSM.
	EXPECT_EQ(notes[0].loc.line, 3);
	EXPECT_FALSE(notes[0].lost);
	EXPECT_NE(notes[0].message.find("LSM layer only"), std::string::npos);
	// The syscall table is seccomp's alone: nothing left.
	EXPECT_EQ(notes[1].loc.line, 9);
	EXPECT_TRUE(notes[1].lost);
}
