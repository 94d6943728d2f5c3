#include "report/wise_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "data/draw.h"
#include "data/image_io.h"
#include "report/plots.h"

namespace wise::report {

namespace fs = std::filesystem;

namespace {

const char* const kProtocols[] = {"voc", "wise"};
const char* const kProtocolNames[] = {
    "voc (chainercv's VOC mAP^r: every prediction scored)",
    "wise (the released code's COCOeval: 101-point AP, scores < 0.5 dropped, void masked)"};

// As the paper prints them: percentages with one decimal; "-" where there is no value.
std::string percent(double value) {
  if (!std::isfinite(value)) return "-";
  char text[16];
  std::snprintf(text, sizeof text, "%.1f", 100 * value);
  return text;
}

const Evaluation* find(const RunRecord& run, const std::string& row, const std::string& protocol) {
  const auto by_row = run.evaluations.find(row);
  if (by_row == run.evaluations.end()) return nullptr;
  const auto by_protocol = by_row->second.find(protocol);
  return by_protocol == by_row->second.end() ? nullptr : &by_protocol->second;
}

std::vector<std::string> score_cells(const Scores& scores) {
  return {percent(scores.ap[0]), percent(scores.ap[1]), percent(scores.ap[2]), percent(scores.abo)};
}

std::string images_note(const Evaluation& evaluation) {
  return std::to_string(evaluation.images) + " images, " + std::to_string(evaluation.ground_truth) + " instances";
}

void table_1(Document& document, const RunRecord& run) {
  document.heading("Table 1: instance segmentation (mAP at IoU 0.25 / 0.5 / 0.75, ABO)");
  for (int p = 0; p < 2; ++p) {
    Table table;
    table.header = {"method", "trained on", "mAP25", "mAP50", "mAP75", "ABO", "scored on"};
    auto add = [&](const std::string& row, const std::string& supervision) {
      const Evaluation* evaluation = find(run, row, kProtocols[p]);
      if (evaluation == nullptr) return;
      std::vector<std::string> cells{row_title(row), supervision};
      for (const std::string& cell : score_cells(evaluation->all)) cells.push_back(cell);
      cells.push_back((row == "pseudo-masks-train" ? "train: " : "val: ") + images_note(*evaluation));
      table.rows.push_back(cells);
    };
    add("prm-baseline", "image-level labels");
    add("pseudo-masks-train", "image-level labels");
    add("wise", "image-level labels");
    add("wise-refine", "image-level labels");
    add("supervised", "masks");
    document.paragraph(std::string("Protocol ") + kProtocolNames[p] + ".");
    if (table.rows.empty()) document.paragraph("(no evaluation of this protocol in the run)");
    else document.table(std::move(table));
  }
}

void table_2(Document& document, const RunRecord& run) {
  document.heading("Table 2: mAP50 per class on val");
  for (int p = 0; p < 2; ++p) {
    Table table;
    const Evaluation* any = nullptr;
    for (const std::string& row : val_rows()) {
      if ((any = find(run, row, kProtocols[p])) != nullptr) break;
    }
    if (any == nullptr) continue;
    table.header = {"method"};
    for (const GroupScores& group : any->classes) table.header.push_back(group.name);
    table.header.push_back("mean");
    for (const std::string& row : val_rows()) {
      const Evaluation* evaluation = find(run, row, kProtocols[p]);
      if (evaluation == nullptr || evaluation->classes.size() != any->classes.size()) continue;
      std::vector<std::string> cells{row_title(row)};
      for (const GroupScores& group : evaluation->classes) cells.push_back(percent(group.scores.ap[1]));
      cells.push_back(percent(evaluation->all.ap[1]));
      table.rows.push_back(cells);
    }
    document.paragraph(std::string("Protocol ") + kProtocols[p] + ".");
    document.table(std::move(table));
  }
}

void table_3(Document& document, const RunRecord& run) {
  document.heading("Table 3: on the training images: the pseudo masks against WISE's predictions");
  document.paragraph(
      "The images that got pseudo masks (Mask R-CNN trained on them): how good the masks it learned from "
      "are, and how good its own predictions on those same images are (the paper: 25.8 -> 37.5 mAP50, +45 %).");
  for (int p = 0; p < 2; ++p) {
    const Evaluation* pseudo = find(run, "pseudo-masks-train", kProtocols[p]);
    const Evaluation* wise = find(run, "wise-train", kProtocols[p]);
    if (pseudo == nullptr && wise == nullptr) continue;
    Table table;
    table.header = {"masks", "mAP25", "mAP50", "mAP75", "ABO"};
    if (pseudo != nullptr) {
      std::vector<std::string> cells{row_title("pseudo-masks-train")};
      for (const std::string& cell : score_cells(pseudo->all)) cells.push_back(cell);
      table.rows.push_back(cells);
    }
    if (wise != nullptr) {
      std::vector<std::string> cells{row_title("wise-train")};
      for (const std::string& cell : score_cells(wise->all)) cells.push_back(cell);
      table.rows.push_back(cells);
    }
    if (pseudo != nullptr && wise != nullptr) {
      std::vector<std::string> cells{"relative change"};
      auto change = [](double from, double to) {
        if (!std::isfinite(from) || !std::isfinite(to) || from <= 0) return std::string("-");
        char text[16];
        std::snprintf(text, sizeof text, "%+.0f %%", 100 * (to / from - 1));
        return std::string(text);
      };
      for (int t = 0; t < 3; ++t) cells.push_back(change(pseudo->all.ap[t], wise->all.ap[t]));
      cells.push_back(change(pseudo->all.abo, wise->all.abo));
      table.rows.push_back(cells);
    }
    document.paragraph(std::string("Protocol ") + kProtocols[p] + ".");
    document.table(std::move(table));
  }
}

void figure_5(Document& document, const RunRecord& run) {
  document.heading("Figure 5: mAP50 by object size and by objects per image (val, voc)");
  for (const bool by_size : {true, false}) {
    Table table;
    // The headers' instance counts are those of the row scored on the most images (PRM's
    // baseline may run on fewer: its row's own counts are smaller).
    const Evaluation* any = nullptr;
    for (const std::string& row : val_rows()) {
      const Evaluation* evaluation = find(run, row, "voc");
      if (evaluation != nullptr && (any == nullptr || evaluation->images > any->images)) any = evaluation;
    }
    if (any == nullptr) return;
    const std::vector<GroupScores>& groups = by_size ? any->by_size : any->by_object_count;
    if (groups.empty()) continue;
    table.header = {"method"};
    for (const GroupScores& group : groups)
      table.header.push_back(group.name + " (" + std::to_string(group.ground_truth) + ")");
    for (const std::string& row : val_rows()) {
      const Evaluation* evaluation = find(run, row, "voc");
      if (evaluation == nullptr) continue;
      const std::vector<GroupScores>& mine = by_size ? evaluation->by_size : evaluation->by_object_count;
      if (mine.size() != groups.size()) continue;
      std::vector<std::string> cells{row_title(row)};
      for (const GroupScores& group : mine) cells.push_back(percent(group.scores.ap[1]));
      table.rows.push_back(cells);
    }
    document.paragraph(std::string(by_size ? "By object size (COCO's small < 32^2 <= medium < 96^2 <= large pixels; "
                                             "ground-truth instances in brackets"
                                           : "By the number of objects in the image (instances in brackets") +
                       ", of the " + std::to_string(any->images) + " images most rows are scored on):");
    document.table(std::move(table));
  }
}

void goals(Document& document, const RunRecord& run) {
  document.heading("Goals (issue 24, on the default run)");
  Table table;
  table.header = {"goal", "measured", "status"};
  for (const GoalCheck& check : check_goals(run))
    table.rows.push_back({check.goal, check.measured, !check.known ? "not measured" : check.met ? "met" : "NOT met"});
  document.table(std::move(table));
}

void curves(Document& document, const RunRecord& run, const fs::path& files) {
  document.heading("Training curves");
  if (!run.losses.empty()) {
    ChartOptions chart;
    chart.title = "training loss (each stage's total)";
    chart.y_label = "loss";
    chart.log_y = std::all_of(run.losses.begin(), run.losses.end(), [](const Curve& curve) {
      return std::all_of(curve.points.begin(), curve.points.end(), [](const auto& p) { return p[1] > 0; });
    });
    plot_curves(run.losses, chart, (files / "losses.png").string());
    document.image("report-files/losses.png", "Training loss per step of the PRM classifier and both Mask R-CNNs");
  }
  if (!run.validation.empty()) {
    ChartOptions chart;
    chart.title = "Mask R-CNN validation mAP50 (voc)";
    chart.y_label = "mAP50";
    plot_curves(run.validation, chart, (files / "validation.png").string());
    document.image("report-files/validation.png",
                   "Mask R-CNN's val mAP50: during training on the first 100 val images, the last point on all");
  }
  if (run.losses.empty() && run.validation.empty()) document.paragraph("(no training log in the run)");
}

// Figure 4: the first pictures side by side, four to a row.
void figure_4(Document& document, const RunRecord& run, const fs::path& files) {
  if (run.pictures.empty()) return;
  std::vector<data::Image> images;
  for (const std::string& picture : run.pictures) images.push_back(data::load_image((fs::path(run.directory) / picture).string()));
  const int64_t columns = std::min<int64_t>(4, static_cast<int64_t>(images.size()));
  const int64_t rows = (static_cast<int64_t>(images.size()) + columns - 1) / columns, gap = 4;
  int64_t cell_height = 0, cell_width = 0;
  for (const data::Image& image : images) {
    cell_height = std::max(cell_height, image.height);
    cell_width = std::max(cell_width, image.width);
  }
  data::Canvas grid(rows * cell_height + (rows - 1) * gap, columns * cell_width + (columns - 1) * gap);
  for (size_t i = 0; i < images.size(); ++i) {
    const int64_t r = static_cast<int64_t>(i) / columns, c = static_cast<int64_t>(i) % columns;
    grid.draw_canvas(data::Canvas(images[i]), c * (cell_width + gap), r * (cell_height + gap));
  }
  grid.save_png((files / "figure-4.png").string());
  document.image("report-files/figure-4.png",
                 "Figure 4: WISE + Refine on the first val images (segment's pictures: masks, boxes, classes, scores)");
}

void stage_times(Document& document, const RunRecord& run) {
  document.heading("Stage times");
  Table table;
  table.header = {"stage", "budget", "took", ""};
  int64_t budget = 0, took = 0;
  auto minutes = [](int64_t seconds) {
    char text[24];
    std::snprintf(text, sizeof text, "%lld:%02lld", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
    return std::string(text);
  };
  for (const StageRecord& stage : run.stages) {
    budget += stage.budget_seconds;
    took += stage.seconds;
    table.rows.push_back({stage.name, minutes(stage.budget_seconds), minutes(stage.seconds),
                          stage.seconds > stage.budget_seconds ? "over budget" : ""});
  }
  table.rows.push_back({"total", minutes(budget), minutes(took), took > budget ? "over budget" : ""});
  document.paragraph("Minutes:seconds of the stages' last runs (a stage skipped as current keeps the time it took).");
  document.table(std::move(table));
}

}  // namespace

std::vector<GoalCheck> check_goals(const RunRecord& run) {
  std::vector<GoalCheck> checks;
  const Evaluation* supervised = find(run, "supervised", "voc");
  const Evaluation* refined = find(run, "wise-refine", "voc");
  const Evaluation* prm = find(run, "prm-baseline", "voc");
  const Evaluation* pseudo = find(run, "pseudo-masks-train", "voc");
  const Evaluation* wise_train = find(run, "wise-train", "voc");
  char text[160];
  {
    GoalCheck check{"fully supervised Mask R-CNN: val mAP50 (voc) >= 70", "", false, supervised != nullptr};
    if (check.known) {
      check.measured = percent(supervised->all.ap[1]);
      check.met = supervised->all.ap[1] >= 0.70;
    }
    checks.push_back(check);
  }
  {
    GoalCheck check{"WISE + Refine >= 85 % of the fully supervised mAP50", "",
                    false, supervised != nullptr && refined != nullptr};
    if (check.known) {
      const double ratio = refined->all.ap[1] / supervised->all.ap[1];
      std::snprintf(text, sizeof text, "%s / %s = %.0f %%", percent(refined->all.ap[1]).c_str(),
                    percent(supervised->all.ap[1]).c_str(), 100 * ratio);
      check.measured = text;
      check.met = ratio >= 0.85;
    }
    checks.push_back(check);
  }
  {
    GoalCheck check{"WISE + Refine beats PRM's own instances (mAP50)", "", false, refined != nullptr && prm != nullptr};
    if (check.known) {
      check.measured = percent(refined->all.ap[1]) + " vs " + percent(prm->all.ap[1]);
      check.met = refined->all.ap[1] > prm->all.ap[1];
    }
    checks.push_back(check);
  }
  {
    GoalCheck check{"on the training images, WISE's predictions >= 1.3 x the pseudo masks' mAP50", "", false,
                    pseudo != nullptr && wise_train != nullptr};
    if (check.known) {
      const double ratio = wise_train->all.ap[1] / pseudo->all.ap[1];
      std::snprintf(text, sizeof text, "%s / %s = %.2f x", percent(wise_train->all.ap[1]).c_str(),
                    percent(pseudo->all.ap[1]).c_str(), ratio);
      check.measured = text;
      check.met = ratio >= 1.3;
    }
    checks.push_back(check);
  }
  return checks;
}

Document make_wise_report(const RunRecord& run, const ReportContext& context) {
  const fs::path files = fs::path(run.directory) / "report-files";
  fs::create_directories(files);
  Document document;
  document.heading("WISE: weakly-supervised instance segmentation, run " + fs::path(run.directory).filename().string(), 1);
  document.paragraph("Every number below comes from this run (" + run.directory + "): scripts/run.sh preset " +
                     context.preset + ", commit " + context.commit + ", on " + context.machine + " with " +
                     std::to_string(context.threads) + " thread(s), written " + context.date +
                     ". mAP and ABO are percentages; the paper (Laradji et al., WISE) reports the same columns "
                     "on PASCAL VOC 2012.");
  table_1(document, run);
  table_2(document, run);
  table_3(document, run);
  figure_5(document, run);
  goals(document, run);
  curves(document, run, files);
  document.heading("Figures");
  for (const std::string& panel : run.figure_panels)
    document.image(panel, "Figure 1: a train image, its class response maps with their peaks, the pseudo masks, "
                          "and the peak response maps (train_prm --figures)");
  figure_4(document, run, files);
  if (run.figure_panels.empty() && run.pictures.empty()) document.paragraph("(no figures in the run)");
  stage_times(document, run);
  return document;
}

}  // namespace wise::report
