// SPDX-License-Identifier: MIT
#include "rfutex/shared_region.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "rfutex/unmap.hpp"

namespace rfutex {

struct shared_region_access {
  static void set_created(shared_region& r, bool created) noexcept { r.created_ = created; }
};

namespace {

[[noreturn]] void fail(const std::string& what, int error = errno) {
  throw std::system_error(error, std::generic_category(), what);
}

// The size of the object behind `fd`.
std::size_t size_of(int fd, const std::string& what) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(what + ": fstat");
  return static_cast<std::size_t>(st.st_size);
}

// Takes a descriptor just opened (or -1 and errno) for `what`, sizes and
// maps it as shm()/file() promise; closes it on any failure.
shared_region map_opened(int fd, std::size_t length, bool created, const std::string& what) {
  if (fd < 0) fail(what);
  try {
    const std::size_t has = size_of(fd, what);
    if (length == 0) {
      if (has == 0) fail(what + ": the object is empty (give a length)", EINVAL);
      length = has;
    } else if (has < length && ::ftruncate(fd, static_cast<off_t>(length)) != 0) {
      fail(what + ": ftruncate");
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  shared_region r = shared_region::adopt_fd(fd, length);
  shared_region_access::set_created(r, created);
  return r;
}

// Opens with `open_fn(flags)` as `mode` says. create_or_open tries to
// create first, then to open; it loops when another process removes or
// creates the object between the two attempts.
template <class OpenFn>
shared_region open_as(open_mode mode, std::size_t length, const std::string& what, OpenFn open_fn) {
  constexpr int base = O_RDWR | O_CLOEXEC;
  switch (mode) {
    case open_mode::create_only:
      return map_opened(open_fn(base | O_CREAT | O_EXCL), length, true, what);
    case open_mode::open_only:
      return map_opened(open_fn(base), length, false, what);
    case open_mode::create_or_open:
      for (int attempt = 0; attempt < 100; ++attempt) {
        if (const int fd = open_fn(base | O_CREAT | O_EXCL); fd >= 0 || errno != EEXIST)
          return map_opened(fd, length, true, what);
        if (const int fd = open_fn(base); fd >= 0 || errno != ENOENT)
          return map_opened(fd, length, false, what);
      }
      fail(what + ": created and removed by others 100 times in a row", EAGAIN);
  }
  fail(what + ": unknown open_mode", EINVAL);
}

}  // namespace

shared_region shared_region::adopt_fd(int fd, std::size_t length, off_t offset) {
  if (length == 0) {
    ::close(fd);
    fail("rfutex::shared_region: zero length", EINVAL);
  }
  void* p = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
  if (p == MAP_FAILED) {
    const int e = errno;
    ::close(fd);
    fail("rfutex::shared_region: mmap", e);
  }
  return shared_region(p, length, fd);
}

shared_region shared_region::create_memfd(std::size_t length, const char* name) {
  if (length == 0) fail("rfutex::shared_region: create_memfd: zero length", EINVAL);
  return map_opened(::memfd_create(name, MFD_CLOEXEC), length, true,
                    std::string("rfutex::shared_region: memfd_create ") + name);
}

shared_region shared_region::shm(const std::string& name, std::size_t length, open_mode mode,
                                 mode_t permissions) {
  return open_as(mode, length, "rfutex::shared_region: shm_open " + name,
                 [&](int flags) { return ::shm_open(name.c_str(), flags, permissions); });
}

shared_region shared_region::file(const std::string& path, std::size_t length, open_mode mode,
                                  mode_t permissions) {
  return open_as(mode, length, "rfutex::shared_region: open " + path,
                 [&](int flags) { return ::open(path.c_str(), flags, permissions); });
}

bool shared_region::remove_shm(const std::string& name) {
  if (::shm_unlink(name.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  fail("rfutex::shared_region: shm_unlink " + name);
}

bool shared_region::remove_file(const std::string& path) {
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  fail("rfutex::shared_region: unlink " + path);
}

shared_region shared_region::open_shm(const std::string& name, std::size_t length, bool create) {
  return shm(name, length, create ? open_mode::create_or_open : open_mode::open_only);
}

shared_region shared_region::open_file(const std::string& path, std::size_t length) {
  return file(path, length, open_mode::create_or_open);
}

shared_region& shared_region::operator=(shared_region&& other) noexcept {
  if (this != &other) {
    shared_region old(std::move(*this));
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    fd_ = std::exchange(other.fd_, -1);
    created_ = other.created_;
  }
  return *this;
}

shared_region::~shared_region() {
  try {
    unmap();
  } catch (...) {
  }
}

void shared_region::unmap() {
  if (data_ != nullptr) {
    void* p = std::exchange(data_, nullptr);
    rfutex::unmap(p, std::exchange(size_, 0));
  }
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

void* shared_region::place(std::size_t offset, std::size_t size, std::size_t align) const {
  const auto at = reinterpret_cast<std::uintptr_t>(data_) + offset;
  if (data_ == nullptr || offset > size_ || size > size_ - offset)
    fail("rfutex::shared_region::construct: does not fit at that offset", EINVAL);
  if (at % align != 0)
    fail("rfutex::shared_region::construct: the offset is misaligned for the type", EINVAL);
  return reinterpret_cast<void*>(at);
}

}  // namespace rfutex
