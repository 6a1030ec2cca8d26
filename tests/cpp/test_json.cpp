// The wrapper's JSON encoder, byte for byte (what it hands the C API), and odp::Value.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "odp.hpp"
#include "support.hpp"

namespace {

TEST(JsonEncoder, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(odp::json::quote(""), R"("")");
  EXPECT_EQ(odp::json::quote("plain"), R"("plain")");
  EXPECT_EQ(odp::json::quote("a\"b"), R"("a\"b")");
  EXPECT_EQ(odp::json::quote("a\\b"), R"("a\\b")");
  EXPECT_EQ(odp::json::quote("\\\""), R"("\\\"")");
  EXPECT_EQ(odp::json::quote(std::string("\0", 1)), R"("\u0000")");
  EXPECT_EQ(odp::json::quote("\x01\x1f"), R"("\u0001\u001f")");
  EXPECT_EQ(odp::json::quote("\n\r\t\b\f"), R"("\u000a\u000d\u0009\u0008\u000c")");
  // Not control characters for JSON: passed as they are.
  EXPECT_EQ(odp::json::quote("\x7f /<>&'"), "\"\x7f /<>&'\"");
}

TEST(JsonEncoder, PassesUtf8Through) {
  const std::string text = "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80";
  EXPECT_EQ(odp::json::quote(text), "\"" + text + "\"");
  // Bytes that are not UTF-8 are passed too: the library is the one that refuses them.
  EXPECT_EQ(odp::json::quote("\xff"), "\"\xff\"");
}

TEST(JsonEncoder, ReaderDecodesWhatTheEncoderWrites) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all += static_cast<char>(c);
  all += "\xC3\xA9\xF0\x9F\x98\x80";
  EXPECT_EQ(support::parse_json(odp::json::quote(all)).str(), all);
}

TEST(JsonEncoder, IdentifiersAreAnObjectOfStringsInMapOrder) {
  EXPECT_EQ(odp::json::encode(odp::Identifiers{}), "{}");
  EXPECT_EQ(odp::json::encode(odp::Identifiers{{"fs_user_id", "u1"}, {"email", "a@b.com"}}),
            R"({"email":"a@b.com","fs_user_id":"u1"})");
  EXPECT_EQ(odp::json::encode(odp::Identifiers{{"k\"", "v\n"}}), R"({"k\"":"v\u000a"})");
}

TEST(JsonEncoder, ValuesKeepTheirJsonType) {
  const odp::Data data{{"a_null", nullptr},
                       {"b_true", true},
                       {"c_false", false},
                       {"d_int", -42},
                       {"e_long", std::numeric_limits<std::int64_t>::min()},
                       {"f_u64", std::numeric_limits<std::uint64_t>::max()},
                       {"g_unsigned", 7u},
                       {"h_whole", 50.0},
                       {"i_tenth", 0.1},
                       {"j_float", 0.5f},
                       {"k_big", 1e300},
                       {"l_tiny", 5e-324},
                       {"m_negzero", -0.0},
                       {"n_str", "shirt"},
                       {"o_cstr_null", static_cast<const char*>(nullptr)}};
  EXPECT_EQ(odp::json::encode(data),
            R"({"a_null":null,"b_true":true,"c_false":false,"d_int":-42,)"
            R"("e_long":-9223372036854775808,"f_u64":18446744073709551615,"g_unsigned":7,)"
            R"("h_whole":50.0,"i_tenth":0.1,"j_float":0.5,"k_big":1e+300,"l_tiny":5e-324,)"
            R"("m_negzero":-0.0,"n_str":"shirt","o_cstr_null":null})");
}

TEST(JsonEncoder, DoublesRoundTrip) {
  for (const double d : {0.1, 1.0 / 3.0, 123456.789, 2.5e-8, 9007199254740993.0, -1e21}) {
    const std::string text = odp::json::encode(odp::Data{{"x", d}});
    const std::string number = text.substr(5, text.size() - 6);  // {"x": ... }
    EXPECT_EQ(std::stod(number), d) << number;
  }
}

TEST(JsonEncoder, NonFiniteNumbersAreWrittenAsTheInvalidWords) {
  // JSON has no form for them; the library refuses the text (see SendErrors).
  EXPECT_EQ(odp::json::encode(odp::Data{{"x", std::nan("")}}), R"({"x":NaN})");
  EXPECT_EQ(odp::json::encode(odp::Data{{"x", HUGE_VAL}}), R"({"x":Infinity})");
  EXPECT_EQ(odp::json::encode(odp::Data{{"x", -HUGE_VAL}}), R"({"x":-Infinity})");
}

TEST(Value, HoldsTheRightAlternative) {
  EXPECT_TRUE(odp::Value().is_null());
  EXPECT_TRUE(odp::Value(nullptr).is_null());
  EXPECT_TRUE(std::holds_alternative<bool>(odp::Value(true).storage()));
  EXPECT_TRUE(std::holds_alternative<std::int64_t>(odp::Value(short(3)).storage()));
  EXPECT_TRUE(std::holds_alternative<std::int64_t>(odp::Value(3ull).storage()));
  EXPECT_TRUE(std::holds_alternative<std::uint64_t>(odp::Value(~0ull).storage()));
  EXPECT_TRUE(std::holds_alternative<double>(odp::Value(1.5f).storage()));
  EXPECT_TRUE(std::holds_alternative<std::string>(odp::Value("s").storage()));
  EXPECT_TRUE(std::holds_alternative<std::string>(odp::Value(std::string("s")).storage()));
  EXPECT_EQ(odp::Value(3), odp::Value(std::int64_t(3)));
  EXPECT_NE(odp::Value(3), odp::Value(3.0));
  static_assert(!std::is_constructible_v<odp::Value, char>, "a char is neither text nor a number");
}

TEST(Versions, HeaderAndLibraryAgree) {
  EXPECT_EQ(odp::version(), odp::header_version());
  EXPECT_EQ(odp::abi_version(), static_cast<std::uint32_t>(ODP_ABI_VERSION));
  EXPECT_TRUE(odp::abi_compatible());
}

}  // namespace
