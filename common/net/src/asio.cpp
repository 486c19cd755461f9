// Boost.Asio compiled once for every program (BOOST_ASIO_SEPARATE_COMPILATION
// is set on every target that links lifeboat_net): other files include only
// Asio's declarations, which keeps them quick to compile.
#include <boost/asio/impl/src.hpp>
