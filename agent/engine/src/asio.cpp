// Boost.Asio compiled once for the whole agent (BOOST_ASIO_SEPARATE_COMPILATION
// is set on every target that links lifeboat_engine): other files include
// only Asio's declarations, which keeps them quick to compile.
#include <boost/asio/impl/src.hpp>
