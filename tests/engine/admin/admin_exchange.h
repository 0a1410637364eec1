#pragma once
// A blocking HTTP/1.1 exchange with Connection: close (no event loop needed), for the tests that
// drive a running Engine's Admin API and proxy over real sockets.
#include <QTcpSocket>

#include <cstdint>
#include <string>

namespace archway::testing {

struct Reply {
  int status = 0;
  std::string body;
};

inline Reply exchange(std::uint16_t port, const std::string& method, const std::string& target,
                      const std::string& body = {}, const std::string& type = {}) {
  QTcpSocket socket;
  socket.connectToHost(QStringLiteral("127.0.0.1"), port);
  if (!socket.waitForConnected(5000)) return {};
  std::string req =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!type.empty()) req += "Content-Type: " + type + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  socket.write(req.data(), static_cast<qint64>(req.size()));
  socket.waitForBytesWritten(5000);
  QByteArray raw;
  while (socket.state() == QAbstractSocket::ConnectedState && socket.waitForReadyRead(5000))
    raw += socket.readAll();
  raw += socket.readAll();
  Reply r;
  const std::string text = raw.toStdString();
  if (text.size() > 12) r.status = std::stoi(text.substr(9, 3));
  auto split = text.find("\r\n\r\n");
  if (split != std::string::npos) r.body = text.substr(split + 4);
  return r;
}

}  // namespace archway::testing
