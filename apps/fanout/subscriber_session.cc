#include "subscriber_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "whippet/error.h"

namespace whippet::fanout {

namespace {

// Larger batches mean fewer messages, wake-ups and acknowledgements per
// record; the byte bound keeps a message far below gRPC's default 4 MiB.
constexpr std::size_t kMaxBatchRecords = 2000;
constexpr std::size_t kMaxBatchBytes = 1024 * 1024;
constexpr std::size_t kPrivatePollRecords = 500;
constexpr std::chrono::milliseconds kPrivatePollWait{50};
constexpr std::chrono::milliseconds kOffsetReadTimeout{10000};
constexpr std::chrono::milliseconds kRetryPause{1000};

grpc::ByteBuffer serialised(const v1::SubscribeEvent& event) {
  const auto bytes = event.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

RecordReaderOptions private_reader_options(const SessionEnvironment& environment) {
  RecordReaderOptions options;
  options.cluster = environment.cluster;
  options.group_id = environment.subscriber_group;
  options.max_prefetch_kilobytes = environment.private_prefetch_kilobytes;
  return options;
}

}  // namespace

SubscriberSession::SubscriberSession(SessionSettings settings,
                                     const SessionEnvironment& environment,
                                     std::shared_ptr<TopicFeed> feed)
    : settings_(std::move(settings)),
      commit_interval_(environment.commit_interval),
      feed_(std::move(feed)),
      private_reader_(private_reader_options(environment)),
      limiter_(settings_.records_per_second, settings_.bytes_per_second) {}

SubscriberSession::~SubscriberSession() = default;

void SubscriberSession::wake() {
  woken_ = true;
  wakeup_.notify_one();
}

void SubscriberSession::stop(const std::string& reason) {
  std::lock_guard lock(feed_->mutex());
  if (!stop_reason_) stop_reason_ = reason;
  wake();
  private_reader_.wake();
}

std::string SubscriberSession::end_reason() const {
  std::lock_guard lock(feed_->mutex());
  if (state_.cut_off) return *state_.cut_off;
  return stop_reason_.value_or("stream ended");
}

v1::SubscribeEvent SubscriberSession::started_event() {
  v1::SubscribeEvent event;
  auto* started = event.mutable_started();
  started->set_session_id(settings_.id);
  started->set_proxy_id(settings_.proxy_id);
  std::lock_guard lock(feed_->mutex());
  for (const auto partition : feed_->assignment()) {
    started->mutable_assignment()->add_partitions(partition);
  }
  state_.assignment_changed = false;
  return event;
}

SessionEnd SubscriberSession::run(const EventWriter& write,
                                  const std::function<bool()>& cancelled) {
  {
    std::lock_guard lock(feed_->mutex());
    feed_->add(*this);
  }
  SessionEnd end;
  try {
    end = push_until_done(write, cancelled);
  } catch (...) {
    leave_feed();
    throw;
  }
  leave_feed();
  return end;
}

SessionEnd SubscriberSession::push_until_done(const EventWriter& write,
                                              const std::function<bool()>& cancelled) {
  auto end = SessionEnd::kStreamBroken;
  auto next_commit = Clock::now() + commit_interval_;
  Batch batch;
  if (write(serialised(started_event()))) {
    while (!cancelled()) {
      position_new_partitions();
      sync_private_reader();
      batch.clear();
      deliveries_.clear();
      bool poll_private = false;
      {
        std::unique_lock lock(feed_->mutex());
        if (state_.cut_off) {
          end = SessionEnd::kCutOff;
          break;
        }
        if (stop_reason_) {
          end = SessionEnd::kStopped;
          break;
        }
        fill(batch, Clock::now());
        if (batch.records == 0 && !batch.assignment && state_.unpositioned.empty()) {
          if (!batch.limited && private_backlog_.empty() && has_private_cursors()) {
            poll_private = true;
          } else {
            wait_for_work(lock, next_commit, batch.limited);
          }
        }
      }
      if (poll_private) {
        for (auto& record : private_reader_.poll(kPrivatePollRecords, kPrivatePollWait)) {
          private_backlog_.push_back(share_record(std::move(record), private_blocks_));
        }
      }
      if (batch.assignment && !write(serialised(*batch.assignment))) break;
      // Framed outside the feed's lock; the records are held in flight.
      if (batch.records > 0 && !write(deliveries_.to_byte_buffer())) break;
      if (Clock::now() >= next_commit) {
        commit_acknowledged();
        next_commit = Clock::now() + commit_interval_;
      }
    }
  }
  return end;
}

void SubscriberSession::leave_feed() {
  std::vector<PartitionOffset> positions;
  {
    std::unique_lock lock(feed_->mutex());
    feed_->remove(*this, lock);
    positions = acknowledged_positions(true);
    positions.insert(positions.end(), state_.cut_off_positions.begin(),
                     state_.cut_off_positions.end());
  }
  commit_now(positions);
}

void SubscriberSession::position_new_partitions() {
  std::vector<TopicPartition> partitions;
  {
    std::lock_guard lock(feed_->mutex());
    for (const auto partition : state_.unpositioned) {
      partitions.push_back({settings_.topic, partition});
    }
  }
  if (partitions.empty()) return;
  std::map<int32_t, std::pair<int64_t, std::optional<int64_t>>> starts;  // position, committed
  try {
    for (const auto& [partition, committed] :
         private_reader_.committed(partitions, kOffsetReadTimeout)) {
      int64_t position = 0;
      if (committed) {
        position = *committed;
      } else {
        const auto [low, high] = private_reader_.watermarks(partition, kOffsetReadTimeout);
        position = settings_.start == StartPosition::kEarliest ? low : high;
      }
      starts[partition.partition] = {position, committed};
    }
  } catch (const Error& error) {
    spdlog::warn("fanout {} for {}: cannot read the committed positions yet ({}); trying again",
                 settings_.topic, settings_.subscriber, error.what());
    std::unique_lock lock(feed_->mutex());
    wakeup_.wait_for(lock, kRetryPause, [this] { return stop_reason_.has_value(); });
    return;
  }
  std::lock_guard lock(feed_->mutex());
  for (const auto& [partition, start] : starts) {
    // Revoked while the offsets were read: nothing to do.
    if (state_.unpositioned.erase(partition) == 0) continue;
    auto& cursor = state_.cursors[partition];
    cursor = Cursor{};
    cursor.position = start.first;
    cursor.committed = start.second;
    cursor.source = Cursor::Source::kPrivate;
    if (feed_->try_share(partition, cursor.position)) cursor.source = Cursor::Source::kShared;
  }
}

void SubscriberSession::sync_private_reader() {
  std::vector<PartitionOffset> assign;
  std::vector<TopicPartition> release;
  {
    std::lock_guard lock(feed_->mutex());
    for (const auto partition : state_.release_from_private) {
      release.push_back({settings_.topic, partition});
    }
    state_.release_from_private.clear();
    for (auto& [partition, cursor] : state_.cursors) {
      const bool wanted = cursor.source == Cursor::Source::kPrivate;
      if (wanted == cursor.private_reader_assigned) continue;
      cursor.private_reader_assigned = wanted;
      if (wanted) {
        assign.push_back({{settings_.topic, partition}, cursor.position});
      } else {
        release.push_back({settings_.topic, partition});
      }
    }
  }
  if (release.empty() && assign.empty()) return;
  std::erase_if(private_backlog_, [&](const SharedRecord& record) {
    return std::any_of(release.begin(), release.end(), [&](const TopicPartition& partition) {
      return partition.partition == record->partition;
    }) || std::any_of(assign.begin(), assign.end(), [&](const PartitionOffset& position) {
      return position.partition.partition == record->partition;
    });
  });
  private_reader_.unassign(release);
  private_reader_.assign(assign);
  if (!assign.empty()) {
    spdlog::info("fanout {} for {}: {} partition(s) read privately (fell out of the shared buffer)",
                 settings_.topic, settings_.subscriber, assign.size());
  }
}

bool SubscriberSession::has_private_cursors() const {
  return std::any_of(state_.cursors.begin(), state_.cursors.end(), [](const auto& entry) {
    return entry.second.source == Cursor::Source::kPrivate;
  });
}

bool SubscriberSession::room(const Batch& batch) const {
  return !batch.limited && batch.records < kMaxBatchRecords && batch.bytes < kMaxBatchBytes &&
         state_.in_flight < settings_.max_in_flight;
}

void SubscriberSession::fill(Batch& batch, Clock::time_point now) {
  if (state_.assignment_changed) {
    state_.assignment_changed = false;
    batch.assignment.emplace();
    for (const auto partition : feed_->assignment()) {
      batch.assignment->mutable_assignment()->add_partitions(partition);
    }
  }
  redeliver_expired(batch, now);
  take_private_backlog(batch, now);
  take_shared(batch, now);
  for (const auto partition : batch.partitions) {
    deadlines_.push_back({now + settings_.ack_deadline, partition});
  }
  pushed_.fetch_add(batch.first_pushes, std::memory_order_relaxed);
}

void SubscriberSession::add_delivery(Batch& batch, const FanoutRecord& record,
                                     std::uint32_t attempt) {
  deliveries_.add(record, attempt);
  ++batch.records;
  batch.bytes += record.payload;
}

void SubscriberSession::redeliver_expired(Batch& batch, Clock::time_point now) {
  while (!deadlines_.empty() && deadlines_.front().at <= now) {
    const auto check = deadlines_.front();
    deadlines_.pop_front();
    const auto cursor = state_.cursors.find(check.partition);
    if (cursor == state_.cursors.end()) continue;
    const auto next_deadline = now + settings_.ack_deadline;
    std::size_t again = 0;
    // Half a batch at most: a client that read slowly may have let more
    // deadlines pass than one message may carry, and records not pushed
    // yet must still get their turn when deadlines keep passing.
    const bool all = cursor->second.in_flight.expire(
        now, next_deadline, [&](const InFlightRecord& entry) {
          if (batch.records >= kMaxBatchRecords / 2 ||
              batch.bytes >= kMaxBatchBytes / 2) {
            return false;
          }
          add_delivery(batch, *entry.record, entry.attempt + 1);
          ++again;
          return true;
        });
    if (again > 0) {
      deadlines_.push_back({next_deadline, check.partition});
      redelivered_.fetch_add(again, std::memory_order_relaxed);
    }
    if (!all) {
      deadlines_.push_front({now, check.partition});  // the rest in the next batch
      return;
    }
  }
}

void SubscriberSession::take_private_backlog(Batch& batch, Clock::time_point now) {
  while (!private_backlog_.empty() && room(batch)) {
    const auto record = private_backlog_.front();
    const auto found = state_.cursors.find(record->partition);
    if (found == state_.cursors.end() || found->second.source != Cursor::Source::kPrivate ||
        record->offset < found->second.position) {
      private_backlog_.pop_front();
      continue;
    }
    auto& cursor = found->second;
    if (feed_->try_share(record->partition, record->offset)) {
      // Caught up with the shared buffer: rejoin it.
      cursor.source = Cursor::Source::kShared;
      cursor.position = record->offset;
      // Released now, so that an eviction soon after assigns it afresh at
      // the cursor's position rather than reading on past what was dropped.
      if (cursor.private_reader_assigned) {
        cursor.private_reader_assigned = false;
        state_.release_from_private.insert(record->partition);
      }
      std::erase_if(private_backlog_, [&](const SharedRecord& queued) {
        return queued->partition == record->partition;
      });
      spdlog::info("fanout {} for {}: partition {} rejoined the shared buffer at offset {}",
                   settings_.topic, settings_.subscriber, record->partition, record->offset);
      continue;
    }
    if (!offer(cursor, record, batch, now)) break;
    private_backlog_.pop_front();
  }
}

void SubscriberSession::take_shared(Batch& batch, Clock::time_point now) {
  std::vector<int32_t> shared;
  for (const auto& [partition, cursor] : state_.cursors) {
    if (cursor.source == Cursor::Source::kShared) shared.push_back(partition);
  }
  if (shared.empty()) return;
  // Partitions take turns at being first, so a busy one cannot starve others.
  const auto first = next_shared_partition_++ % shared.size();
  std::vector<SharedRecord> records;
  for (std::size_t turn = 0; turn < shared.size() && room(batch); ++turn) {
    const auto partition = shared[(first + turn) % shared.size()];
    auto& cursor = state_.cursors[partition];
    while (room(batch)) {
      records.clear();
      const auto wanted = std::min(kMaxBatchRecords - batch.records,
                                   settings_.max_in_flight - state_.in_flight);
      feed_->read(partition, cursor.position, wanted, kMaxBatchBytes - batch.bytes, records);
      if (records.empty()) break;
      for (auto& record : records) {
        if (!offer(cursor, std::move(record), batch, now)) break;
      }
    }
  }
}

bool SubscriberSession::offer(Cursor& cursor, SharedRecord record, Batch& batch,
                              Clock::time_point now) {
  if (!settings_.filter.matches(record->key, record->headers)) {
    cursor.position = record->offset + 1;
    filtered_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  if (!room(batch)) return false;
  // One record left unacknowledged (a poison message) must not let the
  // acknowledged ones after it pile up in its cursor without bound.
  if (const auto oldest = cursor.in_flight.oldest();
      oldest && record->offset - *oldest >= window_limit()) {
    return false;
  }
  const auto bytes = record->payload;
  if (!limiter_.try_take(bytes, now)) {
    batch.limited = true;
    refused_bytes_ = bytes;  // the wait is for room for this record
    return false;
  }
  // Allocations (std::bad_alloc) first; the cursor moves only once the
  // record is in flight and in the message. A partition listed here whose
  // record then failed only gets a deadline check that finds nothing.
  const auto partition = record->partition;
  if (std::find(batch.partitions.begin(), batch.partitions.end(), partition) ==
      batch.partitions.end()) {
    batch.partitions.push_back(partition);
  }
  queue_first_push(cursor, std::move(record), now + settings_.ack_deadline,
                   [&](const FanoutRecord& queued) { deliveries_.add(queued, 1); });
  // Queued: nothing below throws.
  ++state_.in_flight;
  ++batch.records;
  batch.bytes += bytes;
  ++batch.first_pushes;
  return true;
}

void SubscriberSession::wait_for_work(std::unique_lock<std::mutex>& lock,
                                      Clock::time_point next_commit, bool limited) {
  auto until = next_commit;
  if (!deadlines_.empty()) until = std::min(until, deadlines_.front().at);
  // Only a session the limits held back waits for them: an idle one with
  // room in its allowance would otherwise wake at once, again and again.
  if (limited) {
    if (const auto allowed = limiter_.next_allowed(refused_bytes_, Clock::now())) {
      until = std::min(until, *allowed);
    }
  }
  wakeup_.wait_until(lock, until, [this] { return woken_ || stop_reason_ || state_.cut_off; });
  woken_ = false;
}

}  // namespace whippet::fanout
