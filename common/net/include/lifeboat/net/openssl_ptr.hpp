#pragma once
// unique_ptr owners for the OpenSSL objects the project handles, so that
// every early return frees them: OpenSslPtr<X509, X509_free>.

#include <openssl/types.h>

#include <memory>

namespace lifeboat::net {

template <auto Free>
struct OpenSslFree {
  template <class T>
  void operator()(T* pointer) const {
    Free(pointer);
  }
};

template <class T, auto Free>
using OpenSslPtr = std::unique_ptr<T, OpenSslFree<Free>>;

}  // namespace lifeboat::net
