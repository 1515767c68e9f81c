// shared_region: memory to put rfutex locks in, shared between processes,
// unmapped through the unmap guard (rfutex/unmap.hpp).
//
//   auto region = rfutex::shared_region::create_memfd(4096);
//   auto& m = *region.construct<rfutex::robust_mutex>();  // or: zero bytes are a mutex
//   if (fork() == 0) { (void)m.lock(); ... }
//
// The mapping is MAP_SHARED, read-write, page-rounded. Errors are
// std::system_error with the errno of the failing call.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <new>
#include <string>
#include <system_error>
#include <utility>

namespace rfutex {

class shared_region {
 public:
  // An anonymous memory file (memfd_create) of `length` bytes, zero-filled.
  // Shared with fork children; other processes can be given fd().
  static shared_region create_memfd(std::size_t length, const char* name = "rfutex");

  // POSIX shared memory `name` ("/something"): created when `create` and
  // absent, extended (zero-filled) to `length` when shorter.
  static shared_region open_shm(const std::string& name, std::size_t length, bool create = true);

  // A regular file, created if absent, extended (zero-filled) to `length`.
  static shared_region open_file(const std::string& path, std::size_t length);

  // Maps `length` bytes of an open descriptor (which the region then owns).
  static shared_region adopt_fd(int fd, std::size_t length, off_t offset = 0);

  shared_region(shared_region&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        fd_(std::exchange(other.fd_, -1)) {}
  shared_region& operator=(shared_region&& other) noexcept;
  shared_region(const shared_region&) = delete;
  shared_region& operator=(const shared_region&) = delete;

  // Unmaps through the guard and closes the descriptor. Errors are ignored
  // here; call unmap() to see them.
  ~shared_region();

  // Unmaps through the guard now; the region is empty afterwards.
  void unmap();

  void* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  int fd() const noexcept { return fd_; }

  // Constructs a T at `offset` (which must fit and be aligned for T).
  template <class T, class... Args>
  T* construct(std::size_t offset = 0, Args&&... args) {
    return ::new (place(offset, sizeof(T), alignof(T))) T(std::forward<Args>(args)...);
  }

 private:
  shared_region(void* data, std::size_t size, int fd) noexcept : data_(data), size_(size), fd_(fd) {}
  void* place(std::size_t offset, std::size_t size, std::size_t align) const;

  void* data_ = nullptr;
  std::size_t size_ = 0;
  int fd_ = -1;
};

}  // namespace rfutex
