// SPDX-License-Identifier: Apache-2.0
//
// Policy file parser. The parser only checks what can be decided from the
// text itself; anything that needs the filesystem (symlinks, existence) is
// the loader's job, so that policies can be validated off-target.

#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::policy {

enum class Mode { Enforce, Audit };

// 1-based, as editors and compilers print them.
struct Location {
  std::string file;
  int line = 0;
  int col = 0;
};

struct Diagnostic {
  enum class Severity { Error, Warning } severity;
  Location loc;
  std::string message;

  // Errors: "FILE:LINE:COL: message"
  // Warnings: "FILE:LINE:COL: warning: message"
  std::string str() const;
};

enum class RuleKind { Mount, File };  // File covers read/write/exec

enum Access : unsigned { AccessRead = 1u, AccessWrite = 2u, AccessExec = 4u };

struct PathSpec {
  std::string path;
  Location loc;
};

struct Rule {
  std::string id;
  RuleKind kind;
  unsigned access = 0;  // File only: bitwise OR of Access
  std::vector<PathSpec> paths;
  Mode mode;  // effective: the rule's override, else the policy's
  Location loc;
};

struct Policy {
  std::string file;
  std::string name;
  Mode mode = Mode::Enforce;
  std::vector<Rule> rules;
  Location loc;
};

struct ParseResult {
  std::optional<Policy> policy;  // nullopt iff any diagnostic is an error
  std::vector<Diagnostic> diagnostics;

  bool ok() const;
};

// Limits shared with the loader / BPF side.
inline constexpr std::size_t kMaxNameLength = 64;
inline constexpr std::size_t kMaxPathLength = 255;

ParseResult parse_string(const std::string& text, const std::string& filename);

// An unreadable file yields one error: "FILE:1:1: cannot read policy: <strerror>".
ParseResult parse_file(const std::string& path);

const char* to_string(Mode mode);

}  // namespace bulwark::policy
