// magpie-topo: what the runtime would see and do on this machine (or on a described one): the
// topology summary, the worker -> PU plan for a pinning policy, and each worker's victim rings,
// near to far. See docs/topology.md.
//
// Usage: magpie-topo [--synthetic DESC] [--pin compact|scatter|none] [--workers N]
//                    [--cpus 0,2,4] [--json]
// Exit codes: 0 done, 1 hwloc failed, 2 bad arguments.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "topology.hpp"

namespace {

using magpie::pinning;
using magpie::detail::steal_distance;
using magpie::detail::topology;
using magpie::detail::victim_rings;

constexpr std::size_t max_workers = 4096;  // the runtime's limit (config.workers)

struct options {
  std::string synthetic;
  pinning pin = pinning::compact;
  std::size_t workers = 0;  // 0: as the runtime does, one per cpus entry or per allowed PU
  std::vector<unsigned> cpus;
  bool json = false;
};

constexpr const char* usage_text =
    "usage: magpie-topo [--synthetic DESC] [--pin compact|scatter|none] [--workers N]\n"
    "                   [--cpus 0,2,4] [--json]\n";

constexpr const char* help_text =
    "Prints what a Magpie runtime would see and do on this machine: the topology summary, the\n"
    "worker -> PU plan for a pinning policy, and each worker's victim rings, near to far.\n"
    "Options:\n"
    "  --synthetic DESC  describe another machine instead of this one: hwloc synthetic text\n"
    "                    (\"package:2 numa:2 l3:4 core:8 pu:2\"), hwloc XML text, or the path\n"
    "                    of an hwloc XML file (ending in .xml)\n"
    "  --pin POLICY      compact (default: workers on consecutive PUs in topology order),\n"
    "                    scatter (across packages, then NUMA nodes, then cores) or none\n"
    "  --workers N       worker count (default: one per --cpus entry, else per allowed PU)\n"
    "  --cpus LIST       comma-separated PU numbers the workers may use (config.cpus)\n"
    "  --json            the same report as one JSON object\n"
    "  -h, --help        this text\n"
    "Exit status: 0 done, 1 hwloc failed, 2 bad arguments.\n";

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "magpie-topo: %s\n%s", why.c_str(), usage_text);
  std::exit(2);
}

// A whole decimal number no greater than `limit`, or usage().
unsigned long number(const std::string& text, const std::string& what, unsigned long limit) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
      text.size() > 9 || std::stoul(text) > limit) {
    usage("bad value '" + text + "' for " + what + " (a number from 0 to " + std::to_string(limit) +
          ")");
  }
  return std::stoul(text);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s%s", usage_text, help_text);
      std::exit(0);
    }
    if (a == "--json") {
      o.json = true;
      continue;
    }
    if (a != "--synthetic" && a != "--pin" && a != "--workers" && a != "--cpus")
      usage("unknown option '" + a + "'");
    if (i + 1 >= argc) usage("missing value after " + a);
    const std::string v = argv[++i];
    if (a == "--synthetic") {
      if (v.empty()) usage("--synthetic needs a description");
      o.synthetic = v;
    } else if (a == "--pin") {
      if (v == "compact") {
        o.pin = pinning::compact;
      } else if (v == "scatter") {
        o.pin = pinning::scatter;
      } else if (v == "none") {
        o.pin = pinning::none;
      } else {
        usage("bad value '" + v + "' for --pin (compact, scatter or none)");
      }
    } else if (a == "--workers") {
      o.workers = number(v, "--workers", max_workers);
    } else {
      o.cpus.clear();
      for (std::size_t b = 0; b <= v.size();) {
        const std::size_t e = std::min(v.find(',', b), v.size());
        o.cpus.push_back(static_cast<unsigned>(number(v.substr(b, e - b), "--cpus", 1u << 20)));
        b = e + 1;
      }
    }
  }
  return o;
}

const char* pin_name(pinning p) {
  switch (p) {
    case pinning::compact:
      return "compact";
    case pinning::scatter:
      return "scatter";
    case pinning::none:
      return "none";
  }
  return "?";
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

template <class T>
std::string json_list(const std::vector<T>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i != 0) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "]";
}

// "0-3,8,10-11": consecutive runs folded, for the text report.
template <class T>
std::string ranges(const std::vector<T>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1)
      ++j;
    if (!s.empty()) s += ',';
    s += std::to_string(v[i]);
    if (j > i) {
      s += j == i + 1 ? ',' : '-';
      s += std::to_string(v[j]);
    }
    i = j + 1;
  }
  return s;
}

void print_json(const options& o, const topology& t, const std::vector<int>& plan,
                const victim_rings& r) {
  const auto n = t.counts();
  std::printf(
      "{\n  \"topology\": {\"description\": %s, \"synthetic\": %s, \"packages\": %zu, "
      "\"numa_nodes\": %zu, \"l3_caches\": %zu, \"cores\": %zu, \"pus\": %zu, "
      "\"allowed_pus\": %s},\n",
      json_string(o.synthetic).c_str(), t.is_synthetic() ? "true" : "false", n.packages,
      n.numa_nodes, n.l3_caches, n.cores, n.pus, json_list(t.allowed_pus()).c_str());
  std::printf("  \"plan\": {\"pin\": \"%s\", \"cpus\": %s, \"workers\": %zu},\n", pin_name(o.pin),
              json_list(o.cpus).c_str(), plan.size());
  std::printf("  \"workers\": [");
  for (std::size_t w = 0; w < r.workers(); ++w) {
    const auto& p = r.where(w);
    std::printf(
        "%s\n    {\"worker\": %zu, \"pu\": %d, \"core\": %d, \"l3\": %d, \"numa\": %d, "
        "\"package\": %d, \"rings\": [",
        w == 0 ? "" : ",", w, p.pu, p.core, p.l3, p.numa, p.package);
    const auto lists = r.lists(w);
    for (std::size_t k = 0; k < lists.size(); ++k) {
      const steal_distance d = r.ring(w, k).distance();
      std::printf("%s{\"distance\": \"%s\", \"near\": %s, \"victims\": %s}", k == 0 ? "" : ", ",
                  to_string(d), is_near(d) ? "true" : "false", json_list(lists[k]).c_str());
    }
    std::printf("]}");
  }
  std::printf("\n  ]\n}\n");
}

void print_text(const options& o, const topology& t, const std::vector<int>& plan,
                const victim_rings& r) {
  const auto n = t.counts();
  if (t.is_synthetic() && o.synthetic.front() == '<') {
    std::printf("topology: described by XML text\n");
  } else if (t.is_synthetic() && o.synthetic.empty()) {
    std::printf("topology: described by %s\n", t.source());
  } else if (t.is_synthetic()) {
    std::printf("topology: described by \"%s\"\n", o.synthetic.c_str());
  } else {
    std::printf("topology: this machine\n");
  }
  std::printf("  packages %zu, NUMA nodes %zu, L3 caches %zu, cores %zu, PUs %zu\n", n.packages,
              n.numa_nodes, n.l3_caches, n.cores, n.pus);
  std::printf("  allowed PUs (%zu): %s\n", t.allowed_pus().size(), ranges(t.allowed_pus()).c_str());
  if (o.cpus.empty()) {
    std::printf("plan: %zu workers, pin %s\n", plan.size(), pin_name(o.pin));
  } else {
    std::printf("plan: %zu workers on cpus %s\n", plan.size(), ranges(o.cpus).c_str());
  }
  std::printf("worker    pu  core    l3  numa  pkg  victim rings, near to far\n");
  const auto field = [](int x) { return x < 0 ? std::string("-") : std::to_string(x); };
  for (std::size_t w = 0; w < r.workers(); ++w) {
    const auto& p = r.where(w);
    std::string rings;
    const auto lists = r.lists(w);
    for (std::size_t k = 0; k < lists.size(); ++k) {
      if (k != 0) rings += " | ";
      rings += to_string(r.ring(w, k).distance());
      rings += ": " + ranges(lists[k]);
    }
    std::printf("%6zu %5s %5s %5s %5s %4s  %s\n", w, field(p.pu).c_str(), field(p.core).c_str(),
                field(p.l3).c_str(), field(p.numa).c_str(), field(p.package).c_str(),
                rings.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  try {
    const topology t(o.synthetic);
    std::size_t workers = o.workers;
    if (workers == 0) workers = o.cpus.empty() ? t.allowed_pus().size() : o.cpus.size();
    const auto plan = t.plan(o.pin, workers, o.cpus);
    const auto rings = t.rings(plan);
    if (o.json) {
      print_json(o, t, plan, rings);
    } else {
      print_text(o, t, plan, rings);
    }
  } catch (const std::invalid_argument& e) {
    usage(e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "magpie-topo: %s\n", e.what());
    return 1;
  }
}
