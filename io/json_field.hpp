// Typed access to a field of a JSON object read from outside, with an error naming where it
// came from ("DETS.jsonl:12: field 'cpi' is missing").
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace radarpipe::io {

template <class T>
T json_field(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) throw std::runtime_error(where + ": field '" + key + "' is missing");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(where + ": field '" + key + "' has the wrong type (" + it->dump() +
                             ")");
  }
}

}  // namespace radarpipe::io
