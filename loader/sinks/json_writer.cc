// SPDX-License-Identifier: Apache-2.0
#include "loader/sinks/json_writer.h"

#include <charconv>
#include <cstring>

namespace bulwark {

namespace {

// 0: copied as is; 1: escaped; 2: starts a multibyte sequence (or is not
// UTF-8 at all). A table keeps the common case, runs of plain ASCII, to one
// load and one compare per byte.
struct ByteClass {
	unsigned char c[256];
	constexpr ByteClass() : c()
	{
		for (int i = 0; i < 256; i++)
			c[i] = i < 0x20 || i == '"' || i == '\\' ? 1 : i >= 0x80 ? 2 : 0;
	}
};
constexpr ByteClass kClass;

constexpr char kHex[] = "0123456789abcdef";

// Length of the well-formed UTF-8 sequence at p (Unicode table 3-7), or 0.
size_t utf8_len(const unsigned char *p, size_t left)
{
	unsigned char b = p[0];
	auto cont = [&](size_t i, unsigned char lo, unsigned char hi) { return i < left && p[i] >= lo && p[i] <= hi; };
	if (b >= 0xc2 && b <= 0xdf)
		return cont(1, 0x80, 0xbf) ? 2 : 0;
	if (b == 0xe0)
		return cont(1, 0xa0, 0xbf) && cont(2, 0x80, 0xbf) ? 3 : 0;
	if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef)
		return cont(1, 0x80, 0xbf) && cont(2, 0x80, 0xbf) ? 3 : 0;
	if (b == 0xed) // not the surrogates D800..DFFF
		return cont(1, 0x80, 0x9f) && cont(2, 0x80, 0xbf) ? 3 : 0;
	if (b == 0xf0)
		return cont(1, 0x90, 0xbf) && cont(2, 0x80, 0xbf) && cont(3, 0x80, 0xbf) ? 4 : 0;
	if (b >= 0xf1 && b <= 0xf3)
		return cont(1, 0x80, 0xbf) && cont(2, 0x80, 0xbf) && cont(3, 0x80, 0xbf) ? 4 : 0;
	if (b == 0xf4) // nothing above U+10FFFF
		return cont(1, 0x80, 0x8f) && cont(2, 0x80, 0xbf) && cont(3, 0x80, 0xbf) ? 4 : 0;
	return 0;
}

} // namespace

// Writes s at dst, escaped (kEscape) and with invalid UTF-8 replaced;
// returns the new end. Never writes more than 6 bytes per input byte
// (\u00XX), which callers reserve up front.
template <bool kEscape> static char *write_utf8(char *dst, std::string_view s)
{
	const auto *p = reinterpret_cast<const unsigned char *>(s.data());
	size_t n = s.size(), i = 0;
	while (i < n) {
		size_t run = i;
		if (kEscape) {
			// Eight bytes at a time while none is a control character,
			// '"', '\\' or non-ASCII: paths are mostly that.
			constexpr uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
			while (run + 8 <= n) {
				uint64_t x;
				std::memcpy(&x, p + run, 8);
				uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
				uint64_t bad = ((x - ones * 0x20) | (q - ones) | (b - ones) | x) & highs;
				if (bad)
					break;
				run += 8;
			}
		}
		while (run < n && (kClass.c[p[run]] == 0 || (!kEscape && kClass.c[p[run]] == 1)))
			run++;
		if (run > i) {
			std::memcpy(dst, s.data() + i, run - i);
			dst += run - i;
			i = run;
			if (i == n)
				break;
		}
		unsigned char b = p[i];
		if (kClass.c[b] == 1) {
			*dst++ = '\\';
			switch (b) {
			case '"':
				*dst++ = '"';
				break;
			case '\\':
				*dst++ = '\\';
				break;
			case '\n':
				*dst++ = 'n';
				break;
			case '\t':
				*dst++ = 't';
				break;
			case '\r':
				*dst++ = 'r';
				break;
			case '\b':
				*dst++ = 'b';
				break;
			case '\f':
				*dst++ = 'f';
				break;
			default:
				*dst++ = 'u';
				*dst++ = '0';
				*dst++ = '0';
				*dst++ = kHex[b >> 4];
				*dst++ = kHex[b & 0xf];
			}
			i++;
			continue;
		}
		size_t len = utf8_len(p + i, n - i);
		if (len) {
			std::memcpy(dst, s.data() + i, len);
			dst += len;
			i += len;
		} else {
			std::memcpy(dst, "\xef\xbf\xbd", 3); // U+FFFD
			dst += 3;
			i++;
		}
	}
	return dst;
}

template <bool kEscape> static void append_utf8(std::string &out, std::string_view s)
{
	size_t old = out.size();
	out.resize(old + 6 * s.size());
	char *end = write_utf8<kEscape>(out.data() + old, s);
	out.resize(static_cast<size_t>(end - out.data()));
}

void append_valid_utf8(std::string &out, std::string_view s)
{
	append_utf8<false>(out, s);
}

void append_json_string(std::string &out, std::string_view s)
{
	out += '"';
	append_utf8<true>(out, s);
	out += '"';
}

void JsonWriter::grow(size_t need)
{
	size_t cap = cap_ ? cap_ : 4096;
	while (cap < need)
		cap *= 2;
	std::unique_ptr<char[]> b(new char[cap]);
	if (len_)
		std::memcpy(b.get(), buf_.get(), len_);
	buf_ = std::move(b);
	cap_ = cap;
}

void JsonWriter::string(std::string_view s)
{
	room(6 * s.size() + 3);
	char *p = buf_.get() + len_;
	if (comma_)
		*p++ = ',';
	*p++ = '"';
	p = write_utf8<true>(p, s);
	*p++ = '"';
	len_ = static_cast<size_t>(p - buf_.get());
	comma_ = true;
}

template <typename Int> void JsonWriter::integer(Int v)
{
	room(22);
	if (comma_)
		buf_[len_++] = ',';
	auto r = std::to_chars(buf_.get() + len_, buf_.get() + len_ + 21, v);
	len_ = static_cast<size_t>(r.ptr - buf_.get());
	comma_ = true;
}

void JsonWriter::uint(uint64_t v)
{
	integer(v);
}

void JsonWriter::sint(int64_t v)
{
	integer(v);
}

void JsonWriter::hex_string(uint64_t v)
{
	char b[16];
	char *e = b + sizeof(b), *p = e;
	do {
		*--p = kHex[v & 0xf];
		v >>= 4;
	} while (v);
	size_t n = static_cast<size_t>(e - p);
	room(n + 5);
	char *d = buf_.get() + len_;
	if (comma_)
		*d++ = ',';
	std::memcpy(d, "\"0x", 3);
	std::memcpy(d + 3, p, n);
	d[3 + n] = '"';
	len_ = static_cast<size_t>(d + 4 + n - buf_.get());
	comma_ = true;
}

} // namespace bulwark
