// The one translation unit that compiles Boost.Asio and Boost.Beast (separate compilation keeps
// every other file from instantiating their implementation, which keeps builds fast).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
