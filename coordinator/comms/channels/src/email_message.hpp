#pragma once
// Helpers of the email channel shared by the message and the SMTP sender.

#include <string>
#include <string_view>

namespace lifeboat::comms::detail {

// `value` with every control character (CR and LF among them) replaced by a
// space: a header value that cannot start another header.
std::string headerText(std::string_view value);

// The address of "Name <a@b>" or "a@b" as "<a@b>", for MAIL FROM and RCPT TO
// (and the headers): no spaces, controls, angle brackets or commas.
std::string envelopeAddress(std::string_view value);

}  // namespace lifeboat::comms::detail
