// RFC 3339 UTC times <-> ns since the epoch, against dates computed by hand.
#include "io/time.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>

using namespace radarpipe::io;

TEST(Time, KnownInstants) {
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T00:00:00Z"), 0);
  // 2000-03-01 is day 11017 since the epoch (30 years, 7 leap days, Jan 31 + Feb 29).
  EXPECT_EQ(parse_rfc3339_ns("2000-03-01T00:00:00Z"), 11017LL * 86400 * 1000000000LL);
  EXPECT_EQ(parse_rfc3339_ns("2026-11-21T12:00:00.5Z"), 1795262400500000000LL);
  EXPECT_EQ(parse_rfc3339_ns("2026-11-21T13:30:00.5+01:30"), 1795262400500000000LL);
  EXPECT_EQ(parse_rfc3339_ns("1969-12-31T23:59:59.999999999Z"), -1);
}

TEST(Time, FormatRoundTrips) {
  for (long long ns : {0LL, 1LL, -1LL, 1795262400500000000LL, 951782400123456789LL})
    EXPECT_EQ(parse_rfc3339_ns(format_rfc3339_ns(ns)), ns) << ns;
  EXPECT_EQ(format_rfc3339_ns(1795262400500000000LL), "2026-11-21T12:00:00.500000000Z");
}

TEST(Time, RejectsMalformedText) {
  for (const char* bad :
       {"2026-11-21", "2026-11-21T12:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-11-21T25:00:00Z", "2026-11-21T12:00:00.Z", "2026-11-21T12:00:00Zjunk", "yesterday"})
    EXPECT_THROW(parse_rfc3339_ns(bad), std::invalid_argument) << bad;
  try {
    parse_rfc3339_ns("2026-11-21T12:00:00");
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("2026-11-21T12:00:00"), std::string::npos);
  }
}

// The ends of int64 nanoseconds: the last and first representable seconds parse; a second
// beyond either end is refused with the range named (it overflowed before: found by
// fuzz_sigmf_meta, its input is in tests/fuzz/corpus/sigmf_meta/).
TEST(Time, RefusesTimesOutsideInt64Nanoseconds) {
  EXPECT_EQ(parse_rfc3339_ns("2262-04-11T23:47:16.854775807Z"),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(parse_rfc3339_ns("1677-09-21T00:12:44Z"), -9223372036000000000LL);
  for (const char* far :
       {"2262-04-11T23:47:17Z", "2262-04-11T23:47:16.854775808Z", "9999-12-31T23:59:59Z",
        "1677-09-21T00:12:43Z", "0000-01-01T00:00:00Z", "2262-04-12T00:00:00-01:00"}) {
    try {
      parse_rfc3339_ns(far);
      ADD_FAILURE() << far << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z"),
                std::string::npos)
          << e.what();
    }
  }
}
