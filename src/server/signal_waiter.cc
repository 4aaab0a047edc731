#include "server/signal_waiter.h"

#include <csignal>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

namespace clinshub::server {

struct SignalWaiter::Impl {
  boost::asio::io_context ioc;
  boost::asio::signal_set signals{ioc, SIGINT, SIGTERM};
};

SignalWaiter::SignalWaiter() : impl_(std::make_unique<Impl>()) {}
SignalWaiter::~SignalWaiter() = default;

int SignalWaiter::Wait() {
  int received = 0;
  impl_->signals.async_wait(
      [&received](const boost::system::error_code& ec, int signal) {
        if (!ec) received = signal;
      });
  impl_->ioc.run();
  return received;
}

}  // namespace clinshub::server
