#include "producer_service.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "record_messages.h"
#include "status_mapping.h"
#include "whippet/error.h"

namespace whippet::sidecar {
namespace {

using Stream = grpc::ServerReaderWriter<v1::ProduceStreamResponse, v1::ProduceBatch>;

// Results waiting for the client to read them, at most this many: past it
// the server stops reading requests until the client catches up.
constexpr std::size_t kMostUnwrittenResults = 10000;
constexpr int kMostResultsPerMessage = 1000;

// The results of one ProduceStream: delivery callbacks queue them, and a
// thread of its own writes them to the client in batches.
class ResultWriter {
 public:
  explicit ResultWriter(Stream* stream) : stream_(stream), thread_([this] { run(); }) {}
  ~ResultWriter() {
    finish_reading();
    thread_.join();
  }

  // Before each record is sent: waits while the client is behind.
  void expect_one() {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return broken_ || queue_.size() < kMostUnwrittenResults; });
    ++outstanding_;
  }

  void add(uint64_t index, const Result<RecordMetadata>& result) {
    v1::ProduceResult message;
    message.set_index(index);
    if (result) {
      fill_position(result.value(), message.mutable_position());
    } else {
      fill_error(result.error(), message.mutable_error());
    }
    std::lock_guard lock(mutex_);
    --outstanding_;
    if (!broken_) queue_.push_back(std::move(message));
    changed_.notify_all();
  }

  void finish_reading() {
    std::lock_guard lock(mutex_);
    reading_done_ = true;
    changed_.notify_all();
  }

 private:
  void run() {
    for (;;) {
      v1::ProduceStreamResponse response;
      {
        std::unique_lock lock(mutex_);
        // Every record gets its result even when the client is gone: the
        // producer calls back exactly once per record, so this ends.
        changed_.wait(lock, [&] {
          return !queue_.empty() || (reading_done_ && outstanding_ == 0);
        });
        if (queue_.empty()) return;
        while (!queue_.empty() && response.results_size() < kMostResultsPerMessage) {
          *response.add_results() = std::move(queue_.front());
          queue_.pop_front();
        }
        room_.notify_all();
      }
      if (!stream_->Write(response)) {
        std::lock_guard lock(mutex_);
        broken_ = true;
        queue_.clear();
        room_.notify_all();
      }
    }
  }

  Stream* stream_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::condition_variable room_;
  std::deque<v1::ProduceResult> queue_;
  std::size_t outstanding_ = 0;
  bool reading_done_ = false;
  bool broken_ = false;
  std::thread thread_;
};

}  // namespace

ProducerServiceImpl::ProducerServiceImpl(std::shared_ptr<Producer> producer)
    : producer_(std::move(producer)) {}

grpc::Status ProducerServiceImpl::Produce(grpc::ServerContext*, const v1::ProduceRequest* request,
                                          v1::ProduceResult* response) {
  try {
    const auto metadata = producer_->send(to_producer_record(*request)).get();
    fill_position(metadata, response->mutable_position());
    return grpc::Status::OK;
  } catch (const Error& error) {
    return to_status(error);
  }
}

grpc::Status ProducerServiceImpl::ProduceStream(grpc::ServerContext*, Stream* stream) {
  ResultWriter results(stream);
  v1::ProduceBatch batch;
  uint64_t index = 0;
  while (stream->Read(&batch)) {
    for (const auto& request : batch.records()) {
      results.expect_one();
      try {
        producer_->send(to_producer_record(request), [&results, index](const auto& result) {
          results.add(index, result);
        });
      } catch (const Error& error) {
        results.add(index, Result<RecordMetadata>(error));
      } catch (const std::exception& error) {
        // E.g. bad_alloc: the record still gets its one result.
        results.add(index, Result<RecordMetadata>(Error(ErrorCode::kKafka, error.what())));
      }
      ++index;
    }
  }
  results.finish_reading();
  return grpc::Status::OK;  // ~ResultWriter waits until every result is written
}

}  // namespace whippet::sidecar
