<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>archway::gui::DashboardPage</name>
    <message>
        <source>Requests per second</source>
        <translation>Anfragen pro Sekunde</translation>
    </message>
    <message>
        <source>Latency p50</source>
        <translation>Latenz p50</translation>
    </message>
    <message>
        <source>Latency p99</source>
        <translation>Latenz p99</translation>
    </message>
    <message>
        <source>Errors since start (4xx / 5xx)</source>
        <translation>Fehler seit Start (4xx / 5xx)</translation>
    </message>
    <message>
        <source>Open connections</source>
        <translation>Offene Verbindungen</translation>
    </message>
    <message>
        <source>req/s</source>
        <translation>Anfr./s</translation>
    </message>
    <message>
        <source>Requests/s</source>
        <translation>Anfragen/s</translation>
    </message>
    <message>
        <source>Latency (ms)</source>
        <translation>Latenz (ms)</translation>
    </message>
    <message>
        <source>ms</source>
        <translation>ms</translation>
    </message>
    <message>
        <source>p50</source>
        <translation>p50</translation>
    </message>
    <message>
        <source>p99</source>
        <translation>p99</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 ms</translation>
    </message>
    <message>
        <source>%1 / %2</source>
        <translation>%1 / %2</translation>
    </message>
</context>
<context>
    <name>archway::gui::MainWindow</name>
    <message>
        <source>Archway</source>
        <translation>Archway</translation>
    </message>
    <message>
        <source>Sending demo traffic</source>
        <translation>Demo-Verkehr wird gesendet</translation>
    </message>
    <message>
        <source>Demo traffic stopped</source>
        <translation>Demo-Verkehr angehalten</translation>
    </message>
    <message>
        <source>Demo traffic stopped: %1</source>
        <translation>Demo-Verkehr angehalten: %1</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>Send &amp;demo traffic</source>
        <translation>&amp;Demo-Verkehr senden</translation>
    </message>
    <message>
        <source>Send a steady mix of requests through the gateway (Ctrl+T)</source>
        <translation>Einen gleichmäßigen Mix von Anfragen durch das Gateway senden (Strg+T)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;Traffic</source>
        <translation>&amp;Verkehr</translation>
    </message>
    <message>
        <source>Main</source>
        <translation>Hauptleiste</translation>
    </message>
    <message>
        <source>The gateway could not start: %1</source>
        <translation>Das Gateway konnte nicht starten: %1</translation>
    </message>
    <message>
        <source>the gateway is not running</source>
        <translation>das Gateway läuft nicht</translation>
    </message>
    <message>
        <source>Cannot send demo traffic: %1</source>
        <translation>Demo-Verkehr kann nicht gesendet werden: %1</translation>
    </message>
    <message>
        <source>Configuration applied</source>
        <translation>Konfiguration übernommen</translation>
    </message>
    <message>
        <source>Configuration rejected: %1</source>
        <translation>Konfiguration abgelehnt: %1</translation>
    </message>
    <message>
        <source>Gateway error: %1</source>
        <translation>Gateway-Fehler: %1</translation>
    </message>
    <message>
        <source>Proxy: %1</source>
        <translation>Proxy: %1</translation>
    </message>
    <message>
        <source>Admin API: %1</source>
        <translation>Admin-API: %1</translation>
    </message>
    <message>
        <source>off</source>
        <translation>aus</translation>
    </message>
    <message>
        <source>Engine: running</source>
        <translation>Engine: läuft</translation>
    </message>
    <message>
        <source>Engine: stopped</source>
        <translation>Engine: angehalten</translation>
    </message>
    <message>
        <source>Engine: failed to start</source>
        <translation>Engine: Start fehlgeschlagen</translation>
    </message>
    <message>
        <source>Upstream health: %1</source>
        <translation>Upstream-Zustand: %1</translation>
    </message>
</context>
<context>
    <name>archway::models::RouteStatsModel</name>
    <message>
        <source>Route</source>
        <translation>Route</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>Anfragen</translation>
    </message>
    <message>
        <source>Req/s</source>
        <translation>Anfr./s</translation>
    </message>
    <message>
        <source>4xx</source>
        <translation>4xx</translation>
    </message>
    <message>
        <source>5xx</source>
        <translation>5xx</translation>
    </message>
    <message>
        <source>p50 (ms)</source>
        <translation>p50 (ms)</translation>
    </message>
    <message>
        <source>p99 (ms)</source>
        <translation>p99 (ms)</translation>
    </message>
</context>
</TS>
