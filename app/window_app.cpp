// The window: GLFW + OpenGL 3 + Dear ImGui, one frame loop that drains the net events at
// the top of each frame and sleeps in glfwWaitEventsTimeout when nothing happens.
#include "app/window_app.hpp"

// glad's header replaces the system GL header, so GLFW must not pull that one in.
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <glad/gl.h>
#include <imgui.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "app/frame_bench.hpp"
#include "app/frame_pacer.hpp"
#include "app/kept_frame.hpp"
#include "app/link_opener.hpp"
#include "app/net_control.hpp"
#include "app/notifier.hpp"
#include "app/screenshot.hpp"
#include "app/window_icon.hpp"
#include "ui/chat_window.hpp"
#include "ui/launcher_window.hpp"
#include "ui/server_window.hpp"
#include "ui/settings.hpp"
#include "ui/style.hpp"
#include "ui/ui_model.hpp"

namespace lanchat::app {

namespace {

// Set from a signal handler (SIGUSR1: take a screenshot; SIGINT/SIGTERM: close), read by
// the frame loop. Signal handlers can only touch lock-free atomics.
std::atomic<bool> g_screenshot_requested{false};
std::atomic<bool> g_close_requested{false};
std::atomic<bool> g_bench_mark{false};

extern "C" void on_screenshot_signal(int) {
  g_screenshot_requested = true;
}
extern "C" void on_close_signal(int) {
  g_close_requested = true;
}
extern "C" void on_bench_signal(int) {
  g_bench_mark = true;
}

// GLFW's own words for why it could not start, for the message to the user.
std::string g_init_error;
void glfw_init_error(int, const char* text) {
  g_init_error = text;
}

void glfw_error(int code, const char* text) {
  std::cerr << "lanchat: GLFW error " << code << ": " << text << "\n";
}

// Everything the window owns, in one place instead of statics.
struct WindowApp {
  explicit WindowApp(const Options& o) : options(o), net(events), bench(o.bench_report) {
    net.set_server_defaults(server_config(o.host));
    net.set_store_settings(o.host.store);
  }

  const Options& options;
  net::EventQueue events;
  NetControl net;
  ui::UiModel model;
  ui::LauncherState launcher;
  ui::ChatViewState chat;
  ui::ServerPanelState server_panel;
  ui::Settings settings;
  ui::Probe probe;
  FrameBench bench;
  ui::Fonts fonts;
  std::filesystem::path settings_file;
  std::string ini_file;
  float scale = 1.0f;  // content scale times settings.text_scale
  bool fonts_stale = false;
  int screenshots_written = 0;
  std::int64_t kept_wrong_pixels = 0;
  std::string window_title = "lanchat";
  int attention_requests = 0;
  Notifier notifier;
  LinkOpener links;
  FramePacer pacer;
  KeptFrame kept_frame;

  void handle(const ui::Action& a) {
    std::visit(
        [this](const auto& act) {
          using T = std::decay_t<decltype(act)>;
          if constexpr (std::is_same_v<T, ui::HostRequest>) {
            model.begin_host(act);
            net.host(act);
            remember();
          } else if constexpr (std::is_same_v<T, ui::JoinRequest>) {
            model.begin_join(act);
            net.join(act);
            remember();
          } else if constexpr (std::is_same_v<T, ui::TrustIdentity>) {
            model.begin_join(ui::JoinRequest{});
            chat = ui::ChatViewState();
            chat.notifications = settings.notifications;
            net.trust_identity(act);
          } else if constexpr (std::is_same_v<T, ui::SendText>) {
            send(act.text, act.to, act.action);
          } else if constexpr (std::is_same_v<T, ui::RetrySay>) {
            std::string peer;
            if (const ui::PendingSay* p = model.chat.find_pending(act.local_id, &peer)) {
              const std::string text = p->text;
              const bool action = p->action;
              model.chat.dismiss(act.local_id);
              send(text, peer, action);
            }
          } else if constexpr (std::is_same_v<T, ui::ChangeNick>) {
            net.change_nick(act.nick);
          } else if constexpr (std::is_same_v<T, ui::OpenDirect>) {
            model.chat.open_direct(act.peer);
          } else if constexpr (std::is_same_v<T, ui::ShowInfo>) {
            model.chat.add_info(act.text);
          } else if constexpr (std::is_same_v<T, ui::Moderate>) {
            net.moderate(act);
          } else if constexpr (std::is_same_v<T, ui::Unban>) {
            net.unban(act.address);
          } else if constexpr (std::is_same_v<T, ui::SetNotifications>) {
            settings.notifications = act.on;
            remember();
          } else if constexpr (std::is_same_v<T, ui::DismissSay>) {
            model.chat.dismiss(act.local_id);
          } else if constexpr (std::is_same_v<T, ui::LoadOlder>) {
            model.chat.mark_loading_older();
            net.load_older(act.before);
          } else if constexpr (std::is_same_v<T, ui::SearchFor>) {
            model.search.begin(act.text);
            net.search(act.text);
          } else if constexpr (std::is_same_v<T, ui::ShowContext>) {
            model.search.begin_context(act.id);
            net.show_context(act.id);
          } else if constexpr (std::is_same_v<T, ui::RejoinAs>) {
            net.rejoin_as(act.nick);
          } else if constexpr (std::is_same_v<T, ui::StopServer>) {
            model.mark_stopping();
            net.stop_server(act.reason);
          } else if constexpr (std::is_same_v<T, ui::RefreshRooms>) {
            net.refresh_rooms();
            model.rooms.asked_again(net::now_ms());
          } else if constexpr (std::is_same_v<T, ui::OpenLink>) {
            links.reap();
            if (const std::string problem = links.open(act.url); !problem.empty()) {
              model.chat.add_info("Could not open " + act.url + ": " + problem + ".");
            }
          } else if constexpr (std::is_same_v<T, ui::ZoomText>) {
            zoom_text(act.steps);
          } else if constexpr (std::is_same_v<T, ui::LeaveRoom>) {
            net.leave();
            model.back_to_launcher();
            chat = ui::ChatViewState();
            chat.notifications = settings.notifications;
            server_panel.visible.clear();
            launcher.focus_first = true;
          }
        },
        a);
  }

  // Shows the message as pending at once; the client confirms or fails it later.
  void send(std::string text, const std::string& to, bool action) {
    const std::uint64_t id = model.chat.queue_say(text, to, action);
    if (!net.say(text, id, to, action)) {
      model.chat.apply(
          net::ClientSayFailed{id, std::move(text), {"not_connected", "not connected"}});
    }
  }

  // Unread and mention counts in the window title ("(2!) Lab 2 — lanchat"), and a call
  // for attention plus a desktop notification for each mention or direct message that
  // arrives while the window is in the background.
  void tell_the_desktop(GLFWwindow* window) {
    const bool focused = glfwGetWindowAttrib(window, GLFW_FOCUSED) == GLFW_TRUE;
    model.chat.set_view(chat.view, focused);
    chat.window_focused = focused;
    std::string title = "lanchat";
    if (model.screen() == ui::Screen::room) {
      const std::string& room =
          !model.chat.room().empty() ? model.chat.room() : model.server.room();
      title = (room.empty() ? std::string("lanchat") : room) + " — lanchat";
      if (const auto m = model.chat.total_mentions(); m > 0) {
        title = "(" + std::to_string(m) + "!) " + title;
      } else if (const auto u = model.chat.total_unread(); u > 0) {
        title = "(" + std::to_string(u) + ") " + title;
      }
    }
    if (title != window_title) {
      window_title = title;
      glfwSetWindowTitle(window, title.c_str());
    }
    probe.fact("title", title);
    probe.fact("focused", focused);
    for (const ui::Alert& a : model.chat.take_alerts()) {
      glfwRequestWindowAttention(window);
      ++attention_requests;
      if (settings.notifications) {
        notifier.show(a.direct ? a.from + " (direct message)" : a.from + " mentioned you",
                      a.text.size() > 300 ? a.text.substr(0, 300) + "…" : a.text);
      }
    }
    probe.fact("attention_requests", attention_requests);
  }

  // Ctrl + wheel, Ctrl +/-/0 and the Options menu: the size is saved at once and the
  // fonts are built again before the next frame.
  void zoom_text(int steps) {
    const float next = ui::zoomed_text_scale(settings.text_scale, steps);
    if (next == settings.text_scale) return;
    settings.text_scale = next;
    fonts_stale = true;
    remember();
  }

  // Before each frame: the text follows the monitor's content scale (a window dragged to
  // a HiDPI screen) times the person's own zoom. Fonts are rasterised at that size rather
  // than stretched, so they stay sharp.
  void follow_scale(GLFWwindow* window) {
    float xs = 1.0f, ys = 1.0f;
    glfwGetWindowContentScale(window, &xs, &ys);
    const float target = std::max(1.0f, std::max(xs, ys)) * settings.text_scale;
    if (!fonts_stale && std::abs(target - scale) < 0.001f) return;
    fonts_stale = false;
    scale = target;
    fonts = ui::load_fonts(scale);
    ui::apply_theme(scale);
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
    kept_frame.invalidate();
  }

  void remember() {
    launcher.store(settings);
    if (!ui::save_settings(settings_file, settings)) {
      std::cerr << "lanchat: could not save settings to " << settings_file << "\n";
    }
  }

  // Returns true if any event arrived.
  bool drain() {
    events.begin_drain();
    bool any = false;
    net::Event e;
    std::chrono::steady_clock::time_point pushed;
    // Bounded per frame so a flood of events cannot freeze the window; the rest wait.
    for (int i = 0; i < 20000 && events.try_pop(e, pushed); ++i) {
      if (!net.owns(e)) continue;  // from a server or client we already let go of
      if (std::holds_alternative<net::ClientChat>(e.data)) bench.on_message(pushed);
      net.on_event(e);
      model.apply(e);
      any = true;
    }
    if (events.size_approx() > 0) glfwPostEmptyEvent();
    return any;
  }

  // The LAN is asked for rooms only while the Join tab is what the person looks at.
  void follow_discovery() {
    const bool want =
        options.discovery && model.screen() == ui::Screen::launcher && launcher.tab == 1;
    if (want == model.rooms.looking()) return;
    net.browse(want, options.discovery_port);
    if (want) {
      model.rooms.begin(net::now_ms());
    } else {
      model.rooms.end();
    }
  }

  void draw() {
    follow_discovery();
    ui::ActionList actions;
    ui::UiContext ctx{&fonts, &probe, scale, &actions, fonts.dejavu ? std::string() : fonts.note};
    const ImGuiViewport* vp = ImGui::GetMainViewport();
    if (model.screen() == ui::Screen::launcher) {
      probe.fact("screen", "launcher");
      ui::DrawLauncher(launcher, model, ctx);
    } else {
      probe.fact("screen", model.hosting() ? "host" : "join");
      ImVec2 pos = vp->WorkPos;
      ImVec2 size = vp->WorkSize;
      if (model.hosting()) {
        const float chat_w = std::floor(size.x * 0.58f);
        ui::DrawChat(chat, model, ctx, pos, ImVec2(chat_w, size.y));
        ui::DrawServerPanel(server_panel, model, ctx, ImVec2(pos.x + chat_w, pos.y),
                            ImVec2(size.x - chat_w, size.y));
      } else {
        ui::DrawChat(chat, model, ctx, pos, size);
      }
    }
    zoom_keys(actions);
    probe.fact("text_scale", settings.text_scale);
    probe.fact("font_size", ImGui::GetFontSize());
    for (const auto& a : actions) handle(a);
  }

  // Ctrl +, Ctrl - and Ctrl 0 (main row or keypad) wherever the keyboard is; ImGui types
  // no characters while Ctrl is held.
  static void zoom_keys(ui::ActionList& actions) {
    if (!ImGui::GetIO().KeyCtrl) return;
    if (ImGui::IsKeyPressed(GLFW_KEY_EQUAL) || ImGui::IsKeyPressed(GLFW_KEY_KP_ADD)) {
      actions.push_back(ui::ZoomText{1});
    } else if (ImGui::IsKeyPressed(GLFW_KEY_MINUS) || ImGui::IsKeyPressed(GLFW_KEY_KP_SUBTRACT)) {
      actions.push_back(ui::ZoomText{-1});
    } else if (ImGui::IsKeyPressed(GLFW_KEY_0, false) ||
               ImGui::IsKeyPressed(GLFW_KEY_KP_0, false)) {
      actions.push_back(ui::ZoomText{0});
    }
  }
};

void note_input(GLFWwindow* window) {
  static_cast<WindowApp*>(glfwGetWindowUserPointer(window))->pacer.note_input();
}

void watch_input(GLFWwindow* window) {
  glfwSetKeyCallback(window, [](GLFWwindow* w, int, int, int, int) { note_input(w); });
  glfwSetCharCallback(window, [](GLFWwindow* w, unsigned int) { note_input(w); });
  glfwSetMouseButtonCallback(window, [](GLFWwindow* w, int, int, int) { note_input(w); });
  glfwSetScrollCallback(window, [](GLFWwindow* w, double, double) { note_input(w); });
  glfwSetCursorPosCallback(window, [](GLFWwindow* w, double, double) { note_input(w); });
  glfwSetCursorEnterCallback(window, [](GLFWwindow* w, int) { note_input(w); });
  glfwSetWindowFocusCallback(window, [](GLFWwindow* w, int) { note_input(w); });
  glfwSetFramebufferSizeCallback(window, [](GLFWwindow* w, int, int) { note_input(w); });
  glfwSetWindowRefreshCallback(window, [](GLFWwindow* w) {
    static_cast<WindowApp*>(glfwGetWindowUserPointer(w))->kept_frame.exposed();
    note_input(w);
  });
  glfwSetWindowContentScaleCallback(window, [](GLFWwindow* w, float, float) { note_input(w); });
}

bool ctrl_down(GLFWwindow* window) {
  return glfwGetKey(window, GLFW_KEY_LEFT_CONTROL) == GLFW_PRESS ||
         glfwGetKey(window, GLFW_KEY_RIGHT_CONTROL) == GLFW_PRESS;
}

void write_report(const std::string& path, const std::string& json) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json << '\n';
  }
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace

int run_window(const Options& options) {
  glfwSetErrorCallback(glfw_init_error);  // init failure is reported below, plainly
  if (glfwInit() == GLFW_FALSE) {
    const char* display = std::getenv("DISPLAY");
    std::cerr << "lanchat: cannot open a window"
              << (display == nullptr || *display == '\0'
                      ? std::string(" (DISPLAY is not set: no X server)")
                      : " on display " + std::string(display) + " (" + g_init_error + ")")
              << ".\nUse `lanchat host --headless` to serve, or `lanchat join HOST --nick NAME "
                 "--headless` to chat from the terminal.\n";
    return 1;
  }
  glfwSetErrorCallback(glfw_error);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  // The class the desktop entry's StartupWMClass names, so docks group the window under it.
  glfwWindowHintString(GLFW_X11_CLASS_NAME, "lanchat");
  glfwWindowHintString(GLFW_X11_INSTANCE_NAME, "lanchat");
  GLFWwindow* window = glfwCreateWindow(1100, 720, "lanchat", nullptr, nullptr);
  if (window == nullptr) {
    std::cerr << "lanchat: cannot create an OpenGL 3 window on this display.\n";
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  if (gladLoadGL(glfwGetProcAddress) == 0) {
    std::cerr << "lanchat: this display's OpenGL driver did not provide OpenGL 3 functions.\n";
    glfwDestroyWindow(window);
    glfwTerminate();
    return 1;
  }
  glfwSwapInterval(1);
  set_window_icon(window);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  int exit_code = 0;
  {
    WindowApp app(options);
    app.events.set_wake([] { glfwPostEmptyEvent(); });
    const auto dir = ui::config_dir();
    app.settings_file = dir / "settings.json";
    app.ini_file = (dir / "imgui.ini").string();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    ImGui::GetIO().IniFilename = app.ini_file.c_str();
    app.settings = ui::load_settings(app.settings_file);
    app.launcher.load(app.settings);
    app.launcher.discovery = options.discovery;
    app.chat.notifications = app.settings.notifications;
    app.probe.enabled = !options.test_report.empty();

    float xs = 1.0f, ys = 1.0f;
    glfwGetWindowContentScale(window, &xs, &ys);
    app.scale = std::max(1.0f, std::max(xs, ys)) * app.settings.text_scale;
    app.fonts = ui::load_fonts(app.scale);
    if (!app.fonts.dejavu) std::cerr << "lanchat: " << app.fonts.note << "\n";
    ui::apply_theme(app.scale);
    // A blinking cursor would need a frame every 0.4 s forever, and the chat input always
    // has focus: a steady cursor lets an idle window sleep a whole second.
    ImGui::GetIO().ConfigInputTextCursorBlink = false;
    // Input wakes the frame loop at once (FramePacer). Installed before ImGui's backend,
    // which keeps these and calls them from its own callbacks.
    glfwSetWindowUserPointer(window, &app);
    watch_input(window);
    ImGui_ImplGlfw_InitForOpenGL(window, true);
    ImGui_ImplOpenGL3_Init("#version 130");
    app.kept_frame.start();

    std::signal(SIGUSR1, on_screenshot_signal);
    std::signal(SIGINT, on_close_signal);
    std::signal(SIGTERM, on_close_signal);
    if (app.bench.enabled()) std::signal(SIGUSR2, on_bench_signal);

    // Straight into a mode from the command line.
    if (options.mode == Mode::host && !options.host.nick.empty()) {
      const auto& h = options.host;
      app.launcher.host_bind = h.bind;
      app.launcher.host_port = std::to_string(h.port);
      app.launcher.host_room = h.room;
      app.launcher.host_nick = h.nick;
      app.launcher.host_password = h.password;
      app.launcher.host_tls = h.tls;
      app.handle(ui::HostRequest{h.bind, h.port, h.room, h.nick, h.password, h.tls,
                                 h.allow_plaintext_password});
    } else if (options.mode == Mode::host) {
      app.launcher.select_tab = 0;  // the nick is missing: let the user type it
      app.launcher.host_bind = options.host.bind;
      app.launcher.host_port = std::to_string(options.host.port);
      app.launcher.host_room = options.host.room;
    } else if (options.mode == Mode::join) {
      const auto& j = options.join;
      app.launcher.select_tab = 1;
      app.launcher.join_host = j.host;
      app.launcher.join_port = std::to_string(j.port);
      app.launcher.join_nick = j.nick;
      app.launcher.join_password = j.password;
      app.handle(ui::JoinRequest{j.host, j.port, j.nick, j.password, j.fingerprint, j.plaintext});
    }

    int frame = 0;
    // Frames to draw before waiting again: after input without delay (ImGui settles in a
    // few), after network events at the pacer's event rate.
    int urgent_frames = 3;
    int settle_frames = 3;
    while (!glfwWindowShouldClose(window) && !g_close_requested) {
      if (g_bench_mark.exchange(false)) app.bench.mark();
      // Sleep until the next frame is due (FramePacer): every event wakes the wait, input
      // ends it, a network event (glfwPostEmptyEvent) only brings the deadline nearer. A
      // held mouse button (dragging a scrollbar) needs every frame; a focused text box
      // does not (the cursor does not blink).
      for (;;) {
        const bool urgent = urgent_frames > 0 || app.bench.busy() || ImGui::IsAnyMouseDown();
        const bool events = settle_frames > 0 || app.events.size_approx() > 0;
        const auto wait = app.pacer.wait(FramePacer::Clock::now(), urgent, events);
        if (wait <= FramePacer::Clock::duration::zero()) break;
        glfwWaitEventsTimeout(std::chrono::duration<double>(wait).count());
        if (g_close_requested || g_bench_mark || glfwWindowShouldClose(window)) break;
      }
      glfwPollEvents();
      app.bench.begin_frame();
      app.pacer.frame_started(FramePacer::Clock::now());
      if (app.pacer.take_input()) {
        urgent_frames = 2;
      } else if (urgent_frames > 0) {
        --urgent_frames;
      }
      if (settle_frames > 0) --settle_frames;
      if (app.drain()) settle_frames = 2;

      // Ctrl + wheel changes the text size instead of scrolling what is under the pointer.
      if (ImGuiIO& io = ImGui::GetIO(); io.MouseWheel != 0.0f && ctrl_down(window)) {
        app.zoom_text(io.MouseWheel > 0.0f ? 1 : -1);
        io.MouseWheel = 0.0f;
      }
      app.follow_scale(window);
      ImGui_ImplOpenGL3_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      ImGui::NewFrame();
      app.tell_the_desktop(window);
      app.draw();
      ImGui::Render();
      int w = 0, h = 0;
      glfwGetFramebufferSize(window, &w, &h);
      // A measured frame (--bench-report) is drawn whole: its cost is a frame's when all
      // of the window changed (a scroll, a resize), not an unchanged frame's.
      if (app.bench.busy()) app.kept_frame.invalidate();
      app.kept_frame.render(*ImGui::GetDrawData(), ui::backdrop_colour());
      ++frame;

      if (!options.screenshot.empty()) {
        const bool first = app.screenshots_written == 0 && frame == 12;
        if (first || g_screenshot_requested.exchange(false)) {
          if (write_screenshot(options.screenshot, w, h)) {
            ++app.screenshots_written;
            // The tests' proof that redrawing only what changed shows what a whole redraw
            // would: every screenshot is also compared with the frame drawn whole.
            if (app.probe.enabled) {
              app.kept_wrong_pixels +=
                  app.kept_frame.wrong_pixels(*ImGui::GetDrawData(), ui::backdrop_colour());
            }
          } else {
            std::cerr << "lanchat: could not write " << options.screenshot << "\n";
          }
          if (options.exit_after_screenshot) glfwSetWindowShouldClose(window, GLFW_TRUE);
        }
      }
      if (app.probe.enabled) {
        app.probe.fact("frame_ok", true);
        app.probe.fact("screenshots", app.screenshots_written);
        app.probe.fact("kept_frame", app.kept_frame.keeping());
        app.probe.fact("kept_frame_wrong_pixels", app.kept_wrong_pixels);
        const ImVec2 mouse = ImGui::GetIO().MousePos;
        app.probe.fact("mouse", {mouse.x, mouse.y});
        if (auto json = app.probe.end_frame()) write_report(options.test_report, *json);
      }
      app.kept_frame.present(window);
      app.bench.end_frame(app.model.chat.lines().size());
    }
    app.net.shutdown();
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::GetIO().IniFilename = nullptr;  // app.ini_file dies with app
  }
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return exit_code;
}

}  // namespace lanchat::app
