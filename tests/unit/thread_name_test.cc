#include "common/thread_name.h"

#include <pthread.h>

#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace whippet {
namespace {

std::string name_given_to_a_thread(const char* name) {
  std::string seen;
  std::thread([&] {
    common::name_this_thread(name);
    char buffer[64] = {};
    pthread_getname_np(pthread_self(), buffer, sizeof(buffer));
    seen = buffer;
  }).join();
  return seen;
}

TEST(ThreadNameTest, AThreadCarriesTheNameItWasGiven) {
  EXPECT_EQ(name_given_to_a_thread("whippet:poll"), "whippet:poll");
}

TEST(ThreadNameTest, ANameTooLongForTheKernelIsCutRatherThanRefused) {
  // pthread_setname_np refuses names over 15 characters outright.
  EXPECT_EQ(name_given_to_a_thread("whippet:a-very-long-name"), "whippet:a-very-");
}

}  // namespace
}  // namespace whippet
