// keygate::http::io_buffer — a fixed-capacity byte buffer for one direction of one connection.
// Memory is allocated on first use and released while the connection idles, so idle
// keep-alive connections hold neither the client nor the upstream buffer. Released buffers go back to the
// worker's buffer_cache (when given one), so a busy connection that releases and retakes its buffer on every
// request pays no malloc/free for it (a 64 KiB free also makes glibc consolidate its fast bins).
#pragma once

#include <boost/asio/buffer.hpp>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace keygate::http {

// Released buffers of one worker, for reuse. Single-threaded (the worker's thread); holds at
// most `max_buffers` buffers, so the memory it keeps is bounded.
class buffer_cache {
 public:
  explicit buffer_cache(std::size_t max_buffers) noexcept : max_(max_buffers) {}

  std::unique_ptr<char[]> take(std::size_t size) {
    for (auto it = free_.rbegin(); it != free_.rend(); ++it)
      if (it->size == size) {
        auto buf = std::move(it->buf);
        free_.erase(std::next(it).base());
        return buf;
      }
    return std::make_unique_for_overwrite<char[]>(size);
  }
  // When full, the oldest cached buffer makes room (it may be of a size no longer asked for,
  // e.g. after a reload changed the limits).
  void give(std::unique_ptr<char[]> buf, std::size_t size) {
    if (max_ == 0) return;
    if (free_.size() >= max_) free_.erase(free_.begin());
    free_.push_back({std::move(buf), size});
  }

 private:
  struct slot {
    std::unique_ptr<char[]> buf;
    std::size_t size;
  };
  std::vector<slot> free_;
  std::size_t max_;
};

class io_buffer {
 public:
  // `cache` (may be null) must outlive the buffer.
  explicit io_buffer(std::size_t capacity, buffer_cache* cache = nullptr) noexcept
      : cap_(capacity), cache_(cache) {}
  io_buffer(const io_buffer&) = delete;
  io_buffer& operator=(const io_buffer&) = delete;
  ~io_buffer() { release(); }

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
    if (!buf_) buf_ = cache_ ? cache_->take(cap_) : std::make_unique_for_overwrite<char[]>(cap_);
    if (end_ == cap_ && begin_ > 0) {
      std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return {buf_.get() + end_, cap_ - end_};
  }
  void commit(std::size_t n) noexcept { end_ += n; }
  void release_if_empty() noexcept {
    if (empty()) release();
  }

 private:
  void release() noexcept {
    if (!buf_) return;
    if (cache_) {
      try {
        cache_->give(std::move(buf_), cap_);
      } catch (...) {  // the cache could not grow: just free it
      }
    }
    buf_.reset();
    begin_ = end_ = 0;
  }

  std::unique_ptr<char[]> buf_;
  std::size_t cap_;
  buffer_cache* cache_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace keygate::http
