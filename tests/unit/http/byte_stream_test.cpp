// byte_stream reads over a real loopback TCP connection: the kernel is the subject here, so
// there is nothing to fake. A read that drained the socket makes the next one wait for an epoll
// event (drain_aware_read.hpp); these tests pin down that no read ever waits for an event that
// was already consumed together with earlier bytes (a FIN, a reset), and that a waiting read is
// woken by bytes that arrive later.
#include "keygate/http/byte_stream.hpp"

#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace keygate::http {
namespace {

using namespace std::chrono_literals;

// keygate's side (`ours`, driven by `io`) and a peer socket written to synchronously.
struct tcp_pair {
  asio::io_context io{1};
  std::unique_ptr<byte_stream> ours;
  tcp::socket peer{io};

  tcp_pair() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    peer.connect(acceptor.local_endpoint());
    ours = std::make_unique<byte_stream>(acceptor.accept());
  }
  // Lets the reactor take every event pending now while no read waits, as a busy worker does
  // before it gets to the connection: afterwards nothing already received raises an event.
  void settle() {
    std::this_thread::sleep_for(50ms);      // loopback delivery
    auto work = asio::make_work_guard(io);  // without work, poll() would not ask epoll at all
    io.poll();
    work.reset();
    io.restart();
  }
  void send(const std::string& bytes) { asio::write(peer, asio::buffer(bytes)); }
  // `bytes` and the FIN in one segment (held back by TCP_CORK until the half-close).
  void send_with_fin(const std::string& bytes) {
    const int on = 1;
    ASSERT_EQ(::setsockopt(peer.native_handle(), IPPROTO_TCP, TCP_CORK, &on, sizeof on), 0);
    send(bytes);
    peer.shutdown(tcp::socket::shutdown_send);
  }
  // `bytes`, then a reset (SO_LINGER 0).
  void send_then_reset(const std::string& bytes) {
    send(bytes);
    peer.set_option(asio::socket_base::linger(true, 0));
    peer.close();
  }
};

struct read_result {
  bool completed = false;
  error_code ec;
  std::string data;
};

enum class read_kind { next_message, continuation };

// One read on `ours`. Not completed means it was still waiting after 2 s: the event it waits
// for will never come (a hang, not a slow read: every read here has its answer already queued
// or is woken by bytes sent right away).
read_result read_once(tcp_pair& p, read_kind kind, const std::string& send_meanwhile = {}) {
  read_result result;
  auto buffer = std::make_shared<std::array<char, 4096>>();
  asio::co_spawn(
      p.io,
      [&p, &result, buffer, kind]() -> asio::awaitable<void> {
        const auto into = asio::buffer(*buffer);
        auto reading =
            kind == read_kind::next_message ? p.ours->read_next_message(into) : p.ours->read_some(into);
        auto [ec, n] = co_await std::move(reading);
        result = {true, ec, std::string(buffer->data(), n)};
      },
      asio::detached);
  p.io.poll();  // the read starts (and waits, unless its bytes are there)
  if (!send_meanwhile.empty()) p.send(send_meanwhile);
  p.io.run_for(2s);
  p.io.restart();
  return result;
}

TEST(ByteStreamReads, EndOfStreamReadTogetherWithTheLastBytesIsNotLost) {
  tcp_pair p;
  p.send_with_fin("last request");
  p.settle();
  const auto first = read_once(p, read_kind::next_message);
  ASSERT_TRUE(first.completed);
  EXPECT_FALSE(first.ec) << first.ec.message();
  EXPECT_EQ(first.data, "last request");
  const auto second = read_once(p, read_kind::next_message);
  ASSERT_TRUE(second.completed) << "the FIN that came with the bytes was lost";
  EXPECT_EQ(second.ec, asio::error::eof);
}

TEST(ByteStreamReads, AResetThatCameWithTheBytesEndsTheReadThatContinuesTheMessage) {
  tcp_pair p;
  p.send_then_reset("part of a response");
  p.settle();
  const auto first = read_once(p, read_kind::next_message);
  ASSERT_TRUE(first.completed);
  if (first.ec) GTEST_SKIP() << "this kernel reported the reset before the bytes: " << first.ec.message();
  EXPECT_EQ(first.data, "part of a response");
  const auto second = read_once(p, read_kind::continuation);
  ASSERT_TRUE(second.completed) << "the reset that came with the bytes was lost";
  EXPECT_EQ(second.ec, asio::error::connection_reset) << second.ec.message();
}

TEST(ByteStreamReads, AReadAfterADrainedReadIsWokenByBytesThatArriveLater) {
  tcp_pair p;
  p.send("first");
  p.settle();
  const auto first = read_once(p, read_kind::next_message);
  ASSERT_TRUE(first.completed);
  EXPECT_EQ(first.data, "first");
  for (const auto kind : {read_kind::next_message, read_kind::continuation}) {
    const auto later = read_once(p, kind, "later");
    ASSERT_TRUE(later.completed);
    EXPECT_FALSE(later.ec) << later.ec.message();
    EXPECT_EQ(later.data, "later");
  }
}

TEST(ByteStreamReads, AFullBufferLeavesTheRestForTheNextRead) {
  tcp_pair p;
  const std::string big(10000, 'x');  // more than one 4 KiB read
  p.send(big);
  p.settle();
  std::string got;
  while (got.size() < big.size()) {
    const auto r = read_once(p, read_kind::next_message);
    ASSERT_TRUE(r.completed) << "after " << got.size() << " bytes";
    ASSERT_FALSE(r.ec) << r.ec.message();
    got += r.data;
  }
  EXPECT_EQ(got, big);
}

}  // namespace
}  // namespace keygate::http
