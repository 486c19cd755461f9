#include "views.hpp"

namespace lifeboat::live {
namespace {

// Machines read this: every event, known or not, as its canonical line,
// flushed at once so that a reader sees the run as it happens.
class JsonView final : public View {
 public:
  explicit JsonView(std::ostream& out) : out_(out) {}

  void onEvent(const Event& event) override {
    out_ << encodeEvent(event) << '\n';
    out_.flush();
  }
  void tick(Timestamp) override {}
  void suspend() override {}
  void resume() override {}
  void finish() override { out_.flush(); }

 private:
  std::ostream& out_;
};

}  // namespace

std::unique_ptr<View> makeJsonView(std::ostream& out) {
  return std::make_unique<JsonView>(out);
}

}  // namespace lifeboat::live
