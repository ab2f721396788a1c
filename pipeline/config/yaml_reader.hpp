// The YAML reading helpers shared by the mode and scenario loaders: typed scalars, key sets
// with "did you mean" suggestions, and the file:line:col of every key path for error messages.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "core/mode.hpp"
#include "pipeline/config/mode_file.hpp"

namespace radarpipe::config {

inline std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& msg) {
    mark(key, at);
    throw ConfigError(key, msg);
  }

  // Remembers where each key path is, so that errors raised later by Mode::validate() can be
  // located too.
  void mark(const std::string& key, const YAML::Node& n) {
    if (n.Mark().line >= 0) marks_[key] = n.Mark();
  }
  std::string where(std::string key) const {
    for (;;) {
      auto it = marks_.find(key);
      if (it != marks_.end())
        return source_ + ":" + std::to_string(it->second.line + 1) + ":" +
               std::to_string(it->second.column + 1) + ": ";
      const auto dot = key.rfind('.');
      if (dot == std::string::npos) return source_ + ": ";
      key.resize(dot);
    }
  }

  // A mapping whose keys must all be in `allowed`.
  void expect_map(const YAML::Node& n, const std::string& key,
                  std::initializer_list<const char*> allowed) {
    if (!n.IsMap()) fail(n, key, "expected a mapping, got " + describe(n));
    std::vector<std::string> names(allowed.begin(), allowed.end());
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>();
      if (std::find(names.begin(), names.end(), k) != names.end()) continue;
      std::string best;
      std::size_t best_d = 1000;
      for (const std::string& c : names) {
        const std::size_t d = edit_distance(k, c);
        if (d < best_d) best_d = d, best = c;
      }
      const std::string path = key.empty() ? k : key + "." + k;
      mark(path, kv.first);
      std::string msg = "unknown key";
      if (best_d <= std::max<std::size_t>(2, k.size() / 3)) msg += "; did you mean '" + best + "'?";
      msg += " (valid keys: " + join(names) + ")";
      throw ConfigError(path, msg);
    }
  }

  YAML::Node child(const YAML::Node& n, const std::string& key, const char* name, bool required) {
    const std::string path = key.empty() ? name : key + "." + name;
    YAML::Node c = n[name];
    if (!c) {
      if (required) throw ConfigError(path, "required key is missing");
      return c;
    }
    mark(path, c);
    return c;
  }

  double number(const YAML::Node& n, const std::string& key) {
    if (!n.IsScalar()) fail(n, key, "expected a number, got " + describe(n));
    const std::string s = n.Scalar();
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') fail(n, key, "'" + s + "' is not a number");
    return v;
  }

  std::size_t count(const YAML::Node& n, const std::string& key) {
    if (!n.IsScalar()) fail(n, key, "expected a whole number, got " + describe(n));
    const std::string s = n.Scalar();
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v) || v < 0 || v != std::floor(v) || v > 9.0e15)
      fail(n, key, "'" + s + "' is not a whole number >= 0");
    return static_cast<std::size_t>(v);
  }

  std::string word(const YAML::Node& n, const std::string& key,
                   std::initializer_list<const char*> allowed) {
    if (!n.IsScalar())
      fail(n, key,
           "expected one of " + join({allowed.begin(), allowed.end()}) + ", got " + describe(n));
    const std::string s = n.Scalar();
    for (const char* a : allowed)
      if (s == a) return s;
    fail(n, key, "'" + s + "' is not one of " + join({allowed.begin(), allowed.end()}));
  }

  static std::string describe(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Null:
        return "nothing";
      case YAML::NodeType::Scalar:
        return "'" + n.Scalar() + "'";
      default:
        return "an undefined value";
    }
  }

 private:
  std::string source_;
  std::map<std::string, YAML::Mark> marks_;
};

/// Parses YAML text, then reads it with `read` (which may throw ConfigError for a key path) and
/// returns its result; every error is located as "SOURCE:LINE:COL: key: message".
template <class Fn>
auto parse_yaml_with(const std::string& text, const std::string& source, Fn read) {
  Reader rd(source);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError("", source + ":" + std::to_string(e.mark.line + 1) + ":" +
                              std::to_string(e.mark.column + 1) + ": not valid YAML: " + e.msg);
  }
  try {
    return read(rd, root);
  } catch (const ConfigError& e) {
    throw e.located(rd.where(e.key()));
  } catch (const YAML::Exception& e) {
    throw ConfigError("", source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

}  // namespace radarpipe::config
