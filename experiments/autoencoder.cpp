// Seed 02 ("A Gentle Introduction to LSTM Autoencoders"), the composite
// model: one encoder LSTM(100, relu) on [0.1 .. 0.9] and two decoders, one
// reconstructing the sequence and one predicting its next 8 steps; Adam, mse,
// 300 epochs on the single sample. Then the standalone encoder is cut from
// the trained model (same layers, same weights) and maps the sequence to a
// 100-element vector. Tutorial: reconstruction 0.107 0.203 ... 0.900,
// prediction 0.163 0.288 ... 0.889 (errors of about 0.01).

#include <fmt/format.h>
#include <seqnet/plot.hpp>
#include <seqnet/seqnet.hpp>

#include <cmath>
#include <ostream>

#include "experiment.hpp"

namespace seqnet::experiments {

namespace {

std::string row(const Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.size(); ++i) s += fmt::format("{}{:.4f}", i ? " " : "", t[i]);
  return s + "]";
}

double mse(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.size(); ++i) s += (static_cast<double>(a[i]) - b[i]) * (a[i] - b[i]);
  return s / static_cast<double>(a.size());
}

}  // namespace

Result autoencoder(Context& ctx) {
  const int64_t n_in = 9, n_out = n_in - 1;
  Tensor seq_in({1, n_in, 1}), seq_out({1, n_out, 1});
  for (int64_t i = 0; i < n_in; ++i) seq_in[i] = 0.1f * static_cast<float>(i + 1);
  for (int64_t i = 0; i < n_out; ++i) seq_out[i] = seq_in[i + 1];

  auto visible = Input({n_in, 1});
  auto encoder_lstm = LSTM(100, {.activation = "relu"});
  auto encoder = encoder_lstm(visible);
  auto decoder1 = RepeatVector(n_in)(encoder);
  decoder1 = LSTM(100, {.activation = "relu", .return_sequences = true})(decoder1);
  decoder1 = TimeDistributed(Dense(1))(decoder1);
  auto decoder2 = RepeatVector(n_out)(encoder);
  decoder2 = LSTM(100, {.activation = "relu", .return_sequences = true})(decoder2);
  decoder2 = TimeDistributed(Dense(1))(decoder2);
  Model model({visible}, {decoder1, decoder2});
  model.compile({.optimizer = "adam", .loss = "mse"});
  model.summary(ctx.out());
  const int epochs = ctx.quick ? 150 : 300;
  History h = model.fit(seq_in, {seq_in, seq_out}, {.epochs = epochs, .verbose = 0});
  Tensors yhat = model.predict(seq_in);
  ctx.out() << "reconstruction " << row(yhat[0]) << "\nprediction     " << row(yhat[1]) << "\n";

  // The standalone encoder: the trained model's input up to the encoder LSTM.
  Model encoder_model(model.inputs(), {encoder_lstm.output()});
  Tensor code = encoder_model.predict(seq_in);
  ctx.out() << "encoder output " << shape_str(code.shape()) << " " << row(code) << "\n";

  Result r;
  r.metrics["reconstruction_mse"] = mse(yhat[0], seq_in);
  r.metrics["prediction_mse"] = mse(yhat[1], seq_out);
  r.metrics["final_loss"] = h["loss"].back();
  r.metrics["encoder_output_size"] = code.dim(1);
  r.details["reconstruction"] = yhat[0].to_vector();
  r.details["prediction"] = yhat[1].to_vector();
  r.details["encoder_output"] = code.to_vector();
  r.tutorial = "reconstruction 0.107 0.203 ... 0.900, prediction 0.163 0.288 ... 0.889; a 100-element code";
  r.ours = fmt::format("reconstruction {:.3f} {:.3f} ... {:.3f}, prediction {:.3f} {:.3f} ... {:.3f} (mse {:.1e}, {:.1e}); "
                       "a {}-element code",
                       yhat[0][0], yhat[0][1], yhat[0][n_in - 1], yhat[1][0], yhat[1][1], yhat[1][n_out - 1],
                       r.metrics["reconstruction_mse"].get<double>(), r.metrics["prediction_mse"].get<double>(),
                       code.dim(1));
  save_chart(ctx, r, "autoencoder_loss",
             {.title = "composite LSTM autoencoder: loss per epoch", .ylabel = "mse",
              .series = {{"loss", h["loss"]}}, .log_y = true});
  return r;
}

}  // namespace seqnet::experiments
