#include "seqnet/data/evaluation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "seqnet/error.hpp"

namespace seqnet::data {

namespace {

template <class Seq>
int64_t levenshtein(const Seq& a_in, const Seq& b_in) {
  const Seq& a = a_in.size() >= b_in.size() ? a_in : b_in;  // the longer
  const Seq& b = a_in.size() >= b_in.size() ? b_in : a_in;  // one row of |b| + 1
  std::vector<int64_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), int64_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    int64_t diag = row[0];
    row[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int64_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// Indices by falling score, after checking the inputs.
std::vector<size_t> ranked(const std::vector<double>& scores, const std::vector<int>& labels, const char* fn,
                           int64_t& positives, int64_t& negatives) {
  if (scores.size() != labels.size()) {
    throw ValueError(fmt::format("{}: {} scores but {} labels", fn, scores.size(), labels.size()));
  }
  positives = negatives = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (labels[i] != 0 && labels[i] != 1) {
      throw ValueError(fmt::format("{}: labels[{}] is {}; labels must be 0 or 1", fn, i, labels[i]));
    }
    if (std::isnan(scores[i])) throw ValueError(fmt::format("{}: scores[{}] is NaN", fn, i));
    (labels[i] == 1 ? positives : negatives) += 1;
  }
  if (positives == 0 || negatives == 0) {
    throw ValueError(fmt::format("{}: needs both classes; got {} positive and {} negative labels", fn, positives,
                                 negatives));
  }
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}

// Calls fn(threshold, true positives, false positives) once per distinct
// score, from the highest down.
template <class Fn>
void sweep(const std::vector<double>& scores, const std::vector<int>& labels, const std::vector<size_t>& order, Fn fn) {
  int64_t tp = 0, fp = 0;
  for (size_t k = 0; k < order.size();) {
    const double s = scores[order[k]];
    while (k < order.size() && scores[order[k]] == s) {
      (labels[order[k]] == 1 ? tp : fp) += 1;
      ++k;
    }
    fn(s, tp, fp);
  }
}

}  // namespace

int64_t edit_distance(const std::vector<int64_t>& a, const std::vector<int64_t>& b) { return levenshtein(a, b); }
int64_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return levenshtein(a, b);
}
int64_t edit_distance(const std::string& a, const std::string& b) { return levenshtein(a, b); }

RocCurve roc_curve(const std::vector<double>& scores, const std::vector<int>& labels) {
  int64_t pos = 0, neg = 0;
  const auto order = ranked(scores, labels, "roc_curve", pos, neg);
  RocCurve r;
  double prev_fpr = 0, prev_tpr = 0;
  sweep(scores, labels, order, [&](double s, int64_t tp, int64_t fp) {
    const double tpr = static_cast<double>(tp) / static_cast<double>(pos);
    const double fpr = static_cast<double>(fp) / static_cast<double>(neg);
    r.thresholds.push_back(s);
    r.true_positive_rate.push_back(tpr);
    r.false_positive_rate.push_back(fpr);
    r.auc += (fpr - prev_fpr) * (tpr + prev_tpr) / 2;
    prev_fpr = fpr;
    prev_tpr = tpr;
  });
  return r;
}

double roc_auc(const std::vector<double>& scores, const std::vector<int>& labels) {
  return roc_curve(scores, labels).auc;
}

ThresholdScore best_f1(const std::vector<double>& scores, const std::vector<int>& labels) {
  int64_t pos = 0, neg = 0;
  const auto order = ranked(scores, labels, "best_f1", pos, neg);
  ThresholdScore best;
  best.f1 = -1;
  sweep(scores, labels, order, [&](double s, int64_t tp, int64_t fp) {
    const double precision = static_cast<double>(tp) / static_cast<double>(tp + fp);
    const double recall = static_cast<double>(tp) / static_cast<double>(pos);
    const double f1 = tp == 0 ? 0.0 : 2 * precision * recall / (precision + recall);
    if (f1 > best.f1) best = {s, f1, precision, recall};
  });
  return best;
}

}  // namespace seqnet::data
