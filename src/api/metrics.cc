#include "api/metrics.h"

#include <prometheus/text_serializer.h>

namespace clinshub::api {
namespace {

// Seconds; spans a cached read (~100 µs) to a slow durable commit under load.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return kBuckets;
}

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("clinshub_http_requests_total")
                   .Help("HTTP requests answered, by route pattern, method and status")
                   .Register(*registry_);
  request_seconds_ = &prometheus::BuildHistogram()
                          .Name("clinshub_http_request_duration_seconds")
                          .Help("Time from a complete request to its response, by route")
                          .Register(*registry_);
  commit_seconds_ = &prometheus::BuildHistogram()
                         .Name("clinshub_store_commit_duration_seconds")
                         .Help("Duration of durable Store::Commit calls")
                         .Register(*registry_)
                         .Add({}, LatencyBuckets());
  in_flight_ = &prometheus::BuildGauge()
                    .Name("clinshub_http_requests_in_flight")
                    .Help("Requests being handled right now")
                    .Register(*registry_)
                    .Add({});
  open_connections_ = &prometheus::BuildGauge()
                           .Name("clinshub_http_open_connections")
                           .Help("Open client connections")
                           .Register(*registry_)
                           .Add({});
}

void Metrics::ObserveRequest(std::string_view route, std::string_view method, int status,
                             double seconds) {
  requests_
      ->Add({{"route", std::string(route)},
             {"method", std::string(method)},
             {"status", std::to_string(status)}})
      .Increment();
  request_seconds_->Add({{"route", std::string(route)}}, LatencyBuckets()).Observe(seconds);
}

void Metrics::ObserveStoreCommit(double seconds) { commit_seconds_->Observe(seconds); }

std::string Metrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace clinshub::api
