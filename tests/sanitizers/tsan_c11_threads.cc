// ThreadSanitizer intercepts the pthread API but not glibc's C11 threads,
// which librdkafka uses: its threads are unknown to TSan (which then crashes
// in them) and its mutexes and condition variables invisible (so every
// hand-over through librdkafka, such as a delivery report, looks like a
// race). Defining the C11 functions in the test executable interposes them
// for librdkafka too, routing each through its pthread twin, which TSan
// sees. glibc implements the C11 types as the pthread ones, so the layouts
// match. Linked only into TSan builds.

#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <new>

namespace {

struct C11Start {
  thrd_start_t function;
  void* argument;
};

void* run_c11_thread(void* opaque) {
  const C11Start start = *static_cast<C11Start*>(opaque);
  delete static_cast<C11Start*>(opaque);
  return reinterpret_cast<void*>(static_cast<std::intptr_t>(start.function(start.argument)));
}

}  // namespace

extern "C" int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
  auto* start = new (std::nothrow) C11Start{function, argument};
  if (start == nullptr) return thrd_nomem;
  pthread_t created;
  const int status = pthread_create(&created, nullptr, &run_c11_thread, start);
  if (status != 0) {
    delete start;
    return thrd_error;
  }
  *thread = created;
  return thrd_success;
}

namespace {

int c11_status(int pthread_status) {
  switch (pthread_status) {
    case 0:
      return thrd_success;
    case ETIMEDOUT:
      return thrd_timedout;
    case EBUSY:
      return thrd_busy;
    case ENOMEM:
      return thrd_nomem;
    default:
      return thrd_error;
  }
}

pthread_mutex_t* as_pthread(mtx_t* mutex) { return reinterpret_cast<pthread_mutex_t*>(mutex); }
pthread_cond_t* as_pthread(cnd_t* condition) { return reinterpret_cast<pthread_cond_t*>(condition); }

}  // namespace

static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t));
static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t));

extern "C" int mtx_init(mtx_t* mutex, int type) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
  const int status = pthread_mutex_init(as_pthread(mutex), &attributes);
  pthread_mutexattr_destroy(&attributes);
  return c11_status(status);
}
extern "C" int mtx_lock(mtx_t* mutex) { return c11_status(pthread_mutex_lock(as_pthread(mutex))); }
extern "C" int mtx_trylock(mtx_t* mutex) {
  return c11_status(pthread_mutex_trylock(as_pthread(mutex)));
}
extern "C" int mtx_timedlock(mtx_t* __restrict mutex, const struct timespec* __restrict deadline) {
  return c11_status(pthread_mutex_timedlock(as_pthread(mutex), deadline));
}
extern "C" int mtx_unlock(mtx_t* mutex) {
  return c11_status(pthread_mutex_unlock(as_pthread(mutex)));
}
extern "C" void mtx_destroy(mtx_t* mutex) { pthread_mutex_destroy(as_pthread(mutex)); }

extern "C" int cnd_init(cnd_t* condition) {
  return c11_status(pthread_cond_init(as_pthread(condition), nullptr));
}
extern "C" int cnd_signal(cnd_t* condition) {
  return c11_status(pthread_cond_signal(as_pthread(condition)));
}
extern "C" int cnd_broadcast(cnd_t* condition) {
  return c11_status(pthread_cond_broadcast(as_pthread(condition)));
}
extern "C" int cnd_wait(cnd_t* condition, mtx_t* mutex) {
  return c11_status(pthread_cond_wait(as_pthread(condition), as_pthread(mutex)));
}
extern "C" int cnd_timedwait(cnd_t* __restrict condition, mtx_t* __restrict mutex,
                             const struct timespec* __restrict deadline) {
  return c11_status(pthread_cond_timedwait(as_pthread(condition), as_pthread(mutex), deadline));
}
extern "C" void cnd_destroy(cnd_t* condition) { pthread_cond_destroy(as_pthread(condition)); }

extern "C" int thrd_join(thrd_t thread, int* result) {
  void* pthread_result = nullptr;
  const int status = pthread_join(thread, &pthread_result);
  if (status == 0 && result != nullptr) {
    *result = static_cast<int>(reinterpret_cast<std::intptr_t>(pthread_result));
  }
  return c11_status(status);
}
extern "C" int thrd_detach(thrd_t thread) { return c11_status(pthread_detach(thread)); }
