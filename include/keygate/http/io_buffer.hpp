// keygate::http::io_buffer — a fixed-capacity byte buffer for one direction of one connection.
// Memory is allocated on first use and can be released while the connection idles, so idle
// keep-alive connections cost no buffer memory.
#pragma once

#include <boost/asio/buffer.hpp>
#include <cstring>
#include <memory>
#include <string_view>

namespace keygate::http {

class io_buffer {
 public:
  explicit io_buffer(std::size_t capacity) noexcept : cap_(capacity) {}

  std::string_view data() const noexcept { return {buf_.get() + begin_, end_ - begin_}; }
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }
  std::size_t capacity() const noexcept { return cap_; }

  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ >= end_) begin_ = end_ = 0;
  }
  // Writable space at the end; compacts when the tail is full. Empty only when the buffer is
  // entirely full of unconsumed bytes.
  boost::asio::mutable_buffer prepare() {
    if (!buf_) buf_ = std::make_unique_for_overwrite<char[]>(cap_);
    if (end_ == cap_ && begin_ > 0) {
      std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return {buf_.get() + end_, cap_ - end_};
  }
  void commit(std::size_t n) noexcept { end_ += n; }
  void release_if_empty() noexcept {
    if (empty()) buf_.reset();
  }

 private:
  std::unique_ptr<char[]> buf_;
  std::size_t cap_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace keygate::http
