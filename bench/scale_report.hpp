#pragma once

// What the controller scale benchmark measures and prints: the child's memory and CPU from
// /proc (Sampler), what reached the fake API server and the fake Quay (Recorder), and the report
// with the targets beside the figures.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "https_server.hpp"

namespace qcp::bench {

struct Sample {
  std::size_t rss_kib = 0;   // VmRSS
  std::size_t peak_kib = 0;  // VmHWM
  double cpu_seconds = 0;    // utime + stime
};

// Reads a process's /proc entries once a second (and on demand) until it ends.
class Sampler {
 public:
  explicit Sampler(pid_t pid);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;
  Sampler(Sampler&&) = delete;
  Sampler& operator=(Sampler&&) = delete;

  [[nodiscard]] Sample now() const;
  [[nodiscard]] std::size_t median_rss_since(std::chrono::steady_clock::time_point since) const;

 private:
  pid_t pid_;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::size_t>> rss_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Every request the fakes saw, classified; the steady-state window's by ServiceAccount.
class Recorder {
 public:
  explicit Recorder(int workers) : workers_(workers) {}

  void api_request(const test::RecordedRequest& request);
  void exchange_started(const test::RecordedRequest& request);
  void exchange_ended();
  void start_window();

  [[nodiscard]] std::size_t secrets_created() const { return secrets_created_.load(); }

  struct Window {
    std::map<std::string, std::size_t> api_by_verb;     // "PUT secrets", "LIST serviceaccounts"...
    std::map<std::string, std::size_t> token_requests;  // by ServiceAccount key
    std::map<std::string, std::size_t> secret_writes;
    std::map<std::string, std::size_t> exchanges_by_account;
    std::vector<double> write_seconds;  // each Secret write, seconds into the window
    std::size_t exchanges = 0;
    int max_concurrent_exchanges = 0;
  };
  [[nodiscard]] Window window() const;
  [[nodiscard]] int workers() const { return workers_; }

 private:
  int workers_;
  mutable std::mutex mutex_;
  std::atomic<std::size_t> secrets_created_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  bool windowed_ = false;
  std::chrono::steady_clock::time_point window_start_;
  Window window_;
};

struct Run {
  int shape_accounts = 0;
  int shape_annotated = 0;
  int shape_namespaces = 0;
  int workers = 0;
  int token_seconds = 0;
  std::chrono::seconds renew_before{0};
  double sync_seconds = 0;
  double window_seconds = 0;
  Sample at_sync;
  Sample at_window;  // where the steady state's window starts (after an outage, if any)
  Sample at_end;
  std::size_t steady_rss_kib = 0;
};

void print_report(const Run& run, const Recorder& recorder);

}  // namespace qcp::bench
