#include "common/thread_name.h"

#include <pthread.h>

#include <cstring>

namespace whippet::common {

void name_this_thread(const char* name) noexcept {
  // The kernel keeps 15 characters and the terminator, and refuses more.
  char truncated[16] = {};
  std::strncpy(truncated, name, sizeof(truncated) - 1);
  pthread_setname_np(pthread_self(), truncated);
}

}  // namespace whippet::common
