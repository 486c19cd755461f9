#pragma once
// The live view of a run: what `lifeboat run` and `lifeboat drill` show while
// a runbook executes. A View consumes the run's events (Event v1,
// docs/protocol.md "Types and their `data`") and writes to one std::ostream
// chosen by the caller (stderr or stdout).
//
// Three styles:
// - interactive (a terminal): a block of lines redrawn in place with plain
//   ANSI escapes (cursor up, carriage return, erase line/below; no curses):
//   a header (runbook, mode, elapsed, RTO budget), one line per step that
//   runs in this mode, and a summary of the skipped ones. Decisions, notices
//   and errors are printed above the block as permanent lines. The block
//   never has more than `height - 1` lines, and no block line is wider than
//   `width - 1` columns, so the terminal never wraps or scrolls it.
// - lines (not a terminal, e.g. CI logs): one plain line per meaningful event,
//   prefixed with the time since the run started, `[   1.234s]`. No escapes.
// - json: each event's encodeEvent() line followed by '\n', nothing else.
//
// Input is trusted only as far as its shape goes: a member missing or of the
// wrong type is shown as absent, never a crash or an exception; unknown event
// types are ignored by interactive and lines (json writes them). Text from
// events (child output, errors, messages) is made terminal-safe: control
// characters, including ESC and C1 controls, never reach `out`.
//
// Threading: not thread-safe. The engine calls every method from its one
// thread. The View keeps a reference to `out`, which must outlive it, and
// nothing else writes to `out` between suspend() and resume() except the
// caller.

#include <memory>
#include <ostream>

#include "lifeboat/common/event.hpp"

namespace lifeboat::live {

enum class Style { interactive, lines, json };

struct ViewOptions {
  Style style = Style::lines;
  bool color = false;  // ANSI colours (interactive only; lines and json never colour)
  int width = 100;     // terminal columns
  int height = 24;     // terminal rows (interactive: bounds the block)
};

class View {
 public:
  static std::unique_ptr<View> make(ViewOptions options, std::ostream& out);
  virtual ~View();

  // One event of the run, in the order the engine produced them.
  virtual void onEvent(const Event& event) = 0;
  // The current wall-clock time, about every 200 ms. Interactive: redraws the
  // elapsed times, spinners and the RTO budget. Others: nothing.
  virtual void tick(Timestamp now) = 0;
  // Before someone else writes to the terminal (a decision prompt).
  // Interactive: erases its block and writes nothing until resume(); events
  // arriving meanwhile update the state, and their permanent lines are
  // printed at resume(). Others: nothing.
  virtual void suspend() = 0;
  // After the other writer is done: prints what was held back, redraws.
  virtual void resume() = 0;
  // Draws the final state and leaves the cursor on the line after it. Later
  // calls of any method write nothing (interactive) or carry on (lines,
  // json). Safe to call twice.
  virtual void finish() = 0;

 protected:
  View() = default;
};

// The options for a view on file descriptor `fd` (usually 2): interactive
// when it is a terminal and TERM is not "dumb", with its size when the
// terminal reports one; colour when interactive and NO_COLOR is unset or
// empty; else lines without colour.
ViewOptions optionsForTerminal(int fd);

}  // namespace lifeboat::live
