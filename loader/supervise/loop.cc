// SPDX-License-Identifier: Apache-2.0
#include "loader/supervise/loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "loader/events/stream.h"
#include "loader/kernel/lsm.h"
#include "loader/sinks/metrics.h"
#include "loader/sinks/output.h"

namespace bulwark {

Supervision::Supervision(const sigset_t &signals)
{
	sigprocmask(SIG_BLOCK, &signals, nullptr);
	sigfd_.reset(signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
	if (!sigfd_)
		throw Error("supervise: signalfd", errno);
	ep_.reset(epoll_create1(EPOLL_CLOEXEC));
	if (!ep_)
		throw Error("supervise: epoll_create1", errno);
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.fd = sigfd_.get();
	if (epoll_ctl(ep_.get(), EPOLL_CTL_ADD, sigfd_.get(), &ev) != 0)
		throw Error("supervise: epoll_ctl", errno);
}

void Supervision::watch(int fd, Handler fn)
{
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	if (epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
		throw Error("supervise: epoll_ctl", errno);
	handlers_[fd] = std::move(fn);
}

void Supervision::unwatch(int fd)
{
	epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, nullptr);
	handlers_.erase(fd);
}

void Supervision::serve(EventStream &stream, LsmLayer *lsm, Output *out, MetricsServer *metrics,
			std::function<void(uint64_t)> on_lost)
{
	if (lsm)
		watch(lsm->poll_fd(), [lsm](uint32_t) { lsm->consume(kConsumeBudget); });
	if (out && out->poll_fd() >= 0)
		watch(out->poll_fd(), [out](uint32_t) { out->on_ready(); });
	if (metrics)
		watch(metrics->fd(), [metrics, &stream](uint32_t) {
			try {
				metrics->on_ready([&] { return render_metrics(stream.metrics()); });
			} catch (const std::exception &e) {
				std::fprintf(stderr, "metrics: %s\n", e.what());
			}
		});
	pipeline_tick_ = [&stream, on_lost] {
		uint64_t lost = stream.tick();
		if (lost && on_lost)
			on_lost(lost);
		stream.flush();
	};
}

void Supervision::run(int period_ms, const std::function<void(const signalfd_siginfo &)> &on_signal,
		      const std::function<void()> &on_tick)
{
	while (!stop_) {
		epoll_event evs[8];
		int k = epoll_wait(ep_.get(), evs, 8, period_ms);
		for (int i = 0; i < k; i++) {
			int fd = evs[i].data.fd;
			if (fd == sigfd_.get())
				continue;
			auto it = handlers_.find(fd);
			if (it != handlers_.end())
				it->second(evs[i].events);
		}
		// Signals every round, not only when epoll saw them: one sent
		// before the signalfd existed is pending all the same.
		signalfd_siginfo si;
		while (read(sigfd_.get(), &si, sizeof(si)) == sizeof(si))
			on_signal(si);
		if (pipeline_tick_)
			pipeline_tick_();
		if (on_tick)
			on_tick();
	}
}

} // namespace bulwark
