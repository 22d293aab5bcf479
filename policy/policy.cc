// SPDX-License-Identifier: Apache-2.0
//
// The parser's entry points (policy/policy.h). The work is done in steps,
// one file each; policy/parse_internal.h lists them.

#include "policy/policy.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "policy/parse_internal.h"

namespace bulwark::policy {

std::string Diagnostic::str() const
{
	std::string out = loc.file + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.col) + ": ";
	if (severity == Severity::Warning)
		out += "warning: ";
	return out + message;
}

bool ParseResult::ok() const
{
	return std::none_of(diagnostics.begin(), diagnostics.end(),
			    [](const Diagnostic &d) { return d.severity == Diagnostic::Severity::Error; });
}

const char *to_string(Mode mode)
{
	return mode == Mode::Audit ? "audit" : "enforce";
}

std::string to_string(const SyscallAction &a)
{
	switch (a.kind) {
	case SyscallActionKind::Allow:
		return "allow";
	case SyscallActionKind::KillProcess:
		return "kill-process";
	case SyscallActionKind::KillThread:
		return "kill-thread";
	case SyscallActionKind::Log:
		return "log";
	case SyscallActionKind::Trap:
		return "trap";
	case SyscallActionKind::Errno: {
		const char *n = strerrorname_np(a.errno_value);
		return std::string("errno(") + (n ? n : std::to_string(a.errno_value).c_str()) + ")";
	}
	}
	return "?";
}

bool same_action(const SyscallAction &a, const SyscallAction &b)
{
	return a.kind == b.kind && (a.kind != SyscallActionKind::Errno || a.errno_value == b.errno_value);
}

namespace {

ParseResult load_file(const std::string &path, internal::SourceFn source)
{
	std::string text;
	int err = 0;
	if (!internal::read_text(path, text, err)) {
		ParseResult r;
		r.diagnostics.push_back({Diagnostic::Severity::Error,
					 {path, 1, 1},
					 std::string("cannot read policy: ") + std::strerror(err)});
		return r;
	}
	return internal::Loader(std::move(source)).run(text, path);
}

} // namespace

ParseResult parse_string(const std::string &text, const std::string &filename)
{
	return internal::Loader(internal::default_source).run(text, filename);
}

ParseResult parse_string(const std::string &text, const std::string &filename, const ExtendsResolver &resolver)
{
	return internal::Loader(internal::wrap(resolver)).run(text, filename);
}

ParseResult parse_file(const std::string &path)
{
	return load_file(path, internal::default_source);
}

ParseResult parse_file(const std::string &path, const ExtendsResolver &resolver)
{
	return load_file(path, internal::wrap(resolver));
}

} // namespace bulwark::policy
