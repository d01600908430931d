#pragma once
// Teacher forcing and scheduled sampling (seed 02, "What is Teacher Forcing
// for Recurrent Neural Networks?"; Bengio et al. 2015, "Scheduled Sampling
// for Sequence Prediction with Recurrent Neural Networks").
//
// Teacher forcing trains a decoder on the true previous symbol: its input is
// the target shifted one step right behind a start symbol. Scheduled sampling
// feeds, at each step, the model's own previous prediction with probability
// 1 - eps_i instead, where eps_i (the teacher-forcing probability) decays over
// the epochs i, so the model learns to recover from its own mistakes as it
// must in open-loop generation.
//
//   auto dec_in = decode::teacher_forcing_inputs(targets, {.start_id = start, .stop_id = stop});
//   train.fit({sources, dec_in}, targets, ...);                          // teacher forcing
//   decode::fit_scheduled_sampling(train, encoder, decoder, sources, dec_in, targets,
//       {.schedule = decode::SamplingSchedule::inverse_sigmoid(3), .epochs = 30});

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "seqnet/model/model.hpp"

namespace seqnet::decode {

// Example: {.start_id = 12, .stop_id = 11}
struct TeacherForcingOptions {
  // The first input symbol. -1: an all-zero vector (one-hot targets only).
  // Default: 0.
  int64_t start_id = 0;
  // A stop symbol shifted into the input is replaced by padding, so the
  // decoder input has exactly the target's real steps; -1 for none.
  // Default: -1.
  int64_t stop_id = -1;
  // The padding id of id targets (one-hot padding is an all-zero row).
  // Default: 0.
  int64_t pad_id = 0;
};

// The decoder input for teacher forcing: input[:, 0] = start and
// input[:, t] = target[:, t - 1]. `targets` are (N, T) symbol ids or
// (N, T, V) one-hot rows. Throws ValueError for another rank, a start or
// stop symbol outside [0, V) for one-hot targets, or start_id -1 with ids.
Tensor teacher_forcing_inputs(const Tensor& targets, const TeacherForcingOptions& options = {});

// The probability eps_i of feeding the ground truth at epoch i (0-based), as
// Bengio et al. define the decays:
//   constant          eps_i = k
//   linear            eps_i = max(minimum, k - c i)
//   exponential       eps_i = max(minimum, k^i)               (0 < k < 1)
//   inverse_sigmoid   eps_i = max(minimum, k / (k + exp(i / k)))   (k >= 1)
struct SamplingSchedule {
  // "constant", "linear", "exponential" or "inverse_sigmoid".
  // Default: "inverse_sigmoid".
  std::string kind = "inverse_sigmoid";
  // Default: 5.
  double k = 5.0;
  // Slope of the linear decay. Default: 0.
  double c = 0.0;
  // Floor of eps (Bengio's epsilon). Default: 0.
  double minimum = 0.0;

  static SamplingSchedule constant(double p);
  static SamplingSchedule linear(double k, double c, double minimum = 0.0);
  static SamplingSchedule exponential(double k, double minimum = 0.0);
  static SamplingSchedule inverse_sigmoid(double k, double minimum = 0.0);
  // eps_i. Throws ValueError for a bad schedule (unknown kind, parameters
  // outside the ranges above) or epoch < 0.
  double teacher_forcing_probability(int epoch) const;
  // Throws ValueError naming the parameter when the schedule is invalid.
  void validate() const;
};

// Example: {.schedule = SamplingSchedule::linear(1.0, 0.05, 0.2), .epochs = 20, .batch_size = 32}
struct ScheduledSamplingOptions {
  // Default: inverse_sigmoid(5).
  SamplingSchedule schedule{};
  // Default: 1.
  int epochs = 1;
  // Default: 32.
  int batch_size = 32;
  // Shuffle the samples every epoch. Default: true.
  bool shuffle = true;
  // Feed a symbol drawn from the model's distribution (as Bengio et al.)
  // instead of its most likely symbol. Default: false.
  bool sample = false;
  // The padding id of id decoder inputs (steps holding it stay padding, and a
  // predicted padding symbol is not fed). Default: 0.
  int64_t pad_id = 0;
  // 0 silent, 1 progress bar, 2 one line per epoch. Default: 1.
  int verbose = 1;
  // Epoch to start from (the schedule's i), for training in several calls.
  // Default: 0.
  int initial_epoch = 0;
  // Called as in fit(), on `train`; the epoch logs hold
  // "teacher_forcing_probability" and "sampled_fraction" too (the running
  // batch logs as well). Default: none (a History is always recorded).
  std::vector<std::shared_ptr<Callback>> callbacks{};
  // Data to validate on after every epoch with teacher forcing:
  // train.evaluate(x, y) with x = {sources..., decoder input} and y the
  // targets, logged as "val_loss" and "val_<metric>". Default: none.
  ValidationData validation_data{};
};

// Trains `train` (inputs [sources..., decoder input], output the symbol
// distributions) with scheduled sampling. For every batch, the decoder input
// is rebuilt step by step with the inference pair (encoder, decoder, sharing
// the training model's layers; the convention of search.hpp): at step t the
// real input symbol is kept with probability eps (the schedule's, for the
// epoch) and otherwise replaced by the model's prediction at step t - 1 given
// the mixed inputs so far; then `train` takes one gradient step on the mixed
// input. As in the paper, no gradient flows through the choice. Padding
// steps of the decoder input (all-zero one-hot rows, or pad_id) stay as they
// are. `decoder_inputs` is the teacher-forcing input ((N, T) ids or (N, T,
// V) one-hot; see teacher_forcing_inputs), `targets` the training model's
// target. REQUIRES: `train` is compiled.
// Returns the History: the training logs of each epoch plus
// "teacher_forcing_probability" (eps) and "sampled_fraction" (the fraction
// of real input steps that were fed the model's prediction), and what the
// callbacks add. Runs in the training loop fit() runs in (callbacks,
// progress bar, stop_training).
// Throws ValueError / ShapeError when the models or data do not fit
// together (naming what was expected and received) or for bad options.
History fit_scheduled_sampling(Model& train, Model& encoder, Model& decoder, const Tensors& sources,
                               const Tensor& decoder_inputs, const Tensor& targets,
                               const ScheduledSamplingOptions& options = {});

}  // namespace seqnet::decode
