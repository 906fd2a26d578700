#include "topic_feed.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace whippet::fanout {

namespace {

constexpr std::size_t kPollBatch = 2000;
// How long a full buffer may hold a waiting subscriber back before the
// slowest are moved out: long enough for a healthy subscriber to work
// through a burst, short enough that the others hardly notice a stalled one.
constexpr std::chrono::milliseconds kEvictionGrace{500};
constexpr std::chrono::milliseconds kPollWait{100};

RecordReaderOptions reader_options(const FeedOptions& options) {
  RecordReaderOptions reader;
  reader.cluster = options.cluster;
  reader.group_id = options.group_id;
  reader.session_timeout = options.session_timeout;
  reader.max_prefetch_kilobytes = options.prefetch_kilobytes;
  return reader;
}

}  // namespace

TopicFeed::TopicFeed(FeedOptions options)
    : options_(std::move(options)), reader_(reader_options(options_)) {
  reader_.subscribe({options_.topic}, *this);
  thread_ = std::thread([this] { run(); });
}

TopicFeed::~TopicFeed() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    stop_requested_.notify_all();
  }
  reader_.wake();
  thread_.join();
}

void TopicFeed::add(FeedSubscriber& subscriber) {
  subscribers_.insert(&subscriber);
  for (const auto& [partition, feed] : partitions_) {
    subscriber.cursors().unpositioned.insert(partition);
  }
}

void TopicFeed::remove(FeedSubscriber& subscriber, std::unique_lock<std::mutex>& lock) {
  commits_done_.wait(lock, [&] { return !committing_.contains(&subscriber); });
  subscribers_.erase(&subscriber);
  reader_.wake();  // what it held back may be trimmed now
}

std::vector<int32_t> TopicFeed::assignment() const {
  std::vector<int32_t> partitions;
  for (const auto& [partition, feed] : partitions_) partitions.push_back(partition);
  return partitions;
}

std::vector<Cursor*> TopicFeed::shared_cursors(int32_t partition) {
  std::vector<Cursor*> cursors;
  for (auto* subscriber : subscribers_) {
    auto& all = subscriber->cursors().cursors;
    const auto found = all.find(partition);
    if (found != all.end() && found->second.source == Cursor::Source::kShared) {
      cursors.push_back(&found->second);
    }
  }
  return cursors;
}

bool TopicFeed::try_share(int32_t partition, int64_t offset) {
  const auto found = partitions_.find(partition);
  if (found == partitions_.end()) return false;
  auto& feed = found->second;
  const bool reset_pending = feed.positioned && feed.applied != feed.resets;
  if (feed.positioned && !(reset_pending && offset < feed.buffer.end())) {
    // Held in the buffer, or at most a buffer's length ahead of the feed:
    // the feed brings it soon.
    if (offset >= feed.buffer.start() &&
        offset <= feed.buffer.end() + static_cast<int64_t>(options_.buffer.max_records)) {
      return true;
    }
    if (!shared_cursors(partition).empty()) return false;
  }
  // Nobody reads it from the buffer (or the feed has not moved yet): move
  // the feed to this reader instead of starting a private one.
  feed.buffer.reset(offset);
  feed.positioned = true;
  ++feed.resets;
  reader_.wake();
  return true;
}

int64_t TopicFeed::read(int32_t partition, int64_t offset, std::size_t max_records,
                        std::size_t max_bytes, std::vector<SharedRecord>& out) {
  const auto found = partitions_.find(partition);
  if (found == partitions_.end()) return offset;
  auto& feed = found->second;
  const auto next = feed.buffer.read(offset, max_records, max_bytes, out);
  // A paused feed may resume once this reader moved on.
  if (feed.paused && next != offset) reader_.wake();
  return next;
}

std::optional<int64_t> TopicFeed::buffer_end(int32_t partition) const {
  const auto found = partitions_.find(partition);
  if (found == partitions_.end() || !found->second.positioned) return std::nullopt;
  return found->second.buffer.end();
}

std::optional<int64_t> TopicFeed::high_watermark(int32_t partition) {
  return reader_.high_watermark({options_.topic, partition});
}

void TopicFeed::on_assigned(const std::vector<TopicPartition>& partitions) {
  std::lock_guard lock(mutex_);
  for (const auto& partition : partitions) {
    partitions_.try_emplace(partition.partition, options_.buffer);
    for (auto* subscriber : subscribers_) {
      subscriber->cursors().unpositioned.insert(partition.partition);
      subscriber->cursors().assignment_changed = true;
    }
  }
  spdlog::info("fanout {}: serving {} more partition(s), {} in all", options_.topic,
               partitions.size(), partitions_.size());
  wake_all();
}

void TopicFeed::on_revoked(const std::vector<TopicPartition>& partitions) {
  // Positions are committed before the partitions go, so the instance that
  // gets them next resumes each subscriber from what it acknowledged here.
  std::map<FeedSubscriber*, std::vector<PartitionOffset>> commits;
  {
    std::lock_guard lock(mutex_);
    for (const auto& partition : partitions) {
      partitions_.erase(partition.partition);
      for (auto* subscriber : subscribers_) {
        auto& state = subscriber->cursors();
        state.unpositioned.erase(partition.partition);
        state.assignment_changed = true;
        const auto cursor = state.cursors.find(partition.partition);
        if (cursor == state.cursors.end()) continue;
        commits[subscriber].push_back({partition, cursor->second.acknowledged_position()});
        committing_.insert(subscriber);
        if (cursor->second.private_reader_assigned) {
          state.release_from_private.insert(partition.partition);
        }
        state.in_flight -= cursor->second.in_flight.size();
        state.cursors.erase(cursor);
      }
    }
    wake_all();
  }
  for (auto& [subscriber, positions] : commits) subscriber->commit_now(positions);
  {
    std::lock_guard lock(mutex_);
    for (const auto& [subscriber, positions] : commits) committing_.erase(subscriber);
  }
  commits_done_.notify_all();
  spdlog::info("fanout {}: {} partition(s) moved to another instance", options_.topic,
               partitions.size());
}

void TopicFeed::run() {
  while (!stopping_) {
    try {
      step();
    } catch (const std::exception& error) {
      // A safety net (librdkafka reports no error from an asynchronous
      // seek): the thread must outlive any surprise, and the next round
      // plans again from the current assignment.
      spdlog::warn("fanout {}: reader step failed: {}", options_.topic, error.what());
      std::unique_lock lock(mutex_);
      stop_requested_.wait_for(lock, kPollWait, [this] { return stopping_.load(); });
    }
  }
}

void TopicFeed::step() {
  Actions actions;
  {
    std::lock_guard lock(mutex_);
    actions = plan();
  }
  for (const auto& seek : actions.seeks) reader_.seek(seek);
  reader_.pause(actions.pause);
  reader_.resume(actions.resume);
  if (!actions.applied.empty()) {
    std::lock_guard lock(mutex_);
    for (const auto& [partition, resets] : actions.applied) {
      const auto found = partitions_.find(partition);
      if (found != partitions_.end()) found->second.applied = resets;
    }
  }
  // A poll may bring records of one partition only: at most a quarter of a
  // buffer, so that a buffer is never far over its limit.
  const auto batch = std::clamp<std::size_t>(options_.buffer.max_records / 4, 1, kPollBatch);
  auto records = reader_.poll(batch, kPollWait);
  if (!records.empty()) append(std::move(records));
}

TopicFeed::Actions TopicFeed::plan() {
  Actions actions;
  for (auto& [partition, feed] : partitions_) plan_partition(partition, feed, actions);
  return actions;
}

void TopicFeed::plan_partition(int32_t partition, PartitionFeed& feed, Actions& actions) {
  const TopicPartition topic_partition{options_.topic, partition};
  if (feed.positioned && feed.applied != feed.resets) {
    actions.seeks.push_back({topic_partition, feed.buffer.end()});
    actions.applied.emplace_back(partition, feed.resets);
  }
  bool wanted = false;
  if (feed.positioned) {
    auto cursors = shared_cursors(partition);
    if (!cursors.empty()) {
      // A cache, trimmed only when full: a subscriber that arrives a moment
      // late still finds the records the others have read.
      if (feed.buffer.full()) {
        int64_t slowest = cursors.front()->position;
        for (const auto* cursor : cursors) slowest = std::min(slowest, cursor->position);
        feed.buffer.trim_below(slowest);
      }
      if (feed.buffer.full()) {
        evict_slow(partition, feed);
      } else {
        feed.held_back_since.reset();
      }
      wanted = !feed.buffer.full();
    }
  }
  if (wanted == feed.paused) {
    (wanted ? actions.resume : actions.pause).push_back(topic_partition);
    feed.paused = !wanted;
  }
}

void TopicFeed::evict_slow(int32_t partition, PartitionFeed& feed) {
  auto cursors = shared_cursors(partition);
  const auto end = feed.buffer.end();
  const bool someone_waits = std::any_of(cursors.begin(), cursors.end(),
                                         [&](const Cursor* cursor) { return cursor->position >= end; });
  if (!someone_waits) {  // everyone has work: pausing slows nobody
    feed.held_back_since.reset();
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (!feed.held_back_since) feed.held_back_since = now;
  if (now - *feed.held_back_since < kEvictionGrace) return;
  feed.held_back_since.reset();
  // Those in the oldest quarter of the buffer go, so that one eviction frees
  // room for a while instead of one record.
  const auto start = feed.buffer.start();
  const auto threshold = start + std::max<int64_t>(1, (end - start) / 4);
  int64_t slowest_kept = end;
  for (auto* subscriber : subscribers_) {
    auto& state = subscriber->cursors();
    const auto found = state.cursors.find(partition);
    if (found == state.cursors.end() || found->second.source != Cursor::Source::kShared) continue;
    auto& cursor = found->second;
    if (cursor.position >= threshold) {
      slowest_kept = std::min(slowest_kept, cursor.position);
      continue;
    }
    ++state.evictions;
    if (options_.slow_subscribers == SlowSubscriberPolicy::kCutOff) {
      state.cut_off = "fell " + std::to_string(end - cursor.position) + " records behind on " +
                      options_.topic + "-" + std::to_string(partition) +
                      ", more than the shared buffer holds";
      state.in_flight -= cursor.in_flight.size();
      // What it acknowledged is committed when its session ends; its records
      // in flight are pushed again on reconnect.
      state.cut_off_positions.push_back(
          {{options_.topic, partition}, cursor.acknowledged_position()});
      state.cursors.erase(found);
    } else {
      cursor.source = Cursor::Source::kPrivate;
    }
    subscriber->wake();
  }
  feed.buffer.trim_below(slowest_kept);
}

void TopicFeed::append(std::vector<Record> polled) {
  // Encoded before the lock is taken: the sessions wait for it.
  std::vector<SharedRecord> records;
  records.reserve(polled.size());
  for (auto& record : polled) {
    auto& writer = block_writers_[record.partition];
    records.push_back(share_record(std::move(record), writer));
  }
  std::lock_guard lock(mutex_);
  for (auto& record : records) {
    const auto found = partitions_.find(record->partition);
    // Fetched before a revoke or a reset the reader has not seeked for yet.
    if (found == partitions_.end() || !found->second.positioned ||
        found->second.applied != found->second.resets) {
      continue;
    }
    if (found->second.buffer.append(std::move(record))) {
      records_read_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  wake_all();
}

void TopicFeed::wake_all() {
  for (auto* subscriber : subscribers_) subscriber->wake();
}

std::vector<PartitionFeedSnapshot> TopicFeed::snapshot() {
  std::vector<PartitionFeedSnapshot> partitions;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [partition, feed] : partitions_) {
      PartitionFeedSnapshot item;
      item.partition = partition;
      item.reading = !feed.paused;
      item.buffer_start = feed.buffer.start();
      item.buffer_end = feed.buffer.end();
      item.buffered_records = feed.buffer.size();
      item.buffered_bytes = feed.buffer.bytes();
      partitions.push_back(item);
    }
  }
  for (auto& item : partitions) item.high_watermark = high_watermark(item.partition);
  return partitions;
}

}  // namespace whippet::fanout
