// A report as a list of blocks (headings, paragraphs, tables, images) and its two
// renderings: Markdown (images linked by relative path) and a self-contained HTML page
// (the same blocks, images embedded as data: URIs). Building the content once and
// rendering it twice keeps the two files the same report.
#pragma once

#include <string>
#include <vector>

namespace wise::report {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each as long as the header
};

struct Block {
  enum class Kind { heading, paragraph, table, image };
  Kind kind = Kind::paragraph;
  int level = 2;       // heading: 1 = the title
  std::string text;    // heading, paragraph, or the image's caption
  Table table;
  std::string image;   // a PNG, relative to the report's folder
};

class Document {
 public:
  void heading(const std::string& text, int level = 2);
  void paragraph(const std::string& text);
  // Throws std::invalid_argument if a row's length differs from the header's.
  void table(Table table);
  void image(const std::string& relative_path, const std::string& caption);
  const std::vector<Block>& blocks() const { return blocks_; }

 private:
  std::vector<Block> blocks_;
};

std::string to_markdown(const Document& document);
// `folder`: where the relative image paths start; an image that cannot be read is an
// error naming it.
std::string to_html(const Document& document, const std::string& folder);

// RFC 4648 base64 (the data: URIs).
std::string base64(const std::string& bytes);

}  // namespace wise::report
