// SPDX-License-Identifier: Apache-2.0
// `bulwark catalog`: the one table every layer reads (policy/catalog.cc),
// with the programs the BPF object has on each hook.
#pragma once

#include <string>

namespace bulwark {

struct CatalogOptions {
	bool json = false;
};
int run_catalog(const CatalogOptions &o);

// Exposed for tests.
std::string catalog_json();
std::string catalog_text();

} // namespace bulwark
