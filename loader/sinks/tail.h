// SPDX-License-Identifier: Apache-2.0
// `bulwark events --from`: a second reader of a running enforcer's stream.
#pragma once

#include <string>

namespace bulwark {

struct EventsOptions {
	std::string from;   // unix:PATH (an enforcer's --events unix:PATH), or a pin directory
	bool follow = true; // keep reading until the stream ends (or ^C)
};

int run_events(const EventsOptions &o);

} // namespace bulwark
