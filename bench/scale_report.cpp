#include "bench/scale_report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <sstream>

namespace qcp::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::size_t status_kib(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with(field + ":")) {
      return std::stoul(line.substr(field.size() + 1));
    }
  }
  return 0;
}

double cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) {
    return 0;
  }
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> values;
  for (std::string value; fields >> value;) {
    values.push_back(value);
  }
  // After "(comm)": state is field 3; utime and stime are fields 14 and 15 (proc(5)).
  constexpr std::size_t kUtime = 14 - 3;
  if (values.size() <= kUtime + 1) {
    return 0;
  }
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return (std::stod(values[kUtime]) + std::stod(values[kUtime + 1])) / ticks;
}

// "/api/v1/namespaces/NS/serviceaccounts/NAME/token" -> {"serviceaccounts/token", "NS/NAME"}.
struct Parsed {
  std::string resource;
  std::string key;
  bool collection = false;
};
Parsed parse_path(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream stream(path);
  for (std::string part; std::getline(stream, part, '/');) {
    if (!part.empty()) {
      parts.push_back(part);
    }
  }
  Parsed parsed;
  const auto at = std::find(parts.begin(), parts.end(), "namespaces");
  if (at == parts.end() || at + 2 >= parts.end()) {
    parsed.resource = parts.empty() ? "" : parts.back();
    parsed.collection = true;
    return parsed;
  }
  const std::string ns = *(at + 1);
  parsed.resource = *(at + 2);
  parsed.collection = at + 3 >= parts.end();
  if (!parsed.collection) {
    parsed.key = ns + "/" + *(at + 3);
    if (at + 4 < parts.end()) {
      parsed.resource += "/" + *(at + 4);
    }
  }
  return parsed;
}

std::string verb_of(const test::RecordedRequest& request, const Parsed& parsed) {
  if (request.method == "GET") {
    if (!parsed.collection) {
      return "GET";
    }
    return request.query.find("watch=1") != std::string::npos ? "WATCH" : "LIST";
  }
  return request.method;
}

double mib(std::size_t kib) {
  return static_cast<double>(kib) / 1024.0;
}

}  // namespace

Sampler::Sampler(pid_t pid) : pid_(pid) {
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      const std::size_t rss = status_kib(pid_, "VmRSS");
      if (rss > 0) {
        const std::lock_guard lock(mutex_);
        rss_.emplace_back(Clock::now(), rss);
      }
      std::this_thread::sleep_for(std::chrono::seconds{1});
    }
  });
}

Sampler::~Sampler() {
  stop_ = true;
  thread_.join();
}

Sample Sampler::now() const {
  return {.rss_kib = status_kib(pid_, "VmRSS"),
          .peak_kib = status_kib(pid_, "VmHWM"),
          .cpu_seconds = cpu_seconds(pid_)};
}

std::size_t Sampler::median_rss_since(Clock::time_point since) const {
  std::vector<std::size_t> values;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [at, rss] : rss_) {
      if (at >= since) {
        values.push_back(rss);
      }
    }
  }
  if (values.empty()) {
    return 0;
  }
  std::nth_element(values.begin(), values.begin() + static_cast<long>(values.size() / 2),
                   values.end());
  return values[values.size() / 2];
}

void Recorder::api_request(const test::RecordedRequest& request) {
  const Parsed parsed = parse_path(request.path);
  if (request.method == "POST" && parsed.resource == "secrets" && parsed.collection) {
    ++secrets_created_;
  }
  const std::lock_guard lock(mutex_);
  if (!windowed_) {
    return;
  }
  window_.api_by_verb[verb_of(request, parsed) + " " + parsed.resource]++;
  if (request.method == "POST" && parsed.resource == "serviceaccounts/token") {
    window_.token_requests[parsed.key]++;
  }
  if (request.method == "PUT" && parsed.resource == "secrets") {
    // The Secret is "<serviceaccount>-quay-pull".
    window_.secret_writes[parsed.key.substr(0, parsed.key.rfind("-quay-pull"))]++;
    window_.write_seconds.push_back(
        std::chrono::duration<double>(Clock::now() - window_start_).count());
  }
}

void Recorder::exchange_started(const test::RecordedRequest& request) {
  const int now = ++in_flight_;
  int seen = max_in_flight_.load();
  while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
  }
  const std::lock_guard lock(mutex_);
  if (windowed_ && request.basic_user) {
    // Robot "ns0001+puller003" serves ServiceAccount "ns-0001/sa-003".
    const std::string& robot = *request.basic_user;
    window_.exchanges_by_account["ns-" + robot.substr(2, 4) + "/sa-" +
                                 robot.substr(robot.size() - 3)]++;
    ++window_.exchanges;
  }
}

void Recorder::exchange_ended() {
  --in_flight_;
}

void Recorder::start_window() {
  const std::lock_guard lock(mutex_);
  windowed_ = true;
  window_start_ = Clock::now();
}

Recorder::Window Recorder::window() const {
  const std::lock_guard lock(mutex_);
  Window copy = window_;
  copy.max_concurrent_exchanges = max_in_flight_.load();
  return copy;
}

void print_report(const Run& run, const Recorder& recorder) {
  const Recorder::Window window = recorder.window();
  const double renewals = static_cast<double>(window.write_seconds.size());
  const double cycles = renewals / run.shape_annotated;
  std::printf("\n== controller at scale ==\n");
  std::printf(
      "ServiceAccounts: %d in %d namespaces, %d annotated; --workers %d; Quay tokens live "
      "%d s, --renew-before %lld s\n",
      run.shape_accounts, run.shape_namespaces, run.shape_annotated, run.workers, run.token_seconds,
      static_cast<long long>(run.renew_before.count()));
  std::printf("initial sync: %.1f s, CPU %.1f s, peak RSS %.1f MiB\n", run.sync_seconds,
              run.at_sync.cpu_seconds, mib(run.at_sync.peak_kib));
  std::printf("steady state: %.0f s, %.0f renewals (%.2f cycles)\n", run.window_seconds, renewals,
              cycles);
  std::printf("  RSS median %.1f MiB (target <= 32 MiB), at the end %.1f MiB, peak %.1f MiB\n",
              mib(run.steady_rss_kib), mib(run.at_end.rss_kib), mib(run.at_end.peak_kib));
  const double steady_cpu = run.at_end.cpu_seconds - run.at_window.cpu_seconds;
  // With one-hour tokens and the default 15 min margin a cycle is 45 min less up to 10%.
  const double production_cycle = 2700.0 * 0.95;
  const double per_cycle = cycles > 0 ? steady_cpu / cycles : 0;
  std::printf("  CPU %.1f s: %.2f s per renewal cycle -> %.1f s per hour with one-hour tokens\n",
              steady_cpu, per_cycle, per_cycle * 3600.0 / production_cycle);
  std::printf("API requests per renewal cycle, by verb:\n");
  for (const auto& [verb, count] : window.api_by_verb) {
    std::printf("  %-32s %8.0f\n", verb.c_str(),
                cycles > 0 ? static_cast<double>(count) / cycles : 0);
  }
  std::size_t lists = 0;
  for (const auto& [verb, count] : window.api_by_verb) {
    lists += verb.starts_with("LIST ") ? count : 0;
  }
  std::printf("LISTs in steady state: %zu (target 0: no relist)\n", lists);
  std::size_t equal = 0;
  std::size_t unequal = 0;
  for (const auto& [account, writes] : window.secret_writes) {
    const auto tokens =
        window.token_requests.count(account) ? window.token_requests.at(account) : 0;
    const auto exchanges =
        window.exchanges_by_account.count(account) ? window.exchanges_by_account.at(account) : 0;
    (tokens == writes && exchanges == writes ? equal : unequal)++;
  }
  std::printf(
      "per ServiceAccount renewed: one TokenRequest, one exchange, one Secret write per "
      "renewal for %zu, not for %zu (target: all; a renewal cut by the window's edges "
      "counts as not)\n",
      equal, unequal);
  std::printf(
      "Quay: %zu exchanges (%.0f per cycle) -> %.0f per hour with one-hour tokens; at "
      "most %d at once (--workers %d)\n",
      window.exchanges, cycles > 0 ? static_cast<double>(window.exchanges) / cycles : 0,
      cycles > 0 ? static_cast<double>(window.exchanges) / cycles * 3600.0 / production_cycle : 0,
      window.max_concurrent_exchanges, recorder.workers());
  // A "minute" of one-hour tokens: token_seconds / 60 here.
  const double minute = run.token_seconds / 60.0;
  const auto buckets = static_cast<std::size_t>(run.window_seconds / minute);
  std::vector<std::size_t> per_minute(std::max<std::size_t>(buckets, 1), 0);
  for (const double at : window.write_seconds) {
    const auto bucket = static_cast<std::size_t>(at / minute);
    if (bucket < per_minute.size()) {
      per_minute[bucket]++;
    }
  }
  const double mean =
      static_cast<double>(std::accumulate(per_minute.begin(), per_minute.end(), std::size_t{0})) /
      static_cast<double>(per_minute.size());
  const auto most = *std::max_element(per_minute.begin(), per_minute.end());
  std::printf(
      "renewals per minute of one-hour tokens (%.0f s here): mean %.1f, most %zu = %.2fx "
      "the mean (target <= 2x)\n",
      minute, mean, most, mean > 0 ? static_cast<double>(most) / mean : 0);
  std::printf("  each minute:");
  for (const auto in_minute : per_minute) {
    std::printf(" %zu", in_minute);
  }
  std::printf("\n");
}

}  // namespace qcp::bench
