// RFC 3339 UTC times <-> ns since the epoch, against dates computed by hand.
#include "io/time.hpp"

#include <gtest/gtest.h>

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
