#include "producer_service.h"

#include <condition_variable>
#include <mutex>

#include "record_messages.h"
#include "status_mapping.h"
#include "whippet/error.h"

namespace whippet::sidecar {
namespace {

// The results of one ProduceStream, filled in by delivery callbacks.
class StreamResults {
 public:
  explicit StreamResults(v1::ProduceStreamResponse* response) : response_(response) {}

  // A slot for the next request's result.
  v1::ProduceResult* add() {
    std::lock_guard lock(mutex_);
    ++outstanding_;
    return response_->add_results();
  }

  void record(v1::ProduceResult* slot, const Result<RecordMetadata>& result) {
    std::lock_guard lock(mutex_);
    if (result) {
      fill_position(result.value(), slot->mutable_position());
      response_->set_delivered(response_->delivered() + 1);
    } else {
      fill_error(result.error(), slot->mutable_error());
      response_->set_failed(response_->failed() + 1);
    }
    if (--outstanding_ == 0) done_.notify_all();
  }

  void wait() {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return outstanding_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  v1::ProduceStreamResponse* response_;
  std::size_t outstanding_ = 0;
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

grpc::Status ProducerServiceImpl::ProduceStream(grpc::ServerContext*,
                                                grpc::ServerReader<v1::ProduceRequest>* reader,
                                                v1::ProduceStreamResponse* response) {
  // RepeatedPtrField keeps element addresses stable as it grows, so each
  // callback can fill its own slot.
  StreamResults results(response);
  v1::ProduceRequest request;
  while (reader->Read(&request)) {
    auto* slot = results.add();
    try {
      producer_->send(to_producer_record(request), [&results, slot](const auto& result) {
        results.record(slot, result);
      });
    } catch (const Error& error) {
      results.record(slot, Result<RecordMetadata>(error));
    }
  }
  // Every record gets its outcome before the response goes out, even when
  // the client has gone: the producer calls back exactly once per record.
  results.wait();
  return grpc::Status::OK;
}

}  // namespace whippet::sidecar
