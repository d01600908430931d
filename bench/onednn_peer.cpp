// onednn_peer: the oneDNN peer of seqnet_bench: the same recurrent workloads
// timed with oneDNN's RNN primitives (bench/compare.py prints them beside
// seqnet and PyTorch).
//
// Workloads are named like seqnet_bench's benchmarks, <cell>/<mode>/<B>x<T>x<I>x<H>:
//   LSTM      lstm_forward / lstm_backward (gates i, f, c~, o; no peephole,
//             no projection)
//   GRU       lbr_gru_forward / lbr_gru_backward: the "linear before reset"
//             GRU, i.e. Keras's GRU with reset_after = true, PyTorch's GRU
//   train     one training step: forward (prop_kind forward_training, which
//             fills the workspace), the diff weights and diff bias zeroed
//             (oneDNN's backward accumulates into them, as seqnet's and
//             PyTorch's do, hence their zero_grad), then backward with a fixed
//             random gradient of the whole output sequence (return_sequences
//             = true: diff_dst_layer is (T, B, H); no gradient into the final
//             states); it computes diff_src_layer (the input gradient),
//             diff_weights_layer, diff_weights_iter and diff_bias
//   infer     forward only, prop_kind forward_inference, no workspace
// All: one layer, unidirectional left to right, f32, with bias.
//
// Zero initial states are passed explicitly, as src_iter (and src_iter_c)
// memories filled with zeros: with them absent, oneDNN 2.6.3's LSTM backward
// returns a wrong diff_weights_iter (the self-check below catches it). The
// backward then also returns the gradient of the initial states
// (diff_src_iter), as seqnet's does: one B x GH x H product per sequence.
//
// Data: weights and bias from U(-1/sqrt(H), 1/sqrt(H)) (PyTorch's
// initialization; large uniform weights would saturate the gates), inputs and
// output gradients from U(-1, 1). The weights live in plain ldigo / ldgo
// buffers that are reordered once, outside the timed loop, to the layouts the
// primitives choose (format_tag::any); the backward primitive wants other
// weights layouts than the forward one (ldgoi-like), so they are reordered to
// those once as well. The timed loop is thus the reorder-free steady state. In
// real training the weights change after each step and those reorders are
// part of the step: --weights-reorder times them in every iteration.
// src_layer / dst_layer use --layout: tnc (default, oneDNN's time-major
// layout) or ntc (the batch-major layout of seqnet's and PyTorch's
// batch_first inputs, which seqnet transposes itself).
//
// Timing: each workload is warmed up (at least 2 iterations and a quarter of
// --min-time), then timed in --repetitions runs; each run times single
// iterations until it has at least --min-iterations of them and --min-time
// seconds. real_time_s is the median wall-clock time of one iteration over all
// timed iterations; runs_s the median of each run; cpu_time_s the CPU time of
// the whole process (all threads, spinning OpenMP workers included) per
// iteration, averaged over the timed iterations.
//
// Threads: oneDNN (Debian's build) runs on OpenMP; --threads N calls
// omp_set_num_threads(N) before any primitive is created. Without --threads,
// OMP_NUM_THREADS applies when set, else all cores. The threads are not pinned
// unless the environment says so (OMP_PROC_BIND=true, read when libgomp
// loads): on a machine where other processes hold some cores, unpinned
// spin-waiting threads can share one CPU and multi-thread times explode.
//
// Before timing, a self-check runs a tiny LSTM and a tiny GRU (B 2, T 3, I 3,
// H 4) through the same set-up and compares oneDNN's forward outputs
// (inference and training) with a direct double-precision loop (max abs diff
// < 1e-5), and its diff_src_layer, diff_weights_layer, diff_weights_iter and
// diff_bias with central finite differences of that loop's loss
// sum(dst * diff_dst) (< 1e-4). It guards against wrong gate layouts or
// arguments; a failure exits with status 1.
//
// Output (stdout), a JSON document:
//   {"peer": "oneDNN 2.6.3", "version": {...}, "cpu_isa": "avx512_core...",
//    "threads": N, "layout": "tnc", "min_time_s": S, "min_iterations": K,
//    "repetitions": R, "weights_reorder_timed": false,
//    "check": {"ok": true, "backward_accumulates_diff_weights": true,
//              "cases": [{"name": ..., "max_abs_diff": ..., "tolerance": ..., "ok": ...}, ...]},
//    "results": [{"name": "LSTM/train/64x100x256x256", "cell": "LSTM",
//                 "mode": "train", "B": .., "T": .., "I": .., "H": ..,
//                 "real_time_s": ..., "cpu_time_s": ..., "runs_s": [...],
//                 "iterations": ..., "mean_s": ..., "min_s": ...,
//                 "fwd_impl": "ref", "bwd_impl": "ref" (null for infer),
//                 "fwd_weights_layout": "ldigo", "bwd_weights_layout": "ldgoi",
//                 "bwd_weights_reordered": true, "weight_reorders": 2}, ...]}
// ("ref" is the name of oneDNN's RNN driver; its GEMMs are JIT-compiled.)
// The version, the check and the progress go to stderr.
//
// Examples:
//   onednn_peer --threads 1
//   onednn_peer --threads 2 --filter 'LSTM/train' --min-time 0.5
//   onednn_peer --list
//   onednn_peer --check-only

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

enum class Cell { LSTM, GRU };
enum class Mode { Train, Infer };

struct Shape {
  int64_t B, T, I, H;
};

// Keep in sync with recurrent_bench.cpp and torch_peer.py.
constexpr Shape kShapes[] = {
    {32, 4, 10, 16}, {21, 5, 100, 150}, {128, 500, 32, 32}, {64, 100, 256, 256}, {64, 50, 512, 512},
};
constexpr Shape kSingleSteps[] = {{1, 1, 128, 128}, {1, 1, 512, 512}};

struct Workload {
  Cell cell;
  Mode mode;
  Shape s;
  std::string name;
};

const char* cell_name(Cell c) { return c == Cell::LSTM ? "LSTM" : "GRU"; }
const char* mode_name(Mode m) { return m == Mode::Train ? "train" : "infer"; }

std::string workload_name(Cell c, Mode m, const Shape& s) {
  return std::string(cell_name(c)) + "/" + mode_name(m) + "/" + std::to_string(s.B) + "x" + std::to_string(s.T) + "x" +
         std::to_string(s.I) + "x" + std::to_string(s.H);
}

// seqnet_bench's order: train shapes, then the single step and the shapes as
// inference.
std::vector<Workload> all_workloads() {
  std::vector<Workload> out;
  for (Cell c : {Cell::LSTM, Cell::GRU})
    for (const Shape& s : kShapes) out.push_back({c, Mode::Train, s, workload_name(c, Mode::Train, s)});
  for (Cell c : {Cell::LSTM, Cell::GRU}) {
    for (const Shape& s : kSingleSteps) out.push_back({c, Mode::Infer, s, workload_name(c, Mode::Infer, s)});
    for (const Shape& s : kShapes) out.push_back({c, Mode::Infer, s, workload_name(c, Mode::Infer, s)});
  }
  return out;
}

int gates_of(Cell c) { return c == Cell::LSTM ? 4 : 3; }
// Bias rows: one per gate for the LSTM; the LBR GRU has one more than its 3
// gates, the recurrent bias of the candidate, applied before the reset gate
// multiplies (Keras's recurrent bias of h~ with reset_after = true).
int bias_gates_of(Cell c) { return c == Cell::LSTM ? 4 : 3 + 1; }

// ldigo, ldgoi, ldgo, "rnn_packed" or "blocked, strides ..." (e.g. padded) for
// an RNN weights descriptor.
std::string layout_name(const memory::desc& md) {
  if (md.data.format_kind == dnnl_format_kind_rnn_packed) return "rnn_packed";
  const memory::dims dims = md.dims();
  for (auto [t, name] : {std::pair{tag::ldigo, "ldigo"}, std::pair{tag::ldgoi, "ldgoi"}, std::pair{tag::ldgo, "ldgo"}})
    if (dims.size() == (t == tag::ldgo ? 4u : 5u) && md == memory::desc(dims, dt::f32, t)) return name;
  std::string out = "blocked, strides";
  for (int i = 0; i < md.data.ndims; ++i) out += " " + std::to_string(md.data.format_desc.blocking.strides[i]);
  return out;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void fill_uniform(std::vector<float>& v, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  for (float& x : v) x = d(rng);
}

void write_to(const dnnl::memory& m, const std::vector<float>& v) {
  std::memcpy(m.get_data_handle(), v.data(), v.size() * sizeof(float));
}

std::vector<float> read_from(const dnnl::memory& m) {
  std::vector<float> v(m.get_desc().get_size() / sizeof(float));
  std::memcpy(v.data(), m.get_data_handle(), v.size() * sizeof(float));
  return v;
}

// One layer's primitives and memories, set up as described at the top.
// Plain (user) layouts: x, dst, dy in `io_tag` (tnc or ntc), weights ldigo,
// bias ldgo.
struct Rnn {
  Cell cell;
  Mode mode;
  Shape s;
  dnnl::engine eng;
  dnnl::stream strm;

  // User data (plain layouts).
  std::vector<float> x, wl, wi, bias, dy;

  dnnl::memory src_m, dst_m, diff_dst_m, diff_src_m;
  dnnl::memory wl_user_m, wi_user_m, bias_user_m;
  dnnl::memory wl_fwd_m, wi_fwd_m, bias_fwd_m;  // in the forward primitive's layouts
  dnnl::memory wl_bwd_m, wi_bwd_m, bias_bwd_m;  // in the backward primitive's layouts
  dnnl::memory dwl_m, dwi_m, dbias_m, ws_m;
  dnnl::memory h0_m, c0_m, dh0_m, dc0_m;  // zero initial states, their gradients
  dnnl::primitive fwd, bwd;
  std::string fwd_impl, bwd_impl;
  std::string fwd_weights_layout, bwd_weights_layout;  // of weights_iter (weights_layer alike)
  bool bwd_weights_reordered = false;
  // The reorders from the plain weights and bias into the primitives' layouts
  // (those that are not copies), for --weights-reorder.
  struct Reorder {
    dnnl::reorder prim;
    dnnl::memory from, to;
  };
  std::vector<Reorder> weight_reorders;
  bool reorder_each_step = false;

  Rnn(Cell c, Mode m, Shape shape, tag io_tag, uint32_t seed) : cell(c), mode(m), s(shape) {
    eng = dnnl::engine(dnnl::engine::kind::cpu, 0);
    strm = dnnl::stream(eng);
    const int G = gates_of(c);
    const int Gb = bias_gates_of(c);
    const memory::dims src_dims = {s.T, s.B, s.I};
    const memory::dims dst_dims = {s.T, s.B, s.H};
    const memory::dims wl_dims = {1, 1, s.I, G, s.H};
    const memory::dims wi_dims = {1, 1, s.H, G, s.H};
    const memory::dims b_dims = {1, 1, Gb, s.H};

    std::mt19937 rng(seed);
    x.resize(static_cast<size_t>(s.T * s.B * s.I));
    dy.resize(static_cast<size_t>(s.T * s.B * s.H));
    wl.resize(static_cast<size_t>(s.I * G * s.H));
    wi.resize(static_cast<size_t>(s.H * G * s.H));
    bias.resize(static_cast<size_t>(Gb * s.H));
    const float k = 1.0f / std::sqrt(static_cast<float>(s.H));
    fill_uniform(x, rng, -1.0f, 1.0f);
    fill_uniform(wl, rng, -k, k);
    fill_uniform(wi, rng, -k, k);
    fill_uniform(bias, rng, -k, k);
    fill_uniform(dy, rng, -1.0f, 1.0f);

    const memory::desc src_md(src_dims, dt::f32, io_tag);
    const memory::desc dst_md(dst_dims, dt::f32, io_tag);
    const memory::desc wl_any(wl_dims, dt::f32, tag::any);
    const memory::desc wi_any(wi_dims, dt::f32, tag::any);
    const memory::desc b_any(b_dims, dt::f32, tag::any);
    const memory::desc none;  // zero md: absent (no final states, no gradient into them)
    // Explicit zero initial states: with src_iter absent, oneDNN 2.6.3's LSTM
    // backward returns a wrong diff_weights_iter (the self-check catches it).
    // The backward then also returns diff_src_iter(_c): one B x GH x H
    // product per sequence, negligible.
    const memory::desc iter_md({1, 1, s.B, s.H}, dt::f32, tag::ldnc);
    for (dnnl::memory* mm : {&h0_m, &c0_m, &dh0_m, &dc0_m}) {
      *mm = dnnl::memory(iter_md, eng);
      std::memset(mm->get_data_handle(), 0, iter_md.get_size());
    }

    wl_user_m = dnnl::memory({wl_dims, dt::f32, tag::ldigo}, eng);
    wi_user_m = dnnl::memory({wi_dims, dt::f32, tag::ldigo}, eng);
    bias_user_m = dnnl::memory({b_dims, dt::f32, tag::ldgo}, eng);
    write_to(wl_user_m, wl);
    write_to(wi_user_m, wi);
    write_to(bias_user_m, bias);
    src_m = dnnl::memory(src_md, eng);
    write_to(src_m, x);
    dst_m = dnnl::memory(dst_md, eng);

    const auto prop = m == Mode::Train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    const auto dir = dnnl::rnn_direction::unidirectional_left2right;
    dnnl::rnn_primitive_desc_base fwd_pd, bwd_pd;
    if (c == Cell::LSTM) {
      dnnl::lstm_forward::desc d(prop, dir, src_md, iter_md, iter_md, wl_any, wi_any, b_any, dst_md, none, none);
      dnnl::lstm_forward::primitive_desc pd(d, eng);
      fwd = dnnl::lstm_forward(pd);
      fwd_pd = pd;
      if (m == Mode::Train) {
        dnnl::lstm_backward::desc bd(dnnl::prop_kind::backward, dir, src_md, iter_md, iter_md, wl_any, wi_any, b_any,
                                     dst_md, none, none, src_md, iter_md, iter_md, wl_any, wi_any, b_any, dst_md, none,
                                     none);
        dnnl::lstm_backward::primitive_desc bpd(bd, eng, pd);
        bwd = dnnl::lstm_backward(bpd);
        bwd_pd = bpd;
      }
    } else {
      dnnl::lbr_gru_forward::desc d(prop, dir, src_md, iter_md, wl_any, wi_any, b_any, dst_md, none);
      dnnl::lbr_gru_forward::primitive_desc pd(d, eng);
      fwd = dnnl::lbr_gru_forward(pd);
      fwd_pd = pd;
      if (m == Mode::Train) {
        dnnl::lbr_gru_backward::desc bd(dnnl::prop_kind::backward, dir, src_md, iter_md, wl_any, wi_any, b_any, dst_md,
                                        none, src_md, iter_md, wl_any, wi_any, b_any, dst_md, none);
        dnnl::lbr_gru_backward::primitive_desc bpd(bd, eng, pd);
        bwd = dnnl::lbr_gru_backward(bpd);
        bwd_pd = bpd;
      }
    }
    fwd_impl = fwd_pd.impl_info_str();

    auto reordered = [&](dnnl::memory from, const memory::desc& want) {
      if (from.get_desc() == want) return from;
      dnnl::memory to(want, eng);
      dnnl::reorder prim(from, to);
      prim.execute(strm, from, to);
      weight_reorders.push_back({prim, from, to});
      return to;
    };
    wl_fwd_m = reordered(wl_user_m, fwd_pd.weights_layer_desc());
    wi_fwd_m = reordered(wi_user_m, fwd_pd.weights_iter_desc());
    bias_fwd_m = reordered(bias_user_m, fwd_pd.bias_desc());
    fwd_weights_layout = layout_name(fwd_pd.weights_iter_desc());
    if (m == Mode::Train) {
      ws_m = dnnl::memory(fwd_pd.workspace_desc(), eng);
      bwd_impl = bwd_pd.impl_info_str();
      bwd_weights_reordered = !(bwd_pd.weights_layer_desc() == fwd_pd.weights_layer_desc()) ||
                              !(bwd_pd.weights_iter_desc() == fwd_pd.weights_iter_desc());
      wl_bwd_m = reordered(wl_user_m, bwd_pd.weights_layer_desc());
      wi_bwd_m = reordered(wi_user_m, bwd_pd.weights_iter_desc());
      bias_bwd_m = reordered(bias_user_m, bwd_pd.bias_desc());
      bwd_weights_layout = layout_name(bwd_pd.weights_iter_desc());
      dwl_m = dnnl::memory(bwd_pd.diff_weights_layer_desc(), eng);
      dwi_m = dnnl::memory(bwd_pd.diff_weights_iter_desc(), eng);
      dbias_m = dnnl::memory(bwd_pd.diff_bias_desc(), eng);
      diff_src_m = dnnl::memory(src_md, eng);
      diff_dst_m = dnnl::memory(dst_md, eng);
      write_to(diff_dst_m, dy);
      zero_diff_weights();
    }
    strm.wait();
  }

  void zero_diff_weights() {
    for (dnnl::memory* mm : {&dwl_m, &dwi_m, &dbias_m})
      std::memset(mm->get_data_handle(), 0, mm->get_desc().get_size());
  }

  void forward() {
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC_LAYER, src_m},       {DNNL_ARG_SRC_ITER, h0_m},   {DNNL_ARG_WEIGHTS_LAYER, wl_fwd_m},
        {DNNL_ARG_WEIGHTS_ITER, wi_fwd_m}, {DNNL_ARG_BIAS, bias_fwd_m}, {DNNL_ARG_DST_LAYER, dst_m},
    };
    if (cell == Cell::LSTM) args[DNNL_ARG_SRC_ITER_C] = c0_m;
    if (mode == Mode::Train) args[DNNL_ARG_WORKSPACE] = ws_m;
    fwd.execute(strm, args);
  }

  void backward(bool zero_first = true) {
    if (zero_first) zero_diff_weights();
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC_LAYER, src_m},           {DNNL_ARG_SRC_ITER, h0_m},
        {DNNL_ARG_WEIGHTS_LAYER, wl_bwd_m},    {DNNL_ARG_WEIGHTS_ITER, wi_bwd_m},
        {DNNL_ARG_BIAS, bias_bwd_m},           {DNNL_ARG_DST_LAYER, dst_m},
        {DNNL_ARG_DIFF_DST_LAYER, diff_dst_m}, {DNNL_ARG_WORKSPACE, ws_m},
        {DNNL_ARG_DIFF_SRC_LAYER, diff_src_m}, {DNNL_ARG_DIFF_WEIGHTS_LAYER, dwl_m},
        {DNNL_ARG_DIFF_WEIGHTS_ITER, dwi_m},   {DNNL_ARG_DIFF_BIAS, dbias_m},
        {DNNL_ARG_DIFF_SRC_ITER, dh0_m}};
    if (cell == Cell::LSTM) {
      args[DNNL_ARG_SRC_ITER_C] = c0_m;
      args[DNNL_ARG_DIFF_SRC_ITER_C] = dc0_m;
    }
    bwd.execute(strm, args);
  }

  // One timed iteration (with --weights-reorder, the weights are brought into
  // the primitives' layouts first, as after an update of the plain weights).
  void step() {
    if (reorder_each_step)
      for (Reorder& r : weight_reorders) r.prim.execute(strm, r.from, r.to);
    forward();
    if (mode == Mode::Train) backward();
    strm.wait();
  }

  // A memory in the plain layout `want` holding `m` (for the check).
  std::vector<float> plain(dnnl::memory m, const memory::desc& want) {
    if (m.get_desc() == want) return read_from(m);
    dnnl::memory to(want, eng);
    dnnl::reorder(m, to).execute(strm, m, to);
    strm.wait();
    return read_from(to);
  }
};

// ---------------------------------------------------------------------------
// The self-check: a direct double-precision loop in the user layouts.

// x in tnc: x[(t*B + n)*I + i]; weights ldigo: w[(i*G + g)*H + o]; bias ldgo.
// Returns h for every step, tnc.
std::vector<double> reference_forward(Cell cell, const Shape& s, const std::vector<double>& x,
                                      const std::vector<double>& wl, const std::vector<double>& wi,
                                      const std::vector<double>& b) {
  const int64_t B = s.B, T = s.T, I = s.I, H = s.H;
  const int64_t G = gates_of(cell);
  auto sigm = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  std::vector<double> h(B * H, 0.0), c(B * H, 0.0), out(T * B * H);
  std::vector<double> gx(G * H), gh(G * H);
  for (int64_t t = 0; t < T; ++t) {
    std::vector<double> hn(B * H);
    for (int64_t n = 0; n < B; ++n) {
      std::fill(gx.begin(), gx.end(), 0.0);
      std::fill(gh.begin(), gh.end(), 0.0);
      for (int64_t i = 0; i < I; ++i)
        for (int64_t go = 0; go < G * H; ++go) gx[go] += x[(t * B + n) * I + i] * wl[i * G * H + go];
      for (int64_t j = 0; j < H; ++j)
        for (int64_t go = 0; go < G * H; ++go) gh[go] += h[n * H + j] * wi[j * G * H + go];
      for (int64_t o = 0; o < H; ++o) {
        if (cell == Cell::LSTM) {
          const double ig = sigm(gx[0 * H + o] + gh[0 * H + o] + b[0 * H + o]);
          const double fg = sigm(gx[1 * H + o] + gh[1 * H + o] + b[1 * H + o]);
          const double cc = std::tanh(gx[2 * H + o] + gh[2 * H + o] + b[2 * H + o]);
          const double og = sigm(gx[3 * H + o] + gh[3 * H + o] + b[3 * H + o]);
          c[n * H + o] = fg * c[n * H + o] + ig * cc;
          hn[n * H + o] = og * std::tanh(c[n * H + o]);
        } else {
          // Gates u (update), r (reset), o (candidate); bias row 3 is the
          // recurrent candidate bias, inside the reset product.
          const double u = sigm(gx[0 * H + o] + gh[0 * H + o] + b[0 * H + o]);
          const double r = sigm(gx[1 * H + o] + gh[1 * H + o] + b[1 * H + o]);
          const double cand = std::tanh(gx[2 * H + o] + b[2 * H + o] + r * (gh[2 * H + o] + b[3 * H + o]));
          hn[n * H + o] = u * h[n * H + o] + (1.0 - u) * cand;
        }
      }
    }
    h = hn;
    std::copy(h.begin(), h.end(), out.begin() + t * B * H);
  }
  return out;
}

struct CheckCase {
  std::string name;
  double max_abs_diff;
  double tolerance;
  bool ok() const { return max_abs_diff < tolerance; }
};

std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
  double m = a.size() == b.size() ? 0.0 : INFINITY;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  return m;
}

std::vector<CheckCase> self_check(bool* accumulates) {
  std::vector<CheckCase> cases;
  const Shape s = {2, 3, 3, 4};  // B, T, I, H
  for (Cell cell : {Cell::LSTM, Cell::GRU}) {
    const std::string cn = cell_name(cell);
    // Forward inference.
    {
      Rnn r(cell, Mode::Infer, s, tag::tnc, 7);
      r.forward();
      r.strm.wait();
      const auto ref = reference_forward(cell, s, to_double(r.x), to_double(r.wl), to_double(r.wi), to_double(r.bias));
      cases.push_back({cn + " forward_inference dst_layer", max_abs_diff(read_from(r.dst_m), ref), 1e-5});
    }
    // Training: forward_training output, then diff_src_layer and
    // diff_weights_iter against central differences of the loss
    // sum(dst * diff_dst) of the reference loop.
    Rnn r(cell, Mode::Train, s, tag::tnc, 7);
    r.forward();
    r.backward();
    r.strm.wait();
    const auto xd = to_double(r.x), wld = to_double(r.wl), wid = to_double(r.wi), bd = to_double(r.bias);
    const auto dyd = to_double(r.dy);
    const auto ref = reference_forward(cell, s, xd, wld, wid, bd);
    cases.push_back({cn + " forward_training dst_layer", max_abs_diff(read_from(r.dst_m), ref), 1e-5});
    // The loss of the reference loop with one of its four inputs replaced.
    auto loss = [&](int which, const std::vector<double>& v) {
      const auto h = reference_forward(cell, s, which == 0 ? v : xd, which == 1 ? v : wld, which == 2 ? v : wid,
                                       which == 3 ? v : bd);
      double l = 0.0;
      for (size_t i = 0; i < h.size(); ++i) l += h[i] * dyd[i];
      return l;
    };
    auto numeric_grad = [&](int which, const std::vector<double>& at) {
      const double eps = 1e-5;
      std::vector<double> g(at.size());
      for (size_t i = 0; i < at.size(); ++i) {
        auto p = at, m = at;
        p[i] += eps;
        m[i] -= eps;
        g[i] = (loss(which, p) - loss(which, m)) / (2 * eps);
      }
      return g;
    };
    const int G = gates_of(cell);
    const memory::desc wl_plain({1, 1, s.I, G, s.H}, dt::f32, tag::ldigo);
    const memory::desc wi_plain({1, 1, s.H, G, s.H}, dt::f32, tag::ldigo);
    const memory::desc b_plain({1, 1, bias_gates_of(cell), s.H}, dt::f32, tag::ldgo);
    const auto dwi = r.plain(r.dwi_m, wi_plain);
    cases.push_back(
        {cn + " backward diff_src_layer", max_abs_diff(read_from(r.diff_src_m), numeric_grad(0, xd)), 1e-4});
    cases.push_back(
        {cn + " backward diff_weights_layer", max_abs_diff(r.plain(r.dwl_m, wl_plain), numeric_grad(1, wld)), 1e-4});
    cases.push_back({cn + " backward diff_weights_iter", max_abs_diff(dwi, numeric_grad(2, wid)), 1e-4});
    cases.push_back({cn + " backward diff_bias", max_abs_diff(r.plain(r.dbias_m, b_plain), numeric_grad(3, bd)), 1e-4});
    // Does a second backward without zeroing add to the diff weights?
    if (cell == Cell::LSTM) {
      r.backward(/*zero_first=*/false);
      r.strm.wait();
      const auto dwi2 = r.plain(r.dwi_m, wi_plain);
      double d = 0.0;
      for (size_t i = 0; i < dwi.size(); ++i) d = std::max(d, std::abs(dwi2[i] - 2.0 * dwi[i]));
      *accumulates = d < 1e-5;
    }
  }
  return cases;
}

// ---------------------------------------------------------------------------

struct Options {
  int threads = 0;
  std::string filter;
  double min_time = 0.3;
  int min_iterations = 5;
  int repetitions = 1;
  tag io_tag = tag::tnc;
  bool list = false;
  bool check = true;
  bool check_only = false;
  bool weights_reorder = false;
};

[[noreturn]] void usage(int rc) {
  std::fprintf(rc == 0 ? stdout : stderr,
               "usage: onednn_peer [--threads N] [--filter REGEX] [--min-time S] [--min-iterations K]\n"
               "                   [--repetitions R] [--layout tnc|ntc] [--weights-reorder] [--list] [--no-check]\n"
               "                   [--check-only]\n"
               "Times seqnet_bench's LSTM/GRU workloads with oneDNN's RNN primitives; JSON on stdout.\n"
               "  --threads N         OpenMP threads (omp_set_num_threads); default OMP_NUM_THREADS, else all cores\n"
               "  --filter REGEX      workloads whose name matches (std::regex search); default all\n"
               "  --min-time S        minimum seconds per timed run (default 0.3)\n"
               "  --min-iterations K  minimum timed iterations per run (default 5)\n"
               "  --repetitions R     timed runs per workload (default 1)\n"
               "  --layout L          src/dst layout: tnc (default) or ntc (batch-major, as seqnet's inputs)\n"
               "  --weights-reorder   also time the reorders of the plain weights into the primitives' layouts\n"
               "                      in every iteration (as after a weight update); default: once, untimed\n"
               "  --list              print the workload names and exit\n"
               "  --no-check          skip the correctness self-check\n"
               "  --check-only        run the self-check only\n");
  std::exit(rc);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string val;
    bool has_val = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      val = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_val = true;
    }
    auto value = [&]() -> std::string {
      if (has_val) return val;
      if (i + 1 >= argc) {
        std::fprintf(stderr, "onednn_peer: %s needs a value\n", a.c_str());
        usage(2);
      }
      return argv[++i];
    };
    if (a == "--threads") {
      o.threads = std::atoi(value().c_str());
      if (o.threads <= 0) usage(2);
    } else if (a == "--filter") {
      o.filter = value();
    } else if (a == "--min-time") {
      o.min_time = std::atof(value().c_str());
    } else if (a == "--min-iterations") {
      o.min_iterations = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--repetitions") {
      o.repetitions = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--layout") {
      const std::string l = value();
      if (l == "tnc")
        o.io_tag = tag::tnc;
      else if (l == "ntc")
        o.io_tag = tag::ntc;
      else
        usage(2);
    } else if (a == "--list") {
      o.list = true;
    } else if (a == "--no-check") {
      o.check = false;
    } else if (a == "--check-only") {
      o.check_only = true;
    } else if (a == "--weights-reorder") {
      o.weights_reorder = true;
    } else if (a == "--help" || a == "-h") {
      usage(0);
    } else {
      std::fprintf(stderr, "onednn_peer: unknown argument '%s'\n", argv[i]);
      usage(2);
    }
  }
  return o;
}

const char* isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41:
      return "sse41";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic:
      return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops:
      return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "other";
  }
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", ch);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  std::vector<Workload> todo;
  try {
    const std::regex re(opt.filter);
    for (const Workload& w : all_workloads())
      if (std::regex_search(w.name, re)) todo.push_back(w);
  } catch (const std::regex_error& e) {
    std::fprintf(stderr, "onednn_peer: bad --filter '%s': %s\n", opt.filter.c_str(), e.what());
    return 2;
  }
  if (opt.list) {
    for (const Workload& w : todo) std::printf("%s\n", w.name.c_str());
    return 0;
  }
  if (opt.threads > 0) {
    omp_set_num_threads(opt.threads);
  } else if (std::getenv("OMP_NUM_THREADS") == nullptr) {
    omp_set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  }
  const int threads = omp_get_max_threads();

  const dnnl::version_t* ver = dnnl::version();
  char peer[64];
  std::snprintf(peer, sizeof peer, "oneDNN %d.%d.%d", ver->major, ver->minor, ver->patch);
  const char* isa = isa_name(dnnl::get_effective_cpu_isa());
  std::fprintf(stderr, "%s (hash %s, cpu runtime %s), effective ISA %s, %d threads\n", peer, ver->hash,
               ver->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other", isa, threads);

  std::string check_json = "null";
  bool check_ok = true;
  if (opt.check || opt.check_only) {
    bool accumulates = false;
    std::vector<CheckCase> cases;
    try {
      cases = self_check(&accumulates);
    } catch (const dnnl::error& e) {
      std::fprintf(stderr, "onednn_peer: self-check: oneDNN error: %s\n", e.what());
      return 1;
    }
    check_json = "{\"cases\": [";
    for (size_t i = 0; i < cases.size(); ++i) {
      const CheckCase& c = cases[i];
      check_ok = check_ok && c.ok();
      std::fprintf(stderr, "check %-36s max abs diff %.2e (< %.0e) %s\n", c.name.c_str(), c.max_abs_diff, c.tolerance,
                   c.ok() ? "ok" : "FAILED");
      check_json += std::string(i ? ", " : "") + "{\"name\": " + json_string(c.name) +
                    ", \"max_abs_diff\": " + json_number(c.max_abs_diff) +
                    ", \"tolerance\": " + json_number(c.tolerance) + ", \"ok\": " + (c.ok() ? "true" : "false") + "}";
    }
    std::fprintf(stderr, "check: the backward %s the diff weights (the timed step zeroes them first)\n",
                 accumulates ? "accumulates into" : "overwrites");
    check_json += std::string("], \"backward_accumulates_diff_weights\": ") + (accumulates ? "true" : "false") +
                  ", \"ok\": " + (check_ok ? "true" : "false") + "}";
    if (!check_ok) std::fprintf(stderr, "onednn_peer: SELF-CHECK FAILED; timings would be meaningless\n");
    if (opt.check_only || !check_ok) {
      std::printf("{\"peer\": %s, \"check\": %s}\n", json_string(peer).c_str(), check_json.c_str());
      return check_ok ? 0 : 1;
    }
  }

  std::fprintf(stderr, "%-34s %14s %10s\n", "workload", "median", "iterations");
  std::string results;
  for (const Workload& w : todo) {
    try {
      Rnn r(w.cell, w.mode, w.s, opt.io_tag, 1234);
      r.reorder_each_step = opt.weights_reorder;
      // Warm-up: at least 2 iterations and a quarter of a run.
      const double w0 = now_seconds();
      for (int n = 0; n < 2 || now_seconds() - w0 < opt.min_time / 4; ++n) r.step();
      std::vector<double> all, runs;
      const double c0 = process_cpu_seconds();
      for (int rep = 0; rep < opt.repetitions; ++rep) {
        std::vector<double> times;
        const double r0 = now_seconds();
        while (static_cast<int>(times.size()) < opt.min_iterations || now_seconds() - r0 < opt.min_time) {
          const double t0 = now_seconds();
          r.step();
          times.push_back(now_seconds() - t0);
        }
        runs.push_back(median(times));
        all.insert(all.end(), times.begin(), times.end());
      }
      const double cpu = (process_cpu_seconds() - c0) / static_cast<double>(all.size());
      double sum = 0.0;
      for (double t : all) sum += t;
      const double med = median(all);
      std::fprintf(stderr, "%-34s %11.1f us %10zu\n", w.name.c_str(), med * 1e6, all.size());
      std::string runs_json;
      for (size_t i = 0; i < runs.size(); ++i) runs_json += (i ? ", " : "") + json_number(runs[i]);
      results += std::string(results.empty() ? "" : ",\n  ") + "{\"name\": " + json_string(w.name) +
                 ", \"cell\": " + json_string(cell_name(w.cell)) + ", \"mode\": " + json_string(mode_name(w.mode)) +
                 ", \"B\": " + std::to_string(w.s.B) + ", \"T\": " + std::to_string(w.s.T) +
                 ", \"I\": " + std::to_string(w.s.I) + ", \"H\": " + std::to_string(w.s.H) +
                 ", \"real_time_s\": " + json_number(med) + ", \"cpu_time_s\": " + json_number(cpu) +
                 ", \"runs_s\": [" + runs_json + "], \"iterations\": " + std::to_string(all.size()) +
                 ", \"mean_s\": " + json_number(sum / static_cast<double>(all.size())) +
                 ", \"min_s\": " + json_number(*std::min_element(all.begin(), all.end())) +
                 ", \"fwd_impl\": " + json_string(r.fwd_impl) +
                 ", \"bwd_impl\": " + (w.mode == Mode::Train ? json_string(r.bwd_impl) : std::string("null")) +
                 ", \"fwd_weights_layout\": " + json_string(r.fwd_weights_layout) + ", \"bwd_weights_layout\": " +
                 (w.mode == Mode::Train ? json_string(r.bwd_weights_layout) : std::string("null")) +
                 ", \"bwd_weights_reordered\": " + (r.bwd_weights_reordered ? "true" : "false") +
                 ", \"weight_reorders\": " + std::to_string(r.weight_reorders.size()) + "}";
    } catch (const dnnl::error& e) {
      std::fprintf(stderr, "onednn_peer: %s: oneDNN error: %s (status %d)\n", w.name.c_str(), e.what(),
                   static_cast<int>(e.status));
      return 1;
    }
  }
  std::printf(
      "{\"peer\": %s,\n \"version\": {\"major\": %d, \"minor\": %d, \"patch\": %d, \"hash\": %s},\n"
      " \"cpu_isa\": %s, \"threads\": %d, \"layout\": %s, \"min_time_s\": %s, \"min_iterations\": %d,"
      " \"repetitions\": %d, \"weights_reorder_timed\": %s,\n \"check\": %s,\n \"results\": [\n  %s]}\n",
      json_string(peer).c_str(), ver->major, ver->minor, ver->patch, json_string(ver->hash).c_str(),
      json_string(isa).c_str(), threads, json_string(opt.io_tag == tag::tnc ? "tnc" : "ntc").c_str(),
      json_number(opt.min_time).c_str(), opt.min_iterations, opt.repetitions, opt.weights_reorder ? "true" : "false",
      check_json.c_str(), results.c_str());
  return 0;
}
