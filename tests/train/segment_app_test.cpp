// apps/segment end to end on a tiny trained Mask R-CNN (train_maskrcnn's app-test model,
// 8 steps on shapes-v1's generator at 64 x 64): on a COCO file's images it writes exactly
// the detections train_maskrcnn's own validation wrote (one inference path), a results
// file `evaluate`'s reader takes; on files, folders and lists it numbers the images 1..N
// and draws a picture of each; --refine writes refined results whose every mask is one of
// the image's proposals; bad inputs name the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "data/coco.h"
#include "data/image_io.h"
#include "proposals/proposal_run.h"
#include "tests/train/app_process.h"

namespace wise::testing {
namespace {

namespace fs = std::filesystem;

#if !defined(WISE_TRAIN_MASKRCNN) || !defined(WISE_SEGMENT)
#error "WISE_TRAIN_MASKRCNN and WISE_SEGMENT (the binaries) must be defined by tests/CMakeLists.txt"
#endif

class SegmentApp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string((fs::temp_directory_path() / ("wise_segment_app_" + std::to_string(::getpid()))).string());
    fs::create_directories(*root_);
    make_tiny_shapes_dataset(data_dir(), 8, 3);
    const std::vector<std::string> train{
        WISE_TRAIN_MASKRCNN, "--data", data_dir(), "--out", model_dir(), "--width", "0.125", "--norm", "group_norm",
        "--fpn-channels", "16", "--representation", "32", "--mask-layers", "1", "--rpn-batch", "32",
        "--rpn-top-n", "100,50", "--rpn-test-top-n", "50,20", "--box-batch", "32", "--anchor-sizes",
        "8,16,32,64,128", "--batch-size", "2", "--iterations", "8", "--warmup", "2", "--lr", "0.01",
        "--checkpoint-every", "8", "--workers", "1"};
    const std::string log = *root_ + "/train.txt";
    trained_ = exited_with(run_app(train, log), 0);
    if (!trained_) std::fprintf(stderr, "%s\n", read_file(log).c_str());
  }
  static void TearDownTestSuite() {
    std::error_code error;
    fs::remove_all(*root_, error);
    delete root_;
    root_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(trained_) << "train_maskrcnn failed (its output is above)"; }

  static std::string data_dir() { return *root_ + "/data"; }
  static std::string model_dir() { return *root_ + "/model"; }
  static std::vector<std::string> segment(const std::string& out, std::vector<std::string> more) {
    std::vector<std::string> arguments{WISE_SEGMENT, "--model", model_dir(), "--out", out};
    arguments.insert(arguments.end(), more.begin(), more.end());
    return arguments;
  }
  static std::string val_annotations() { return data_dir() + "/annotations/val.json"; }

  static std::string* root_;
  static bool trained_;
};
std::string* SegmentApp::root_ = nullptr;
bool SegmentApp::trained_ = false;

std::vector<std::string> results_text(const std::vector<data::Detection>& detections) {
  std::vector<std::string> text;
  for (const data::Detection& d : detections) {
    text.push_back(std::to_string(d.image_id) + " " + std::to_string(d.category_id) + " " + std::to_string(d.score) +
                   " " + data::rle_to_string(d.segmentation));
  }
  return text;
}

TEST_F(SegmentApp, ACocoFilesImagesGiveTheDetectionsOfTrainingsOwnValidation) {
  ScratchDirectory scratch;
  const std::string out = scratch.file("val");
  ASSERT_TRUE(exited_with(run_app(segment(out, {"--annotations", val_annotations(), "--images",
                                                data_dir() + "/images/val"}),
                                  scratch.file("run.txt")),
                          0))
      << read_file(scratch.file("run.txt"));
  const data::Dataset val = data::read_coco_dataset(val_annotations());
  const auto ours = data::read_coco_results(out + "/detections.json", val);
  const auto training = data::read_coco_results(model_dir() + "/detections-val.json", val);
  EXPECT_EQ(results_text(ours), results_text(training));
  EXPECT_FALSE(ours.empty());  // 33 when written
  // One picture per image, the image's size.
  for (const data::ImageInfo& info : val.images) {
    const std::string picture = out + "/pictures/" + fs::path(info.file_name).stem().string() + ".png";
    ASSERT_TRUE(fs::exists(picture)) << picture;
    const data::ImageHeader header = data::read_image_header(picture);
    EXPECT_EQ(header.height, info.height);
    EXPECT_EQ(header.width, info.width);
  }
  EXPECT_EQ(data::read_coco_dataset(out + "/images.json").images.size(), val.images.size());
}

TEST_F(SegmentApp, FilesFoldersAndListsAreNumberedInOrderAndDrawn) {
  ScratchDirectory scratch;
  const std::string images = data_dir() + "/images/val";
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(images)) files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 3u);
  // A list naming the first file relative to the list's folder.
  fs::copy_file(files[0], scratch.file("first.png"));
  {
    std::ofstream list(scratch.file("list.txt"));
    list << "# one image\n\nfirst.png\n";
  }
  const std::string out = scratch.file("out");
  // Everything scores > 0: an 8-step model's scores are low, and every detection is drawn.
  ASSERT_TRUE(exited_with(run_app(segment(out, {files[1], images, scratch.file("list.txt"), "--score-thresh", "0",
                                                "--draw-thresh", "0"}),
                                  scratch.file("run.txt")),
                          0))
      << read_file(scratch.file("run.txt"));
  const data::Dataset listed = data::read_coco_dataset(out + "/images.json");
  ASSERT_EQ(listed.images.size(), 5u);  // files[1], the folder's three, the list's one
  EXPECT_EQ(listed.images[0].file_name, files[1]);
  EXPECT_EQ(listed.images[1].file_name, files[0]);
  EXPECT_EQ(listed.images[4].file_name, scratch.file("first.png"));
  for (size_t i = 0; i < listed.images.size(); ++i) EXPECT_EQ(listed.images[i].id, static_cast<int64_t>(i) + 1);
  const auto detections = data::read_coco_results(out + "/detections.json", listed);
  ASSERT_FALSE(detections.empty());
  // files[1] appears twice (alone and in its folder): two pictures, told apart by id;
  // a drawn picture differs from its image.
  EXPECT_TRUE(fs::exists(out + "/pictures/" + fs::path(files[1]).stem().string() + "-1.png"));
  EXPECT_TRUE(fs::exists(out + "/pictures/" + fs::path(files[1]).stem().string() + "-3.png"));
  const std::string first_picture = out + "/pictures/" + fs::path(files[0]).stem().string() + ".png";
  ASSERT_TRUE(fs::exists(first_picture));
  EXPECT_NE(data::load_image(first_picture).pixels, data::load_image(files[0]).pixels);
  EXPECT_NE(read_file(scratch.file("run.txt")).find("pictures: " + out + "/pictures/"), std::string::npos);
}

// A shard names its pictures as the whole run does: two images sharing a name, in two
// shards, still get their ids in the name.
TEST_F(SegmentApp, AShardNamesPicturesAsTheWholeListDoes) {
  ScratchDirectory scratch;
  const std::string images = data_dir() + "/images/val";
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(images)) files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  fs::create_directories(scratch.file("a"));
  fs::create_directories(scratch.file("b"));
  fs::copy_file(files[0], scratch.file("a/x.png"));
  fs::copy_file(files[1], scratch.file("b/x.png"));
  for (const char* shard : {"0/2", "1/2"}) {
    const std::string out = scratch.file(std::string("out") + shard[0]);
    ASSERT_TRUE(exited_with(
        run_app(segment(out, {scratch.file("a/x.png"), scratch.file("b/x.png"), "--shard", shard}), scratch.file("s.txt")),
        0))
        << read_file(scratch.file("s.txt"));
    const std::string expected = shard[0] == '0' ? "/pictures/x-1.png" : "/pictures/x-2.png";
    EXPECT_TRUE(fs::exists(out + expected)) << shard << ": no " << expected;
    EXPECT_FALSE(fs::exists(out + "/pictures/x.png")) << shard;
  }
}

TEST_F(SegmentApp, RefinedMasksAreTheImagesProposals) {
  ScratchDirectory scratch;
  const std::string out = scratch.file("refined"), cache = scratch.file("proposals");
  ASSERT_TRUE(exited_with(run_app(segment(out, {"--annotations", val_annotations(), "--images",
                                                data_dir() + "/images/val", "--score-thresh", "0", "--refine", cache}),
                                  scratch.file("run.txt")),
                          0))
      << read_file(scratch.file("run.txt"));
  const data::Dataset val = data::read_coco_dataset(val_annotations());
  const auto raw = data::read_coco_results(out + "/detections.json", val);
  const auto refined = data::read_coco_results(out + "/detections-refined.json", val);
  ASSERT_EQ(raw.size(), refined.size());
  ASSERT_FALSE(raw.empty());
  // The proposals the cache now holds, read back through the same run options.
  proposals::ProposalRunOptions run;
  run.images = data_dir() + "/images/val";
  run.cache = cache;
  std::map<int64_t, std::set<std::string>> proposal_masks;
  for (const data::ImageInfo& info : val.images) {
    const proposals::ImageProposals found = proposals::proposals_for_image(info, run);
    EXPECT_FALSE(found.computed) << "image " << info.id << " was not cached by segment";
    for (const proposals::Proposal& p : found.proposals) proposal_masks[info.id].insert(data::rle_to_string(p.mask));
  }
  int64_t replaced = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    EXPECT_EQ(refined[i].image_id, raw[i].image_id);
    EXPECT_EQ(refined[i].category_id, raw[i].category_id);
    EXPECT_FLOAT_EQ(refined[i].score, raw[i].score);
    const std::string mask = data::rle_to_string(refined[i].segmentation);
    if (mask != data::rle_to_string(raw[i].segmentation)) {
      ++replaced;
      EXPECT_TRUE(proposal_masks[raw[i].image_id].count(mask)) << "detection " << i << " is not a proposal";
    }
  }
  EXPECT_GT(replaced, 0);
  EXPECT_NE(read_file(scratch.file("run.txt")).find("refined: "), std::string::npos);
}

// --detections: no model, given results (the model's own, here) refined and drawn: the same
// files as refining after inference, byte for byte.
TEST_F(SegmentApp, GivenDetectionsRefineAsTheModelsOwn) {
  ScratchDirectory scratch;
  const std::string with_model = scratch.file("model"), given = scratch.file("given"), cache = scratch.file("proposals");
  const std::vector<std::string> inputs{"--annotations", val_annotations(), "--images", data_dir() + "/images/val",
                                        "--score-thresh", "0", "--refine", cache};
  ASSERT_TRUE(exited_with(run_app(segment(with_model, inputs), scratch.file("a.txt")), 0)) << read_file(scratch.file("a.txt"));
  std::vector<std::string> from_file{WISE_SEGMENT, "--detections", with_model + "/detections.json", "--out", given};
  from_file.insert(from_file.end(), inputs.begin(), inputs.end() - 4);  // no --score-thresh: not a model's
  from_file.insert(from_file.end(), {"--refine", cache});
  ASSERT_TRUE(exited_with(run_app(from_file, scratch.file("b.txt")), 0)) << read_file(scratch.file("b.txt"));
  EXPECT_NE(read_file(scratch.file("b.txt")).find("detections from " + with_model + "/detections.json"), std::string::npos);
  for (const char* file : {"/detections.json", "/detections-refined.json", "/images.json"})
    EXPECT_EQ(read_file(given + file), read_file(with_model + file)) << file;
  for (const auto& entry : fs::directory_iterator(with_model + "/pictures"))
    EXPECT_TRUE(fs::exists(given + "/pictures/" + entry.path().filename().string())) << entry.path();
  // Results need the COCO file they are on.
  const std::vector<std::string> unanchored{WISE_SEGMENT, "--detections", with_model + "/detections.json", "--out", given,
                                            scratch.file("x.png")};
  EXPECT_TRUE(exited_with(run_app(unanchored, scratch.file("c.txt")), 2));
  EXPECT_NE(read_file(scratch.file("c.txt")).find("--detections needs --annotations"), std::string::npos);
}

TEST_F(SegmentApp, BadInputsNameTheProblem) {
  ScratchDirectory scratch;
  const std::string out = scratch.file("out");
  EXPECT_TRUE(exited_with(run_app(segment(out, {"--score-thresh", "2", "x.png"}), scratch.file("a.txt")), 2));
  EXPECT_NE(read_file(scratch.file("a.txt")).find("--score-thresh: expected a number in [0, 1]"), std::string::npos);
  EXPECT_TRUE(exited_with(run_app(segment(out, {}), scratch.file("b.txt")), 2));
  EXPECT_NE(read_file(scratch.file("b.txt")).find("give images"), std::string::npos);
  // A missing image, a file that is not an image, a folder without a checkpoint.
  EXPECT_TRUE(exited_with(run_app(segment(out, {scratch.file("missing.png")}), scratch.file("c.txt")), 1));
  EXPECT_NE(read_file(scratch.file("c.txt")).find(scratch.file("missing.png") + ": no such file"), std::string::npos);
  {
    std::ofstream text(scratch.file("notes.png"));
    text << "not an image\n";
  }
  EXPECT_TRUE(exited_with(run_app(segment(out, {scratch.file("notes.png")}), scratch.file("d.txt")), 1));
  EXPECT_NE(read_file(scratch.file("d.txt")).find(scratch.file("notes.png")), std::string::npos);
  std::vector<std::string> no_model{WISE_SEGMENT, "--model", scratch.path(), "--out", out, scratch.file("notes.png")};
  EXPECT_TRUE(exited_with(run_app(no_model, scratch.file("e.txt")), 1));
  EXPECT_NE(read_file(scratch.file("e.txt")).find("no checkpoint-*.safetensors"), std::string::npos)
      << read_file(scratch.file("e.txt"));
}

// --shard i/n and merge_shards: three shards of the val images, merged, give the files of
// one unsharded run, byte for byte; a shard left out, or given twice, is an error naming
// an image.
TEST_F(SegmentApp, ShardsMergeIntoTheUnshardedRun) {
  ScratchDirectory scratch;
  const std::string whole = scratch.file("whole"), cache = scratch.file("proposals");
  const std::vector<std::string> inputs{"--annotations", val_annotations(), "--images", data_dir() + "/images/val",
                                        "--refine", cache, "--no-pictures"};
  ASSERT_TRUE(exited_with(run_app(segment(whole, inputs), scratch.file("whole.txt")), 0))
      << read_file(scratch.file("whole.txt"));
  std::vector<std::string> shard_dirs;
  for (int i = 0; i < 3; ++i) {
    shard_dirs.push_back(scratch.file("shard" + std::to_string(i)));
    std::vector<std::string> more = inputs;
    more.insert(more.end(), {"--shard", std::to_string(i) + "/3"});
    ASSERT_TRUE(exited_with(run_app(segment(shard_dirs.back(), more), scratch.file("s.txt")), 0))
        << read_file(scratch.file("s.txt"));
  }
  const std::string merged = scratch.file("merged");
  std::vector<std::string> merge{WISE_MERGE_SHARDS, "--annotations", val_annotations(), "--out", merged};
  merge.insert(merge.end(), {shard_dirs[2], shard_dirs[0], shard_dirs[1]});  // any order
  ASSERT_TRUE(exited_with(run_app(merge, scratch.file("m.txt")), 0)) << read_file(scratch.file("m.txt"));
  for (const char* file : {"/detections.json", "/detections-refined.json", "/images.json"})
    EXPECT_EQ(read_file(merged + file), read_file(whole + file)) << file;

  std::vector<std::string> missing{WISE_MERGE_SHARDS, "--annotations", val_annotations(), "--out", merged,
                                   shard_dirs[0], shard_dirs[1]};
  EXPECT_TRUE(exited_with(run_app(missing, scratch.file("x.txt")), 1));
  EXPECT_NE(read_file(scratch.file("x.txt")).find(") is in no shard"), std::string::npos) << read_file(scratch.file("x.txt"));
  std::vector<std::string> twice = missing;
  twice.insert(twice.end(), {shard_dirs[2], shard_dirs[1]});
  EXPECT_TRUE(exited_with(run_app(twice, scratch.file("y.txt")), 1));
  EXPECT_NE(read_file(scratch.file("y.txt")).find(") is in two shards: "), std::string::npos) << read_file(scratch.file("y.txt"));
}


#ifdef WISE_MPIEXEC
// Every file of a folder and its subfolders: relative path -> bytes.
std::map<std::string, std::string> tree_files(const std::string& folder) {
  std::map<std::string, std::string> files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(folder))
    if (entry.is_regular_file()) files[fs::relative(entry.path(), folder).string()] = read_file(entry.path().string());
  return files;
}

// Under mpirun the ranks split the images and rank 0 joins their outputs: the job's
// folder holds exactly the files of one process's run, byte for byte, pictures included,
// and nothing of the ranks' shards is left.
TEST_F(SegmentApp, UnderMpirunTheRanksWriteOneProcesssFiles) {
  ScratchDirectory scratch;
  const std::string alone = scratch.file("alone"), job = scratch.file("job"), cache = scratch.file("proposals");
  const std::vector<std::string> inputs{"--annotations", val_annotations(), "--images", data_dir() + "/images/val",
                                        "--refine", cache};
  ASSERT_TRUE(exited_with(run_app(segment(alone, inputs), scratch.file("alone.txt")), 0))
      << read_file(scratch.file("alone.txt"));
  ASSERT_TRUE(exited_with(run_app(mpirun_command(WISE_MPIEXEC, 2, segment(job, inputs)), scratch.file("job.txt")), 0))
      << read_file(scratch.file("job.txt"));
  const std::map<std::string, std::string> expected = tree_files(alone), found = tree_files(job);
  EXPECT_TRUE(expected.count("pictures/" + fs::path(data::read_coco_dataset(val_annotations()).images[0].file_name)
                                               .stem()
                                               .string() +
                             ".png"));
  std::vector<std::string> expected_names, found_names;
  for (const auto& entry : expected) expected_names.push_back(entry.first);
  for (const auto& entry : found) found_names.push_back(entry.first);
  EXPECT_EQ(found_names, expected_names);
  for (const auto& [name, bytes] : expected) {
    const auto other = found.find(name);
    if (other != found.end()) {
      EXPECT_TRUE(other->second == bytes) << name << " differs";
    }
  }
  // The job's line counts every image, and refinement's every mask.
  const std::string text = read_file(scratch.file("job.txt")), one = read_file(scratch.file("alone.txt"));
  const auto refined_line = [](const std::string& output) {
    const size_t at = output.find("refined: ");
    return at == std::string::npos ? std::string() : output.substr(at, output.find(" in ", at) - at);
  };
  EXPECT_FALSE(refined_line(one).empty()) << one;
  EXPECT_EQ(refined_line(text), refined_line(one)) << text;
}

// A rank whose shard fails (an image missing: rank 1's) takes the job down with its own
// error, and the other rank says so instead of waiting for it; nothing is joined.
TEST_F(SegmentApp, UnderMpirunOneRanksFailureEndsTheJob) {
  ScratchDirectory scratch;
  data::Dataset val = data::read_coco_dataset(val_annotations());
  ASSERT_GE(val.images.size(), 2u);
  val.images[1].file_name = "missing.png";
  const std::string broken = scratch.file("broken.json"), out = scratch.file("job");
  data::write_coco_dataset(val, broken);
  const std::vector<std::string> inputs{"--annotations", broken, "--images", data_dir() + "/images/val"};
  App job(mpirun_command(WISE_MPIEXEC, 2, segment(out, inputs)), scratch.file("job.txt"));
  ASSERT_TRUE(job.spawned());
  const int status = job.wait();  // (a hung job is killed after 60 s, failing the test)
  const std::string text = read_file(scratch.file("job.txt"));
  EXPECT_FALSE(exited_with(status, 0)) << text;
  EXPECT_NE(text.find("missing.png"), std::string::npos) << text;
  EXPECT_NE(text.find("1 of 2 ranks failed in segment"), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(out + "/detections.json")) << "a partial job was joined";
}
#endif

}  // namespace
}  // namespace wise::testing
