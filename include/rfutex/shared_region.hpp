// SPDX-License-Identifier: MIT
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

// How shm() and file() treat an object that does or does not exist yet.
enum class open_mode : unsigned char {
  create_only,     // create it; EEXIST if it exists (O_CREAT | O_EXCL)
  open_only,       // attach to an existing one; ENOENT if there is none
  create_or_open,  // either; created() says which happened
};

class shared_region {
 public:
  // An anonymous memory file (memfd_create) of `length` bytes, zero-filled.
  // Shared with fork children; other processes can be given fd().
  static shared_region create_memfd(std::size_t length, const char* name = "rfutex");

  // POSIX shared memory `name` ("/something") or a regular file `path`,
  // opened as `mode` says with `permissions` for a new object (umask
  // applies). A new object is zero-filled, so rfutex locks in it are ready
  // (use shared_once to build anything else in it, crash-safely). `length`
  // 0 maps an existing object whole (EINVAL when it is empty); otherwise an
  // object shorter than `length` is extended with zero bytes. Another
  // process attaching with open_only or create_or_open sees the same bytes,
  // live locks included — nothing is re-initialised. Errors name the object:
  // "rfutex::shared_region: shm_open /jobs: No such file or directory".
  static shared_region shm(const std::string& name, std::size_t length, open_mode mode,
                           mode_t permissions = 0600);
  static shared_region file(const std::string& path, std::size_t length, open_mode mode,
                            mode_t permissions = 0600);

  // Removes the name (shm_unlink / unlink); mappings stay valid until
  // unmapped. False when there was no such object; other errors throw.
  static bool remove_shm(const std::string& name);
  static bool remove_file(const std::string& path);

  // As shm(name, length, create ? create_or_open : open_only).
  static shared_region open_shm(const std::string& name, std::size_t length, bool create = true);

  // As file(path, length, open_mode::create_or_open).
  static shared_region open_file(const std::string& path, std::size_t length);

  // Maps `length` bytes of an open descriptor (which the region then owns).
  static shared_region adopt_fd(int fd, std::size_t length, off_t offset = 0);

  shared_region(shared_region&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        fd_(std::exchange(other.fd_, -1)),
        created_(other.created_) {}
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
  // True when the call that made this region created the object (memfd:
  // always; adopt_fd: never).
  bool created() const noexcept { return created_; }

  // Constructs a T at `offset` (which must fit and be aligned for T).
  template <class T, class... Args>
  T* construct(std::size_t offset = 0, Args&&... args) {
    return ::new (place(offset, sizeof(T), alignof(T))) T(std::forward<Args>(args)...);
  }

 private:
  friend struct shared_region_access;  // the .cpp's open helpers
  shared_region(void* data, std::size_t size, int fd) noexcept : data_(data), size_(size), fd_(fd) {}
  void* place(std::size_t offset, std::size_t size, std::size_t align) const;

  void* data_ = nullptr;
  std::size_t size_ = 0;
  int fd_ = -1;
  bool created_ = false;
};

}  // namespace rfutex
