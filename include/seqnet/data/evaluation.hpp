#pragma once
// Scores the real-data experiments report, for users' own evaluations:
// edit distance (word and phoneme error rates), ROC curves with their area
// and the best F1 over thresholds (anomaly detection).
//
//   int64_t d = data::edit_distance(hypothesis, reference);        // any vectors of comparable symbols
//   double auc = data::roc_auc(scores, labels);                    // labels 1 = positive
//   data::ThresholdScore best = data::best_f1(scores, labels);

#include <cstdint>
#include <string>
#include <vector>

namespace seqnet::data {

// Levenshtein distance: the fewest insertions, deletions and substitutions
// turning `a` into `b`. Time O(|a| |b|), memory O(min(|a|, |b|)).
int64_t edit_distance(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
int64_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b);
int64_t edit_distance(const std::string& a, const std::string& b);

struct RocCurve {
  // One point per distinct score, from the highest threshold down, after
  // the starting point (0, 0): predicting positive when score >= threshold.
  std::vector<double> thresholds, false_positive_rate, true_positive_rate;
  // Area under the curve (trapezoids; equal to the probability that a
  // random positive scores above a random negative, ties counting half).
  double auc = 0;
};

// Throws ValueError when the sizes differ, a label is not 0 or 1, a score
// is NaN, or one of the classes is absent.
RocCurve roc_curve(const std::vector<double>& scores, const std::vector<int>& labels);
double roc_auc(const std::vector<double>& scores, const std::vector<int>& labels);

struct ThresholdScore {
  // Predict positive when score >= threshold.
  double threshold = 0;
  double f1 = 0, precision = 0, recall = 0;
};

// The threshold (among the distinct scores) with the highest F1; ties go to
// the higher threshold. Throws as roc_curve.
ThresholdScore best_f1(const std::vector<double>& scores, const std::vector<int>& labels);

}  // namespace seqnet::data
