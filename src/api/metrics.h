// Operational metrics in Prometheus text format, built on prometheus-cpp core (registry +
// TextSerializer); /metrics is served by our own HTTP server. One Metrics instance per server,
// owned by the wiring and shared by reference. All methods are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace clinshub::api {

class Metrics {
 public:
  Metrics();

  // One finished request. `route` is the matched pattern ("/{type}/{id}") or "unmatched",
  // never the raw path, so label cardinality stays bounded.
  void ObserveRequest(std::string_view route, std::string_view method, int status,
                      double seconds);
  void ObserveStoreCommit(double seconds);
  prometheus::Gauge& in_flight_requests() { return *in_flight_; }
  prometheus::Gauge& open_connections() { return *open_connections_; }

  // The Prometheus text exposition of every metric.
  std::string Serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* request_seconds_;
  prometheus::Histogram* commit_seconds_;
  prometheus::Gauge* in_flight_;
  prometheus::Gauge* open_connections_;
};

}  // namespace clinshub::api
