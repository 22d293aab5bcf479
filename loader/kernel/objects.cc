// SPDX-License-Identifier: Apache-2.0
// The two BPF objects: opening them, sharing the LSM object's maps with
// the trace object, attaching their programs, and the bpffs pins.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "loader/kernel/objects.h"

extern "C" {
#include "bulwark.h"
}
#include "bulwark.skel.h"
#include "bulwark_trace.skel.h"

namespace bulwark {

void SkelDeleter::operator()(bulwark_bpf *s) const
{
	bulwark_bpf__destroy(s);
}

void SkelDeleter::operator()(bulwark_trace_bpf *s) const
{
	bulwark_trace_bpf__destroy(s);
}

int quiet_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	if (getenv("BULWARK_LIBBPF_QUIET") && level == LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, args);
}

LsmSkel open_lsm_object(bool quiet)
{
	libbpf_print_fn_t old = quiet ? libbpf_set_print(nullptr) : nullptr;
	LsmSkel skel(bulwark_bpf__open());
	int err = errno;
	if (quiet)
		libbpf_set_print(old);
	errno = err;
	return skel;
}

TraceSkel open_trace_object()
{
	return TraceSkel(bulwark_trace_bpf__open());
}

void share_maps(bpf_object *from, bpf_object *to)
{
	bpf_map *map;
	bpf_object__for_each_map(map, to)
	{
		// .bss/.rodata are each object's own variables.
		if (bpf_map__is_internal(map))
			continue;
		const bpf_map *src = bpf_object__find_map_by_name(from, bpf_map__name(map));
		if (src && bpf_map__reuse_fd(map, bpf_map__fd(src)))
			throw Error(std::string("lsm: failed to share map ") + bpf_map__name(map), errno);
	}
}

int attach_programs(const bpf_object_skeleton *s, const std::string &pin_dir, std::vector<std::string> &pins)
{
	int attached = 0;
	for (int i = 0; i < s->prog_cnt; i++) {
		bpf_program *prog = *s->progs[i].prog;
		if (!bpf_program__autoload(prog))
			continue;
		bpf_link *link = bpf_program__attach(prog);
		if (!link)
			throw Error(std::string("lsm: failed to attach ") + bpf_program__section_name(prog), errno);
		// Owned by the skeleton's link array so destroy() detaches it.
		*s->progs[i].link = link;
		if (!pin_dir.empty()) {
			std::string path = pin_dir + "/link_" + bpf_program__name(prog);
			if (bpf_link__pin(link, path.c_str()))
				throw Error("enforce: failed to pin link " + path, errno);
			pins.push_back(path);
		}
		attached++;
	}
	return attached;
}

namespace {

// bpffs names: "map_<name>" for every map, "link_<program>" for every link.
std::string pin_name(const std::string &map_name)
{
	std::string n = "map_" + map_name;
	for (char &c : n)
		if (c == '.')
			c = '_';
	return n;
}

} // namespace

void pin_maps(bpf_object *obj, const std::string &pin_dir, std::vector<std::string> &pins)
{
	// Maps after links, the config map last: its pin is what a restarted
	// enforcer takes as "a complete set is in force", so an enforcer
	// killed while attaching leaves none.
	std::vector<bpf_map *> order;
	bpf_map *map, *config = nullptr;
	bpf_object__for_each_map(map, obj)
	{
		if (pin_name(bpf_map__name(map)) == "map_bw_config")
			config = map;
		else
			order.push_back(map);
	}
	if (config)
		order.push_back(config);
	for (bpf_map *m : order) {
		std::string path = pin_dir + "/" + pin_name(bpf_map__name(m));
		if (bpf_map__pin(m, path.c_str()))
			throw Error("enforce: failed to pin map " + path, errno);
		pins.push_back(path);
	}
}

std::vector<std::string> unpin_all(const std::string &dir)
{
	std::vector<std::string> removed;
	DIR *d = opendir(dir.c_str());
	if (!d) {
		if (errno == ENOENT)
			return removed;
		throw Error("enforce: cannot open pin directory " + dir, errno);
	}
	std::vector<std::string> names;
	while (dirent *e = readdir(d))
		if (std::strncmp(e->d_name, "map_", 4) == 0 || std::strncmp(e->d_name, "link_", 5) == 0)
			names.push_back(e->d_name);
	closedir(d);
	// Links first: each detaches when its pin (the last reference, once
	// no enforcer holds it) goes.
	std::sort(names.begin(), names.end(), [](const std::string &a, const std::string &b) {
		bool la = a[0] == 'l', lb = b[0] == 'l';
		return la != lb ? la : a < b;
	});
	for (const auto &n : names) {
		if (unlink((dir + "/" + n).c_str()) != 0)
			throw Error("enforce: unlink " + dir + "/" + n, errno);
		removed.push_back(n);
	}
	if (rmdir(dir.c_str()) != 0 && errno != ENOENT)
		throw Error("enforce: rmdir " + dir + " (something other than bulwark's pins is in it?)", errno);
	return removed;
}

} // namespace bulwark
