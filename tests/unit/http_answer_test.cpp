#include "qcp/net/http_answer.hpp"

#include <gtest/gtest.h>

#include "layers.hpp"

namespace qcp {
namespace {

TEST(AnswerCollector, KeepsTheLastAnswerAfterAProxysConnectReply) {
  AnswerCollector answer(1024, 1024);
  EXPECT_TRUE(answer.add_header_line("HTTP/1.1 200 Connection established\r\n"));
  EXPECT_TRUE(answer.add_header_line("Retry-After: 99\r\n"));
  EXPECT_TRUE(answer.add_header_line("\r\n"));
  EXPECT_TRUE(answer.add_header_line("HTTP/1.1 429 Too Many Requests\r\n"));
  EXPECT_TRUE(answer.add_header_line("content-type:  application/json \r\n"));
  EXPECT_TRUE(answer.add_header_line("RETRY-AFTER: 3\r\n"));
  EXPECT_TRUE(answer.add_body(R"({"error":"slow_down"})"));
  const auto response = answer.take();
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.retry_after, "3");
  EXPECT_EQ(response.body, R"({"error":"slow_down"})");
}

TEST(AnswerCollector, TrailersCountAgainstTheHeaderBudgetButChangeNothing) {
  AnswerCollector answer(100, 1024);
  EXPECT_TRUE(answer.add_header_line("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(answer.add_body("{}"));
  EXPECT_TRUE(answer.add_header_line("Retry-After: 5\r\n"));
  std::size_t lines = 0;
  while (answer.add_header_line("X-Filler: aaaaaaaaaa\r\n")) {
    ++lines;
  }
  EXPECT_EQ(lines, 3U);
  EXPECT_TRUE(answer.headers_overflowed());
  EXPECT_FALSE(answer.take().retry_after);
}

TEST(AnswerCollector, RefusesABodyOverItsBudget) {
  AnswerCollector answer(1024, 8);
  EXPECT_TRUE(answer.add_body("12345678"));
  EXPECT_FALSE(answer.add_body("9"));
  EXPECT_TRUE(answer.body_overflowed());
}

}  // namespace
}  // namespace qcp
