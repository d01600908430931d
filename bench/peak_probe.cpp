// peak_probe: the machine's f32 FMA peak in GFLOP/s, for bench/compare.py's
// fraction-of-peak columns.
//
// Each thread runs an independent burst of vector FMAs on registers only:
// 12 independent accumulator chains (c = c * a + b, with a just below 1 so the
// values stay normal), enough to cover the FMA latency times the FMA ports of
// current x86 cores (4 cycles x 2 ports = 8 chains in flight), so the loop is
// bound by FMA throughput alone. A burst of n iterations does
// 12 chains x lanes x 2 flops x n. With k threads running their bursts side by
// side (started together), the peak is the sum over the threads of that over
// each thread's own CPU time (CLOCK_THREAD_CPUTIME_ID), which time slices lost
// to other processes do not inflate; "peak_gflops_wall" is k x that over the
// wall time until the last thread ends, the same on a quiet machine. Thread t is pinned to the t-th CPU the process may
// use, one per physical core first (unless --no-pin): unpinned, Linux can leave two busy threads on one CPU for whole
// seconds while another process, even a niced one, holds the other. Each (ISA, thread count) takes the best of
// --repetitions bursts of about --burst seconds: a peak, so noise from other
// processes only lowers it.
//
// ISAs: the kernels are compiled with target attributes and chosen at run time
// with __builtin_cpu_supports: AVX-512 (zmm, 16 lanes) when the CPU has
// avx512f, AVX2 + FMA (ymm, 8 lanes) when it has avx2 and fma. By default
// every supported one is measured; "peak_gflops" is the best ISA's (on cores
// that split 512-bit FMAs in two halves, e.g. AMD Zen 4, both give the same
// peak; on cores with full-width 512-bit FMA units, AVX-512 gives twice
// AVX2's). Code built without AVX-512 (seqnet built by GCC 12 uses
// -mno-avx512f) can reach at most the AVX2 figure.
//
// Read bandwidth: one pinned thread sums a buffer of 16 KB, 512 KB and 8 MB
// (in L1, L2 and L3 of current cores) over and over with 256-bit loads, the
// loads of seqnet's AVX2 kernels, 8 independent sums; the best of the
// repetitions, in GB/s ("read_gbytes_per_s", keyed by the buffer's bytes).
// It bounds the products whose weights come from a cache level each call:
// single-step inference reads all of a layer's weights once per step.
//
// Output (stdout), a JSON document:
//   {"cpu": "<model name from /proc/cpuinfo>", "cpu_id": "<vendor> family F model M",
//    "logical_cpus": N (those it may use), "isa": "avx512", "peak_gflops": {"1": ..., "2": ...},
//    "by_isa": {"avx512": {"1": ..., "2": ...}, "avx2": {...}},
//    "peak_gflops_wall": {"1": ..., "2": ...}, "scaling": {"2": 0.99},
//    "pinned_cpus": [0, 1], "chains": 12, "burst_s": 0.06, "repetitions": 3,
//    "read_gbytes_per_s": {"16384": ..., "524288": ..., "8388608": ...}}
// where scaling is the k-thread wall-time peak over k x the 1-thread one: well
// below 1 when other processes hold some cores (then a warning goes to stderr;
// the CPU-time peak stays meaningful) or k exceeds the cores.
// A one-line summary goes to stderr. A default run takes about 1 s.
//
// Examples:
//   peak_probe                    # 1 thread and all cores, every ISA
//   peak_probe --threads 1,2,4 --isa avx2

#include <immintrin.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr int kChains = 12;

// Both kernels: `iters` iterations of kChains independent FMAs; the result
// keeps the chains alive.
__attribute__((target("avx512f"))) float burst_avx512(int64_t iters) {
  const __m512 a = _mm512_set1_ps(0.99999994f);
  const __m512 b = _mm512_set1_ps(1e-7f);
  __m512 c0 = _mm512_set1_ps(0.10f), c1 = _mm512_set1_ps(0.11f), c2 = _mm512_set1_ps(0.12f);
  __m512 c3 = _mm512_set1_ps(0.13f), c4 = _mm512_set1_ps(0.14f), c5 = _mm512_set1_ps(0.15f);
  __m512 c6 = _mm512_set1_ps(0.16f), c7 = _mm512_set1_ps(0.17f), c8 = _mm512_set1_ps(0.18f);
  __m512 c9 = _mm512_set1_ps(0.19f), c10 = _mm512_set1_ps(0.20f), c11 = _mm512_set1_ps(0.21f);
  for (int64_t i = 0; i < iters; ++i) {
    c0 = _mm512_fmadd_ps(c0, a, b);
    c1 = _mm512_fmadd_ps(c1, a, b);
    c2 = _mm512_fmadd_ps(c2, a, b);
    c3 = _mm512_fmadd_ps(c3, a, b);
    c4 = _mm512_fmadd_ps(c4, a, b);
    c5 = _mm512_fmadd_ps(c5, a, b);
    c6 = _mm512_fmadd_ps(c6, a, b);
    c7 = _mm512_fmadd_ps(c7, a, b);
    c8 = _mm512_fmadd_ps(c8, a, b);
    c9 = _mm512_fmadd_ps(c9, a, b);
    c10 = _mm512_fmadd_ps(c10, a, b);
    c11 = _mm512_fmadd_ps(c11, a, b);
  }
  const __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                                               _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7))),
                                 _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
  // (Not _mm512_reduce_add_ps: GCC 12 warns about its own header there.)
  float lanes[16];
  _mm512_storeu_ps(lanes, s);
  float sum = 0.0f;
  for (float v : lanes) sum += v;
  return sum;
}

__attribute__((target("avx2,fma"))) float burst_avx2(int64_t iters) {
  const __m256 a = _mm256_set1_ps(0.99999994f);
  const __m256 b = _mm256_set1_ps(1e-7f);
  __m256 c0 = _mm256_set1_ps(0.10f), c1 = _mm256_set1_ps(0.11f), c2 = _mm256_set1_ps(0.12f);
  __m256 c3 = _mm256_set1_ps(0.13f), c4 = _mm256_set1_ps(0.14f), c5 = _mm256_set1_ps(0.15f);
  __m256 c6 = _mm256_set1_ps(0.16f), c7 = _mm256_set1_ps(0.17f), c8 = _mm256_set1_ps(0.18f);
  __m256 c9 = _mm256_set1_ps(0.19f), c10 = _mm256_set1_ps(0.20f), c11 = _mm256_set1_ps(0.21f);
  for (int64_t i = 0; i < iters; ++i) {
    c0 = _mm256_fmadd_ps(c0, a, b);
    c1 = _mm256_fmadd_ps(c1, a, b);
    c2 = _mm256_fmadd_ps(c2, a, b);
    c3 = _mm256_fmadd_ps(c3, a, b);
    c4 = _mm256_fmadd_ps(c4, a, b);
    c5 = _mm256_fmadd_ps(c5, a, b);
    c6 = _mm256_fmadd_ps(c6, a, b);
    c7 = _mm256_fmadd_ps(c7, a, b);
    c8 = _mm256_fmadd_ps(c8, a, b);
    c9 = _mm256_fmadd_ps(c9, a, b);
    c10 = _mm256_fmadd_ps(c10, a, b);
    c11 = _mm256_fmadd_ps(c11, a, b);
  }
  const __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                                               _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7))),
                                 _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  float sum = 0.0f;
  for (float v : lanes) sum += v;
  return sum;
}

struct Isa {
  const char* name;
  int lanes;
  float (*burst)(int64_t);
  bool supported;
};

std::vector<Isa> isas() {
  __builtin_cpu_init();
  return {
      {"avx512", 16, burst_avx512, static_cast<bool>(__builtin_cpu_supports("avx512f"))},
      {"avx2", 8, burst_avx2,
       static_cast<bool>(__builtin_cpu_supports("avx2")) && static_cast<bool>(__builtin_cpu_supports("fma"))},
  };
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::atomic<float> g_sink{0.0f};  // keeps the bursts' results alive

// The CPUs of a sysfs list such as "0-3,8,10-11".
std::vector<int> parse_cpu_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    const auto dash = item.find('-');
    const int lo = std::atoi(item.c_str());
    const int hi = dash == std::string::npos ? lo : std::atoi(item.c_str() + dash + 1);
    for (int c = lo; c <= hi; ++c) out.push_back(c);
  }
  return out;
}

// The CPUs this process may run on (sched_getaffinity), one per physical core
// first: each CPU's rank among its SMT siblings (sysfs
// topology/thread_siblings_list, 0 where unknown) orders them, then the CPU
// number. So k threads pinned to the first k land on k distinct cores when
// there are that many, whatever the numbering of the siblings.
std::vector<int> allowed_cpus() {
  std::vector<std::pair<int, int>> ranked;  // (sibling rank, cpu)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (!CPU_ISSET(c, &set)) continue;
      std::ifstream f("/sys/devices/system/cpu/cpu" + std::to_string(c) + "/topology/thread_siblings_list");
      std::string text;
      std::getline(f, text);
      const std::vector<int> siblings = parse_cpu_list(text);
      const auto it = std::find(siblings.begin(), siblings.end(), c);
      ranked.emplace_back(it == siblings.end() ? 0 : static_cast<int>(it - siblings.begin()), c);
    }
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<int> cpus;
  for (const auto& rc : ranked) cpus.push_back(rc.second);
  return cpus;
}

// Pins the calling thread to one CPU; false where that fails.
bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Sums `passes` passes over n floats (n a multiple of 64) with 8 chains of
// 256-bit adds: bound by the loads, not the adds' latency.
__attribute__((target("avx2"))) float read_passes(const float* buf, int64_t n, int64_t passes) {
  __m256 acc[8];
  for (auto& a : acc) a = _mm256_setzero_ps();
  for (int64_t p = 0; p < passes; ++p) {
    for (int64_t i = 0; i < n; i += 64) {
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) acc[j] = _mm256_add_ps(acc[j], _mm256_loadu_ps(buf + i + 8 * j));
    }
  }
  __m256 s = acc[0];
  for (int j = 1; j < 8; ++j) s = _mm256_add_ps(s, acc[j]);
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  return lanes[0] + lanes[7];
}

// GB/s reading a buffer of `bytes` on this thread: the best of `repetitions`
// runs of about `seconds` each.
double read_bandwidth(int64_t bytes, double seconds, int repetitions) {
  const int64_t n = bytes / 4 / 64 * 64;
  std::vector<float> buf(static_cast<size_t>(n), 1e-3f);
  int64_t passes = 1;
  for (;;) {  // calibrate
    const double t0 = now_seconds();
    g_sink.store(read_passes(buf.data(), n, passes), std::memory_order_relaxed);
    const double dt = now_seconds() - t0;
    if (dt > 0.005 || passes > (int64_t{1} << 40)) {
      passes = std::max<int64_t>(1, static_cast<int64_t>(passes * seconds / dt));
      break;
    }
    passes *= 4;
  }
  double best = 0.0;
  for (int r = 0; r < repetitions; ++r) {
    const double t0 = now_seconds();
    g_sink.store(read_passes(buf.data(), n, passes), std::memory_order_relaxed);
    const double dt = now_seconds() - t0;
    best = std::max(best, static_cast<double>(n) * 4.0 * static_cast<double>(passes) / dt * 1e-9);
  }
  return best;
}

struct Rate {
  double wall = 0.0;  // GFLOP/s: all threads' FLOPs over the wall time until the last ends
  double cpu = 0.0;   // GFLOP/s: the sum of each thread's FLOPs over its own CPU time
};

// The rates of `threads` threads running `iters`-iteration bursts together;
// thread t pinned to cpus[t % size] when `cpus` is not empty.
Rate run_bursts(const Isa& isa, int threads, int64_t iters, const std::vector<int>& cpus) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> end(threads), cpu(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      if (!cpus.empty()) pin_to(cpus[t % cpus.size()]);
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      const double c0 = thread_cpu_seconds();
      const float r = isa.burst(iters);
      end[t] = now_seconds();
      cpu[t] = thread_cpu_seconds() - c0;
      g_sink.store(r, std::memory_order_relaxed);
    });
  }
  while (ready.load() < threads) {
  }
  const double start = now_seconds();
  go.store(true, std::memory_order_release);
  for (std::thread& th : pool) th.join();
  const double wall = *std::max_element(end.begin(), end.end()) - start;
  const double per_thread = static_cast<double>(iters) * kChains * isa.lanes * 2.0;
  Rate rate;
  rate.wall = threads * per_thread / wall * 1e-9;
  for (int t = 0; t < threads; ++t) rate.cpu += per_thread / std::max(cpu[t], 1e-9) * 1e-9;
  return rate;
}

// Iterations for a burst of about `seconds` on one thread.
int64_t calibrate(const Isa& isa, double seconds) {
  int64_t iters = 1 << 16;
  for (;;) {
    const double t0 = now_seconds();
    g_sink.store(isa.burst(iters), std::memory_order_relaxed);
    const double dt = now_seconds() - t0;
    if (dt > 0.01 || iters > (int64_t{1} << 40))
      return std::max<int64_t>(1, static_cast<int64_t>(iters * seconds / dt));
    iters *= 4;
  }
}

std::string cpuinfo_field(const std::string& key) {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string k = line.substr(0, colon);
    while (!k.empty() && (k.back() == ' ' || k.back() == '\t')) k.pop_back();
    if (k != key) continue;
    std::string v = line.substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.erase(v.begin());
    return v;
  }
  return "";
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (static_cast<unsigned char>(ch) >= 0x20) out += ch;
  }
  return out + "\"";
}

[[noreturn]] void usage(int rc) {
  std::fprintf(rc == 0 ? stdout : stderr,
               "usage: peak_probe [--threads LIST] [--isa all|best|avx512|avx2] [--burst S] [--repetitions R]\n"
               "                  [--no-pin]\n"
               "Measures the f32 FMA peak (GFLOP/s) for each thread count; JSON on stdout.\n"
               "  --threads LIST   comma-separated thread counts (default: 1 and all usable logical CPUs)\n"
               "  --isa WHICH      all supported ISAs (default), the best one only, or one by name\n"
               "  --burst S        seconds per burst (default 0.06)\n"
               "  --repetitions R  bursts per measurement, the best counts (default 3)\n"
               "  --no-pin         leave the threads unpinned (default: thread t on the t-th allowed CPU)\n");
  std::exit(rc);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<int> usable = allowed_cpus();
  const int ncpu = usable.empty() ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))
                                  : static_cast<int>(usable.size());
  std::vector<int> thread_counts = {1};
  if (ncpu > 1) thread_counts.push_back(ncpu);
  std::string which = "all";
  double burst = 0.06;
  int repetitions = 3;
  bool pin = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], val;
    const auto eq = a.find('=');
    const bool has_val = a.rfind("--", 0) == 0 && eq != std::string::npos;
    if (has_val) {
      val = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    auto value = [&]() -> std::string {
      if (has_val) return val;
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--threads") {
      thread_counts.clear();
      std::stringstream ss(value());
      std::string item;
      while (std::getline(ss, item, ','))
        if (!item.empty()) thread_counts.push_back(std::max(1, std::atoi(item.c_str())));
      if (thread_counts.empty()) usage(2);
    } else if (a == "--isa") {
      which = value();
    } else if (a == "--burst") {
      burst = std::atof(value().c_str());
    } else if (a == "--repetitions") {
      repetitions = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--no-pin") {
      pin = false;
    } else if (a == "--help" || a == "-h") {
      usage(0);
    } else {
      std::fprintf(stderr, "peak_probe: unknown argument '%s'\n", argv[i]);
      usage(2);
    }
  }
  std::sort(thread_counts.begin(), thread_counts.end());
  thread_counts.erase(std::unique(thread_counts.begin(), thread_counts.end()), thread_counts.end());

  std::vector<Isa> todo;
  for (const Isa& isa : isas()) {
    if (!isa.supported) continue;
    if (which == "all" || which == isa.name || (which == "best" && todo.empty())) todo.push_back(isa);
  }
  if (todo.empty()) {
    std::fprintf(stderr, "peak_probe: no usable ISA for --isa %s (needs avx512f, or avx2 and fma)\n", which.c_str());
    return 1;
  }

  // Pinning: the scheduler may leave two busy threads on one CPU for whole
  // seconds when another process holds the other CPU, which is no peak.
  const std::vector<int> cpus = pin ? usable : std::vector<int>{};
  std::map<std::string, std::map<int, double>> by_isa, by_isa_wall;
  for (const Isa& isa : todo) {
    const int64_t iters = calibrate(isa, burst);
    for (int threads : thread_counts) {
      Rate best;
      for (int r = 0; r < repetitions; ++r) {
        const Rate rate = run_bursts(isa, threads, iters, cpus);
        best.wall = std::max(best.wall, rate.wall);
        best.cpu = std::max(best.cpu, rate.cpu);
      }
      by_isa[isa.name][threads] = best.cpu;
      by_isa_wall[isa.name][threads] = best.wall;
    }
  }

  // Read bandwidth by cache level (AVX2 loads; every x86-64 CPU with AVX2).
  std::map<int, double> read_gbps;
  if (__builtin_cpu_supports("avx2")) {
    if (!cpus.empty()) pin_to(cpus.front());
    for (const int64_t bytes : {int64_t{16} << 10, int64_t{512} << 10, int64_t{8} << 20})
      read_gbps[static_cast<int>(bytes)] = read_bandwidth(bytes, burst, repetitions);
  }

  const std::string cpu = cpuinfo_field("model name");
  const std::string cpu_id =
      cpuinfo_field("vendor_id") + " family " + cpuinfo_field("cpu family") + " model " + cpuinfo_field("model");
  auto counts_json = [](const std::map<int, double>& m, const char* fmt = "%.1f") {
    std::string s = "{";
    for (const auto& [k, v] : m) {
      char num[32];
      std::snprintf(num, sizeof num, fmt, v);
      s += (s.size() > 1 ? ", \"" : "\"") + std::to_string(k) + "\": " + num;
    }
    return s + "}";
  };
  std::string pinned_json = "[";  // the CPUs of threads 0, 1, ... (empty: unpinned)
  for (size_t t = 0; t < cpus.size() && t < static_cast<size_t>(thread_counts.back()); ++t)
    pinned_json += (t ? ", " : "") + std::to_string(cpus[t]);
  pinned_json += "]";
  const std::string best = todo.front().name;  // isas() lists the widest first
  std::string by = "{";
  for (const Isa& isa : todo)
    by += (by.size() > 1 ? ", " : "") + json_string(isa.name) + ": " + counts_json(by_isa[isa.name]);
  by += "}";
  // Scaling: the wall-time peak at k threads over k x the 1-thread one (best
  // ISA); well below 1 when the threads did not get a core each.
  std::map<int, double> scaling;
  const std::map<int, double>& top = by_isa_wall[best];
  if (top.count(1) && top.at(1) > 0)
    for (const auto& [k, v] : top)
      if (k > 1) scaling[k] = v / (k * top.at(1));
  std::printf(
      "{\"cpu\": %s, \"cpu_id\": %s, \"logical_cpus\": %d, \"isa\": %s, \"peak_gflops\": %s, \"by_isa\": %s, "
      "\"peak_gflops_wall\": %s, \"scaling\": %s, \"pinned_cpus\": %s, \"chains\": %d, \"burst_s\": %g, "
      "\"repetitions\": %d, \"read_gbytes_per_s\": %s}\n",
      json_string(cpu).c_str(), json_string(cpu_id).c_str(), ncpu, json_string(best).c_str(),
      counts_json(by_isa[best]).c_str(), by.c_str(), counts_json(by_isa_wall[best]).c_str(),
      counts_json(scaling, "%.2f").c_str(), pinned_json.c_str(), kChains, burst, repetitions,
      counts_json(read_gbps).c_str());
  std::fprintf(stderr, "peak_probe: %s (%s):", cpu.c_str(), cpu_id.c_str());
  for (const Isa& isa : todo) {
    std::fprintf(stderr, " %s", isa.name);
    for (const auto& [k, v] : by_isa[isa.name])
      std::fprintf(stderr, " %d thr %.1f (wall %.1f)", k, v, by_isa_wall[isa.name][k]);
    std::fprintf(stderr, " GFLOP/s;");
  }
  for (const auto& [bytes, v] : read_gbps) std::fprintf(stderr, " read %d KB %.1f GB/s;", bytes >> 10, v);
  std::fprintf(stderr, "\n");
  for (const auto& [k, v] : scaling)
    if (v < 0.8)
      std::fprintf(stderr,
                   "peak_probe: %d threads reached only %.0f%% of %d x the 1-thread peak: other processes are "
                   "using the cores (or %d exceeds the cores); its wall-time figures are not a peak\n",
                   k, 100 * v, k, k);
  return 0;
}
