// What the HTTP server needs from the application: answer a complete request, and render a
// transport-level error (413, 414, header too large, ...) the same way the API renders its own.
#pragma once

#include "api/http_types.h"
#include "common/status.h"

namespace clinshub::api {

class HttpService {
 public:
  virtual ~HttpService() = default;
  // Called on a worker thread with a complete request; must not throw. Thread-safe.
  virtual Response Handle(Request request) = 0;
  // The response for an error found by the transport before a request is complete.
  virtual Response TransportError(const Status& status) = 0;
};

}  // namespace clinshub::api
