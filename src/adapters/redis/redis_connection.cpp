// See redis_connection.hpp for the contract. hiredis 0.14 semantics relied on here:
//  - redisAsyncSetConnectCallback arms a write wait; the first write event completes the connect
//    and calls onConnect(OK|ERR); after ERR hiredis frees the context itself.
//  - a read/write error or EOF frees the context from inside redisAsyncHandleRead/Write;
//  - freeing runs every pending callback with a null reply, then ev.cleanup, then closes the fd.
#include "redis_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <limits>

namespace keygate::redis {

namespace asio = boost::asio;
using boost::system::error_code;
using cache::redis_reply;

cache::redis_reply copy_reply(const redisReply& r) {
  redis_reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.kind = redis_reply::type::string;
      break;
    case REDIS_REPLY_STATUS:
      out.kind = redis_reply::type::status;
      break;
    case REDIS_REPLY_ERROR:
      out.kind = redis_reply::type::error;
      break;
    case REDIS_REPLY_INTEGER:
      out.kind = redis_reply::type::integer;
      out.integer = r.integer;
      return out;
    case REDIS_REPLY_ARRAY:
      out.kind = redis_reply::type::array;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(copy_reply(*r.element[i]));
      return out;
    default:
      return out;  // nil
  }
  if (r.str != nullptr) out.str.assign(r.str, r.len);
  return out;
}

namespace {

// One in-flight command of command(): shared by the awaiting coroutine and the hiredis callback
// (which holds it through a heap-allocated shared_ptr it deletes), so whichever finishes last
// frees it — a reply arriving after the deadline, or after the coroutine is gone, is harmless.
struct pending_command {
  explicit pending_command(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  bool done = false;
  bool lost = false;
  redis_reply reply;
};

void on_command_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* holder = static_cast<std::shared_ptr<pending_command>*>(privdata);
  pending_command& p = **holder;
  if (reply != nullptr)
    p.reply = copy_reply(*static_cast<const redisReply*>(reply));
  else
    p.lost = true;
  p.done = true;
  p.timer.cancel();  // wakes the awaiting coroutine through its executor, never inline
  delete holder;
}

}  // namespace

std::shared_ptr<redis_connection> redis_connection::create(asio::any_io_executor executor) {
  return std::shared_ptr<redis_connection>(new redis_connection(std::move(executor)));
}

redis_connection::redis_connection(asio::any_io_executor executor)
    : executor_(executor), descriptor_(executor), connect_signal_(executor), closed_signal_(executor) {
  connect_signal_.expires_at(asio::steady_timer::time_point::max());
  closed_signal_.expires_at(asio::steady_timer::time_point::max());
}

redis_connection::~redis_connection() {
  close();
}

asio::awaitable<error_code> redis_connection::connect(const std::string& host, unsigned short port,
                                                      std::chrono::milliseconds deadline) {
  using namespace asio::experimental::awaitable_operators;
  auto self = shared_from_this();
  const auto until = asio::steady_timer::clock_type::now() + deadline;

  // hiredis would call getaddrinfo on this thread: resolve names asynchronously first.
  std::string ip;
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    ip = address.to_string();
  } else {
    asio::ip::tcp::resolver resolver(executor_);
    asio::steady_timer timer(executor_, until);
    auto outcome =
        co_await (resolver.async_resolve(host, std::to_string(port), asio::as_tuple(asio::use_awaitable)) ||
                  timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (outcome.index() == 1) co_return errc::cache_timeout;
    auto [rec, results] = std::get<0>(outcome);
    if (rec || results.empty()) co_return errc::cache_unavailable;
    ip = results.begin()->endpoint().address().to_string();
  }

  ac_ = redisAsyncConnect(ip.c_str(), port);
  if (ac_ == nullptr) co_return errc::cache_unavailable;
  if (ac_->err != 0) {  // immediate failure: no hooks attached yet, nothing else to undo
    redisAsyncFree(ac_);
    ac_ = nullptr;
    co_return errc::cache_unavailable;
  }
  descriptor_.assign(ac_->c.fd, ec);
  if (ec) {
    redisAsyncFree(ac_);
    ac_ = nullptr;
    co_return errc::cache_unavailable;
  }
  ac_->data = this;
  ac_->ev.data = this;
  ac_->ev.addRead = &on_add_read;
  ac_->ev.delRead = &on_del_read;
  ac_->ev.addWrite = &on_add_write;
  ac_->ev.delWrite = &on_del_write;
  ac_->ev.cleanup = &on_cleanup;
  redisAsyncSetConnectCallback(ac_, &on_connect);  // arms the write wait that completes the connect

  connect_signal_.expires_at(until);
  co_await connect_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (connected_ && ac_ != nullptr && !closing_) co_return error_code{};
  if (ac_ == nullptr || connect_failed_ || closing_) co_return errc::cache_unavailable;
  close();  // deadline: abandon the half-open attempt
  co_return errc::cache_timeout;
}

bool redis_connection::send(const std::vector<std::string>& argv, reply_fn fn, void* privdata) {
  if (ac_ == nullptr || closing_ || argv.empty() || argv.size() > std::numeric_limits<int>::max())
    return false;
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAsyncCommandArgv(ac_, fn, privdata, static_cast<int>(argv.size()), ptrs.data(), lens.data()) ==
         REDIS_OK;
}

asio::awaitable<result<redis_reply>> redis_connection::command(std::vector<std::string> argv,
                                                               std::chrono::milliseconds deadline) {
  if (!open()) co_return errc::cache_unavailable;
  auto self = shared_from_this();
  auto pending = std::make_shared<pending_command>(executor_);
  auto* holder = new std::shared_ptr<pending_command>(pending);
  if (!send(argv, &on_command_reply, holder)) {
    delete holder;  // hiredis did not take it: the callback will never run
    co_return errc::cache_unavailable;
  }
  pending->timer.expires_after(deadline);
  error_code ec;
  co_await pending->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (!pending->done) co_return errc::cache_timeout;  // expired (or the caller cancelled us)
  if (pending->lost) co_return errc::cache_unavailable;
  co_return std::move(pending->reply);
}

void redis_connection::enable_keepalive() {
  if (ac_ != nullptr) redisEnableKeepAlive(&ac_->c);
}

void redis_connection::close() {
  if (ac_ == nullptr || closing_) return;
  closing_ = true;
  // Outside hiredis callbacks this frees at once (pending callbacks run with null, then
  // on_cleanup); inside one hiredis defers it until the callback returns.
  redisAsyncFree(ac_);
}

asio::awaitable<void> redis_connection::wait_closed() {
  if (ac_ == nullptr) co_return;
  auto self = shared_from_this();
  error_code ec;
  co_await closed_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void redis_connection::context_gone() {
  ac_ = nullptr;
  want_read_ = want_write_ = false;
  // hiredis closes the fd right after this: give it back, deregistering it and aborting waits.
  if (descriptor_.is_open()) (void)descriptor_.release();
  connect_signal_.cancel();
  closed_signal_.cancel();
}

void redis_connection::arm_read() {
  read_armed_ = true;
  descriptor_.async_wait(asio::posix::descriptor_base::wait_read, [self = shared_from_this()](error_code ec) {
    self->read_armed_ = false;
    if (ec || self->ac_ == nullptr || !self->want_read_) return;
    redisAsyncHandleRead(self->ac_);  // may free the context (then ac_ is null)
    if (self->ac_ != nullptr && self->want_read_ && !self->read_armed_) self->arm_read();
  });
}

void redis_connection::arm_write() {
  write_armed_ = true;
  descriptor_.async_wait(asio::posix::descriptor_base::wait_write,
                         [self = shared_from_this()](error_code ec) {
                           self->write_armed_ = false;
                           if (ec || self->ac_ == nullptr || !self->want_write_) return;
                           redisAsyncHandleWrite(self->ac_);  // may complete the connect, or free the context
                           if (self->ac_ != nullptr && self->want_write_ && !self->write_armed_)
                             self->arm_write();
                         });
}

void redis_connection::on_add_read(void* p) {
  auto* self = static_cast<redis_connection*>(p);
  self->want_read_ = true;
  if (!self->read_armed_ && self->descriptor_.is_open()) self->arm_read();
}

void redis_connection::on_del_read(void* p) {
  static_cast<redis_connection*>(p)->want_read_ = false;
}

void redis_connection::on_add_write(void* p) {
  auto* self = static_cast<redis_connection*>(p);
  self->want_write_ = true;
  if (!self->write_armed_ && self->descriptor_.is_open()) self->arm_write();
}

void redis_connection::on_del_write(void* p) {
  static_cast<redis_connection*>(p)->want_write_ = false;
}

void redis_connection::on_cleanup(void* p) {
  static_cast<redis_connection*>(p)->context_gone();
}

void redis_connection::on_connect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<redis_connection*>(ac->data);
  if (status == REDIS_OK)
    self->connected_ = true;
  else
    self->connect_failed_ = true;  // hiredis frees the context right after this returns
  self->connect_signal_.cancel();
}

}  // namespace keygate::redis
