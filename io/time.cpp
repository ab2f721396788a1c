#include "io/time.hpp"

#include <cctype>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace radarpipe::io {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<std::int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool days_in_month_ok(std::int64_t y, unsigned m, unsigned d) {
  static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= days[m - 1] + ((m == 2 && leap) ? 1u : 0u);
}

}  // namespace

std::int64_t parse_rfc3339_ns(const std::string& text) {
  auto fail = [&](const char* why) -> std::int64_t {
    throw std::invalid_argument("'" + text + "' is not an RFC 3339 UTC time (" + why +
                                "; expected YYYY-MM-DDTHH:MM:SS[.fff]Z)");
  };
  std::size_t i = 0;
  auto number = [&](std::size_t digits) -> long {
    long v = 0;
    for (std::size_t k = 0; k < digits; ++k, ++i) {
      if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i])))
        fail("a digit is missing");
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  auto expect = [&](const char* options) {
    if (i >= text.size()) fail("text ends early");
    for (const char* o = options; *o; ++o)
      if (text[i] == *o) {
        ++i;
        return;
      }
    fail("unexpected character");
  };
  const long year = number(4);
  expect("-");
  const long month = number(2);
  expect("-");
  const long day = number(2);
  expect("Tt ");
  const long hour = number(2);
  expect(":");
  const long minute = number(2);
  expect(":");
  const long second = number(2);
  std::int64_t frac_ns = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    std::int64_t scale = 100000000;
    std::size_t digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      frac_ns += (text[i] - '0') * scale;
      scale /= 10;
      ++i;
      ++digits;
    }
    if (digits == 0) fail("no digits after the decimal point");
  }
  std::int64_t offset_s = 0;
  if (i >= text.size()) fail("no time zone (Z or +HH:MM)");
  if (text[i] == 'Z' || text[i] == 'z') {
    ++i;
  } else if (text[i] == '+' || text[i] == '-') {
    const int sign = text[i] == '-' ? -1 : 1;
    ++i;
    const long oh = number(2);
    expect(":");
    const long om = number(2);
    if (oh > 23 || om > 59) fail("time zone offset out of range");
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    fail("bad time zone");
  }
  if (i != text.size()) fail("trailing characters");
  if (!days_in_month_ok(year, static_cast<unsigned>(month), static_cast<unsigned>(day)))
    fail("no such date");
  if (hour > 23 || minute > 59 || second > 60) fail("time of day out of range");
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  // int64 nanoseconds reach from 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z;
  // a time outside is refused rather than wrapped (signed overflow: undefined behaviour).
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  if (secs > (kMax - frac_ns) / 1000000000LL || secs < kMin / 1000000000LL)
    throw std::invalid_argument("'" + text +
                                "': outside the times radarpipe represents (int64 nanoseconds "
                                "since 1970: 1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z)");
  return secs * 1000000000LL + frac_ns;
}

std::string format_rfc3339_ns(std::int64_t ns) {
  std::int64_t secs = ns / 1000000000LL;
  std::int64_t frac = ns % 1000000000LL;
  if (frac < 0) {
    frac += 1000000000LL;
    secs -= 1;
  }
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    days -= 1;
  }
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(sod / 3600),
                static_cast<long long>(sod % 3600 / 60), static_cast<long long>(sod % 60),
                static_cast<long long>(frac));
  return buf;
}

}  // namespace radarpipe::io
