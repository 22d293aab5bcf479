// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer target for the policy parser. Besides crashes and sanitizer
// reports, it traps on any broken contract of ParseResult, because the
// loader and the CLI rely on those contracts without re-checking them.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "policy/policy.h"

namespace {

namespace pol = bulwark::policy;

const char kFile[] = "fuzz.yaml";

// A trap rather than assert() so the check survives -DNDEBUG builds.
#define FUZZ_CHECK(cond)                  \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

void check_location(const pol::Location &l)
{
	FUZZ_CHECK(l.file == kFile);
	FUZZ_CHECK(l.line >= 1);
	FUZZ_CHECK(l.col >= 1);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const std::string text(reinterpret_cast<const char *>(data), size);
	// Deliberately no try/catch: an exception escaping parse_string is a
	// parser bug, and letting it terminate the process is how it gets reported.
	// No extends: the fuzzer must not read files, and every diagnostic must
	// then name the fuzzed text.
	const pol::ParseResult r =
		pol::parse_string(text, kFile, [](const std::string &, const std::string &) { return std::nullopt; });

	bool has_error = false;
	const std::string prefix = std::string(kFile) + ":";
	for (const auto &d : r.diagnostics) {
		if (d.severity == pol::Diagnostic::Severity::Error)
			has_error = true;
		check_location(d.loc);
		FUZZ_CHECK(d.str().compare(0, prefix.size(), prefix) == 0);
	}
	FUZZ_CHECK(r.ok() == r.policy.has_value());
	FUZZ_CHECK(r.ok() == !has_error);

	if (!r.ok())
		return 0;

	std::set<std::string> ids;
	for (const auto &rule : r.policy->rules) {
		FUZZ_CHECK(!rule.id.empty());
		FUZZ_CHECK(ids.insert(rule.id).second);
		// Action rules (mount, socket, ...) act on objects that have no path;
		// a path list on one would be silently ignored by both layers.
		if (rule.kind == pol::RuleKind::Action) {
			FUZZ_CHECK(rule.paths.empty());
		} else {
			FUZZ_CHECK(!rule.paths.empty());
			for (const auto &p : rule.paths) {
				FUZZ_CHECK(!p.path.empty() && p.path[0] == '/');
				FUZZ_CHECK(p.path.size() <= pol::kMaxPathLength);
			}
		}
	}
	return 0;
}
