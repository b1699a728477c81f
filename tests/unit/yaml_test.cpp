#include "qcp/core/yaml.hpp"

#include <gtest/gtest.h>

#include <string>

#include "layers.hpp"
#include "qcp/kube/config_decode.hpp"

namespace qcp::core::yaml {
namespace {

using Kind = Node::Kind;

Node root_of(const std::string& text) {
  auto document = parse(text);
  EXPECT_TRUE(document.problems.empty()) << document.problems.front().message;
  EXPECT_TRUE(document.root.has_value());
  return document.root.value_or(Node{});
}

Kind kind_of_plain(const std::string& scalar) {
  return root_of("k: " + scalar + "\n").find("k")->kind;
}

// go-yaml v2 (the kubelet's YAML reader) types plain scalars by YAML 1.1 rules.
TEST(Yaml, TypesPlainScalarsLikeTheKubelet) {
  for (const char* text :
       {"true", "True", "yes", "Yes", "on", "ON", "y", "false", "no", "off", "n"}) {
    EXPECT_EQ(kind_of_plain(text), Kind::kBool) << text;
  }
  EXPECT_TRUE(root_of("k: on").find("k")->boolean);
  EXPECT_FALSE(root_of("k: off").find("k")->boolean);
  for (const char* text : {"~", "null", "Null", "NULL", ""}) {
    EXPECT_EQ(kind_of_plain(text), Kind::kNull) << text;
  }
  for (const char* text :
       {"0", "5", "-3", "+7", "0x1F", "0o17", "017", "0b101", "1_000", "1.5", ".5", "1e3",
        "-2.5E-3", ".inf", "-.Inf", ".nan", "99999999999999999999", "08"}) {
    EXPECT_EQ(kind_of_plain(text), Kind::kNumber) << text;
  }
  for (const char* text : {"5m", "1h30m", "0s", "quay.io", "v1", "yess", "0x", "1.2.3", "-x", "1e",
                           "infinity", "2001-12-14x"}) {
    EXPECT_EQ(kind_of_plain(text), Kind::kString) << text;
  }
}

TEST(Yaml, QuotedAndTaggedScalarsAreStrings) {
  const Node root = root_of("a: \"true\"\nb: '5'\nc: !!str 5\nd: ! 7\ne: !!int \"5\"\n");
  EXPECT_EQ(root.find("a")->kind, Kind::kString);
  EXPECT_EQ(root.find("a")->text, "true");
  EXPECT_EQ(root.find("b")->kind, Kind::kString);
  EXPECT_EQ(root.find("c")->kind, Kind::kString);
  EXPECT_EQ(root.find("d")->kind, Kind::kString);
  EXPECT_EQ(root.find("e")->kind, Kind::kNumber);
  EXPECT_FALSE(parse("a: !!int five\n").problems.empty());
  EXPECT_FALSE(parse("a: !custom x\n").problems.empty());
}

TEST(Yaml, ReadsJsonToo) {
  const Node root = root_of(R"({"providers":[{"name":"p","matchImages":["a","b"]}],"n":1})");
  ASSERT_EQ(root.find("providers")->items.size(), 1U);
  EXPECT_EQ(root.find("providers")->items[0].find("matchImages")->items[1].text, "b");
  EXPECT_EQ(root.find("n")->kind, Kind::kNumber);
}

TEST(Yaml, KeepsLinesAndOrder) {
  const Node root = root_of("# comment\nfirst: 1\n\nsecond:\n  - x\n  - y\n");
  ASSERT_EQ(root.entries.size(), 2U);
  EXPECT_EQ(root.entries[0].key, "first");
  EXPECT_EQ(root.entries[0].key_line, 2);
  EXPECT_EQ(root.entries[1].value.items[1].line, 6);
}

TEST(Yaml, ReportsDuplicateKeysButKeepsTheDocument) {
  const auto document = parse("a: 1\nb: 2\na: 3\n");
  ASSERT_EQ(document.problems.size(), 1U);
  EXPECT_EQ(document.problems[0].line, 3);
  EXPECT_NE(document.problems[0].message.find("duplicate key \"a\" (first at line 1)"),
            std::string::npos);
  ASSERT_TRUE(document.root);
  EXPECT_EQ(document.root->find("a")->text, "1");
}

TEST(Yaml, SyntaxErrorsCarryTheirLine) {
  const auto document = parse("a: 1\nb: [x, y\nc: 2\n");
  ASSERT_EQ(document.problems.size(), 1U);
  EXPECT_FALSE(document.root);
  EXPECT_GE(document.problems[0].line, 2);
  EXPECT_NE(document.problems[0].message.find("YAML syntax error"), std::string::npos);
}

TEST(Yaml, ExpandsAliasesAndResolvesMergeKeysAsTheKubeletDoes) {
  const Node root = root_of("a: &x [1, 2]\nb: *x\n");
  EXPECT_EQ(root.find("b")->items.size(), 2U);
  const auto merged = parse("base: &b {left: 1}\nderived:\n  <<: *b\n  right: 2\n");
  EXPECT_TRUE(merged.problems.empty());
  ASSERT_TRUE(merged.root);
  const Node* derived = merged.root->find("derived");
  ASSERT_NE(derived, nullptr);
  ASSERT_NE(derived->find("left"), nullptr);
  EXPECT_EQ(derived->find("left")->text, "1");
  ASSERT_NE(derived->find("right"), nullptr);
  EXPECT_EQ(derived->find("<<"), nullptr);
  // A list of merges, and a key set twice (by hand and by the merge): strict decoding refuses.
  const auto listed = parse("a: &a {left: 1}\nb: &b {right: 2}\nc:\n  <<: [*a, *b]\n");
  EXPECT_TRUE(listed.problems.empty());
  ASSERT_TRUE(listed.root);
  EXPECT_EQ(listed.root->find("c")->entries.size(), 2U);
  const auto twice = parse("a: &a {left: 1}\nc:\n  left: 3\n  <<: *a\n");
  ASSERT_EQ(twice.problems.size(), 1U);
  EXPECT_NE(
      twice.problems[0].message.find("duplicate key \"left\" (brought in by the merge key <<)"),
      std::string::npos);
  EXPECT_FALSE(parse("a: [1]\nc:\n  <<: [1]\n").problems.empty());
  EXPECT_FALSE(parse("a: *nowhere\n").problems.empty());
}

TEST(Yaml, BoundsAliasExpansionAndNesting) {
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    const auto previous = "*a" + std::to_string(i - 1);
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + previous + ", " +
            previous + ", " + previous + ", " + previous + ", " + previous + ", " + previous +
            ", " + previous + ", " + previous + ", " + previous + ", " + previous + "]\n";
  }
  const auto expanded = parse(bomb);
  ASSERT_FALSE(expanded.problems.empty());
  EXPECT_NE(expanded.problems[0].message.find("too many"), std::string::npos);
  const auto deep = parse(std::string(1000, '[') + std::string(1000, ']'));
  ASSERT_FALSE(deep.problems.empty());
  EXPECT_NE(deep.problems[0].message.find("nested too deeply"), std::string::npos);
}

TEST(Yaml, NotesASecondDocumentAndEmptyInput) {
  const auto two = parse("a: 1\n---\nb: 2\n");
  EXPECT_EQ(two.extra_document_line, 2);
  EXPECT_FALSE(parse("").root);
  EXPECT_FALSE(parse("# only a comment\n").root);
}

TEST(Yaml, ComplexKeysAreProblems) {
  EXPECT_FALSE(parse("? [a, b]\n: 1\n").problems.empty());
}

}  // namespace
}  // namespace qcp::core::yaml

namespace qcp::core::yaml {
namespace {

// Found by config_fuzz: well-formed JSON whose number overflows a double made nlohmann throw
// out_of_range, which escaped as a crash; Go's decoder refuses it, so it is a problem.
TEST(KubeletConfigDecode, AJsonNumberBeyondADoubleIsAProblemNotACrash) {
  const auto document = parse_kubelet_config(R"({"apiVersion": 44E4444444444444, "kind": "x"})");
  EXPECT_FALSE(document.root.has_value());
  ASSERT_EQ(document.problems.size(), 1U);
  EXPECT_NE(document.problems.front().message.find("too large"), std::string::npos);
}

}  // namespace
}  // namespace qcp::core::yaml
