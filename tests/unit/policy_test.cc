// SPDX-License-Identifier: Apache-2.0

#include "policy/policy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace bulwark::policy {
namespace {

// Lets tests write YAML starting on the line after R"( so that line numbers
// in expectations match what a reader counts.
std::string doc(const char* text) {
  std::string s(text);
  if (!s.empty() && s[0] == '\n') s.erase(0, 1);
  return s;
}

std::vector<std::string> strs(const ParseResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) out.push_back(d.str());
  return out;
}

// Every error test goes through here: exactly the given diagnostics, and an
// error must suppress the policy.
void expect_errors(const std::string& text, const std::vector<std::string>& expected) {
  ParseResult r = parse_string(text, "t.yaml");
  EXPECT_EQ(strs(r), expected) << "input:\n" << text;
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.policy.has_value());
}

void expect_error(const std::string& text, const std::string& expected) {
  expect_errors(text, {expected});
}

// A minimal valid policy with one rule whose body is given, indented under "- ".
std::string with_rule(const std::string& body) {
  return "name: p\nrules:\n  - " + body;
}

std::string write_temp(const std::string& name, const std::string& content) {
  std::string path = testing::TempDir() + name;
  std::ofstream(path) << content;
  return path;
}

// ---------------------------------------------------------------- success

TEST(PolicyParse, ExampleParsesToExpectedStructure) {
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
  const Policy& p = *r.policy;
  EXPECT_EQ(p.file, "demo.yaml");
  EXPECT_EQ(p.name, "demo");
  EXPECT_EQ(p.mode, Mode::Enforce);
  EXPECT_EQ(p.loc.line, 1);
  EXPECT_EQ(p.loc.col, 1);
  ASSERT_EQ(p.rules.size(), 3u);

  const Rule& mount = p.rules[0];
  EXPECT_EQ(mount.id, "no-mount");
  EXPECT_EQ(mount.kind, RuleKind::Action);
  EXPECT_EQ(mount.access, 0u);
  EXPECT_TRUE(mount.paths.empty());
  EXPECT_EQ(mount.mode, Mode::Enforce);
  EXPECT_EQ(mount.loc.file, "demo.yaml");
  EXPECT_EQ(mount.loc.line, 4);
  EXPECT_EQ(mount.loc.col, 5);

  const Rule& shadow = p.rules[1];
  EXPECT_EQ(shadow.id, "no-shadow");
  EXPECT_EQ(shadow.kind, RuleKind::File);
  EXPECT_EQ(shadow.access, AccessRead | AccessWrite);
  ASSERT_EQ(shadow.paths.size(), 1u);
  EXPECT_EQ(shadow.paths[0].path, "/etc/shadow");
  EXPECT_EQ(shadow.paths[0].loc.line, 8);
  EXPECT_EQ(shadow.paths[0].loc.col, 13);
  EXPECT_EQ(shadow.mode, Mode::Enforce);
  EXPECT_EQ(shadow.loc.line, 6);

  const Rule& shell = p.rules[2];
  EXPECT_EQ(shell.id, "no-shell");
  EXPECT_EQ(shell.kind, RuleKind::File);
  EXPECT_EQ(shell.access, static_cast<unsigned>(AccessExec));
  ASSERT_EQ(shell.paths.size(), 1u);
  EXPECT_EQ(shell.paths[0].path, "/bin/sh");
  EXPECT_EQ(shell.mode, Mode::Audit);
}

TEST(PolicyParse, ModeDefaultsToEnforce) {
  ParseResult r = parse_string(with_rule("id: a\n    deny: mount\n"), "t.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.policy->mode, Mode::Enforce);
  EXPECT_EQ(r.policy->rules[0].mode, Mode::Enforce);
}

TEST(PolicyParse, FileModeIsInheritedAndOverridable) {
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

TEST(PolicyParse, AllAccessWordsAndScalarPaths) {
  ParseResult r = parse_string(
      with_rule("id: a\n    deny: [exec, read, write]\n    paths: /usr/bin/x\n"), "t.yaml");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
  const Rule& rule = r.policy->rules[0];
  EXPECT_EQ(rule.access, AccessRead | AccessWrite | AccessExec);
  ASSERT_EQ(rule.paths.size(), 1u);
  EXPECT_EQ(rule.paths[0].path, "/usr/bin/x");
  EXPECT_EQ(rule.paths[0].loc.line, 5);
  EXPECT_EQ(rule.paths[0].loc.col, 12);
}

TEST(PolicyParse, NamesMayUseFullAllowedAlphabetAndLimit) {
  std::string name(64, 'n');
  name.replace(0, 8, "Az09._-x");
  ParseResult r = parse_string("name: " + name + "\nrules: []\n", "t.yaml");
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
  EXPECT_EQ(r.policy->name, name);
}

TEST(PolicyParse, PathAtLengthLimitIsAccepted) {
  std::string path = "/" + std::string(254, 'a');
  ParseResult r =
      parse_string(with_rule("id: a\n    deny: read\n    paths: [" + path + "]\n"), "t.yaml");
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
}

TEST(PolicyParse, DotsInsideComponentsAreFine) {
  ParseResult r = parse_string(
      with_rule("id: a\n    deny: read\n    paths: [/a/.hidden, /b/..x, /c/x.]\n"), "t.yaml");
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(strs(r));
  EXPECT_EQ(r.policy->rules[0].paths.size(), 3u);
}

// ---------------------------------------------------------------- warnings

TEST(PolicyWarnings, EmptyRulesIsAWarningNotAnError) {
  ParseResult r = parse_string("name: p\nrules: []\n", "t.yaml");
  EXPECT_EQ(strs(r), std::vector<std::string>{"t.yaml:2:8: warning: policy has no rules"});
  EXPECT_TRUE(r.ok());
  ASSERT_TRUE(r.policy.has_value());
  EXPECT_TRUE(r.policy->rules.empty());
}

TEST(PolicyWarnings, DuplicatePathInRule) {
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
  EXPECT_EQ(strs(r),
            std::vector<std::string>{"t.yaml:8:9: warning: duplicate path '/etc/shadow' in rule "
                                     "'a' (first listed at line 6)"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.policy->rules[0].paths.size(), 2u);
}

TEST(PolicyWarnings, SamePathInDifferentRulesIsFine) {
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

TEST(PolicyDiagnostic, StrFormat) {
  Diagnostic e{Diagnostic::Severity::Error, {"f.yaml", 3, 7}, "bad"};
  Diagnostic w{Diagnostic::Severity::Warning, {"f.yaml", 3, 7}, "meh"};
  EXPECT_EQ(e.str(), "f.yaml:3:7: bad");
  EXPECT_EQ(w.str(), "f.yaml:3:7: warning: meh");
}

// ---------------------------------------------------------------- document shape

TEST(PolicyErrors, YamlSyntaxError) {
  expect_error("name: p\nrules: [a,\nmode: audit\n",
               "t.yaml:4:1: end of sequence flow not found");
}

TEST(PolicyErrors, EmptyDocument) { expect_error("", "t.yaml:1:1: policy is empty"); }

TEST(PolicyErrors, MultipleDocuments) {
  expect_error("name: p\nrules: [{id: r, deny: mount}]\n---\nname: q\n",
               "t.yaml:4:1: policy file must contain exactly one YAML document");
}

TEST(PolicyErrors, TopLevelNotMapping) {
  expect_error("- name: p\n",
               "t.yaml:1:1: policy must be a mapping with keys: name, mode, rules");
}

TEST(PolicyErrors, UnknownTopLevelKey) {
  expect_error("name: p\nrulez: []\nrules: [{id: r, deny: mount}]\n",
               "t.yaml:2:1: unknown top-level key 'rulez' (expected one of: name, mode, rules)");
}

TEST(PolicyErrors, DuplicateKey) {
  expect_error("name: p\nrules: [{id: r, deny: mount}]\nname: q\n",
               "t.yaml:3:1: duplicate key 'name' (first defined at line 1)");
}

TEST(PolicyErrors, NonScalarKey) {
  expect_error("name: p\nrules: [{id: r, deny: mount}]\n[a]: b\n", "t.yaml:3:1: top-level keys must be plain strings");
}

// ---------------------------------------------------------------- name

TEST(PolicyErrors, MissingName) {
  expect_error("mode: audit\nrules: [{id: r, deny: mount}]\n", "t.yaml:1:1: policy is missing required key 'name'");
}

TEST(PolicyErrors, EmptyName) {
  expect_error("name: ''\nrules: [{id: r, deny: mount}]\n", "t.yaml:1:7: 'name' must be a non-empty string");
}

TEST(PolicyErrors, NullNamePointsAtKey) {
  expect_error("rules: [{id: r, deny: mount}]\nname:\n", "t.yaml:2:1: 'name' must be a non-empty string");
  expect_error("name:\nrules: [{id: r, deny: mount}]\n", "t.yaml:1:1: 'name' must be a non-empty string");
}

TEST(PolicyErrors, NameNotAString) {
  expect_error("name: [a]\nrules: [{id: r, deny: mount}]\n", "t.yaml:1:7: 'name' must be a non-empty string");
}

TEST(PolicyErrors, NameBadCharacters) {
  expect_error("name: my policy\nrules: [{id: r, deny: mount}]\n",
               "t.yaml:1:7: invalid policy name 'my policy' (allowed characters: A-Z a-z 0-9 . _ "
               "-)");
  expect_error("name: a/b\nrules: [{id: r, deny: mount}]\n",
               "t.yaml:1:7: invalid policy name 'a/b' (allowed characters: A-Z a-z 0-9 . _ -)");
}

TEST(PolicyErrors, NameTooLong) {
  expect_error("name: " + std::string(65, 'n') + "\nrules: [{id: r, deny: mount}]\n",
               "t.yaml:1:7: policy name is 65 characters long (limit is 64)");
}

// ---------------------------------------------------------------- mode

TEST(PolicyErrors, InvalidTopLevelMode) {
  expect_error("name: p\nmode: Enforce\nrules: [{id: r, deny: mount}]\n",
               "t.yaml:2:7: invalid mode 'Enforce' (expected one of: enforce, audit)");
}

TEST(PolicyErrors, ModeNotAScalar) {
  expect_error("name: p\nmode: [audit]\nrules: [{id: r, deny: mount}]\n",
               "t.yaml:2:7: 'mode' must be one of: enforce, audit");
}

TEST(PolicyErrors, InvalidRuleMode) {
  expect_error(with_rule("id: a\n    deny: mount\n    mode: warn\n"),
               "t.yaml:5:11: invalid mode 'warn' (expected one of: enforce, audit)");
}

// ---------------------------------------------------------------- rules list

TEST(PolicyErrors, MissingRules) {
  expect_error("name: p\n", "t.yaml:1:1: policy is missing required key 'rules'");
}

TEST(PolicyErrors, RulesNotASequence) {
  expect_error("name: p\nrules: {id: a}\n", "t.yaml:2:8: 'rules' must be a list of rules");
  expect_error("name: p\nrules:\n", "t.yaml:2:1: 'rules' must be a list of rules");
}

TEST(PolicyErrors, RuleNotAMapping) {
  expect_error("name: p\nrules:\n  - mount\n",
               "t.yaml:3:5: rule must be a mapping with keys: id, deny, paths, mode");
}

TEST(PolicyErrors, UnknownRuleKey) {
  expect_error(with_rule("id: a\n    deny: mount\n    path: [/x]\n"),
               "t.yaml:5:5: unknown rule key 'path' (expected one of: id, deny, paths, mode)");
}

// ---------------------------------------------------------------- id

TEST(PolicyErrors, MissingId) {
  expect_error(with_rule("deny: mount\n"), "t.yaml:3:5: rule is missing required key 'id'");
}

TEST(PolicyErrors, EmptyId) {
  expect_error(with_rule("id: \"\"\n    deny: mount\n"),
               "t.yaml:3:9: 'id' must be a non-empty string");
}

TEST(PolicyErrors, IdBadCharacters) {
  expect_error(with_rule("id: no mount!\n    deny: mount\n"),
               "t.yaml:3:9: invalid rule id 'no mount!' (allowed characters: A-Z a-z 0-9 . _ -)");
}

TEST(PolicyErrors, IdTooLong) {
  expect_error(with_rule("id: " + std::string(65, 'i') + "\n    deny: mount\n"),
               "t.yaml:3:9: rule id is 65 characters long (limit is 64)");
}

TEST(PolicyErrors, DuplicateId) {
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

TEST(PolicyErrors, MissingDeny) {
  expect_error(with_rule("id: a\n    paths: [/x]\n"),
               "t.yaml:3:5: rule is missing required key 'deny' (one or more of: mount, read, "
               "write, exec)");
}

TEST(PolicyErrors, DenyEmptyList) {
  expect_error(with_rule("id: a\n    deny: []\n"),
               "t.yaml:4:11: 'deny' must be a rule word or a non-empty list of rule words "
               "(mount, read, write, exec)");
}

TEST(PolicyErrors, UnknownRuleWord) {
  expect_error(doc(R"(
name: p
rules:
  - id: a
    deny: read
    paths: [/x]
  - id: b
    deny: [mnt]
)"),
               "t.yaml:7:12: unknown rule word 'mnt' (expected one of: mount, read, write, exec)");
}

TEST(PolicyErrors, UnknownRuleWordAsScalar) {
  expect_error(with_rule("id: a\n    deny: execute\n    paths: [/x]\n"),
               "t.yaml:4:11: unknown rule word 'execute' (expected one of: mount, read, write, "
               "exec)");
}

TEST(PolicyErrors, DuplicateRuleWord) {
  expect_error(with_rule("id: a\n    deny: [read, write, read]\n    paths: [/x]\n"),
               "t.yaml:4:25: duplicate rule word 'read'");
}

TEST(PolicyErrors, RuleWordNotAString) {
  expect_error(with_rule("id: a\n    deny: [read, [write]]\n    paths: [/x]\n"),
               "t.yaml:4:18: rule word must be a string (expected one of: mount, read, write, "
               "exec)");
}

TEST(PolicyErrors, MountCombinedWithFileAccess) {
  expect_error(with_rule("id: a\n    deny: [mount, exec]\n    paths: [/x]\n"),
               "t.yaml:4:11: 'mount' cannot be combined with read, write or exec in one rule");
}

TEST(PolicyErrors, MountWithPaths) {
  expect_error(with_rule("id: a\n    deny: mount\n    paths: [/mnt]\n"),
               "t.yaml:5:5: 'mount' rules take no 'paths'");
}

TEST(PolicyErrors, FileRuleWithoutPaths) {
  expect_error(with_rule("id: a\n    deny: [read, exec]\n"),
               "t.yaml:4:11: rules denying read, write or exec require 'paths'");
}

// ---------------------------------------------------------------- paths list

TEST(PolicyErrors, PathsEmptyList) {
  expect_error(with_rule("id: a\n    deny: read\n    paths: []\n"),
               "t.yaml:5:12: 'paths' must be a path or a non-empty list of paths");
}

TEST(PolicyErrors, PathsNull) {
  expect_error(with_rule("id: a\n    paths:\n    deny: read\n"),
               "t.yaml:4:5: 'paths' must be a path or a non-empty list of paths");
}

TEST(PolicyErrors, PathsMapping) {
  expect_error(with_rule("id: a\n    deny: read\n    paths: {a: b}\n"),
               "t.yaml:5:12: 'paths' must be a path or a non-empty list of paths");
}

TEST(PolicyErrors, PathItemNotAString) {
  expect_error(with_rule("id: a\n    deny: read\n    paths: [/ok, [/nested]]\n"),
               "t.yaml:5:18: path must be a string");
}

// ---------------------------------------------------------------- individual paths

// Each bad path sits in the same spot, so the location is fixed at 5:13
// (after "    paths: [") and only the message varies.
void expect_path_error(const std::string& yaml_path, const std::string& message) {
  expect_error(with_rule("id: a\n    deny: read\n    paths: [" + yaml_path + "]\n"),
               "t.yaml:5:13: " + message);
}

TEST(PathErrors, Empty) { expect_path_error("''", "path is empty"); }

TEST(PathErrors, Relative) {
  expect_path_error("etc/shadow", "path 'etc/shadow' is not absolute");
  expect_path_error("./x", "path './x' is not absolute");
  expect_path_error("'~/x'", "path '~/x' is not absolute");
}

TEST(PathErrors, Root) { expect_path_error("/", "path '/' is the root directory, not a file"); }

TEST(PathErrors, TrailingSlash) {
  expect_path_error("/etc/", "path '/etc/' has a trailing '/'");
}

TEST(PathErrors, EmptyComponent) {
  expect_path_error("/etc//shadow", "path '/etc//shadow' has an empty component ('//')");
  expect_path_error("//etc", "path '//etc' has an empty component ('//')");
}

TEST(PathErrors, DotComponent) {
  expect_path_error("/etc/./shadow", "path '/etc/./shadow' has a '.' component");
  expect_path_error("/etc/.", "path '/etc/.' has a '.' component");
}

TEST(PathErrors, DotDotComponent) {
  expect_path_error("/etc/../shadow", "path '/etc/../shadow' has a '..' component");
  expect_path_error("/..", "path '/..' has a '..' component");
}

TEST(PathErrors, NulCharacter) {
  expect_path_error("\"/etc/sh\\0adow\"", "path contains a NUL or newline character");
}

TEST(PathErrors, NewlineCharacter) {
  expect_path_error("\"/etc/sh\\nadow\"", "path contains a NUL or newline character");
}

TEST(PathErrors, TooLong) {
  expect_path_error("/" + std::string(255, 'a'), "path is 256 bytes long (limit is 255)");
}

TEST(PathErrors, GlobCharacters) {
  expect_path_error("'/etc/*'", "path patterns are not supported yet (found '*' in '/etc/*')");
  expect_path_error("'/etc/sh?dow'",
                    "path patterns are not supported yet (found '?' in '/etc/sh?dow')");
  expect_path_error("'/dev/tty[0-9]'",
                    "path patterns are not supported yet (found '[' in '/dev/tty[0-9]')");
}

TEST(PathErrors, ScalarPathIsValidatedToo) {
  expect_error(with_rule("id: a\n    deny: read\n    paths: etc/shadow\n"),
               "t.yaml:5:12: path 'etc/shadow' is not absolute");
}

// ---------------------------------------------------------------- aggregation

TEST(PolicyErrors, AllErrorsCollectedInOnePass) {
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
  EXPECT_EQ(strs(r),
            (std::vector<std::string>{
                "t.yaml:1:7: invalid policy name 'bad name' (allowed characters: A-Z a-z 0-9 . _ "
                "-)",
                "t.yaml:2:7: invalid mode 'strict' (expected one of: enforce, audit)",
                "t.yaml:3:1: unknown top-level key 'colour' (expected one of: name, mode, rules)",
                "t.yaml:6:18: unknown rule word 'mnt' (expected one of: mount, read, write, exec)",
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

TEST(PolicyErrors, WarningsAloneKeepThePolicy) {
  ParseResult r = parse_string(
      with_rule("id: a\n    deny: read\n    paths: [/x, /x]\n  - id: b\n    deny: read\n"),
      "t.yaml");
  // The duplicate-path warning must not mask the error in rule b.
  EXPECT_EQ(strs(r),
            (std::vector<std::string>{
                "t.yaml:5:17: warning: duplicate path '/x' in rule 'a' (first listed at line 5)",
                "t.yaml:7:11: rules denying read, write or exec require 'paths'",
            }));
  EXPECT_FALSE(r.policy.has_value());
}

// ---------------------------------------------------------------- files

TEST(PolicyFile, MissingFile) {
  const std::string path = testing::TempDir() + "bulwark-no-such-policy.yaml";
  std::remove(path.c_str());
  ParseResult r = parse_file(path);
  EXPECT_EQ(strs(r), std::vector<std::string>{path +
                                              ":1:1: cannot read policy: No such file or "
                                              "directory"});
  EXPECT_FALSE(r.policy.has_value());
}

TEST(PolicyFile, DirectoryIsUnreadable) {
  std::string dir = testing::TempDir();
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  ParseResult r = parse_file(dir);
  EXPECT_EQ(strs(r), std::vector<std::string>{dir + ":1:1: cannot read policy: Is a directory"});
  EXPECT_FALSE(r.policy.has_value());
}

TEST(PolicyFile, ReadsAndReportsWithItsPath) {
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
  EXPECT_EQ(rb.diagnostics[0].str(),
            bad + ":2:7: invalid mode 'x' (expected one of: enforce, audit)");
  std::remove(path.c_str());
  std::remove(bad.c_str());
}

}  // namespace
}  // namespace bulwark::policy
