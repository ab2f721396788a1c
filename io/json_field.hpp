// Typed access to a field of a JSON object read from outside, with an error naming where it
// came from ("DETS.jsonl:12: field 'cpi' is missing"). An integer field must hold a JSON integer
// within the type's range: nlohmann's own conversion casts a float or a too-large integer
// straight to the integer type (undefined behaviour for 1e26 into int64, found by
// fuzz_stream_message) or wraps it.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace radarpipe::io {

/// The value of `v` as T (an integer type: a JSON integer in T's range; bool: a JSON boolean;
/// otherwise nlohmann's conversion), or std::runtime_error naming `where` and `key`.
template <class T>
T json_value_as(const nlohmann::json& v, const char* key, const std::string& where) {
  auto wrong = [&](const char* expected) {
    std::string shown = v.dump();
    if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
    return std::runtime_error(where + ": field '" + key + "' is " + shown + ", expected " +
                              expected);
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) throw wrong("true or false");
    return v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    using L = std::numeric_limits<T>;
    const std::string range =
        "an integer from " + std::to_string(L::min()) + " to " + std::to_string(L::max());
    if (v.is_number_unsigned()) {
      const std::uint64_t u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(L::max())) throw wrong(range.c_str());
      return static_cast<T>(u);
    }
    if (v.is_number_integer()) {  // negative (nlohmann keeps non-negative ones unsigned)
      const std::int64_t s = v.get<std::int64_t>();
      if constexpr (std::is_unsigned_v<T>) {
        if (s < 0) throw wrong(range.c_str());
      } else {
        if (s < static_cast<std::int64_t>(L::min()) || s > static_cast<std::int64_t>(L::max()))
          throw wrong(range.c_str());
      }
      return static_cast<T>(s);
    }
    throw wrong(range.c_str());
  } else {
    try {
      return v.get<T>();
    } catch (const nlohmann::json::exception&) {
      throw wrong("another type");
    }
  }
}

template <class T>
T json_field(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) throw std::runtime_error(where + ": field '" + key + "' is missing");
  return json_value_as<T>(*it, key, where);
}

/// An optional field: `otherwise` when absent, else as json_field.
template <class T>
T json_field_or(const nlohmann::json& j, const char* key, T otherwise, const std::string& where) {
  auto it = j.find(key);
  return it == j.end() ? otherwise : json_value_as<T>(*it, key, where);
}

}  // namespace radarpipe::io
