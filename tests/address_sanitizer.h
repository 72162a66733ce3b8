// File: tests/address_sanitizer.h
//
// FLEETSIM_ASAN: 1 when the including file is compiled under
// AddressSanitizer (the sanitized build, tests/fuzz/README.md), else 0. For
// the few tests whose measurements or child processes must differ under it;
// each says why where it is used.
#ifndef FLEETSIM_TESTS_ADDRESS_SANITIZER_H_
#define FLEETSIM_TESTS_ADDRESS_SANITIZER_H_

#if defined(__SANITIZE_ADDRESS__)  // GCC
#define FLEETSIM_ASAN 1
#elif defined(__has_feature)  // Clang
#if __has_feature(address_sanitizer)
#define FLEETSIM_ASAN 1
#endif
#endif
#ifndef FLEETSIM_ASAN
#define FLEETSIM_ASAN 0
#endif

#endif  // FLEETSIM_TESTS_ADDRESS_SANITIZER_H_
