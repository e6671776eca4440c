#include "ui/style.hpp"

#include <cmath>
#include <ctime>
#include <filesystem>

namespace lanchat::ui {

namespace {
constexpr const char* kDejaVu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
// Latin-1, Latin Extended-A/B, Greek, Cyrillic, general punctuation (… — ’ “), currency
// (€), arrows (→), geometric shapes (● status dots), and the replacement character.
constexpr ImWchar kRanges[] = {0x0020, 0x024F, 0x0370, 0x03FF, 0x0400, 0x04FF,
                               0x2000, 0x206F, 0x20A0, 0x20CF, 0x2190, 0x21FF,
                               0x25A0, 0x25FF, 0xFFFD, 0xFFFD, 0};
}  // namespace

Fonts load_fonts(float scale) {
  Fonts f;
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  std::error_code ec;
  if (std::filesystem::exists(kDejaVu, ec)) {
    ImFontConfig cfg;
    cfg.OversampleH = 2;
    f.regular = io.Fonts->AddFontFromFileTTF(kDejaVu, std::round(16.0f * scale), &cfg, kRanges);
  }
  if (f.regular != nullptr) {
    f.dejavu = true;
    f.note = "font: DejaVuSans";
  } else {
    ImFontConfig cfg;
    cfg.SizePixels = std::round(13.0f * scale);
    f.regular = io.Fonts->AddFontDefault(&cfg);
    f.note = std::string("font: ") + kDejaVu +
             " not found (install fonts-dejavu-core); using ImGui's built-in font, which shows "
             "accented letters as '?'";
  }
  return f;
}

void apply_theme(float scale) {
  ImGui::StyleColorsDark();
  ImGuiStyle& s = ImGui::GetStyle();
  s.WindowRounding = 4.0f;
  s.FrameRounding = 3.0f;
  s.ChildRounding = 3.0f;
  s.PopupRounding = 3.0f;
  s.FramePadding = ImVec2(8, 5);
  s.ItemSpacing = ImVec2(8, 6);
  s.WindowPadding = ImVec2(10, 10);
  s.ScaleAllSizes(scale);
}

void BeginPanel(const char* title, ImVec2 pos, ImVec2 size) {
  ImGui::SetNextWindowPos(pos, ImGuiCond_Always);
  ImGui::SetNextWindowSize(size, ImGuiCond_Always);
  ImGui::Begin(title, nullptr,
               ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                   ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus |
                   ImGuiWindowFlags_NoBackground);
}

ImVec4 backdrop_colour() {
  ImVec4 c = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
  c.w = 1.0f;
  return c;
}

ImVec4 nick_colour(std::string_view nick) {
  // FNV-1a over the lowercase nick, mapped to a hue; fixed saturation/value stay readable
  // on the dark theme.
  std::uint32_t h = 2166136261u;
  for (char c : nick) {
    const auto u = static_cast<unsigned char>(c);
    h = (h ^ static_cast<std::uint32_t>(u >= 'A' && u <= 'Z' ? u + 32 : u)) * 16777619u;
  }
  const float hue = static_cast<float>(h % 360u) / 360.0f;
  ImVec4 out(0, 0, 0, 1);
  ImGui::ColorConvertHSVtoRGB(hue, 0.55f, 0.95f, out.x, out.y, out.z);
  return out;
}

}  // namespace lanchat::ui
