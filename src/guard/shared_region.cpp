#include "rfutex/shared_region.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "rfutex/unmap.hpp"

namespace rfutex {

namespace {

[[noreturn]] void fail(const char* what, int error = errno) {
  throw std::system_error(error, std::generic_category(), what);
}

// Extends `fd` to at least `length` bytes (new bytes read as zero).
void ensure_size(int fd, std::size_t length) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("rfutex::shared_region: fstat");
  if (static_cast<std::size_t>(st.st_size) < length &&
      ::ftruncate(fd, static_cast<off_t>(length)) != 0)
    fail("rfutex::shared_region: ftruncate");
}

// Takes a descriptor just opened by `what` (or -1 and errno), extends it to
// `length` and maps it; closes it on any failure.
shared_region map_sized(int fd, std::size_t length, const char* what) {
  if (fd < 0) fail(what);
  try {
    ensure_size(fd, length);
  } catch (...) {
    ::close(fd);
    throw;
  }
  return shared_region::adopt_fd(fd, length);
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
  return map_sized(::memfd_create(name, MFD_CLOEXEC), length, "rfutex::shared_region: memfd_create");
}

shared_region shared_region::open_shm(const std::string& name, std::size_t length, bool create) {
  return map_sized(::shm_open(name.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600),
                   length, "rfutex::shared_region: shm_open");
}

shared_region shared_region::open_file(const std::string& path, std::size_t length) {
  return map_sized(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600), length,
                   "rfutex::shared_region: open");
}

shared_region& shared_region::operator=(shared_region&& other) noexcept {
  if (this != &other) {
    shared_region old(std::move(*this));
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    fd_ = std::exchange(other.fd_, -1);
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
