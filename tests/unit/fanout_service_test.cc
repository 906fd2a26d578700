// FanoutServiceImpl registers its methods by hand (Subscribe writes
// pre-encoded ByteBuffers, which the generated service cannot): the names
// and kinds it registers must be those of the proto's FanoutService, or a
// method renamed in the proto would leave clients calling a method the
// proxy no longer serves.

#include <gtest/gtest.h>

#include <google/protobuf/descriptor.h>

#include <set>
#include <string>

#include "fanout_service.h"
#include "whippet/v1/fanout.grpc.pb.h"

namespace whippet::fanout {
namespace {

const google::protobuf::ServiceDescriptor* contract() {
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      v1::FanoutService::service_full_name());
}

// How gRPC names a method of the contract on the wire.
std::string path_of(const google::protobuf::MethodDescriptor& method) {
  return "/" + method.service()->full_name() + "/" + method.name();
}

TEST(FanoutService, EveryRegisteredMethodIsOneOfTheContract) {
  ASSERT_NE(contract(), nullptr);
  const auto& service = *contract();
  std::set<std::string> registered;
  for (const auto& method : FanoutServiceImpl::methods()) {
    SCOPED_TRACE(method.path);
    EXPECT_TRUE(registered.insert(method.path).second) << "registered twice";
    const google::protobuf::MethodDescriptor* found = nullptr;
    for (int i = 0; i < service.method_count(); ++i) {
      if (path_of(*service.method(i)) == method.path) found = service.method(i);
    }
    ASSERT_NE(found, nullptr) << "not a method of " << service.full_name();
    EXPECT_EQ(method.server_streaming, found->server_streaming());
    EXPECT_FALSE(found->client_streaming()) << "registered as a unary request";
  }
}

TEST(FanoutService, EveryMethodOfTheContractIsRegistered) {
  ASSERT_NE(contract(), nullptr);
  const auto& service = *contract();
  std::set<std::string> registered;
  for (const auto& method : FanoutServiceImpl::methods()) registered.insert(method.path);
  for (int i = 0; i < service.method_count(); ++i) {
    EXPECT_TRUE(registered.contains(path_of(*service.method(i))))
        << path_of(*service.method(i)) << " is not served";
  }
  EXPECT_EQ(FanoutServiceImpl::methods().size(), static_cast<std::size_t>(service.method_count()));
}

}  // namespace
}  // namespace whippet::fanout
