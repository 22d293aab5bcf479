// SPDX-License-Identifier: Apache-2.0
//
// The first step: YAML text to one document, and the checks every key of a
// policy shares (known keys, scalars, lists, modes, identifiers, numbers).

#include <yaml-cpp/eventhandler.h>

#include <cstring>
#include <sstream>

#include "policy/parse_internal.h"

namespace bulwark::policy::internal {

namespace {

const char *const kNameChars = "A-Z a-z 0-9 . _ -";

// The highest errno strerrorname_np() names on the glibc we target.
constexpr int kMaxErrno = 133;

// Records where each document starts, nothing else. yaml-cpp 0.7's LoadAll
// never returns on a stray ',' (it keeps producing empty documents: found by
// the fuzzer, fixed upstream after 0.7), so documents are counted with the
// event API, which lets us stop after the second.
class DocumentStarts : public YAML::EventHandler {
public:
	std::vector<YAML::Mark> marks;
	void OnDocumentStart(const YAML::Mark &mark) override { marks.push_back(mark); }
	void OnDocumentEnd() override {}
	void OnNull(const YAML::Mark &, YAML::anchor_t) override {}
	void OnAlias(const YAML::Mark &, YAML::anchor_t) override {}
	void OnScalar(const YAML::Mark &, const std::string &, YAML::anchor_t, const std::string &) override {}
	void OnSequenceStart(const YAML::Mark &, const std::string &, YAML::anchor_t,
			     YAML::EmitterStyle::value) override
	{
	}
	void OnSequenceEnd() override {}
	void OnMapStart(const YAML::Mark &, const std::string &, YAML::anchor_t, YAML::EmitterStyle::value) override {}
	void OnMapEnd() override {}
};

} // namespace

std::set<std::string> split_list(const char *list)
{
	std::set<std::string> out;
	std::string s(list);
	std::size_t start = 0;
	while (start < s.size()) {
		std::size_t end = s.find(", ", start);
		if (end == std::string::npos)
			end = s.size();
		out.insert(s.substr(start, end - start));
		start = end + 2;
	}
	return out;
}

std::string join(const std::vector<const char *> &items)
{
	std::string out;
	for (const char *i : items) {
		if (!out.empty())
			out += ", ";
		out += i;
	}
	return out;
}

std::string where(const Location &l)
{
	return l.file + ":" + std::to_string(l.line);
}

bool before(const Location &a, const Location &b)
{
	return std::make_pair(a.line, a.col) < std::make_pair(b.line, b.col);
}

// A leading 0 is decimal, as a reader would expect.
Num parse_uint(const std::string &s, uint64_t &out)
{
	int base = 10;
	std::size_t i = 0;
	if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i >= s.size())
		return Num::Bad;
	uint64_t v = 0;
	bool overflow = false;
	for (; i < s.size(); ++i) {
		const char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return Num::Bad;
		if (v > (UINT64_MAX - d) / base)
			overflow = true;
		v = v * base + d;
	}
	if (overflow)
		return Num::Overflow;
	out = v;
	return Num::Ok;
}

std::optional<int> find_errno(const std::string &name)
{
	for (int e = 1; e <= kMaxErrno; ++e) {
		const char *n = strerrorname_np(e);
		if (n && name == n)
			return e;
	}
	return std::nullopt;
}

std::optional<YAML::Node> Parser::load_document(const std::string &text)
{
	std::vector<YAML::Node> docs;
	try {
		std::istringstream in(text);
		YAML::Parser events(in);
		DocumentStarts starts;
		for (int i = 0; i < 2 && events.HandleNextDocument(starts); i++) {
		}
		YAML::Node first = YAML::Load(text);
		if (!starts.marks.empty() || !first.IsNull())
			docs.push_back(first);
		// A second document would be silently ignored by a single-document
		// load, and the author almost certainly expected it to take effect.
		if (starts.marks.size() > 1)
			error(loc(starts.marks[1]), "policy file must contain exactly one YAML document");
	} catch (const YAML::Exception &ex) {
		error(loc(ex.mark), ex.msg);
		return std::nullopt;
	}

	if (docs.empty() || docs[0].IsNull()) {
		error({file_, 1, 1}, "policy is empty");
		return std::nullopt;
	}
	return docs[0];
}

Parser::Entries Parser::read_mapping(const YAML::Node &map, const char *what, const char *known)
{
	const std::set<std::string> allowed = split_list(known);
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
		const std::string &k = key.Scalar();
		if (!allowed.count(k)) {
			error(loc(key),
			      "unknown " + std::string(what) + " key '" + k + "' (expected one of: " + known + ")");
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

std::optional<Parser::Entries> Parser::entry_mapping(const YAML::Node &node, const char *what, const char *known)
{
	if (!node.IsMap()) {
		error(loc(node), std::string(what) + " must be a mapping with keys: " + known);
		return std::nullopt;
	}
	return read_mapping(node, what, known);
}

std::optional<std::vector<YAML::Node>> Parser::items(const Entry &e, const std::string &what)
{
	std::vector<YAML::Node> out;
	if (e.value.IsScalar()) {
		out.push_back(e.value);
	} else if (e.value.IsSequence() && e.value.size() > 0) {
		for (const auto &n : e.value)
			out.push_back(n);
	} else {
		error(value_loc(e), what);
		return std::nullopt;
	}
	return out;
}

std::optional<std::string> Parser::scalar(const Entry &e, const char *key)
{
	if (!e.value.IsScalar() || e.value.Scalar().empty()) {
		error(value_loc(e), "'" + std::string(key) + "' must be a non-empty string");
		return std::nullopt;
	}
	return e.value.Scalar();
}

std::optional<Mode> Parser::parse_mode(const Entry &e)
{
	if (e.value.IsScalar()) {
		if (e.value.Scalar() == "enforce")
			return Mode::Enforce;
		if (e.value.Scalar() == "audit")
			return Mode::Audit;
		error(loc(e.value), "invalid mode '" + e.value.Scalar() + "' (expected one of: enforce, audit)");
		return std::nullopt;
	}
	error(value_loc(e), "'mode' must be one of: enforce, audit");
	return std::nullopt;
}

void Parser::read_mode(const Entries &m, Mode &mode)
{
	if (auto it = m.find("mode"); it != m.end()) {
		if (auto parsed = parse_mode(it->second))
			mode = *parsed;
	}
}

bool Parser::check_identifier(const std::string &value, const Location &l, const char *what)
{
	if (value.size() > kMaxNameLength) {
		error(l, std::string(what) + " is " + std::to_string(value.size()) + " characters long (limit is " +
				 std::to_string(kMaxNameLength) + ")");
		return false;
	}
	for (char c : value) {
		// Spelled out rather than isalnum() so the result cannot depend on locale.
		const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				     c == '.' || c == '_' || c == '-';
		if (!allowed) {
			error(l, "invalid " + std::string(what) + " '" + value +
					 "' (allowed characters: " + kNameChars + ")");
			return false;
		}
	}
	return true;
}

} // namespace bulwark::policy::internal
