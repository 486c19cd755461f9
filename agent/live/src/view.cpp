#include "lifeboat/live/view.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "views.hpp"

namespace lifeboat::live {

View::~View() = default;

std::unique_ptr<View> View::make(ViewOptions options, std::ostream& out) {
  switch (options.style) {
    case Style::interactive:
      return makeInteractiveView(options, out);
    case Style::json:
      return makeJsonView(out);
    case Style::lines:
      break;
  }
  return makeLinesView(out);
}

ViewOptions optionsForTerminal(int fd) {
  ViewOptions options;
  const char* term = std::getenv("TERM");
  if (::isatty(fd) != 1 || (term != nullptr && std::string_view(term) == "dumb")) {
    return options;
  }
  options.style = Style::interactive;
  const char* noColor = std::getenv("NO_COLOR");
  options.color = noColor == nullptr || *noColor == '\0';
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 && size.ws_row > 0) {
    options.width = size.ws_col;
    options.height = size.ws_row;
  }
  return options;
}

}  // namespace lifeboat::live
