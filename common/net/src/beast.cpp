// Boost.Beast and Asio's TLS layer, compiled once for every program: targets
// linking lifeboat_net see BOOST_BEAST_SEPARATE_COMPILATION and
// BOOST_ASIO_SEPARATE_COMPILATION, so other files include declarations only.
// No other file may include these two headers, or the program gets duplicate
// symbols.
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
