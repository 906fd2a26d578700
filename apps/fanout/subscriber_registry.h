#pragma once

// The proxy's topics and sessions: a TopicFeed is made for a topic when its
// first subscriber arrives and kept (its partitions stay owned by this
// instance), sessions are found by id for acknowledgements, and a second
// stream of the same subscriber takes over from the first.

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fanout_options.h"
#include "subscriber_session.h"
#include "whippet/error.h"

namespace whippet::fanout {

// Thrown by open() past max_subscribers: RESOURCE_EXHAUSTED to clients.
class SubscriberLimitReached : public Error {
 public:
  using Error::Error;
};

class SubscriberRegistry {
 public:
  explicit SubscriberRegistry(FanoutOptions options);
  ~SubscriberRegistry();

  // A session for `settings` (its id is filled in), registered. An older
  // session of the same topic and subscriber is stopped and awaited first,
  // (its stream cancelled through the function given when it opened).
  // Throws SubscriberLimitReached past max_subscribers, Error(kShutdown)
  // once stop_all() was called.
  std::shared_ptr<SubscriberSession> open(SessionSettings settings,
                                          std::function<void()> cancel_stream);
  void close(const SubscriberSession& session);
  std::shared_ptr<SubscriberSession> find(const std::string& session_id);

  std::vector<std::shared_ptr<SubscriberSession>> sessions();
  std::vector<std::shared_ptr<TopicFeed>> feeds();
  const FanoutOptions& options() const { return options_; }

  // Refuses new sessions and stops the open ones.
  void stop_all(const std::string& reason);
  // Waits up to `timeout` for every session to close.
  bool wait_closed(std::chrono::milliseconds timeout);

 private:
  struct Entry {
    std::shared_ptr<SubscriberSession> session;
    std::function<void()> cancel_stream;
  };
  std::shared_ptr<TopicFeed> feed_locked(const std::string& topic);

  FanoutOptions options_;
  std::mutex mutex_;
  std::condition_variable closed_;
  std::map<std::string, std::shared_ptr<TopicFeed>> feeds_;
  std::map<std::string, Entry> sessions_;  // by id
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
};

}  // namespace whippet::fanout
