#include "report/document.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace wise::report {

void Document::heading(const std::string& text, int level) {
  Block block;
  block.kind = Block::Kind::heading;
  block.level = level;
  block.text = text;
  blocks_.push_back(std::move(block));
}

void Document::paragraph(const std::string& text) {
  Block block;
  block.kind = Block::Kind::paragraph;
  block.text = text;
  blocks_.push_back(std::move(block));
}

void Document::table(Table table) {
  for (size_t r = 0; r < table.rows.size(); ++r) {
    if (table.rows[r].size() != table.header.size())
      throw std::invalid_argument("report table: row " + std::to_string(r) + " has " +
                                  std::to_string(table.rows[r].size()) + " cells, the header " +
                                  std::to_string(table.header.size()));
  }
  Block block;
  block.kind = Block::Kind::table;
  block.table = std::move(table);
  blocks_.push_back(std::move(block));
}

void Document::image(const std::string& relative_path, const std::string& caption) {
  Block block;
  block.kind = Block::Kind::image;
  block.image = relative_path;
  block.text = caption;
  blocks_.push_back(std::move(block));
}

namespace {

// A cell's text inside a Markdown table row: a '|' would end the cell.
std::string markdown_cell(const std::string& text) {
  std::string cell;
  for (char c : text) {
    if (c == '|') cell += "\\|";
    else cell += c;
  }
  return cell;
}

std::string html_escape(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": the report's image cannot be read");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

std::string to_markdown(const Document& document) {
  std::ostringstream out;
  for (const Block& block : document.blocks()) {
    switch (block.kind) {
      case Block::Kind::heading:
        out << std::string(static_cast<size_t>(block.level), '#') << ' ' << block.text << "\n\n";
        break;
      case Block::Kind::paragraph:
        out << block.text << "\n\n";
        break;
      case Block::Kind::table: {
        out << '|';
        for (const std::string& cell : block.table.header) out << ' ' << markdown_cell(cell) << " |";
        out << "\n|";
        for (size_t c = 0; c < block.table.header.size(); ++c) out << (c == 0 ? "---|" : "---:|");
        out << '\n';
        for (const auto& row : block.table.rows) {
          out << '|';
          for (const std::string& cell : row) out << ' ' << markdown_cell(cell) << " |";
          out << '\n';
        }
        out << '\n';
        break;
      }
      case Block::Kind::image:
        out << "![" << block.text << "](" << block.image << ")\n\n*" << block.text << "*\n\n";
        break;
    }
  }
  return out.str();
}

std::string to_html(const Document& document, const std::string& folder) {
  std::ostringstream out;
  std::string title = "wise report";
  for (const Block& block : document.blocks()) {
    if (block.kind == Block::Kind::heading && block.level == 1) {
      title = block.text;
      break;
    }
  }
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << html_escape(title)
      << "</title>\n<style>\n"
         "body { font-family: 'DejaVu Sans', sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em; "
         "color: #222; }\n"
         "table { border-collapse: collapse; margin: 1em 0; }\n"
         "th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; }\n"
         "td { text-align: right; } td:first-child, th:first-child { text-align: left; }\n"
         "th { background: #eee; }\n"
         "figure { margin: 1em 0; } img { max-width: 100%; } figcaption { color: #555; font-style: italic; }\n"
         "</style>\n</head>\n<body>\n";
  for (const Block& block : document.blocks()) {
    switch (block.kind) {
      case Block::Kind::heading:
        out << "<h" << block.level << '>' << html_escape(block.text) << "</h" << block.level << ">\n";
        break;
      case Block::Kind::paragraph:
        out << "<p>" << html_escape(block.text) << "</p>\n";
        break;
      case Block::Kind::table:
        out << "<table>\n<tr>";
        for (const std::string& cell : block.table.header) out << "<th>" << html_escape(cell) << "</th>";
        out << "</tr>\n";
        for (const auto& row : block.table.rows) {
          out << "<tr>";
          for (const std::string& cell : row) out << "<td>" << html_escape(cell) << "</td>";
          out << "</tr>\n";
        }
        out << "</table>\n";
        break;
      case Block::Kind::image: {
        const std::string path = (std::filesystem::path(folder) / block.image).string();
        out << "<figure><img alt=\"" << html_escape(block.text) << "\" src=\"data:image/png;base64,"
            << base64(read_bytes(path)) << "\"><figcaption>" << html_escape(block.text)
            << "</figcaption></figure>\n";
        break;
      }
    }
  }
  out << "</body>\n</html>\n";
  return out.str();
}

std::string base64(const std::string& bytes) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string encoded;
  encoded.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t triple = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                            static_cast<uint8_t>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) encoded += alphabet[(triple >> shift) & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t triple = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) triple |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    encoded += alphabet[(triple >> 18) & 63];
    encoded += alphabet[(triple >> 12) & 63];
    encoded += rest == 2 ? alphabet[(triple >> 6) & 63] : '=';
    encoded += '=';
  }
  return encoded;
}

}  // namespace wise::report
