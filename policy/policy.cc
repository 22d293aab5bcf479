// SPDX-License-Identifier: Apache-2.0

#include "policy/policy.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <utility>

namespace bulwark::policy {

std::string Diagnostic::str() const {
  std::string out = loc.file + ":" + std::to_string(loc.line) + ":" +
                    std::to_string(loc.col) + ": ";
  if (severity == Severity::Warning) out += "warning: ";
  return out + message;
}

bool ParseResult::ok() const {
  return std::none_of(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& d) {
    return d.severity == Diagnostic::Severity::Error;
  });
}

const char* to_string(Mode mode) { return mode == Mode::Audit ? "audit" : "enforce"; }

namespace {

const char* const kTopKeys = "name, mode, rules";
const char* const kRuleKeys = "id, deny, paths, mode";
const char* const kRuleWords = "mount, read, write, exec";
const char* const kNameChars = "A-Z a-z 0-9 . _ -";

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  ParseResult run(const std::string& text);

 private:
  // A key/value pair; the key node is kept because missing or null values
  // have no useful position of their own.
  struct Entry {
    YAML::Node key;
    YAML::Node value;
  };
  using Entries = std::map<std::string, Entry>;

  Location loc(const YAML::Mark& m) const {
    // yaml-cpp leaves the mark unset for some synthesized nodes; 1:1 is the
    // least surprising fallback.
    if (m.is_null() || m.line < 0) return {file_, 1, 1};
    return {file_, m.line + 1, m.column + 1};
  }
  Location loc(const YAML::Node& n) const { return loc(n.Mark()); }

  // yaml-cpp marks an empty value (`key:` followed by a newline) at the next
  // token, which is usually the following line's key. Point at our own key
  // instead whenever the value did not start on the key's line.
  Location value_loc(const Entry& e) const {
    if (e.value.IsNull() && e.value.Mark().line != e.key.Mark().line) return loc(e.key);
    return loc(e.value);
  }

  void error(const Location& l, std::string msg) {
    diags_.push_back({Diagnostic::Severity::Error, l, std::move(msg)});
  }
  void warning(const Location& l, std::string msg) {
    diags_.push_back({Diagnostic::Severity::Warning, l, std::move(msg)});
  }

  Entries read_mapping(const YAML::Node& map, const char* what, const char* known,
                       const std::set<std::string>& allowed);
  std::optional<std::string> scalar(const Entry& e, const char* key);
  std::optional<Mode> parse_mode(const Entry& e);
  bool check_identifier(const std::string& value, const Location& l, const char* what);
  std::optional<Rule> parse_rule(const YAML::Node& node, Mode default_mode,
                                 std::map<std::string, int>& seen_ids);
  void parse_deny(const Entry& e, unsigned& access, bool& mount);
  std::vector<PathSpec> parse_paths(const Entry& e, const std::string& rule_id);
  static std::optional<std::string> path_problem(const std::string& path);

  std::string file_;
  std::vector<Diagnostic> diags_;
};

Parser::Entries Parser::read_mapping(const YAML::Node& map, const char* what,
                                     const char* known,
                                     const std::set<std::string>& allowed) {
  Entries out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    // By value: yaml-cpp's iterator yields a temporary pair, so a reference
    // to it->first dangles after this statement.
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    if (!key.IsScalar()) {
      error(loc(key), std::string(what) + " keys must be plain strings");
      continue;
    }
    const std::string& k = key.Scalar();
    if (!allowed.count(k)) {
      error(loc(key), "unknown " + std::string(what) + " key '" + k +
                          "' (expected one of: " + known + ")");
      continue;
    }
    // yaml-cpp keeps both entries of a repeated key; silently picking one
    // would hide a likely editing mistake.
    if (auto prev = out.find(k); prev != out.end()) {
      error(loc(key), "duplicate key '" + k + "' (first defined at line " +
                          std::to_string(loc(prev->second.key).line) + ")");
      continue;
    }
    out.emplace(k, Entry{key, value});
  }
  return out;
}

std::optional<std::string> Parser::scalar(const Entry& e, const char* key) {
  if (!e.value.IsScalar() || e.value.Scalar().empty()) {
    error(value_loc(e), "'" + std::string(key) + "' must be a non-empty string");
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<Mode> Parser::parse_mode(const Entry& e) {
  if (e.value.IsScalar()) {
    if (e.value.Scalar() == "enforce") return Mode::Enforce;
    if (e.value.Scalar() == "audit") return Mode::Audit;
    error(loc(e.value),
          "invalid mode '" + e.value.Scalar() + "' (expected one of: enforce, audit)");
    return std::nullopt;
  }
  error(value_loc(e), "'mode' must be one of: enforce, audit");
  return std::nullopt;
}

bool Parser::check_identifier(const std::string& value, const Location& l,
                              const char* what) {
  if (value.size() > kMaxNameLength) {
    error(l, std::string(what) + " is " + std::to_string(value.size()) +
                 " characters long (limit is " + std::to_string(kMaxNameLength) + ")");
    return false;
  }
  for (char c : value) {
    // Spelled out rather than isalnum() so the result cannot depend on locale.
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!allowed) {
      error(l, "invalid " + std::string(what) + " '" + value +
                   "' (allowed characters: " + kNameChars + ")");
      return false;
    }
  }
  return true;
}

void Parser::parse_deny(const Entry& e, unsigned& access, bool& mount) {
  std::vector<YAML::Node> words;
  if (e.value.IsScalar()) {
    words.push_back(e.value);
  } else if (e.value.IsSequence() && e.value.size() > 0) {
    for (const auto& w : e.value) words.push_back(w);
  } else {
    error(value_loc(e), std::string("'deny' must be a rule word or a non-empty list of "
                                    "rule words (") + kRuleWords + ")");
    return;
  }

  std::set<std::string> seen;
  for (const auto& w : words) {
    if (!w.IsScalar()) {
      error(loc(w), std::string("rule word must be a string (expected one of: ") +
                        kRuleWords + ")");
      continue;
    }
    const std::string& word = w.Scalar();
    if (!seen.insert(word).second) {
      error(loc(w), "duplicate rule word '" + word + "'");
      continue;
    }
    if (word == "mount") {
      mount = true;
    } else if (word == "read") {
      access |= AccessRead;
    } else if (word == "write") {
      access |= AccessWrite;
    } else if (word == "exec") {
      access |= AccessExec;
    } else {
      error(loc(w), "unknown rule word '" + word + "' (expected one of: " + kRuleWords + ")");
    }
  }
  // Mount rules are enforced by a different hook with a different object
  // (the mount, not a file), so a mixed rule has no single meaning.
  if (mount && access != 0) {
    error(loc(e.value), "'mount' cannot be combined with read, write or exec in one rule");
  }
}

std::optional<std::string> Parser::path_problem(const std::string& p) {
  // Checked first so that later messages can quote the path verbatim.
  if (p.find('\0') != std::string::npos || p.find('\n') != std::string::npos)
    return std::string("path contains a NUL or newline character");
  if (p.size() > kMaxPathLength)
    return "path is " + std::to_string(p.size()) + " bytes long (limit is " +
           std::to_string(kMaxPathLength) + ")";
  if (p.empty()) return std::string("path is empty");
  if (p[0] != '/') return "path '" + p + "' is not absolute";
  if (p == "/") return std::string("path '/' is the root directory, not a file");
  if (auto pos = p.find_first_of("*?["); pos != std::string::npos)
    return "path patterns are not supported yet (found '" + std::string(1, p[pos]) +
           "' in '" + p + "')";
  if (p.back() == '/') return "path '" + p + "' has a trailing '/'";
  // p starts with '/' and does not end with one, so splitting after the
  // leading slash yields every component.
  std::size_t start = 1;
  while (start <= p.size()) {
    std::size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    const std::string comp = p.substr(start, end - start);
    if (comp.empty()) return "path '" + p + "' has an empty component ('//')";
    if (comp == "." || comp == "..")
      return "path '" + p + "' has a '" + comp + "' component";
    start = end + 1;
  }
  return std::nullopt;
}

std::vector<PathSpec> Parser::parse_paths(const Entry& e, const std::string& rule_id) {
  std::vector<YAML::Node> items;
  if (e.value.IsScalar()) {
    items.push_back(e.value);
  } else if (e.value.IsSequence() && e.value.size() > 0) {
    for (const auto& p : e.value) items.push_back(p);
  } else {
    error(value_loc(e), "'paths' must be a path or a non-empty list of paths");
    return {};
  }

  std::vector<PathSpec> out;
  std::map<std::string, int> seen;  // path -> line first listed
  for (const auto& item : items) {
    if (!item.IsScalar()) {
      error(loc(item), "path must be a string");
      continue;
    }
    const std::string& p = item.Scalar();
    if (auto problem = path_problem(p)) {
      error(loc(item), *problem);
      continue;
    }
    if (auto prev = seen.find(p); prev != seen.end()) {
      warning(loc(item), "duplicate path '" + p + "' in rule '" + rule_id +
                             "' (first listed at line " + std::to_string(prev->second) +
                             ")");
      continue;
    }
    seen.emplace(p, loc(item).line);
    out.push_back({p, PathKind::Exact, loc(item)});
  }
  return out;
}

std::optional<Rule> Parser::parse_rule(const YAML::Node& node, Mode default_mode,
                                       std::map<std::string, int>& seen_ids) {
  if (!node.IsMap()) {
    error(loc(node), "rule must be a mapping with keys: " + std::string(kRuleKeys));
    return std::nullopt;
  }
  Entries e = read_mapping(node, "rule", kRuleKeys, {"id", "deny", "paths", "mode"});

  Rule rule;
  rule.loc = loc(node);
  rule.mode = default_mode;

  if (auto it = e.find("id"); it == e.end()) {
    error(loc(node), "rule is missing required key 'id'");
  } else if (auto id = scalar(it->second, "id")) {
    if (check_identifier(*id, loc(it->second.value), "rule id")) {
      int line = loc(it->second.value).line;
      if (auto prev = seen_ids.find(*id); prev != seen_ids.end()) {
        error(loc(it->second.value), "duplicate rule id '" + *id +
                                         "' (first defined at line " +
                                         std::to_string(prev->second) + ")");
      } else {
        seen_ids.emplace(*id, line);
      }
    }
    rule.id = *id;
  }

  if (auto it = e.find("mode"); it != e.end()) {
    if (auto m = parse_mode(it->second)) rule.mode = *m;
  }

  auto deny = e.find("deny");
  auto paths = e.find("paths");
  bool mount = false;
  if (deny == e.end()) {
    error(loc(node), std::string("rule is missing required key 'deny' (one or more of: ") +
                         kRuleWords + ")");
  } else {
    parse_deny(deny->second, rule.access, mount);
  }

  if (mount && rule.access == 0) {
    rule.kind = RuleKind::Action;
    rule.words = {"mount"};
    if (paths != e.end()) {
      error(loc(paths->second.key), "'mount' rules take no 'paths'");
      paths = e.end();  // contents would only add noise
    }
  } else {
    rule.kind = RuleKind::File;
    for (const char* w : {"read", "write", "exec"})
      if (rule.access & (w[0] == 'r' ? AccessRead : w[0] == 'w' ? AccessWrite : AccessExec))
        rule.words.push_back(w);
    // Only a cleanly file-only deny gets this error: for a mixed rule the
    // combination error already says what to fix.
    if (deny != e.end() && rule.access != 0 && !mount && paths == e.end()) {
      error(loc(deny->second.value), "rules denying read, write or exec require 'paths'");
    }
  }
  if (paths != e.end()) rule.paths = parse_paths(paths->second, rule.id);

  return rule;
}

ParseResult Parser::run(const std::string& text) {
  ParseResult result;
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::ParserException& ex) {
    error(loc(ex.mark), ex.msg);
    result.diagnostics = std::move(diags_);
    return result;
  }

  if (docs.empty() || docs[0].IsNull()) {
    error({file_, 1, 1}, "policy is empty");
    result.diagnostics = std::move(diags_);
    return result;
  }
  // A second document would be silently ignored by a single-document load,
  // and the author almost certainly expected it to take effect.
  for (std::size_t i = 1; i < docs.size(); ++i)
    error(loc(docs[i]), "policy file must contain exactly one YAML document");

  const YAML::Node& root = docs[0];
  if (!root.IsMap()) {
    error(loc(root), "policy must be a mapping with keys: " + std::string(kTopKeys));
    result.diagnostics = std::move(diags_);
    return result;
  }

  Policy policy;
  policy.file = file_;
  policy.loc = loc(root);
  Entries e = read_mapping(root, "top-level", kTopKeys, {"name", "mode", "rules"});

  if (auto it = e.find("name"); it == e.end()) {
    error(loc(root), "policy is missing required key 'name'");
  } else if (auto name = scalar(it->second, "name")) {
    check_identifier(*name, loc(it->second.value), "policy name");
    policy.name = *name;
  }

  // Parsed before the rules because it is their default.
  if (auto it = e.find("mode"); it != e.end()) {
    if (auto m = parse_mode(it->second)) policy.mode = *m;
  }

  if (auto it = e.find("rules"); it == e.end()) {
    error(loc(root), "policy is missing required key 'rules'");
  } else if (!it->second.value.IsSequence()) {
    error(value_loc(it->second), "'rules' must be a list of rules");
  } else if (it->second.value.size() == 0) {
    warning(loc(it->second.value), "policy has no rules");
  } else {
    std::map<std::string, int> seen_ids;
    for (const auto& r : it->second.value) {
      if (auto rule = parse_rule(r, policy.mode, seen_ids))
        policy.rules.push_back(std::move(*rule));
    }
  }

  // Checks above run in an order chosen for data dependencies (mode before
  // rules, missing keys after the scan); report in document order instead.
  std::stable_sort(diags_.begin(), diags_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::make_pair(a.loc.line, a.loc.col) < std::make_pair(b.loc.line, b.loc.col);
  });
  result.diagnostics = std::move(diags_);
  if (result.ok()) result.policy = std::move(policy);
  return result;
}

}  // namespace

ParseResult parse_string(const std::string& text, const std::string& filename) {
  return Parser(filename).run(text);
}

ParseResult parse_file(const std::string& path) {
  auto fail = [&](int err) {
    ParseResult r;
    r.diagnostics.push_back({Diagnostic::Severity::Error,
                             {path, 1, 1},
                             std::string("cannot read policy: ") + std::strerror(err)});
    return r;
  };

  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return fail(errno);
  std::string text;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  // fopen succeeds on a directory; the error (EISDIR) only shows up on read.
  if (std::ferror(f)) {
    int err = errno;
    std::fclose(f);
    return fail(err);
  }
  std::fclose(f);
  return parse_string(text, path);
}

}  // namespace bulwark::policy
