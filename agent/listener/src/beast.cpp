// Boost.Beast and Asio's TLS layer, compiled once for the whole agent: every
// target linking lifeboat_listener sees BOOST_BEAST_SEPARATE_COMPILATION and
// (through lifeboat_engine, which compiles Asio itself) BOOST_ASIO_SEPARATE_
// COMPILATION, so other files include declarations only. No other file may
// include these two headers, or the program gets duplicate symbols.
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
