#include "support/gradcheck.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <seqnet/random.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace seqnet::testing {

Tensor random_tensor(const Shape& shape, uint64_t seed, float lo, float hi) {
  Generator g(seed);
  Tensor t(shape);
  for (float& v : t) v = g.uniform(lo, hi);
  return t;
}

Tensor random_away_from_zero(const Shape& shape, uint64_t seed, float lo, float hi) {
  Generator g(seed);
  Tensor t(shape);
  for (float& v : t) {
    const float m = g.uniform(lo, hi);
    v = g.uniform() < 0.5f ? -m : m;
  }
  return t;
}

namespace {

struct Evaluator {
  Layer& layer;
  const CallArgs& args;
  std::vector<Tensor> projections;
  std::vector<int> outputs;
  uint64_t seed;

  double loss(const std::vector<Tensor>& inputs) {
    set_seed(seed);
    auto cache = layer.make_cache();
    std::vector<Tensor> out = layer.forward(inputs, args, cache.get());
    double l = 0;
    for (int k : outputs) {
      const Tensor& o = out.at(k);
      const Tensor& p = projections[k];
      for (int64_t i = 0; i < o.size(); ++i) l += static_cast<double>(o[i]) * p[i];
    }
    return l;
  }
};

bool close(double a, double n, double rtol, double atol, double& ratio) {
  const double tol = atol + rtol * std::abs(n);
  ratio = std::abs(a - n) / tol;
  return std::abs(a - n) <= tol;
}

bool same_values(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

double expect_gradients_match(Layer& layer, const std::vector<Tensor>& inputs_in, const CallArgs& args,
                              const GradCheckOptions& options) {
  // Work on copies so the caller's tensors are untouched.
  std::vector<Tensor> inputs;
  for (const auto& t : inputs_in) inputs.push_back(t.clone());

  // Build first: weight initialization draws from the global generator, and
  // the analytic pass must draw the same dropout masks as every later one.
  if (!layer.built()) {
    std::vector<Shape> shapes;
    for (const auto& t : inputs) shapes.push_back(t.shape());
    layer.compute_output_shapes(shapes);
  }

  // Analytic pass.
  set_seed(options.seed);
  auto cache = layer.make_cache();
  CallArgs train_args = args;
  train_args.training = true;
  std::vector<Tensor> out = layer.forward(inputs, train_args, cache.get());
  EXPECT_EQ(static_cast<int>(out.size()), layer.num_outputs()) << layer.describe();
  std::vector<int> outputs = options.outputs;
  if (outputs.empty())
    for (int k = 0; k < static_cast<int>(out.size()); ++k) outputs.push_back(k);
  std::vector<Tensor> proj(out.size());
  std::vector<Tensor> dout(out.size());
  for (int k : outputs) {
    proj[k] = random_tensor(out.at(k).shape(), 777 + k);
    dout[k] = proj[k].clone();
  }
  // backward() adds into the weight gradients: start them from known values.
  std::vector<std::pair<std::string, Param*>> ps;
  layer.visit_params([&](const std::string& path, Param& p) { ps.emplace_back(path, &p); });
  layer.zero_grad();
  std::vector<Tensor> prefill;
  for (size_t i = 0; i < ps.size(); ++i) {
    for (float v : ps[i].second->grad) EXPECT_EQ(v, 0.0f) << "zero_grad() left " << ps[i].first << " nonzero";
    prefill.push_back(random_tensor(ps[i].second->grad.shape(), 4242 + i));
    ps[i].second->grad.copy_from(prefill.back());
  }
  std::vector<Tensor> din = layer.backward(dout, *cache);
  EXPECT_EQ(din.size(), inputs.size()) << layer.describe() << ": backward must return one gradient per input";
  for (int k : outputs) {
    EXPECT_TRUE(same_values(dout[k], proj[k])) << layer.describe() << ": backward modified output gradient " << k;
  }
  for (size_t k = 0; k < inputs.size(); ++k) {
    EXPECT_TRUE(same_values(inputs[k], inputs_in[k])) << layer.describe() << ": forward/backward modified input " << k;
  }
  std::vector<Tensor> analytic_w;
  for (size_t i = 0; i < ps.size(); ++i) {
    Tensor g = ps[i].second->grad.clone();
    for (int64_t j = 0; j < g.size(); ++j) g[j] -= prefill[i][j];
    analytic_w.push_back(g);
  }

  Evaluator ev{layer, train_args, proj, outputs, options.seed};
  // The numeric passes must reproduce the analytic pass's outputs exactly
  // (same masks, no hidden state).
  {
    set_seed(options.seed);
    auto c2 = layer.make_cache();
    std::vector<Tensor> again = layer.forward(inputs, train_args, c2.get());
    for (int k : outputs) {
      EXPECT_TRUE(same_values(again.at(k), out.at(k)))
          << layer.describe() << ": output " << k << " differs between two identical training forwards";
    }
  }
  double worst = 0;
  int failures = 0;
  auto check = [&](const std::string& what, float* x, int64_t n, const float* analytic) {
    for (int64_t i = 0; i < n; ++i) {
      const float saved = x[i];
      x[i] = saved + static_cast<float>(options.eps);
      const double lp = ev.loss(inputs);
      x[i] = saved - static_cast<float>(options.eps);
      const double lm = ev.loss(inputs);
      x[i] = saved;
      const double h = (static_cast<double>(saved + static_cast<float>(options.eps)) -
                        static_cast<double>(saved - static_cast<float>(options.eps)));
      const double numeric = (lp - lm) / h;
      double ratio = 0;
      if (!close(analytic[i], numeric, options.rtol, options.atol, ratio) && failures < 20) {
        ++failures;
        ADD_FAILURE() << layer.describe() << ": gradient of " << what << "[" << i << "]: analytic " << analytic[i]
                      << " vs numeric " << numeric;
      }
      worst = std::max(worst, ratio);
    }
  };

  std::vector<int> which = options.inputs;
  if (which.empty())
    for (int k = 0; k < static_cast<int>(inputs.size()); ++k)
      if (k < static_cast<int>(din.size()) && !din[k].empty()) which.push_back(k);
  for (int k : which) {
    EXPECT_FALSE(din.at(k).empty()) << "input " << k << " has no gradient";
    if (din.at(k).empty()) continue;
    EXPECT_EQ(din[k].shape(), inputs[k].shape());
    if (din[k].shape() != inputs[k].shape()) continue;
    check(fmt::format("input {}", k), inputs[k].data(), inputs[k].size(), din[k].data());
  }
  if (options.check_weights) {
    for (size_t i = 0; i < ps.size(); ++i) {
      check(ps[i].first, ps[i].second->value.data(), ps[i].second->value.size(), analytic_w[i].data());
    }
  }
  return worst;
}

double expect_regularization_gradients_match(Layer& layer, double eps, double rtol, double atol) {
  EXPECT_TRUE(layer.built()) << layer.describe() << " must be built";
  // Independent penalty.
  double want = 0;
  layer.visit_params([&](const std::string&, Param& p) {
    for (float v : p.value) want += p.regularizer.l1 * std::abs(static_cast<double>(v)) +
                                    p.regularizer.l2 * static_cast<double>(v) * v;
  });
  const double got = layer.regularization_penalty();
  EXPECT_NEAR(got, want, 1e-6 * (1.0 + std::abs(want))) << layer.describe() << ": regularization_penalty()";

  // Analytic gradient: add_regularization_gradients() into zeroed grads.
  layer.zero_grad();
  layer.add_regularization_gradients();
  int failures = 0;
  layer.visit_params([&](const std::string& path, Param& p) {
    const Tensor analytic = p.grad.clone();
    for (int64_t i = 0; i < p.value.size(); ++i) {
      const float saved = p.value[i];
      if (p.regularizer.l1 != 0.0f && std::abs(saved) <= eps) continue;  // l1 kink
      p.value[i] = saved + static_cast<float>(eps);
      const double lp = layer.regularization_penalty();
      p.value[i] = saved - static_cast<float>(eps);
      const double lm = layer.regularization_penalty();
      p.value[i] = saved;
      const double h = static_cast<double>(saved + static_cast<float>(eps)) -
                       static_cast<double>(saved - static_cast<float>(eps));
      const double numeric = (lp - lm) / h;
      double ratio = 0;
      if (!close(analytic[i], numeric, rtol, atol, ratio) && failures < 20) {
        ++failures;
        ADD_FAILURE() << layer.describe() << ": regularization gradient of " << path << "[" << i << "]: analytic "
                      << analytic[i] << " vs numeric " << numeric;
      }
    }
  });
  layer.zero_grad();
  return got;
}

Param& param_at(Layer& layer, const std::string& path) {
  Param* found = nullptr;
  layer.visit_params([&](const std::string& p, Param& w) {
    if (p == path) found = &w;
  });
  if (found == nullptr) {
    ADD_FAILURE() << layer.describe() << " has no weight " << path;
    throw std::runtime_error("no weight " + path);
  }
  return *found;
}

std::vector<std::pair<std::string, Shape>> param_shapes(Layer& layer) {
  std::vector<std::pair<std::string, Shape>> out;
  layer.visit_params([&](const std::string& p, Param& w) { out.emplace_back(p, w.value.shape()); });
  return out;
}

void copy_params(Layer& from, Layer& to, const std::string& from_prefix, const std::string& to_prefix) {
  std::vector<std::pair<std::string, Param*>> a, b;
  from.visit_params([&](const std::string& p, Param& w) {
    if (p.rfind(from_prefix, 0) == 0) a.emplace_back(p.substr(from_prefix.size()), &w);
  });
  to.visit_params([&](const std::string& p, Param& w) {
    if (p.rfind(to_prefix, 0) == 0) b.emplace_back(p.substr(to_prefix.size()), &w);
  });
  ASSERT_EQ(a.size(), b.size()) << "copy_params: " << from.describe() << " -> " << to.describe();
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].first, b[i].first);
    ASSERT_EQ(a[i].second->value.shape(), b[i].second->value.shape()) << a[i].first;
    b[i].second->value.copy_from(a[i].second->value);
  }
}

void randomize_params(Layer& layer, uint64_t seed, float lo, float hi) {
  Generator g(seed);
  layer.visit_params([&](const std::string&, Param& p) {
    for (float& v : p.value) v = g.uniform(lo, hi);
  });
}

void expect_near(const Tensor& got, const Tensor& want, double tol, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what << ": shape " << shape_str(got.shape()) << " vs "
                                       << shape_str(want.shape());
  double worst = 0;
  int64_t at = 0;
  for (int64_t i = 0; i < got.size(); ++i) {
    const double d = std::abs(static_cast<double>(got[i]) - want[i]);
    if (!(d <= worst)) {  // also catches NaN
      worst = d;
      at = i;
    }
  }
  EXPECT_LE(worst, tol) << what << ": worst element " << at << ": got " << (got.size() ? got[at] : 0.0f)
                        << ", want " << (want.size() ? want[at] : 0.0f);
}

double ref_activation(std::string_view name, double x) {
  constexpr double kAlpha = 1.6732632423543772848170429916717;
  constexpr double kScale = 1.0507009873554804934193349852946;
  if (name == "linear" || name.empty()) return x;
  if (name == "tanh") return std::tanh(x);
  if (name == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
  if (name == "hard_sigmoid") return std::clamp(0.2 * x + 0.5, 0.0, 1.0);
  if (name == "keras3_hard_sigmoid") return std::clamp(x + 3.0, 0.0, 6.0) / 6.0;
  if (name == "relu") return std::max(x, 0.0);
  if (name == "elu") return x > 0 ? x : std::expm1(x);
  if (name == "selu") return x > 0 ? kScale * x : kScale * kAlpha * std::expm1(x);
  if (name == "softplus") return std::log1p(std::exp(-std::abs(x))) + std::max(x, 0.0);
  if (name == "softsign") return x / (1.0 + std::abs(x));
  ADD_FAILURE() << "ref_activation: no reference for " << name;
  return 0;
}

double kink_distance(std::string_view name, double x) {
  if (name == "relu" || name == "selu") return std::abs(x);
  if (name == "hard_sigmoid") return std::min(std::abs(x - 2.5), std::abs(x + 2.5));
  if (name == "keras3_hard_sigmoid") return std::min(std::abs(x - 3.0), std::abs(x + 3.0));
  return std::numeric_limits<double>::infinity();
}

Tensor post_padding_mask(const std::vector<int64_t>& lengths, int64_t T) {
  Tensor m({static_cast<int64_t>(lengths.size()), T});
  for (size_t b = 0; b < lengths.size(); ++b)
    for (int64_t t = 0; t < lengths[b]; ++t) m.at(static_cast<int64_t>(b), t) = 1.0f;
  return m;
}

void expect_mask_matches_unpadded(Layer& layer, const Tensor& x, const std::vector<int64_t>& lengths,
                                  const MaskCheckOptions& options) {
  ASSERT_EQ(x.rank(), 3);
  const int64_t B = x.dim(0), T = x.dim(1), F = x.dim(2);
  ASSERT_EQ(static_cast<int64_t>(lengths.size()), B);
  if (!layer.built()) layer.compute_output_shapes({x.shape()});

  // Padded batch with a mask.
  CallArgs args;
  args.training = true;
  args.mask = post_padding_mask(lengths, T);
  auto cache = layer.make_cache();
  const std::vector<Tensor> out = layer.forward({x}, args, cache.get());
  // Output gradients: random on real steps, zero on padded steps.
  std::vector<Tensor> dout;
  for (size_t k = 0; k < out.size(); ++k) {
    Tensor d = random_tensor(out[k].shape(), 99 + k);
    if (out[k].rank() == 3) {
      const int64_t H = out[k].dim(2);
      for (int64_t b = 0; b < B; ++b) {
        const int64_t pad = T - lengths[b];
        for (int64_t t = 0; t < T; ++t) {
          const bool real = options.aligned_at_end ? t >= pad : t < lengths[b];
          if (!real) std::fill_n(d.data() + (b * T + t) * H, H, 0.0f);
        }
      }
    }
    dout.push_back(d);
  }
  layer.zero_grad();
  const std::vector<Tensor> din = layer.backward(dout, *cache);
  std::vector<std::pair<std::string, Tensor>> batch_grads;
  layer.visit_params([&](const std::string& p, Param& w) { batch_grads.emplace_back(p, w.grad.clone()); });

  // Each sequence alone.
  layer.zero_grad();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t L = lengths[b];
    Tensor xb({1, L, F});
    std::copy_n(x.data() + b * T * F, L * F, xb.data());
    CallArgs a1;
    a1.training = true;
    auto c1 = layer.make_cache();
    const std::vector<Tensor> ob = layer.forward({xb}, a1, c1.get());
    ASSERT_EQ(ob.size(), out.size());
    std::vector<Tensor> db;
    for (size_t k = 0; k < out.size(); ++k) {
      const std::string what = fmt::format("{}: output {} of sequence {}", layer.describe(), k, b);
      if (out[k].rank() == 3) {
        const int64_t H = out[k].dim(2);
        const int64_t off = options.aligned_at_end ? T - L : 0;
        Tensor got({1, L, H});
        Tensor d({1, L, H});
        for (int64_t t = 0; t < L; ++t) {
          std::copy_n(out[k].data() + (b * T + off + t) * H, H, got.data() + t * H);
          std::copy_n(dout[k].data() + (b * T + off + t) * H, H, d.data() + t * H);
        }
        expect_near(got, ob[k], options.tol, what);
        db.push_back(d);
      } else {
        const int64_t n = out[k].size() / B;
        Tensor got(ob[k].shape());
        Tensor d(ob[k].shape());
        std::copy_n(out[k].data() + b * n, n, got.data());
        std::copy_n(dout[k].data() + b * n, n, d.data());
        expect_near(got, ob[k], options.tol, what);
        db.push_back(d);
      }
    }
    const std::vector<Tensor> dib = layer.backward(db, *c1);
    // Input gradient: equal on real steps, zero on padded ones.
    Tensor got({1, L, F});
    std::copy_n(din[0].data() + b * T * F, L * F, got.data());
    expect_near(got, dib[0], options.tol, fmt::format("{}: input gradient of sequence {}", layer.describe(), b));
    for (int64_t i = L * F; i < T * F; ++i) {
      EXPECT_EQ(din[0][b * T * F + i], 0.0f) << layer.describe() << ": gradient on a padded step of sequence " << b;
    }
  }
  size_t i = 0;
  layer.visit_params([&](const std::string& p, Param& w) {
    expect_near(batch_grads[i].second, w.grad, options.tol * 10,
                fmt::format("{}: weight gradient {} (batch vs sum of sequences)", layer.describe(), p));
    ++i;
  });
  layer.zero_grad();
}

void check_throw_impl(const std::function<void()>& fn, const std::function<bool(const std::exception&)>& is_e,
                      const char* e_name, std::initializer_list<std::string_view> parts, const char* text,
                      const char* file, int line) {
  try {
    fn();
  } catch (const std::exception& e) {
    if (!is_e(e)) {
      ADD_FAILURE_AT(file, line) << text << " threw the wrong exception type (wanted " << e_name
                                 << "): " << e.what();
      return;
    }
    const std::string msg = e.what();
    for (std::string_view part : parts) {
      if (msg.find(part) == std::string::npos) {
        ADD_FAILURE_AT(file, line) << text << ": message \"" << msg << "\" does not contain \"" << part << "\"";
      }
    }
    return;
  } catch (...) {
    ADD_FAILURE_AT(file, line) << text << " threw something that is not a std::exception";
    return;
  }
  ADD_FAILURE_AT(file, line) << text << " did not throw " << e_name;
}

}  // namespace seqnet::testing
