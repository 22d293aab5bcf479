// SPDX-License-Identifier: Apache-2.0
// A minimal JSON writer for the event hot path: appends to one reused
// buffer, never allocates once the buffer has grown, never throws.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace bulwark {

// Appends s as a JSON string literal (with its quotes). Whatever bytes s
// holds, the result is valid JSON and valid UTF-8:
//  - '"', '\\' and control characters are escaped (\n \t \r \b \f short
//    forms, others as \u00XX);
//  - well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above
//    U+10FFFF) passes through unchanged;
//  - every byte that does not start a well-formed sequence becomes U+FFFD,
//    one per byte, so a truncated or forged path still shows where it was
//    damaged, and well-formed text round-trips exactly.
void append_json_string(std::string &out, std::string_view s);

// Appends s with only the invalid-UTF-8 replacement above, no escaping:
// for formats with escapes of their own (Prometheus label values).
void append_valid_utf8(std::string &out, std::string_view s);

inline std::string json_quote(std::string_view s)
{
	std::string r;
	append_json_string(r, s);
	return r;
}

// Builds one JSON value into a raw buffer. Every write reserves its worst
// case first, then copies without further checks: the std::string append
// path (a capacity check and a call per piece) cost more than the JSON.
// Commas are tracked with a single flag: a value or a closed container
// sets it, opening a container or writing a key clears it, which is all a
// writer that never goes back needs.
class JsonWriter {
public:
	JsonWriter() { grow(4096); }
	void clear()
	{
		len_ = 0;
		comma_ = false;
	}
	std::string_view view() const { return std::string_view(buf_.get(), len_); }
	std::string str() const { return std::string(view()); }

	void begin_object() { open('{'); }
	void end_object() { close('}'); }
	void begin_array() { open('['); }
	void end_array() { close(']'); }
	// k must need no escaping: keys are our own constants.
	template <size_t N> void key(const char (&k)[N])
	{
		room(N + 4);
		char *p = buf_.get() + len_;
		if (comma_)
			*p++ = ',';
		*p++ = '"';
		std::memcpy(p, k, N - 1);
		p += N - 1;
		*p++ = '"';
		*p++ = ':';
		len_ = static_cast<size_t>(p - buf_.get());
		comma_ = false;
	}
	void string(std::string_view s);
	// A fixed-size, possibly unterminated kernel char array.
	void string_n(const char *s, size_t max) { string(std::string_view(s, strnlen(s, max))); }
	void uint(uint64_t v);
	void sint(int64_t v);
	// "0x..." as a string: syscall arguments are 64-bit, beyond what JSON
	// numbers carry exactly through most parsers.
	void hex_string(uint64_t v);
	// An already-formatted value, or already-formatted "key":value members
	// (comma-separated): the parts of an event that never change are
	// formatted once.
	void raw(std::string_view json)
	{
		room(json.size() + 1);
		if (comma_)
			buf_[len_++] = ',';
		std::memcpy(buf_.get() + len_, json.data(), json.size());
		len_ += json.size();
		comma_ = true;
	}
	// Appends bytes as they are, no comma logic (the caller knows).
	void append(std::string_view s)
	{
		room(s.size());
		std::memcpy(buf_.get() + len_, s.data(), s.size());
		len_ += s.size();
	}
	// The caller appended a complete value or member itself.
	void mark_value() { comma_ = true; }

private:
	template <typename Int> void integer(Int v);
	void open(char c)
	{
		room(2);
		if (comma_)
			buf_[len_++] = ',';
		buf_[len_++] = c;
		comma_ = false;
	}
	void close(char c)
	{
		room(1);
		buf_[len_++] = c;
		comma_ = true;
	}
	void room(size_t n)
	{
		if (len_ + n > cap_)
			grow(len_ + n);
	}
	void grow(size_t need);

	std::unique_ptr<char[]> buf_;
	size_t len_ = 0, cap_ = 0;
	bool comma_ = false;
};

} // namespace bulwark
