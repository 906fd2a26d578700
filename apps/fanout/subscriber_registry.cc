#include "subscriber_registry.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "whippet/error.h"

namespace whippet::fanout {

namespace {

constexpr std::chrono::seconds kTakeoverTimeout{15};
constexpr std::chrono::seconds kGracefulTakeover{2};

std::string default_proxy_id() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(getpid());
}

}  // namespace

SubscriberRegistry::SubscriberRegistry(FanoutOptions options) : options_(std::move(options)) {
  if (options_.proxy_id.empty()) options_.proxy_id = default_proxy_id();
}

SubscriberRegistry::~SubscriberRegistry() {
  stop_all("the proxy is shutting down");
  wait_closed(std::chrono::milliseconds(kTakeoverTimeout));
}

std::shared_ptr<TopicFeed> SubscriberRegistry::feed_locked(const std::string& topic) {
  const auto found = feeds_.find(topic);
  if (found != feeds_.end()) return found->second;
  FeedOptions feed_options;
  feed_options.cluster = options_.cluster;
  feed_options.topic = topic;
  feed_options.group_id = options_.group_prefix + ":" + topic;
  feed_options.buffer = options_.buffer;
  feed_options.slow_subscribers = options_.slow_subscribers;
  feed_options.session_timeout = options_.session_timeout;
  // Registered only once built: a constructor that throws leaves nothing behind.
  auto feed = std::make_shared<TopicFeed>(std::move(feed_options));
  feeds_.emplace(topic, feed);
  spdlog::info("fanout: reading topic {} in group {}:{}", topic, options_.group_prefix, topic);
  return feed;
}

std::shared_ptr<SubscriberSession> SubscriberRegistry::open(SessionSettings settings,
                                                            std::function<void()> cancel_stream) {
  std::unique_lock lock(mutex_);
  // Again after every takeover: another stream of the subscriber may have
  // arrived and taken over while this one waited.
  while (true) {
    const auto older = std::find_if(sessions_.begin(), sessions_.end(), [&](const auto& entry) {
      const auto& other = entry.second.session->settings();
      return other.topic == settings.topic && other.subscriber == settings.subscriber;
    });
    if (older == sessions_.end()) break;
    const auto older_id = older->first;
    spdlog::info("fanout {}: subscriber {} reconnected; ending its older stream {}",
                 settings.topic, settings.subscriber, older_id);
    older->second.session->stop("replaced by a newer stream of subscriber " + settings.subscriber);
    auto cancel_older = older->second.cancel_stream;
    const auto gone = [&] { return !sessions_.contains(older_id); };
    // Stopped, it ends with ABORTED saying why; only a stream stuck writing
    // to a client that stopped reading is cancelled.
    if (!closed_.wait_for(lock, kGracefulTakeover, gone)) cancel_older();
    if (!closed_.wait_for(lock, kTakeoverTimeout, gone)) {
      throw Error(ErrorCode::kShutdown, "the older stream of subscriber " + settings.subscriber +
                                            " did not end in time; try again");
    }
  }
  if (stopping_) throw Error(ErrorCode::kShutdown, "the proxy is shutting down");
  if (sessions_.size() >= options_.max_subscribers) {
    throw SubscriberLimitReached(ErrorCode::kInvalidArgument,
                "this proxy already serves " + std::to_string(sessions_.size()) +
                    " subscriber streams (--max-subscribers); connect to another instance");
  }
  settings.proxy_id = options_.proxy_id;
  settings.id = options_.proxy_id + "-" +
                std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) +
                "-" + std::to_string(next_id_++);
  SessionEnvironment environment;
  environment.cluster = options_.cluster;
  environment.subscriber_group = options_.group_prefix + ":" + settings.topic + ":" +
                                 settings.subscriber;
  environment.commit_interval = options_.commit_interval;
  environment.private_prefetch_kilobytes = options_.private_prefetch_kilobytes;
  auto feed = feed_locked(settings.topic);
  auto session = std::make_shared<SubscriberSession>(std::move(settings), environment, feed);
  sessions_[session->settings().id] = Entry{session, std::move(cancel_stream)};
  return session;
}

void SubscriberRegistry::close(const SubscriberSession& session) {
  std::lock_guard lock(mutex_);
  sessions_.erase(session.settings().id);
  closed_.notify_all();
}

std::shared_ptr<SubscriberSession> SubscriberRegistry::find(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  const auto found = sessions_.find(session_id);
  return found == sessions_.end() ? nullptr : found->second.session;
}

std::vector<std::shared_ptr<SubscriberSession>> SubscriberRegistry::sessions() {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<SubscriberSession>> all;
  for (const auto& [id, entry] : sessions_) all.push_back(entry.session);
  return all;
}

std::vector<std::shared_ptr<TopicFeed>> SubscriberRegistry::feeds() {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<TopicFeed>> all;
  for (const auto& [topic, feed] : feeds_) all.push_back(feed);
  return all;
}

void SubscriberRegistry::stop_all(const std::string& reason) {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  for (auto& [id, entry] : sessions_) entry.session->stop(reason);
}

bool SubscriberRegistry::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return closed_.wait_for(lock, timeout, [&] { return sessions_.empty(); });
}

}  // namespace whippet::fanout
