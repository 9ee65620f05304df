// Bridges between callers and a blocking store's own thread pool, shared by the adapters.
//
// `submit(complete)` queues work on the pool and returns false when it cannot (queue full);
// once queued, the pool calls `complete(result<T>)` exactly once, from any thread (ran, expired,
// or pool stopping).
//
//  * resume_on_caller: for coroutines. The completion is dispatched through the awaiting
//    handler's associated executor, so the coroutine resumes on its own executor, never on the
//    pool thread (`co_await asio::post(pool, use_awaitable)` would not move it). A full queue
//    resumes it with errc::store_overloaded (posted, not inline).
//  * block_on: for plain threads (CLI, tests); a full queue gives errc::store_overloaded.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <future>
#include <memory>

#include "keygate/core/errc.hpp"

namespace keygate::adapters {

template <class T>
using completion = std::function<void(result<T>)>;

template <class T, class Submit>
boost::asio::awaitable<result<T>> resume_on_caller(Submit submit) {
  namespace asio = boost::asio;
  auto init = [submit = std::move(submit)](auto handler) mutable {
    using handler_t = decltype(handler);
    auto h = std::make_shared<handler_t>(std::move(handler));
    completion<T> complete = [h](result<T> r) {
      auto ex = asio::get_associated_executor(*h);
      asio::dispatch(ex, [h, r = std::move(r)]() mutable { std::move (*h)(std::move(r)); });
    };
    if (!submit(std::move(complete))) {
      auto ex = asio::get_associated_executor(*h);
      asio::post(ex, [h]() mutable { std::move (*h)(result<T>(errc::store_overloaded)); });
    }
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(result<T>)>(
      std::move(init), asio::use_awaitable);
}

template <class T, class Submit>
result<T> block_on(Submit submit) {
  std::promise<result<T>> done;
  auto fut = done.get_future();
  if (!submit(completion<T>([&done](result<T> r) { done.set_value(std::move(r)); })))
    return errc::store_overloaded;
  // The job always completes, so `done` outlives every use.
  return fut.get();
}

}  // namespace keygate::adapters
